//! A share link: its id, what it stores, how it is opened, and its links.
//!
//! The item and its indexes are in `whatif_shared::keys` (shares section):
//! `SHARE#<id>` / `SHARE`, the owner's shares on GSI1, a scenario's shares on
//! GSI2, and `ACTIVESHARE#<scenarioId>` / `ACTIVE`, the share a new request
//! reuses. A share is the owner's consent to show one scenario: it works
//! while the scenario is private, answers 404 while the scenario is deleted or
//! hidden by moderation, and is removed with the scenario's purge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use whatif_shared::accounts::passwords;
use whatif_shared::context::AppContext;
use whatif_shared::ports::table::{GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK};
use whatif_shared::ratelimit::{self, RateClass, Window};
use whatif_shared::scenarios::{Scenario, store};
use whatif_shared::{ApiError, ApiRequest, ApiResult, ScenarioId, UserId, keys};

/// Random bytes in a share id: 128 bits, so ids cannot be guessed or walked.
const ID_BYTES: usize = 16;
/// The length of its random part: URL-safe base64 without padding.
pub const RANDOM_LEN: usize = 22;
/// The length of a scenario id (a ULID) at the end of a share id.
const SCENARIO_LEN: usize = 26;

/// The header a share's password travels in (never the URL, never a log).
pub const PASSWORD_HEADER: &str = "x-share-password";

/// A share id as the system issues it: 22 characters of URL-safe base64 (128
/// random bits), then the id of the scenario it shows, so that a public read
/// asks for the share and its scenario at once. The scenario's id tells a
/// viewer nothing the shared scenario does not (it is served with its id),
/// and opens nothing: the share item, found by the whole id, is what grants
/// the view. Ids issued before they named the scenario are the random part
/// alone, and still open (reading the share first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareId(String);

