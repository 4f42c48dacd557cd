//! `POST /api/report`: anyone reports a scenario, a share (or the scenario
//! seen through it), a user, a post or a comment. The target must exist and
//! be visible to the reporter (404 otherwise); nobody reports their own.
//! One open report per reporter and target (409 for another); the server
//! computes the priority (see `reports::Tally`). Rate limited in the
//! write-social class, per account or per address.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use whatif_shared::accounts::store as accounts;
use whatif_shared::auth::Role;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::error::Validation;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK, TxOp};
use whatif_shared::scenarios::store as scenarios;
use whatif_shared::social::comments;
use whatif_shared::social::posts::{self, Viewer};
use whatif_shared::stats;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId, UserId, keys, ratelimit};

use crate::reports::{Category, Reason, Severity, Tally, TargetType};
use crate::share;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportBody {
    pub target_type: TargetType,
    /// The scenario's or user's id (a ULID), or the share's id.
    #[schemars(regex(
        pattern = r"^([0-7][0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{25}|[A-Za-z0-9_-]{22}([0-7][0-9A-HJKMNP-TV-Z]{25})?)$"
    ))]
    pub target_id: String,
    pub reason: Reason,
    /// What is wrong, in the reporter's words (at most 500 characters).
    #[schemars(length(max = 500), regex(pattern = whatif_shared::openapi::TEXT_PATTERN))]
    pub description: Option<String>,
    pub category: Option<Category>,
    /// A hint: the server computes the priority.
    pub severity: Option<Severity>,
    /// The scenario a share report is about (the web client sends it).
    #[schemars(regex(pattern = whatif_shared::openapi::ULID_PATTERN))]
    pub scenario_id: Option<String>,
    /// The share a report was made through.
    #[schemars(regex(pattern = whatif_shared::openapi::SHARE_ID_PATTERN))]
    pub share_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportAnswer {
    pub report_id: String,
    /// `pending`: waiting for a moderator.
    pub status: &'static str,
}

