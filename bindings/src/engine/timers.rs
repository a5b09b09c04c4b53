//! The timer queue behind `setTimeout`/`setInterval`: sans-IO, time is passed in.
//!
//! JS owns the callbacks (keyed by id); this queue owns deadlines, repetition and the
//! active-timer limit. Cleared timers leave stale heap entries behind, skipped lazily, and
//! dropped in one pass once they outnumber the live ones: `clearTimeout(setTimeout(f, long))`
//! in a loop keeps the heap at the size of the active timers, not of every timer ever set.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

/// Stale heap entries tolerated beyond twice the live ones before a compaction.
const COMPACT_SLACK: usize = 64;

/// More timers were requested than the session's limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimerLimitExceeded;

#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    period: Option<Duration>,
    /// How many timer callbacks deep the timer was set (0: not from a timer callback).
    nesting: u32,
}

/// A timer set this many timer callbacks deep or deeper waits at least [`NESTED_MIN_DELAY`]
/// (HTML's rule): a callback that re-arms itself with 0 ms cannot hold the clock still, which
/// on simulated time would spin forever.
pub(crate) const NESTING_CLAMP: u32 = 5;
/// The least delay of a deeply nested timer.
pub(crate) const NESTED_MIN_DELAY: Duration = Duration::from_millis(4);

/// Deadlines of a session's active timers.
#[derive(Debug)]
pub(crate) struct TimerQueue {
    max_active: usize,
    active: HashMap<u32, Entry>,
    heap: BinaryHeap<Reverse<(Instant, u64, u32)>>,
    next_seq: u64,
}