impl ShareId {
    /// A new id of a share of `scenario`, from the operating system's random source.
    pub fn generate(scenario: &ScenarioId) -> Self {
        let mut bytes = [0u8; ID_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        ShareId(format!("{}{scenario}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// An id from outside (a path); `None` when it cannot be one we issued.
    pub fn parse(raw: &str) -> Option<Self> {
        let (random, scenario) = raw.split_at_checked(RANDOM_LEN)?;
        let shaped = random.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        // The last character carries 4 bits of padding: a canonical encoding only.
        let canonical = shaped && URL_SAFE_NO_PAD.decode(random).is_ok_and(|b| b.len() == ID_BYTES);
        // The scenario's id as we write it (upper case), or none at all.
        let named = scenario.is_empty()
            || (scenario.len() == SCENARIO_LEN && ScenarioId::parse(scenario).is_ok_and(|id| id.as_str() == scenario));
        (canonical && named).then(|| ShareId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scenario the id names; `None` for an id issued before ids named it.
    pub fn scenario(&self) -> Option<ScenarioId> {
        let named = &self.0[RANDOM_LEN..];
        (!named.is_empty()).then(|| ScenarioId::from_trusted(named))
    }
}

/// A share as stored. Never served as is: [`Share::owner_view`] is what its
/// owner sees, [`PublicShare`] what a viewer sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Share {
    pub share_url: String,
    pub scenario_id: String,
    pub owner_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Argon2id, as account passwords.
    pub password_hash: Option<String>,
    pub expires_at: Option<String>,
    /// Off while the owner pauses it (`PATCH isActive: false`).
    pub is_active: bool,
    /// Revoked for good (`DELETE`, or removed by a moderator).
    pub revoked_at: Option<String>,
    /// Hidden by a moderator: gone for everyone; its owner sees it as `hidden`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_hidden: bool,
    #[serde(default)]
    pub view_count: u64,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped by every change; changes are conditional on it.
    #[serde(default)]
    pub version: u64,
}

/// Where a share stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShareStatus {
    Active,
    Paused,
    Expired,
    Revoked,
    /// Hidden by a moderator.
    Hidden,
}

/// A share as its owner sees it (`/api/sharing/my`, `PATCH`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OwnerShare {
    pub share_url: String,
    pub scenario_id: String,
    pub full_url: String,
    pub qr_code_url: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub expires_at: Option<String>,
    pub is_active: bool,
    pub status: ShareStatus,
    pub is_password_protected: bool,
    pub view_count: u64,
    pub created_at: String,
    pub updated_at: String,
}

/// A share as a viewer sees it (`GET /shared/{shareUrl}`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PublicShare {
    pub share_url: String,
    pub title: String,
    pub description: String,
    pub expires_at: Option<String>,
    pub view_count: u64,
    pub created_at: String,
    pub is_password_protected: bool,
    /// The author's public name; absent when their profile is private.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<Author>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Author {
    pub display_name: String,
}

/// The links of a share: its public page (what people send; crawlers read
/// its Open Graph tags) and its QR code.
pub struct Links {
    pub full_url: String,
    pub qr_code_url: String,
    pub card_url: String,
    /// The web client's page of the share, where the public page sends people.
    pub client_url: String,
}

impl Links {
    pub fn of(ctx: &AppContext, share_url: &str) -> Self {
        let api = ctx.config.public_url.trim_end_matches('/');
        Links {
            full_url: format!("{api}/s/{share_url}"),
            qr_code_url: format!("{api}/qr/{share_url}"),
            card_url: format!("{api}/s/{share_url}/card.png"),
            client_url: ctx.config.share_page.replace("{shareUrl}", share_url),
        }
    }
}

impl Share {
    pub fn to_item(&self) -> ApiResult<Item> {
        let Value::Object(mut item) = serde_json::to_value(self).map_err(ApiError::internal)? else {
            return Err(ApiError::internal("a share does not serialise to an object"));
        };
        let key = keys::share(&self.share_url);
        let (g1pk, g1sk) = keys::shares_by_owner(&self.owner(), &self.created_at, &self.share_url);
        let (g2pk, g2sk) = keys::shares_of_scenario(&self.scenario(), &self.share_url);
        for (attr, value) in
            [(PK, key.pk), (SK, key.sk), (GSI1_PK, g1pk), (GSI1_SK, g1sk), (GSI2_PK, g2pk), (GSI2_SK, g2sk)]
        {
            item.insert(attr.into(), Value::String(value));
        }
        Ok(item)
    }

    pub fn from_item(item: Item) -> ApiResult<Self> {
        serde_json::from_value(Value::Object(item)).map_err(|e| ApiError::internal(format!("a stored share: {e}")))
    }

    pub fn owner(&self) -> UserId {
        UserId::from_trusted(&self.owner_id)
    }

    pub fn scenario(&self) -> ScenarioId {
        ScenarioId::from_trusted(&self.scenario_id)
    }

    pub fn is_owned_by(&self, user: Option<&UserId>) -> bool {
        user.is_some_and(|u| *u == self.owner_id)
    }

    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.as_deref().and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok()).is_some_and(|at| at <= now)
    }

    pub fn status(&self, now: OffsetDateTime) -> ShareStatus {
        if self.revoked_at.is_some() {
            ShareStatus::Revoked
        } else if self.is_hidden {
            ShareStatus::Hidden
        } else if self.is_expired(now) {
            ShareStatus::Expired
        } else if !self.is_active {
            ShareStatus::Paused
        } else {
            ShareStatus::Active
        }
    }

    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.status(now) == ShareStatus::Active
    }

    pub fn owner_view(&self, ctx: &AppContext) -> OwnerShare {
        let links = Links::of(ctx, &self.share_url);
        OwnerShare {
            share_url: self.share_url.clone(),
            scenario_id: self.scenario_id.clone(),
            full_url: links.full_url,
            qr_code_url: links.qr_code_url,
            title: self.title.clone(),
            description: self.description.clone(),
            expires_at: self.expires_at.clone(),
            is_active: self.is_active,
            status: self.status(ctx.clock.now()),
            is_password_protected: self.password_hash.is_some(),
            view_count: self.view_count,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
        }
    }

    /// The title a viewer and a preview see: the share's, else the scenario's.
    pub fn shown_title(&self, scenario: &Scenario) -> String {
        self.title.clone().unwrap_or_else(|| scenario.title.clone())
    }

    /// The description a viewer and a preview see: the share's, else the scenario's summary.
    pub fn shown_description(&self, scenario: &Scenario) -> String {
        self.description.clone().unwrap_or_else(|| scenario.summary.clone())
    }
}

