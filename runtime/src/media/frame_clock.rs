//! A task that does one thing per 20 ms frame on its own clock (a conference's mix, the
//! bridge of a call between two sessions), stopped when its handle is dropped. A late tick is
//! not made up for: the next one comes 20 ms after it.

use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

/// The frame period.
const TICK: Duration = Duration::from_millis(20);

/// A running frame task; dropping it stops it.
#[derive(Debug)]
pub struct FrameTask(AbortHandle);

impl Drop for FrameTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `each_frame` every 20 ms until the returned handle is dropped.
pub fn every_frame(mut each_frame: impl FnMut() + Send + 'static) -> FrameTask {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            each_frame();
        }
    });
    FrameTask(task.abort_handle())
}
