//! Rate limiting: fixed-window counters on the item table, per user when
//! signed in and per client IP otherwise (an IPv6 client is its /64).
//!
//! Limits are configuration (`WHATIF_RATE_LIMITS`), with the defaults of API.md.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;
use serde_json::json;

use crate::auth::{Plan, Principal};
use crate::clock::Clock;
use crate::keys;
use crate::ports::StoreResult;
use crate::ports::table::{Cond, ItemTable, TTL, Update};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RateClass {
    General,
    Auth,
    PasswordReset,
    Generate,
    Media,
    WriteSocial,
}

impl RateClass {
    pub const ALL: [RateClass; 6] = [
        RateClass::General,
        RateClass::Auth,
        RateClass::PasswordReset,
        RateClass::Generate,
        RateClass::Media,
        RateClass::WriteSocial,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RateClass::General => "general",
            RateClass::Auth => "auth",
            RateClass::PasswordReset => "password-reset",
            RateClass::Generate => "generate",
            RateClass::Media => "media",
            RateClass::WriteSocial => "write-social",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u32,
}

/// The limits of one class, by who is asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ClassLimits {
    pub anonymous: Limit,
    pub signed_in: Limit,
    pub premium: Limit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits(BTreeMap<RateClass, ClassLimits>);

const MIN: u32 = 60;
const HOUR: u32 = 3600;

impl Default for RateLimits {
    fn default() -> Self {
        let all = |max, window_secs, premium_factor| {
            let limit = Limit { max, window_secs };
            ClassLimits {
                anonymous: limit,
                signed_in: limit,
                premium: Limit { max: max * premium_factor, window_secs },
            }
        };
        let mut generate = all(30, HOUR, 5);
        generate.anonymous = Limit { max: 5, window_secs: HOUR };
        Self(BTreeMap::from([
            (RateClass::General, all(300, 15 * MIN, 3)),
            (RateClass::Auth, all(20, 15 * MIN, 1)),
            (RateClass::PasswordReset, all(3, HOUR, 1)),
            (RateClass::Generate, generate),
            (RateClass::Media, all(10, HOUR, 5)),
            (RateClass::WriteSocial, all(60, 15 * MIN, 2)),
        ]))
    }
}

impl RateLimits {
    pub fn get(&self, class: RateClass) -> ClassLimits {
        self.0.get(&class).copied().unwrap_or_else(|| RateLimits::default().0[&class])
    }

    /// Overrides the defaults with `class[.tier]=max/window` entries, separated
    /// by `,` or `;`; tier ∈ anonymous, signed-in, premium (none: all three);
    /// window like `900s`, `15m`, `1h`, `1d`. Example: `generate=30/1h,generate.anonymous=5/1h`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut limits = RateLimits::default();
        for entry in spec.split([',', ';']).map(str::trim).filter(|e| !e.is_empty()) {
            let (name, value) = entry.split_once('=').ok_or_else(|| format!("{entry:?}: expected class=max/window"))?;
            let (class, tier) = match name.trim().split_once('.') {
                Some((c, t)) => (c, Some(t)),
                None => (name.trim(), None),
            };
            let class = RateClass::ALL
                .into_iter()
                .find(|c| c.name() == class)
                .ok_or_else(|| format!("{class:?} is not a rate-limit class"))?;
            let limit =
                parse_limit(value.trim()).ok_or_else(|| format!("{value:?}: expected max/window like 30/1h"))?;
            let entry = limits.0.entry(class).or_insert_with(|| RateLimits::default().0[&class]);
            match tier {
                None => *entry = ClassLimits { anonymous: limit, signed_in: limit, premium: limit },
                Some("anonymous") => entry.anonymous = limit,
                Some("signed-in") => entry.signed_in = limit,
                Some("premium") => entry.premium = limit,
                Some(other) => return Err(format!("{other:?} is not one of anonymous, signed-in, premium")),
            }
        }
        Ok(limits)
    }

    /// As JSON, for documentation and the plans route.
    pub fn describe(&self) -> serde_json::Value {
        json!(self.0.iter().map(|(c, l)| (c.name(), l)).collect::<BTreeMap<_, _>>())
    }
}

