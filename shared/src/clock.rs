//! Time and ids, injectable so tests can fix them.

use std::sync::Mutex;

use time::OffsetDateTime;
use ulid::Ulid;

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;

    fn epoch_seconds(&self) -> i64 {
        self.now().unix_timestamp()
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// ULIDs, monotonic within a process (two ids of the same millisecond still sort).
pub trait IdGen: Send + Sync {
    fn ulid(&self) -> Ulid;
}

#[derive(Default)]
pub struct UlidGen(Mutex<ulid::Generator>);

impl IdGen for UlidGen {
    fn ulid(&self) -> Ulid {
        let mut generator = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Overflow needs 2^80 ids in one millisecond; fall back to a fresh random id.
        generator.generate().unwrap_or_else(|_| Ulid::new())
    }
}

/// Sequential ids for tests: 00000000000000000000000001, ...2, ...
#[derive(Debug, Default)]
pub struct SequentialIds(Mutex<u128>);

impl IdGen for SequentialIds {
    fn ulid(&self) -> Ulid {
        let mut n = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        Ulid(*n)
    }
}

/// RFC 3339 UTC with millisecond precision, the format of every time in the API.
pub fn rfc3339(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let ms = at.millisecond();
    let base = at.replace_millisecond(ms).unwrap_or(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        base.year(),
        u8::from(base.month()),
        base.day(),
        base.hour(),
        base.minute(),
        base.second(),
        ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_monotonic() {
        let ids = UlidGen::default();
        let a = ids.ulid();
        let b = ids.ulid();
        assert!(b > a);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let t = time::macros::datetime!(2026-11-22 03:04:05.678 +02:00);
        assert_eq!(rfc3339(t), "2026-11-22T01:04:05.678Z");
    }
}