/// The share `id` when it exists at all (its owner's routes: any status).
pub async fn get(ctx: &AppContext, id: &ShareId) -> ApiResult<Option<Share>> {
    match ctx.table.get(&keys::share(id.as_str())).await? {
        Some(item) => Share::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// The caller's share `raw` (any status); 404 for a malformed id, a missing
/// share and someone else's.
pub async fn get_owned(ctx: &AppContext, caller: &UserId, raw: &str) -> ApiResult<Share> {
    let id = ShareId::parse(raw).ok_or_else(not_found)?;
    match get(ctx, &id).await? {
        Some(share) if share.is_owned_by(Some(caller)) => Ok(share),
        _ => Err(not_found()),
    }
}

pub fn not_found() -> ApiError {
    ApiError::not_found("Share")
}

/// A share as the public reaches it: live (active, not revoked, not expired),
/// its scenario stored, not deleted and not hidden by moderation. Everything
/// else (a malformed or guessed id included) is the same 404.
///
/// The share and its scenario (by the id the share id ends with) are read at
/// once: one table round trip. The scenario's index is eventually consistent
/// on DynamoDB, so when it does not have the scenario yet (a share made right
/// after the scenario) the scenario is read from its owner's partition, as it
/// is for an id that does not name its scenario.
pub async fn open(ctx: &AppContext, raw: &str) -> ApiResult<(Share, Scenario)> {
    let id = ShareId::parse(raw).ok_or_else(not_found)?;
    let (share, indexed) = match id.scenario() {
        Some(scenario) => futures::try_join!(get(ctx, &id), store::get_by_id(ctx, &scenario))?,
        None => (get(ctx, &id).await?, None),
    };
    let share = share.filter(|s| s.is_live(ctx.clock.now())).ok_or_else(not_found)?;
    let scenario = match indexed {
        Some(scenario) => Some(scenario),
        None => store::get_owned(ctx, &share.owner(), &share.scenario()).await?,
    };
    match scenario {
        Some(scenario)
            if scenario.id == share.scenario_id && scenario.owner_id == share.owner_id && !scenario.is_hidden =>
        {
            Ok((share, scenario))
        }
        _ => Err(not_found()),
    }
}

/// Checks `X-Share-Password` for a protected share. Wrong guesses are counted
/// per share and client in the auth class (20 failures per 15 minutes by
/// default): once full, 429 before the password is even checked. The owner
/// needs no password.
pub async fn unlock(ctx: &AppContext, req: &ApiRequest, share: &Share) -> ApiResult<()> {
    let Some(hash) = share.password_hash.as_deref() else { return Ok(()) };
    let caller = req.principal.as_ref().map(|p| p.id());
    if share.is_owned_by(caller.as_ref()) {
        return Ok(());
    }
    let Some(given) = req.header(PASSWORD_HEADER).filter(|p| !p.is_empty()) else {
        return Err(ApiError::forbidden("This share is password protected: send its password in X-Share-Password")
            .with_code("SHARE_PASSWORD_REQUIRED"));
    };
    let client = ratelimit::subject(req.principal.as_ref(), req.source_ip);
    let subject = format!("share:{}:{client}", share.share_url);
    let window = Window::of(ctx.clock.as_ref(), &ctx.config.rate_limits, RateClass::Auth, None, &subject);
    let decision = window.peek(ctx.table.as_ref()).await?;
    if !decision.allowed {
        return Err(ApiError::rate_limited(decision.retry_after)
            .with_message("Too many wrong passwords for this share; try again later"));
    }
    if given.chars().count() > MAX_PASSWORD_CHARS || !passwords::verify(given, Some(hash)).await? {
        window.hit(ctx.table.as_ref()).await?;
        return Err(ApiError::forbidden("The share's password is wrong").with_code("SHARE_PASSWORD_WRONG"));
    }
    Ok(())
}

/// Share passwords: 4 to 128 characters.
pub const MIN_PASSWORD_CHARS: usize = 4;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A new share password from outside, hashed.
pub async fn hash_password(raw: &str) -> ApiResult<String> {
    let count = raw.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&count) {
        return Err(ApiError::validation(
            "password",
            format!("must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    passwords::hash(raw).await
}

/// The longest share title and description.
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// An optional title or description from outside: trimmed, bounded, no
/// control characters; empty means "use the scenario's".
pub fn text(field: &str, raw: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match raw {
        None => Ok(None),
        Some(raw) => {
            let value = whatif_shared::accounts::types::text(field, raw, max)?;
            Ok(Some(value).filter(|v| !v.is_empty()))
        }
    }
}

/// The longest a share may live.
pub const MAX_LIFETIME_DAYS: i64 = 5 * 366;

/// An `expiresAt` from outside: RFC 3339, in the future, within five years;
/// returned in UTC.
pub fn expiry(ctx: &AppContext, raw: &str) -> ApiResult<String> {
    let at = OffsetDateTime::parse(raw, &Rfc3339)
        .map_err(|_| ApiError::validation("expiresAt", "must be an RFC 3339 time such as 2026-12-31T23:59:59Z"))?;
    let now = ctx.clock.now();
    if at <= now {
        return Err(ApiError::validation("expiresAt", "must be in the future"));
    }
    if at > now + time::Duration::days(MAX_LIFETIME_DAYS) {
        return Err(ApiError::validation("expiresAt", "must be within five years"));
    }
    Ok(whatif_shared::clock::rfc3339(at.to_offset(time::UtcOffset::UTC)))
}

/// Who a view is, kept hashed: the account, or the client's address.
pub fn viewer(req: &ApiRequest, share_url: &str) -> String {
    ratelimit::hashed_subject(req.principal.as_ref(), req.source_ip, &format!("share:{share_url}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = "01JDQ4W6Z8K3M5N7P9R1S3T5V7";

    #[test]
    fn ids_are_128_random_bits_in_22_url_safe_characters_then_the_scenario() {
        let scenario = ScenarioId::from_trusted(SCENARIO);
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| ShareId::generate(&scenario).0).collect();
        assert_eq!(ids.len(), 1000);
        let randoms: std::collections::HashSet<&str> = ids.iter().map(|id| &id[..RANDOM_LEN]).collect();
        assert_eq!(randoms.len(), 1000, "the random part alone is unique");
        for id in &ids {
            assert_eq!(id.len(), RANDOM_LEN + SCENARIO_LEN);
            let parsed = ShareId::parse(id).unwrap();
            assert_eq!(parsed.as_str(), id);
            assert_eq!(parsed.scenario(), Some(scenario.clone()));
        }
    }

    #[test]
    fn only_ids_we_could_have_issued_parse() {
        let good = ShareId::generate(&ScenarioId::from_trusted(SCENARIO));
        let random = &good.as_str()[..RANDOM_LEN];
        for bad in [
            "".to_string(),
            "short".into(),
            "../../etc/passwd".into(),
            "AAAAAAAAAAAAAAAAAAAAA=".into(),
            "AAAAAAAAAAAAAAAAAAAAA/".into(),
            "AAAAAAAAAAAAAAAAAAAAAAA".into(),
            // The scenario's id in lower case, cut short, too long, or not a ULID.
            format!("{random}{}", SCENARIO.to_lowercase()),
            format!("{random}{}", &SCENARIO[..25]),
            format!("{random}{SCENARIO}A"),
            format!("{random}81JDQ4W6Z8K3M5N7P9R1S3T5V7"),
            format!("{random}01JDQ4W6Z8K3M5N7P9R1S3T5VU"),
            format!("{random}é{}", &SCENARIO[2..]),
        ] {
            assert!(ShareId::parse(&bad).is_none(), "{bad:?}");
        }
        // The last character of 16 bytes in base64 carries 2 data bits: "B" is not canonical.
        assert!(ShareId::parse("AAAAAAAAAAAAAAAAAAAAAB").is_none());
        assert!(ShareId::parse(&format!("AAAAAAAAAAAAAAAAAAAAAB{SCENARIO}")).is_none());
        assert!(ShareId::parse(good.as_str()).is_some());
        // An id issued before ids named their scenario.
        let older = ShareId::parse(random).unwrap();
        assert_eq!(older.scenario(), None);
    }
}
