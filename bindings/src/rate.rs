//! A token bucket that bounds how often something a remote peer or a scenario can cause
//! happens (log lines, WebSocket text messages), and says once a second how much it dropped.
//! Time is passed in.

use std::time::Duration;

use tokio::time::Instant;

/// What the budget says about one more item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Within the rate: let it through.
    Spend,
    /// Over the rate: drop it.
    Drop,
    /// Over the rate: drop it, and tell how many were dropped since the last telling.
    DropAndTell(u64),
}

/// At most `per_second` items a second, in bursts of as many.
#[derive(Debug, Clone)]
pub struct RateBudget {
    per_second: u32,
    tokens: f64,
    at: Option<Instant>,
    dropped: u64,
    told: Option<Instant>,
}

impl RateBudget {
    /// A full budget of `per_second`.
    pub fn new(per_second: u32) -> Self {
        Self {
            per_second,
            tokens: f64::from(per_second),
            at: None,
            dropped: 0,
            told: None,
        }
    }

    /// Items dropped and not told yet.
    pub fn untold(&self) -> u64 {
        self.dropped
    }

    /// Takes the untold count (for a last summary).
    pub fn take_untold(&mut self) -> u64 {
        std::mem::take(&mut self.dropped)
    }

    /// Spends one item at `now`.
    pub fn take(&mut self, now: Instant) -> Budget {
        let rate = f64::from(self.per_second);
        if let Some(at) = self.at {
            self.tokens = (self.tokens + now.duration_since(at).as_secs_f64() * rate).min(rate);
        }
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Budget::Spend;
        }
        self.dropped += 1;
        if self
            .told
            .is_some_and(|told| now.duration_since(told) < Duration::from_secs(1))
        {
            return Budget::Drop;
        }
        self.told = Some(now);
        Budget::DropAndTell(std::mem::take(&mut self.dropped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_cut_and_told_once_a_second() {
        let t0 = Instant::now();
        let mut budget = RateBudget::new(200);
        for _ in 0..200 {
            assert_eq!(budget.take(t0), Budget::Spend);
        }
        assert_eq!(budget.take(t0), Budget::DropAndTell(1));
        assert_eq!(budget.take(t0), Budget::Drop);
        assert_eq!(budget.untold(), 1);
        let later = t0 + Duration::from_millis(100);
        assert_eq!(budget.take(later), Budget::Spend, "20 items refilled");
        let second = t0 + Duration::from_secs(2);
        for _ in 0..200 {
            budget.take(second);
        }
        assert_eq!(budget.take(second), Budget::DropAndTell(2));
    }
}
