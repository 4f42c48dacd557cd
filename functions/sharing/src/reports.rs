//! Reports: what can be reported and why, who reported it, and how urgent it
//! is. A report never hides anything by itself; it waits in the moderation
//! queue that the admin routes act on.
//!
//! Items (keys in `whatif_shared::keys`, reports section):
//! - one per reported target, `REPORTED#<type>#<id>` / `TARGET`: its distinct
//!   reporters, how many are verified accounts, the reasons, the computed
//!   priority, and on GSI1 its place in the queue (`REPORTQ#<status>`, highest
//!   priority first), so the queue reads by status and priority without a scan;
//! - one per reporter and target while open, `REPORTED#<type>#<id>` /
//!   `OPEN#<reporter>`, put with `NotExists`: a reporter (an account, or a hash
//!   of the client's address) has one open report per target (409 otherwise);
//!   an account's reports are on GSI2 (`REPORTER#<user>`) for its data export
//!   and deletion. The moderator's action (a later issue) resolves every open
//!   report of the target and moves them out of `OPEN#`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a report is about, as the client names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetType {
    Scenario,
    /// A scenario seen through a share: filed against the scenario.
    SharedScenario,
    Share,
    Post,
    Comment,
    User,
}

impl TargetType {
    pub const ALL: [TargetType; 6] = [
        TargetType::Scenario,
        TargetType::SharedScenario,
        TargetType::Share,
        TargetType::Post,
        TargetType::Comment,
        TargetType::User,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TargetType::Scenario => "scenario",
            TargetType::SharedScenario => "shared_scenario",
            TargetType::Share => "share",
            TargetType::Post => "post",
            TargetType::Comment => "comment",
            TargetType::User => "user",
        }
    }
}

macro_rules! labelled {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $value:literal, $en:literal, $vi:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $value)] $variant,)*
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            pub fn value(self) -> &'static str {
                match self { $($name::$variant => $value,)* }
            }

            /// Its label in English and Vietnamese.
            pub fn labels(self) -> Labels {
                match self { $($name::$variant => Labels { en: $en, vi: $vi },)* }
            }
        }
    };
}

labelled! {
    /// Why something is reported (API.md's list).
    Reason {
        InappropriateContent = "inappropriate_content", "Inappropriate content", "Nội dung không phù hợp";
        Spam = "spam", "Spam", "Spam hoặc quảng cáo";
        Harassment = "harassment", "Harassment", "Quấy rối";
        Violence = "violence", "Violence", "Bạo lực";
        HateSpeech = "hate_speech", "Hate speech", "Ngôn từ thù địch";
        AdultContent = "adult_content", "Adult content", "Nội dung người lớn";
        Misinformation = "misinformation", "Misinformation", "Thông tin sai lệch";
        CopyrightViolation = "copyright_violation", "Copyright violation", "Vi phạm bản quyền";
        Other = "other", "Other", "Khác";
    }
}

labelled! {
    /// The reporter's grouping of the reason (the web client sends one).
    Category {
        Content = "content", "Content", "Nội dung";
        Safety = "safety", "Safety", "An toàn";
        Legal = "legal", "Legal", "Pháp lý";
        Spam = "spam", "Spam", "Spam";
        Other = "other", "Other", "Khác";
    }
}

labelled! {
    /// How urgent the reporter thinks it is: a hint to the priority, never more.
    Severity {
        Low = "low", "Low", "Thấp";
        Medium = "medium", "Medium", "Trung bình";
        High = "high", "High", "Cao";
        Critical = "critical", "Critical", "Nghiêm trọng";
    }
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct Labels {
    pub en: &'static str,
    pub vi: &'static str,
}

impl Reason {
    /// How much the reason alone weighs (0–40): harm to people first.
    pub fn weight(self) -> u32 {
        match self {
            Reason::Violence | Reason::HateSpeech => 40,
            Reason::AdultContent => 35,
            Reason::Harassment => 30,
            Reason::Misinformation | Reason::CopyrightViolation => 20,
            Reason::InappropriateContent => 15,
            Reason::Spam => 10,
            Reason::Other => 5,
        }
    }
}

/// The open reports of one target, as its queue item keeps them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Distinct reporters (accounts and addresses).
    pub reporters: u32,
    /// Of them, accounts with a verified email.
    pub verified_reporters: u32,
    /// Reports by reason.
    pub reasons: BTreeMap<String, u32>,
    /// The highest severity a reporter suggested.
    pub max_severity: Option<Severity>,
}

/// The priority the queue sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Tally {
    pub fn add(&mut self, reason: Reason, severity: Option<Severity>, verified: bool) {
        self.reporters += 1;
        if verified {
            self.verified_reporters += 1;
        }
        *self.reasons.entry(reason.value().to_string()).or_default() += 1;
        self.max_severity = self.max_severity.max(severity);
    }

    /// The score (0–150) the server computes: the gravest reason reported
    /// (up to 40), distinct reporters (5 each, up to 10 of them), verified
    /// accounts among them (10 each, up to 5), and the reporters' severity as
    /// a hint (up to 10). Anonymous reporters alone reach at most 100: they
    /// can raise a target in the queue, never above what verified accounts do.
    pub fn score(&self) -> u32 {
        let gravest = Reason::ALL
            .iter()
            .filter(|r| self.reasons.get(r.value()).is_some_and(|n| *n > 0))
            .map(|r| r.weight())
            .max()
            .unwrap_or(0);
        let hint = match self.max_severity {
            Some(Severity::Critical) => 10,
            Some(Severity::High) => 5,
            _ => 0,
        };
        gravest + 5 * self.reporters.min(10) + 10 * self.verified_reporters.min(5) + hint
    }

    pub fn priority(&self) -> Priority {
        match self.score() {
            90.. => Priority::Critical,
            60..=89 => Priority::High,
            30..=59 => Priority::Medium,
            _ => Priority::Low,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_grows_with_gravity_reporters_and_verified_accounts() {
        let mut spam = Tally::default();
        spam.add(Reason::Spam, None, false);
        assert_eq!(spam.priority(), Priority::Low);
        let mut violence = Tally::default();
        violence.add(Reason::Violence, None, true);
        assert!(violence.score() > spam.score());
        assert_eq!(violence.priority(), Priority::Medium);
        for _ in 0..4 {
            violence.add(Reason::Violence, None, true);
        }
        assert_eq!(violence.priority(), Priority::Critical);
    }

    #[test]
    fn a_reporter_severity_is_only_a_hint() {
        let mut claimed = Tally::default();
        claimed.add(Reason::Other, Some(Severity::Critical), false);
        // "other" (5) + one reporter (5) + the hint (10): still low.
        assert_eq!(claimed.score(), 20);
        assert_eq!(claimed.priority(), Priority::Low);
    }

    #[test]
    fn anonymous_crowds_never_outrank_what_verified_accounts_reach() {
        let mut crowd = Tally::default();
        for _ in 0..1000 {
            crowd.add(Reason::Violence, Some(Severity::Critical), false);
        }
        assert_eq!(crowd.score(), 40 + 50 + 10);
        let mut verified = Tally::default();
        for _ in 0..10 {
            verified.add(Reason::Violence, Some(Severity::Critical), true);
        }
        assert!(verified.score() > crowd.score());
    }
}
