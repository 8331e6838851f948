//! How many password checks logins may cost: a budget per key (username, address, trusted device)
//! per window, reserved before each check, in memory of bounded size.
//!
//! The design is OWASP's "device cookie" scheme (Slow Down Online Guessing Attacks with Device
//! Cookies): a browser that has logged in to an account gets a signed cookie naming it (see
//! `auth::device_cookie`), and with that cookie it is held only to its own budget
//! (`device:<nonce>`). Everyone else is held to the account's budget for strangers (`user:<name>`)
//! and their address's (`addr:<ip>`). A stranger who spends `admin`'s budget therefore locks out
//! other strangers, never the real person's browser. An address that logged in to the account
//! before is treated the same way (`known:<name>@<ip>`), for a person whose browser lost its
//! cookies; that memory lives in this process only.
//!
//! A check is reserved before it is made, under one lock, so 100 parallel attempts can cost at
//! most `max` checks; a check that succeeds is given back. Keys are forgotten when their window
//! has passed; at `capacity` keys, the expired ones are dropped and then the ones idle longest.
//! (A crate like governor gives rate quotas but cannot give a successful check back or keep the
//! trusted-device budgets apart, which this design needs.)

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::config::Web;

/// The password-check budgets of the console's logins.
pub struct LoginLimiter {
    inner: Mutex<Inner>,
    max: usize,
    window: Duration,
    capacity: usize,
    trust_for: Duration,
}

#[derive(Default)]
struct Inner {
    /// Times of the checks each key spent within the window, oldest first; at most `max`.
    spent: HashMap<String, VecDeque<DateTime<Utc>>>,
    /// (username, address) pairs that logged in, and when they last did.
    known: HashMap<(String, IpAddr), DateTime<Utc>>,
}

/// A check reserved against some keys; hand it back with [`LoginLimiter::give_back`] if it succeeds.
#[derive(Debug)]
pub struct Reservation {
    keys: Vec<String>,
    at: DateTime<Utc>,
}

impl LoginLimiter {
    /// `max` checks per key per `window`; at most `capacity` keys (and as many known addresses);
    /// known addresses are trusted for `trust_for`.
    pub fn new(max: u32, window: Duration, capacity: usize, trust_for: Duration) -> Self {
        Self { inner: Mutex::new(Inner::default()), max: max.max(1) as usize, window, capacity, trust_for }
    }

    /// From `web.max_failed_logins`, `web.login_window_minutes`, `web.login_limiter_entries` and
    /// `web.trusted_device_days`.
    pub fn from_config(web: &Web) -> Self {
        Self::new(
            web.max_failed_logins,
            Duration::minutes(web.login_window_minutes),
            web.login_limiter_entries,
            Duration::days(web.trusted_device_days),
        )
    }

