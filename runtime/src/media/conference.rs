//! A conference unit: an audio mixer on its own 20 ms clock. Every unit linked to it
//! (`call.sendMediaTo(conf)`) is a participant's input; each unit it is linked to
//! (`conf.sendMediaTo(call)`) hears the sum of every input but its own (mix-minus), so a
//! participant linked both ways hears everyone else and not itself. Inputs are paced by their
//! own clocks (RTP); one frame of each is taken per tick, and a link with nothing ready is
//! left out of that tick's mix.

use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use super::graph::Ports;

/// The mixer's frame period.
const TICK: Duration = Duration::from_millis(20);

/// A running mixer; dropping it stops it.
#[derive(Debug)]
pub struct ConferenceHandle(AbortHandle);

impl Drop for ConferenceHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the mixer of a conference unit with `ports`.
pub fn spawn(ports: Ports) -> ConferenceHandle {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let parts = ports.inlet.pull_each();
            ports.outlet.push_mix_minus(&parts);
        }
    });
    ConferenceHandle(task.abort_handle())
}
