//! A conference unit: an audio mixer on its own 20 ms clock. Every unit linked to it
//! (`call.sendMediaTo(conf)`) is a participant's input; each unit it is linked to
//! (`conf.sendMediaTo(call)`) hears the sum of every input but its own (mix-minus), so a
//! participant linked both ways hears everyone else and not itself. Inputs are paced by their
//! own clocks (RTP); one frame of each is taken per tick, and a link with nothing ready is
//! left out of that tick's mix.

use super::frame_clock::{FrameTask, every_frame};
use super::graph::Ports;

/// Starts the mixer of a conference unit with `ports`; dropping the task stops it.
pub fn spawn(ports: Ports) -> FrameTask {
    every_frame(move || {
        let parts = ports.inlet.pull_each();
        ports.outlet.push_mix_minus(&parts);
    })
}