/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// A target as it is filed: its type, id, and owner (when it has one).
struct Target {
    kind: TargetType,
    id: String,
    owner: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: ReportBody = req.json()?;
    let mut v = Validation::default();
    let description =
        body.description.as_deref().and_then(|d| v.check(share::text("description", Some(d), MAX_DESCRIPTION_CHARS)));
    let scenario_hint = match body.scenario_id.as_deref() {
        Some(raw) => {
            v.check(ScenarioId::parse(raw).map_err(|_| ApiError::validation("scenarioId", "is not a valid id")))
        }
        None => None,
    };
    let share_hint = match body.share_url.as_deref() {
        Some(raw) => {
            v.check(share::ShareId::parse(raw).ok_or_else(|| ApiError::validation("shareUrl", "is not a share id")))
        }
        None => None,
    };
    v.finish()?;
    let caller = req.principal.as_ref().map(|p| p.id());
    let target = resolve(&ctx, caller.as_ref(), &body).await?;
    if target.owner.is_some() && target.owner.as_deref() == caller.as_ref().map(UserId::as_str) {
        return Err(ApiError::unprocessable("OWN_CONTENT", "You cannot report your own content"));
    }
    let (reporter, verified) = match &caller {
        Some(user) => {
            let account = accounts::get_user(&ctx, user.as_str()).await?;
            (format!("user:{user}"), account.is_some_and(|a| a.email_verified))
        }
        None => (format!("ip:{}", ratelimit::hashed_subject(None, req.source_ip, "report")), false),
    };
    let now = rfc3339(ctx.clock.now());
    let report_id = ctx.ids.ulid().to_string();
    let report_key = keys::open_report(target.kind.name(), &target.id, &reporter);
    let mut report = Item::new();
    for (attr, value) in [
        (PK, json!(report_key.pk)),
        (SK, json!(report_key.sk)),
        ("reportId", json!(report_id)),
        ("targetType", json!(target.kind)),
        ("targetId", json!(target.id)),
        ("reason", json!(body.reason)),
        ("description", json!(description)),
        ("category", json!(body.category)),
        ("severity", json!(body.severity)),
        ("scenarioId", json!(scenario_hint.as_ref().map(ScenarioId::as_str))),
        ("shareUrl", json!(share_hint.as_ref().map(share::ShareId::as_str))),
        ("reporter", json!(reporter)),
        ("verified", json!(verified)),
        ("status", json!("open")),
        ("createdAt", json!(now)),
    ] {
        report.insert(attr.into(), value);
    }
    if let Some(user) = &caller {
        let (g2pk, g2sk) = keys::reports_by_reporter(user, &now, &report_id);
        report.insert(GSI2_PK.into(), g2pk.into());
        report.insert(GSI2_SK.into(), g2sk.into());
    }
    let target_key = keys::report_target(target.kind.name(), &target.id);
    for _ in 0..5 {
        let stored = ctx.table.get(&target_key).await?;
        let version = stored.as_ref().and_then(|t| t.get("version")).and_then(Value::as_u64);
        let open = stored.as_ref().and_then(|t| t.get("status")).and_then(Value::as_str) == Some("open");
        let mut tally: Tally = match (&stored, open) {
            (Some(item), true) => serde_json::from_value(Value::Object(item.clone())).unwrap_or_default(),
            _ => Tally::default(),
        };
        tally.add(body.reason, body.severity, verified);
        let first_at = match (&stored, open) {
            (Some(item), true) => item.get("firstReportedAt").and_then(Value::as_str).unwrap_or(&now).to_string(),
            _ => now.clone(),
        };
        // The case's id: its first report's, kept while it is open.
        let case_id = match (&stored, open) {
            (Some(item), true) => item.get("reportId").and_then(Value::as_str).unwrap_or(&report_id).to_string(),
            _ => report_id.clone(),
        };
        let (g2pk, g2sk) = keys::report_case(&case_id);
        let mut item = match serde_json::to_value(&tally) {
            Ok(Value::Object(map)) => map,
            _ => return Err(ApiError::internal("a report tally does not serialise")),
        };
        let (g1pk, g1sk) = keys::report_queue("open", tally.score(), &first_at, target.kind.name(), &target.id);
        for (attr, value) in [
            (PK, json!(target_key.pk)),
            (SK, json!(target_key.sk)),
            (GSI1_PK, json!(g1pk)),
            (GSI1_SK, json!(g1sk)),
            (GSI2_PK, json!(g2pk)),
            (GSI2_SK, json!(g2sk)),
            ("reportId", json!(case_id)),
            ("targetType", json!(target.kind)),
            ("targetId", json!(target.id)),
            ("ownerId", json!(target.owner)),
            ("status", json!("open")),
            ("score", json!(tally.score())),
            ("priority", json!(tally.priority())),
            ("firstReportedAt", json!(first_at)),
            ("lastReportedAt", json!(now)),
            ("version", json!(version.unwrap_or(0) + 1)),
        ] {
            item.insert(attr.into(), value);
        }
        let unchanged = match version {
            Some(v) => Cond::eq("version", v),
            None => Cond::NotExists,
        };
        let mut ops = vec![
            TxOp::Put { item: report.clone(), cond: Some(Cond::NotExists) },
            TxOp::Put { item, cond: Some(unchanged) },
        ];
        // The platform's count of reported targets: a target (re)opens once;
        // a report on one already open changes no count.
        let was = stored.as_ref().and_then(|t| t.get("status")).and_then(Value::as_str);
        match was {
            None => ops.push(stats::add_op(&ctx, &[(&stats::counter(stats::REPORTS_STATUS, "open"), 1)])),
            Some(was) => ops.extend(stats::move_op(&ctx, stats::REPORTS_STATUS, was, "open")),
        }
        match ctx.table.transact(ops).await {
            Ok(()) => {
                tracing::info!(report_id = %report_id, target = target.kind.name(), "report filed");
                return Ok(Reply::created(ReportAnswer { report_id, status: "pending" })
                    .message("Thank you: a moderator will look at it"));
            }
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => {
                return Err(ApiError::conflict(
                    "DUPLICATE_REPORT",
                    "You already reported this; a moderator will look at it",
                ));
            }
            // Another report of the same target came first: count again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict("BUSY", "Many reports of this arrive at once; try again").retry_after(1))
}

/// The target a report is filed against, when it exists and the reporter may
/// see it. A shared scenario is filed against the scenario, so reports made
/// through a share and directly count together.
async fn resolve(ctx: &AppContext, caller: Option<&UserId>, body: &ReportBody) -> ApiResult<Target> {
    let raw = body.target_id.trim();
    match body.target_type {
        TargetType::Scenario => {
            let id = ScenarioId::parse(raw).map_err(|_| ApiError::validation("targetId", "is not a valid id"))?;
            let scenario = scenarios::get_visible(ctx, caller, &id).await?;
            Ok(Target { kind: TargetType::Scenario, id: scenario.id.clone(), owner: Some(scenario.owner_id) })
        }
        TargetType::SharedScenario | TargetType::Share => {
            // The share's id is the target id, or (as the web client sends
            // a shared scenario) in `shareUrl` with the scenario's id as target.
            let share_id =
                if share::ShareId::parse(raw).is_some() { raw } else { body.share_url.as_deref().unwrap_or(raw) };
            let (share, scenario) = share::open(ctx, share_id).await?;
            if body.target_type == TargetType::Share {
                Ok(Target { kind: TargetType::Share, id: share.share_url, owner: Some(share.owner_id) })
            } else {
                Ok(Target { kind: TargetType::Scenario, id: scenario.id.clone(), owner: Some(scenario.owner_id) })
            }
        }
        TargetType::User => {
            let id = UserId::parse(raw).map_err(|_| ApiError::validation("targetId", "is not a valid id"))?;
            match accounts::get_user(ctx, id.as_str()).await? {
                Some(user) if accounts::ensure_active(&user, ctx.clock.epoch_seconds()).is_ok() => {
                    Ok(Target { kind: TargetType::User, id: user.id.clone(), owner: Some(user.id) })
                }
                _ => Err(ApiError::not_found("User")),
            }
        }
        // Posts and comments: visible to the reporter by the social layer's one rule.
        TargetType::Post => {
            let id = ulid::Ulid::from_string(raw).map_err(|_| ApiError::validation("targetId", "is not a valid id"))?;
            let viewer = caller.map(|id| Viewer { id: id.clone(), role: Role::User });
            let post = posts::get_visible(ctx, &id.to_string(), viewer.as_ref()).await?;
            Ok(Target { kind: TargetType::Post, id: post.id.clone(), owner: Some(post.author_id) })
        }
        TargetType::Comment => {
            let id = ulid::Ulid::from_string(raw).map_err(|_| ApiError::validation("targetId", "is not a valid id"))?;
            let viewer = caller.map(|id| Viewer { id: id.clone(), role: Role::User });
            let (comment, _) = comments::get_visible(ctx, &id.to_string(), viewer.as_ref()).await?;
            Ok(Target { kind: TargetType::Comment, id: comment.id.clone(), owner: Some(comment.author_id) })
        }
    }
}
