//! What the owner's share analytics count: one small item per owner and day
//! (`SHARESTATS#<owner>` / `<yyyy-mm-dd>`), added to atomically in the same
//! transaction as what it counts, so `GET /api/sharing/analytics` reads at
//! most 366 items of its own partition and never anyone else's data.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{TxOp, Update};
use whatif_shared::{UserId, keys};

/// Where a share was sent (`/record`), as API.md lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Facebook,
    Twitter,
    Linkedin,
    Whatsapp,
    Telegram,
    Email,
    Copy,
    Qr,
    Other,
}

impl Platform {
    pub const ALL: [Platform; 9] = [
        Platform::Facebook,
        Platform::Twitter,
        Platform::Linkedin,
        Platform::Whatsapp,
        Platform::Telegram,
        Platform::Email,
        Platform::Copy,
        Platform::Qr,
        Platform::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Facebook => "facebook",
            Platform::Twitter => "twitter",
            Platform::Linkedin => "linkedin",
            Platform::Whatsapp => "whatsapp",
            Platform::Telegram => "telegram",
            Platform::Email => "email",
            Platform::Copy => "copy",
            Platform::Qr => "qr",
            Platform::Other => "other",
        }
    }

    /// The day item's attribute that counts this platform.
    pub fn attribute(self) -> String {
        format!("platform_{}", self.name())
    }
}

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// A new share link.
    Shared,
    /// A counted view (once per viewer, share and day; not the owner's).
    Viewed,
    /// A share sent to a platform.
    Recorded(Platform),
}

/// The attribute of a day item that counts new shares.
pub const SHARES: &str = "shares";
/// The attribute of a day item that counts views.
pub const VIEWS: &str = "views";

/// The operation that counts `event` on today's item of `owner`, for a
/// transaction with what it counts.
pub fn count(ctx: &AppContext, owner: &UserId, event: Event) -> TxOp {
    let day = ctx.clock.now().date().to_string();
    let attr = match event {
        Event::Shared => SHARES.to_string(),
        Event::Viewed => VIEWS.to_string(),
        Event::Recorded(platform) => platform.attribute(),
    };
    TxOp::Update {
        key: keys::share_stats(owner, &day),
        update: Update::new().set("date", day.as_str()).add(&attr, 1),
        cond: None,
    }
}