impl TimerQueue {
    pub(crate) fn new(max_active: usize) -> Self {
        Self {
            max_active,
            active: HashMap::new(),
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }

    /// Schedules timer `id` to fire `delay` after `now`, every `delay` when `repeat`; set
    /// `nesting` timer callbacks deep.
    pub(crate) fn start(
        &mut self,
        id: u32,
        now: Instant,
        delay: Duration,
        repeat: bool,
        nesting: u32,
    ) -> Result<(), TimerLimitExceeded> {
        if !self.active.contains_key(&id) && self.active.len() >= self.max_active {
            return Err(TimerLimitExceeded);
        }
        let delay = if nesting >= NESTING_CLAMP {
            delay.max(NESTED_MIN_DELAY)
        } else {
            delay
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        let period = repeat.then_some(delay);
        self.active.insert(
            id,
            Entry {
                seq,
                period,
                nesting,
            },
        );
        self.heap.push(Reverse((now + delay, seq, id)));
        self.compact();
        Ok(())
    }

    /// Drops every stale entry once they outnumber the live ones (amortized O(1) a call).
    fn compact(&mut self) {
        if self.heap.len() <= 2 * self.active.len() + COMPACT_SLACK {
            return;
        }
        let active = &self.active;
        self.heap
            .retain(|Reverse((_, seq, id))| active.get(id).is_some_and(|e| e.seq == *seq));
    }

    /// Cancels timer `id`; unknown ids are ignored.
    pub(crate) fn clear(&mut self, id: u32) {
        self.active.remove(&id);
    }

    /// Cancels every timer.
    pub(crate) fn clear_all(&mut self) {
        self.active.clear();
        self.heap.clear();
    }

    /// Number of active timers.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.active.len()
    }

    /// The earliest deadline of a live timer.
    pub(crate) fn next_deadline(&mut self) -> Option<Instant> {
        self.drop_stale();
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Where the timers set from now on start ([`TimerQueue::pop_due`]'s `before`).
    pub(crate) fn mark(&self) -> u64 {
        self.next_seq
    }

    /// Takes the next timer due at `now` that was set before `before` (a [`mark`]): its id,
    /// whether it is done (not repeating), and its nesting. Timers set while a batch of due
    /// ones runs wait for the next batch, so the session's loop gets its turn in between. A
    /// repeating timer is rescheduled one period after its deadline.
    ///
    /// [`mark`]: TimerQueue::mark
    pub(crate) fn pop_due(&mut self, now: Instant, before: u64) -> Option<(u32, bool, u32)> {
        self.drop_stale();
        let Reverse((at, seq, id)) = *self.heap.peek()?;
        if at > now || seq >= before {
            return None;
        }
        self.heap.pop();
        let entry = *self.active.get(&id)?;
        match entry.period {
            Some(period) => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.active.insert(id, Entry { seq, ..entry });
                self.heap.push(Reverse((at + period, seq, id)));
                Some((id, false, entry.nesting))
            }
            None => {
                self.active.remove(&id);
                Some((id, true, entry.nesting))
            }
        }
    }

    fn drop_stale(&mut self) {
        while let Some(Reverse((_, seq, id))) = self.heap.peek() {
            match self.active.get(id) {
                Some(entry) if entry.seq == *seq => break,
                _ => {
                    self.heap.pop();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn fires_in_deadline_order_then_insertion_order() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(10);
        q.start(1, t0, ms(20), false, 0).expect("room");
        q.start(2, t0, ms(10), false, 0).expect("room");
        q.start(3, t0, ms(10), false, 0).expect("room");
        assert_eq!(q.next_deadline(), Some(t0 + ms(10)));
        assert_eq!(
            q.pop_due(t0 + ms(5), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            None
        );
        assert_eq!(
            q.pop_due(t0 + ms(20), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((2, true))
        );
        assert_eq!(
            q.pop_due(t0 + ms(20), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((3, true))
        );
        assert_eq!(
            q.pop_due(t0 + ms(20), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((1, true))
        );
        assert_eq!(
            q.pop_due(t0 + ms(20), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            None
        );
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn interval_repeats_until_cleared() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(10);
        q.start(7, t0, ms(100), true, 0).expect("room");
        assert_eq!(
            q.pop_due(t0 + ms(100), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((7, false))
        );
        assert_eq!(q.next_deadline(), Some(t0 + ms(200)));
        assert_eq!(
            q.pop_due(t0 + ms(200), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((7, false))
        );
        q.clear(7);
        assert_eq!(q.next_deadline(), None);
        assert_eq!(
            q.pop_due(t0 + ms(1000), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            None
        );
    }

    #[test]
    fn deep_zero_delay_chains_wait_4_ms_and_a_batch_fires_only_older_timers() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(10);
        q.start(1, t0, ms(0), false, NESTING_CLAMP - 1)
            .expect("room");
        q.start(2, t0, ms(0), false, NESTING_CLAMP).expect("room");
        assert_eq!(q.next_deadline(), Some(t0));
        let batch = q.mark();
        assert_eq!(q.pop_due(t0, batch), Some((1, true, NESTING_CLAMP - 1)));
        assert_eq!(q.pop_due(t0, batch), None, "the nested one waits 4 ms");
        q.start(3, t0, ms(0), false, 0).expect("room");
        assert_eq!(
            q.pop_due(t0, batch),
            None,
            "set during the batch: the next batch"
        );
        assert_eq!(q.pop_due(t0, q.mark()), Some((3, true, 0)));
        assert_eq!(
            q.pop_due(t0 + ms(4), q.mark()),
            Some((2, true, NESTING_CLAMP))
        );
    }

    #[test]
    fn cleared_timers_do_not_grow_the_heap() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(100);
        q.start(1, t0, ms(5), false, 0).expect("room");
        for id in 2..200_000 {
            q.start(
                id,
                t0,
                Duration::from_millis(u64::from(i32::MAX as u32)),
                false,
                0,
            )
            .expect("room");
            q.clear(id);
        }
        assert!(q.heap.len() <= 2 + COMPACT_SLACK, "heap: {}", q.heap.len());
        assert_eq!(
            q.pop_due(t0 + ms(5), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((1, true)),
            "live timers survive"
        );
    }

    #[test]
    fn limit_counts_active_timers_only() {
        let t0 = Instant::now();
        let mut q = TimerQueue::new(2);
        q.start(1, t0, ms(1), false, 0).expect("room");
        q.start(2, t0, ms(1), false, 0).expect("room");
        assert_eq!(q.start(3, t0, ms(1), false, 0), Err(TimerLimitExceeded));
        q.clear(1);
        q.start(3, t0, ms(1), false, 0).expect("room after clear");
        assert_eq!(
            q.pop_due(t0 + ms(1), u64::MAX)
                .map(|(id, done, _)| (id, done)),
            Some((2, true))
        );
        q.start(4, t0, ms(1), false, 0).expect("room after fire");
    }
}