fn parse_limit(value: &str) -> Option<Limit> {
    let (max, window) = value.split_once('/')?;
    let max: u32 = max.trim().parse().ok().filter(|m| *m > 0)?;
    let window = window.trim();
    let split = window.find(|c: char| !c.is_ascii_digit()).unwrap_or(window.len());
    let (n, unit) = window.split_at(split);
    let n: u32 = if n.is_empty() { 1 } else { n.parse().ok()? };
    let unit = match unit {
        "s" => 1,
        "m" => MIN,
        "h" => HOUR,
        "d" => 24 * HOUR,
        _ => return None,
    };
    let window_secs = n.checked_mul(unit).filter(|w| (1..=7 * 24 * HOUR).contains(w))?;
    Some(Limit { max, window_secs })
}

/// Who a limit counts against.
pub fn subject(principal: Option<&Principal>, ip: Option<IpAddr>) -> String {
    match (principal, ip) {
        (Some(p), _) => format!("user:{}", p.user_id),
        (None, Some(IpAddr::V4(v4))) => format!("ip:{v4}"),
        (None, Some(IpAddr::V6(v6))) => {
            let s = v6.segments();
            format!("ip6:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        (None, None) => "ip:unknown".to_string(),
    }
}

/// Who is asking, for something the system keeps about them without keeping
/// who they are (a counted view, an anonymous reporter): the [`subject`],
/// hashed with `scope` so one scope's marks do not link to another's; 32 hex
/// characters.
pub fn hashed_subject(principal: Option<&Principal>, ip: Option<IpAddr>, scope: &str) -> String {
    let subject = subject(principal, ip);
    crate::accounts::sessions::hash(&format!("{scope}:{subject}"))[..32].to_string()
}

/// The outcome of one hit, with what the `X-RateLimit-*` headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the window ends.
    pub reset: i64,
    /// Seconds until the window ends.
    pub retry_after: u64,
}

impl RateClass {
    /// Whether the class counts only failed attempts (4xx other than 429):
    /// sign-ins from one address (an office, a school, a carrier NAT) must not
    /// lock each other out by succeeding. The window is read before the
    /// handler runs (429 once it is full) and added to when the answer fails.
    pub fn counts_failures_only(self) -> bool {
        self == RateClass::Auth
    }
}

/// The window `now` falls in for `subject` in `class`: what every count and
/// read of one caller's limit works on. Built once per request.
pub struct Window {
    limit: Limit,
    key: crate::ports::table::Key,
    now: i64,
    reset: i64,
}

impl Window {
    pub fn of(
        clock: &dyn Clock,
        limits: &RateLimits,
        class: RateClass,
        principal: Option<&Principal>,
        subject: &str,
    ) -> Self {
        let tiers = limits.get(class);
        let limit = match principal {
            None => tiers.anonymous,
            Some(p) if p.plan == Plan::Premium => tiers.premium,
            Some(_) => tiers.signed_in,
        };
        let now = clock.epoch_seconds();
        let length = i64::from(limit.window_secs);
        let start = now - now.rem_euclid(length);
        Window { limit, key: keys::rate_window(class.name(), subject, start), now, reset: start + length }
    }

    /// Counts one request and says whether it may go on.
    pub async fn hit(&self, table: &dyn ItemTable) -> StoreResult<Decision> {
        let count = self.add(table, 1, None).await?;
        Ok(self.decision(count, count <= self.max()))
    }

    /// Reads the window without counting: allowed while it is not yet full.
    pub async fn peek(&self, table: &dyn ItemTable) -> StoreResult<Decision> {
        let count = self.count(table).await?.unwrap_or(0);
        Ok(self.decision(count, count < self.max()))
    }

    /// Reads the window for a request that is counted after its answer
    /// ([`Self::count_one`]): allowed while the requests before it leave room
    /// for it, and the decision says what is left once it is counted.
    pub async fn peek_one(&self, table: &dyn ItemTable) -> StoreResult<Decision> {
        let before = self.count(table).await?.unwrap_or(0);
        Ok(self.decision(before.saturating_add(1), before < self.max()))
    }

    /// Counts one request that [`Self::peek_one`] let through.
    pub async fn count_one(&self, table: &dyn ItemTable) -> StoreResult<()> {
        self.add(table, 1, None).await.map(|_| ())
    }

    /// Counts `n` more requests only when they all fit in what is left of the
    /// window; otherwise counts nothing and answers not allowed. For a request
    /// that does the work of several (a batch), after the pipeline counted one.
    pub async fn take(&self, table: &dyn ItemTable, n: u32) -> StoreResult<Decision> {
        let max = self.max();
        if u64::from(n) > max {
            return Ok(self.decision(max, false));
        }
        let room = max - u64::from(n);
        let fits = Cond::Or(vec![Cond::AttrNotExists("count".into()), Cond::Le("count".into(), json!(room))]);
        match self.add(table, n, Some(fits)).await {
            Ok(count) => Ok(self.decision(count, true)),
            Err(crate::ports::StoreError::ConditionFailed) => {
                Ok(self.decision(self.count(table).await?.unwrap_or(max), false))
            }
            Err(e) => Err(e),
        }
    }

    /// Uncounts `n` requests counted earlier in this window (a request refused
    /// after it was counted: a batch whose topics do not fit).
    pub async fn give_back(&self, table: &dyn ItemTable, n: u32) -> StoreResult<()> {
        let counted = Cond::Ge("count".into(), json!(n));
        match table.update(&self.key, Update::new().add("count", -i64::from(n)), Some(counted)).await {
            Ok(_) | Err(crate::ports::StoreError::ConditionFailed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn max(&self) -> u64 {
        u64::from(self.limit.max)
    }

    /// The decision once `count` requests are in the window; `allowed` when
    /// that is within the limit.
    fn decision(&self, count: u64, allowed: bool) -> Decision {
        Decision {
            allowed,
            limit: self.limit.max,
            remaining: self.max().saturating_sub(count) as u32,
            reset: self.reset,
            retry_after: (self.reset - self.now).max(1) as u64,
        }
    }

    /// The window's count so far (None: nothing counted yet).
    async fn count(&self, table: &dyn ItemTable) -> StoreResult<Option<u64>> {
        Ok(table.get(&self.key).await?.and_then(|item| item.get("count").and_then(|v| v.as_u64())))
    }

    async fn add(&self, table: &dyn ItemTable, n: u32, cond: Option<Cond>) -> StoreResult<u64> {
        let item =
            table.update(&self.key, Update::new().add("count", i64::from(n)).set(TTL, self.reset + 60), cond).await?;
        Ok(item.get("count").and_then(|v| v.as_u64()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let limits = RateLimits::default();
        assert_eq!(limits.get(RateClass::General).signed_in, Limit { max: 300, window_secs: 900 });
        assert_eq!(limits.get(RateClass::Generate).anonymous, Limit { max: 5, window_secs: 3600 });
        assert_eq!(limits.get(RateClass::Generate).signed_in, Limit { max: 30, window_secs: 3600 });
        assert!(limits.get(RateClass::Generate).premium.max > 30);
    }

    #[test]
    fn parses_overrides() {
        let limits = RateLimits::parse("generate=10/30m; generate.anonymous=2/1h, auth=5/60s").unwrap();
        assert_eq!(limits.get(RateClass::Generate).signed_in, Limit { max: 10, window_secs: 1800 });
        assert_eq!(limits.get(RateClass::Generate).anonymous, Limit { max: 2, window_secs: 3600 });
        assert_eq!(limits.get(RateClass::Auth).anonymous, Limit { max: 5, window_secs: 60 });
        for bad in ["general", "nope=1/1h", "general=0/1h", "general=5/1y", "general.vip=1/1h", "general=1/9999d"] {
            assert!(RateLimits::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(subject(None, Some(a)), subject(None, Some(b)));
        assert_eq!(subject(None, Some("10.0.0.1".parse().unwrap())), "ip:10.0.0.1");
    }
}