    /// Reserves one check against every key, or says until when they must wait (then nothing is
    /// reserved).
    pub fn reserve(&self, keys: &[String], now: DateTime<Utc>) -> Result<Reservation, DateTime<Utc>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut until: Option<DateTime<Utc>> = None;
        for key in keys {
            if let Some(spent) = inner.spent.get_mut(key) {
                while spent.front().is_some_and(|t| now - *t >= self.window) {
                    spent.pop_front();
                }
                if spent.len() >= self.max
                    && let Some(first) = spent.front()
                {
                    until = until.max(Some(*first + self.window));
                }
            }
        }
        if let Some(until) = until {
            return Err(until);
        }
        for key in keys {
            if !inner.spent.contains_key(key) {
                self.make_room(&mut inner, now);
            }
            inner.spent.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Reservation { keys: keys.to_vec(), at: now })
    }

    /// Gives a reserved check back: the password was right.
    pub fn give_back(&self, reservation: Reservation) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for key in &reservation.keys {
            if let Some(spent) = inner.spent.get_mut(key) {
                if let Some(i) = spent.iter().rposition(|t| *t == reservation.at) {
                    spent.remove(i);
                }
                if spent.is_empty() {
                    inner.spent.remove(key);
                }
            }
        }
    }

    /// Remembers that `username` logged in from `addr`.
    pub fn remember(&self, username: &str, addr: IpAddr, now: DateTime<Utc>) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (username.to_string(), addr);
        if !inner.known.contains_key(&key) && inner.known.len() >= self.capacity {
            let trust_for = self.trust_for;
            inner.known.retain(|_, at| now - *at < trust_for);
            if inner.known.len() >= self.capacity {
                evict_oldest(&mut inner.known, self.capacity / 8 + 1, |at| *at);
            }
        }
        inner.known.insert(key, now);
    }

    /// Whether `username` logged in from `addr` within the trust period.
    pub fn is_known(&self, username: &str, addr: IpAddr, now: DateTime<Utc>) -> bool {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.known.get(&(username.to_string(), addr)).is_some_and(|at| now - *at < self.trust_for)
    }

    /// Keys held now (for tests and the memory bound).
    pub fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).spent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Before a new key is added at capacity: drop the expired keys, then an eighth of the keys
    /// idle longest (so the scan happens once per many additions, not on each).
    fn make_room(&self, inner: &mut Inner, now: DateTime<Utc>) {
        if inner.spent.len() < self.capacity {
            return;
        }
        let window = self.window;
        inner.spent.retain(|_, spent| spent.back().is_some_and(|t| now - *t < window));
        if inner.spent.len() >= self.capacity {
            evict_oldest(&mut inner.spent, self.capacity / 8 + 1, |spent| {
                spent.back().copied().unwrap_or(DateTime::<Utc>::MIN_UTC)
            });
        }
    }
}

/// Removes the `n` entries whose time (by `at`) is oldest.
fn evict_oldest<K: Clone + Eq + std::hash::Hash, V>(
    map: &mut HashMap<K, V>,
    n: usize,
    at: impl Fn(&V) -> DateTime<Utc>,
) {
    let mut times: Vec<(DateTime<Utc>, K)> = map.iter().map(|(k, v)| (at(v), k.clone())).collect();
    let n = n.min(times.len());
    if n == 0 {
        return;
    }
    times.select_nth_unstable_by_key(n - 1, |(t, _)| *t);
    for (_, k) in times.into_iter().take(n) {
        map.remove(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(capacity: usize) -> LoginLimiter {
        LoginLimiter::new(5, Duration::minutes(15), capacity, Duration::days(90))
    }

    #[test]
    fn at_most_max_checks_per_window_and_a_success_is_given_back() {
        let l = limiter(1000);
        let t = Utc::now();
        let keys = vec!["user:a".to_string(), "addr:127.0.0.1".to_string()];
        let first = l.reserve(&keys, t).unwrap();
        l.give_back(first);
        for i in 0..5 {
            assert!(l.reserve(&keys, t).is_ok(), "try {i}");
        }
        let until = l.reserve(&keys, t).unwrap_err();
        assert_eq!(until, t + Duration::minutes(15));
        // Another username from the same address is held by the address's budget too.
        assert!(l.reserve(&["user:b".to_string(), "addr:127.0.0.1".to_string()], t).is_err());
        assert!(l.reserve(&keys, t + Duration::minutes(15)).is_ok(), "the window passed");
    }

    #[test]
    fn memory_stays_bounded_under_many_usernames() {
        let l = limiter(1000);
        let t = Utc::now();
        for i in 0..20_000 {
            let _ = l.reserve(&[format!("user:{i}")], t);
            assert!(l.len() <= 1000);
        }
        assert!(l.reserve(&["user:19999".to_string()], t).is_ok(), "the newest keys are kept");
    }

    #[test]
    fn known_addresses_are_remembered_for_the_trust_period() {
        let l = limiter(1000);
        let t = Utc::now();
        let addr: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(!l.is_known("admin", addr, t));
        l.remember("admin", addr, t);
        assert!(l.is_known("admin", addr, t + Duration::days(89)));
        assert!(!l.is_known("admin", addr, t + Duration::days(91)));
        assert!(!l.is_known("staff", addr, t));
    }
}
