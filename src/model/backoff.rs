//! Reconnect delays: exponential with "equal jitter" (half fixed, half
//! random), so a server restart is not met by every client at the same
//! instant, capped so an idle tab comes back within half a minute.

/// The `attempt`-th wait (from 0): `base_ms` doubled each time up to
/// `cap_ms`, half of it fixed and half random ("equal jitter"); `random` is
/// uniform in [0, 1).
pub(crate) fn delay_ms(attempt: u32, base_ms: u32, cap_ms: u32, random: f64) -> u32 {
    let exp = 1u64 << attempt.min(20);
    let ceiling = (u64::from(base_ms) * exp).min(u64::from(cap_ms)) as f64;
    let random = random.clamp(0.0, 1.0);
    (ceiling / 2.0 + random * ceiling / 2.0) as u32
}

#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    attempt: u32,
    base_ms: u32,
    cap_ms: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new(500, 30_000)
    }
}

impl Backoff {
    pub(crate) fn new(base_ms: u32, cap_ms: u32) -> Self {
        Self {
            attempt: 0,
            base_ms,
            cap_ms,
        }
    }

    /// The delay before the next attempt; `random` is uniform in [0, 1).
    pub(crate) fn next_delay_ms(&mut self, random: f64) -> u32 {
        let delay = delay_ms(self.attempt, self.base_ms, self.cap_ms, random);
        self.attempt = self.attempt.saturating_add(1);
        delay
    }

    /// A connection worked: start again from the shortest delay.
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_to_the_cap_with_jitter_and_reset() {
        let mut backoff = Backoff::new(500, 30_000);
        assert_eq!(backoff.next_delay_ms(0.0), 250);
        assert_eq!(backoff.next_delay_ms(0.999_999), 999);
        assert_eq!(backoff.next_delay_ms(0.5), 1500);
        let mut last = 0;
        for _ in 0..40 {
            let delay = backoff.next_delay_ms(0.7);
            assert!(delay >= last && delay <= 30_000, "{delay}");
            last = delay;
        }
        assert_eq!(last, 25_500, "capped at 30 s, with jitter");
        backoff.reset();
        assert!(backoff.next_delay_ms(1.0) <= 500);
    }

    #[test]
    fn jitter_spreads_clients_apart() {
        let low = Backoff::new(1000, 60_000).next_delay_ms(0.0);
        let high = Backoff::new(1000, 60_000).next_delay_ms(0.99);
        assert!(high > low);
    }
}
