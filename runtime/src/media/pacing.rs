//! How evenly paced RTP sends leave. Two figures per send: its **lateness**, the time from the
//! frame's scheduled 20 ms tick to the moment the packet is handed to the socket, and its
//! **jitter**, how far the time since the stream's previous send is from 20 ms (what a
//! receiver's jitter buffer sees; a constant lateness, such as the timer's millisecond
//! granularity, adds none). Every stream tallies its own sends and adds them to the server's
//! [`PacingHistogram`]s once a second, so 10 000 calls cost 10 000 shared updates a second,
//! not 500 000.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Width of one bucket.
const STEP_MICROS: u64 = 100;
/// Buckets of [`STEP_MICROS`] up to 20 ms; one more for everything later.
const BUCKETS: usize = 201;
/// Sends a stream tallies before it adds them to the shared histogram (one second).
const FLUSH_EVERY: u32 = 50;

fn bucket_of(lateness: Duration) -> usize {
    let micros = u64::try_from(lateness.as_micros()).unwrap_or(u64::MAX);
    usize::try_from(micros / STEP_MICROS).map_or(BUCKETS - 1, |b| b.min(BUCKETS - 1))
}

/// A server-wide histogram of one pacing figure (lateness or jitter).
#[derive(Debug)]
pub struct PacingHistogram {
    buckets: [AtomicU64; BUCKETS],
}

impl Default for PacingHistogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl PacingHistogram {
    /// Sends counted so far.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// The value under which `fraction` (0..=1) of the sends fall: the upper edge of the
    /// bucket that reaches it (`None` before any send; 20 ms is reported as "later than").
    pub fn quantile(&self, fraction: f64) -> Option<Duration> {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return None;
        }
        let wanted = ((total as f64) * fraction.clamp(0.0, 1.0)).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, count) in counts.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                return Some(Duration::from_micros((i as u64 + 1) * STEP_MICROS));
            }
        }
        Some(Duration::from_micros(BUCKETS as u64 * STEP_MICROS))
    }

    /// Sends whose value is over `bound` (`bound` rounded down to 100 µs).
    pub fn over(&self, bound: Duration) -> u64 {
        self.buckets[bucket_of(bound)..]
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }

    /// Forgets every send counted so far (a benchmark's warm-up).
    pub fn reset(&self) {
        for bucket in &self.buckets {
            bucket.store(0, Ordering::Relaxed);
        }
    }

    fn add(&self, tally: &mut PacingTally) {
        for (shared, local) in self.buckets.iter().zip(tally.buckets.iter_mut()) {
            if *local > 0 {
                shared.fetch_add(u64::from(*local), Ordering::Relaxed);
                *local = 0;
            }
        }
        tally.pending = 0;
    }
}

/// One stream's figures not yet added to a shared histogram.
#[derive(Debug)]
pub struct PacingTally {
    buckets: Box<[u32; BUCKETS]>,
    pending: u32,
}

impl Default for PacingTally {
    fn default() -> Self {
        Self {
            buckets: Box::new([0; BUCKETS]),
            pending: 0,
        }
    }
}

impl PacingTally {
    /// Counts one send's figure; adds the tally to `shared` every second.
    pub fn record(&mut self, value: Duration, shared: &PacingHistogram) {
        self.buckets[bucket_of(value)] += 1;
        self.pending += 1;
        if self.pending >= FLUSH_EVERY {
            shared.add(self);
        }
    }

    /// Adds what is left (the stream ends).
    pub fn flush(&mut self, shared: &PacingHistogram) {
        if self.pending > 0 {
            shared.add(self);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: f64) -> Duration {
        Duration::from_secs_f64(value / 1000.0)
    }

    #[test]
    fn quantiles_come_from_the_tallied_sends() {
        let shared = PacingHistogram::default();
        assert_eq!(shared.quantile(0.99), None);
        let mut tally = PacingTally::default();
        // 98 on time, one at 1.25 ms, one at 30 ms.
        for _ in 0..98 {
            tally.record(ms(0.05), &shared);
        }
        // 50 were added a second's worth in, the other 48 wait for the next.
        assert_eq!(shared.count(), 50);
        tally.record(ms(1.25), &shared);
        tally.record(ms(30.0), &shared);
        assert_eq!(shared.count(), 100);
        // A stream that ends adds what it has.
        let mut short = PacingTally::default();
        short.record(ms(0.05), &shared);
        assert_eq!(shared.count(), 100);
        short.flush(&shared);
        assert_eq!(shared.count(), 101);
        assert_eq!(shared.quantile(0.5), Some(ms(0.1)));
        assert_eq!(shared.quantile(0.98), Some(ms(0.1)));
        assert_eq!(shared.quantile(0.99), Some(ms(1.3)));
        assert_eq!(shared.quantile(1.0), Some(ms(20.1)));
        assert_eq!(shared.over(ms(2.0)), 1);
        assert_eq!(shared.over(ms(1.0)), 2);
        shared.reset();
        assert_eq!(shared.count(), 0);
    }
}
