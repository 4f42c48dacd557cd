//! `PATCH /api/admin/reports/{reportId}`: a moderator resolves a case with
//! an action that really happens: `dismiss`; `hide` (the target is gone for
//! everyone but its owner and moderators); `remove` (deleted for good);
//! `warn_user` (a notification to the owner); `suspend_user` (until
//! `suspendedUntil`, 7 days by default); `ban_user`. One action resolves
//! every open report of the target; the owner (unless dismissed) and every
//! reporter with an account are notified of the outcome; one audit entry.
//!
//! The case is claimed first (conditional on it being open and unchanged),
//! so two moderators never both act on it; an action that fails reopens it.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use whatif_shared::accounts::roles::{self, Change};
use whatif_shared::accounts::store as accounts;
use whatif_shared::accounts::user::AccountStatus;
use whatif_shared::audit::{self, Entry};
use whatif_shared::auth::Role;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, GSI1_PK, GSI1_SK, Item, Key, SK, TxOp, Update};
use whatif_shared::social::notify::{self, Kind, Notice};
use whatif_shared::stats;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

use crate::reports::{self, Case, Resolution, Status};
use crate::targets;
use crate::users_update::{not_yourself, suspension_end};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Dismiss,
    Hide,
    Remove,
    WarnUser,
    SuspendUser,
    BanUser,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Dismiss => "dismiss",
            Action::Hide => "hide",
            Action::Remove => "remove",
            Action::WarnUser => "warn_user",
            Action::SuspendUser => "suspend_user",
            Action::BanUser => "ban_user",
        }
    }

    /// What the owner is told.
    fn outcome(self) -> &'static str {
        match self {
            Action::Dismiss => "no action was needed",
            Action::Hide => "the content was hidden",
            Action::Remove => "the content was removed",
            Action::WarnUser => "the author was warned",
            Action::SuspendUser => "the author was suspended",
            Action::BanUser => "the author was banned",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResolveBody {
    pub action: Action,
    /// Why (kept in the audit log; the owner sees it with a warning).
    #[serde(default)]
    #[schemars(length(max = 500))]
    pub note: Option<String>,
    /// When a suspension ends (RFC 3339, in the future); 7 days by default.
    #[serde(default)]
    pub suspended_until: Option<String>,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let me = req.user()?;
    let report_id = UserId::from(req.path_ulid("reportId")?).into_string();
    let body: ResolveBody = req.json()?;
    let note = body.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::validation("note", "must be at most 500 characters"));
    }
    let until = match (body.action, body.suspended_until.as_deref()) {
        (Action::SuspendUser, Some(raw)) => Some(suspension_end(&ctx, raw)?),
        (Action::SuspendUser, None) => Some((ctx.clock.now() + time::Duration::days(7)).unix_timestamp()),
        (_, Some(_)) => return Err(ApiError::validation("suspendedUntil", "goes with the action suspend_user")),
        _ => None,
    };
    let (case, _) = reports::get(&ctx, &report_id).await?;
    if case.status != Status::Open {
        return Err(ApiError::conflict("REPORT_CLOSED", "This report was already resolved"));
    }
    let owner = case.owner_id.clone().unwrap_or_default();
    if owner == me.user_id {
        return Err(not_yourself());
    }
    if matches!(body.action, Action::Hide | Action::Remove) && !targets::can_hide_or_remove(&case.target_type) {
        let done = if body.action == Action::Hide { "hidden" } else { "removed" };
        return Err(targets::not_applicable(done, &case.target_type));
    }
    if matches!(body.action, Action::SuspendUser | Action::BanUser) {
        match accounts::get_user(&ctx, &owner).await? {
            Some(user) if user.role > Role::User && me.role < Role::Admin => {
                return Err(ApiError::forbidden("Only an admin acts on a moderator's or an admin's account")
                    .with_code("ROLE_TOO_LOW"));
            }
            Some(user) if user.status != AccountStatus::Deleted => {}
            _ => return Err(ApiError::unprocessable("OWNER_GONE", "The content's owner no longer exists")),
        }
    }
    let actor = roles::actor(&ctx, &me.id(), me.role).await?;
    let status = if body.action == Action::Dismiss { Status::Dismissed } else { Status::Resolved };
    let resolution = Resolution {
        action: body.action.name().into(),
        by: me.user_id.clone(),
        at: rfc3339(ctx.clock.now()),
        note: note.clone(),
    };
    let entry = Entry::new(actor.clone(), &format!("report.{}", body.action.name()), "report", &report_id)
        .change(
            json!({"status": "open"}),
            json!({"status": status, "targetType": case.target_type, "targetId": case.target_id, "ownerId": owner}),
        )
        .note(note.clone())
        .request(&req.request_id);
    claim(&ctx, &case, status, &resolution, audit::op(&ctx, entry)?).await?;
    if let Err(e) = act(&ctx, &case, body.action, until, &actor, note.as_deref()).await {
        // The claim's entry stays (the log is append-only); this one says it did not happen.
        let failed = Entry::new(actor.clone(), "report.action_failed", "report", &report_id)
            .change(json!({"action": body.action.name()}), json!({"status": "open"}))
            .note(Some(e.message.clone()))
            .request(&req.request_id);
        audit::record(&ctx, failed).await;
        reopen(&ctx, &case, status).await;
        return Err(e);
    }
    let reporters = close_reports(&ctx, &case, status, body.action).await?;
    tell(&ctx, &case, body.action, note.as_deref(), &reporters).await;
    let mut done = case.clone();
    done.status = status;
    done.resolution = Some(resolution);
    done.target = Some(targets::current(&ctx, &case.target_type, &case.target_id, &owner).await?);
    Ok(Reply::ok(json!({"report": done})).message("Report resolved"))
}

/// Moves the case out of the open queue, with its resolution and the audit
/// entry, conditional on it being open and unchanged.
async fn claim(ctx: &AppContext, case: &Case, status: Status, resolution: &Resolution, entry: TxOp) -> ApiResult<()> {
    let (g1pk, g1sk) =
        keys::report_queue(status.name(), case.score, &case.first_reported_at, &case.target_type, &case.target_id);
    let update = Update::new()
        .set("status", status.name())
        .set("resolution", serde_json::to_value(resolution).map_err(ApiError::internal)?)
        .set(GSI1_PK, g1pk)
        .set(GSI1_SK, g1sk)
        .add("version", 1);
    let cond = Cond::And(vec![Cond::eq("status", "open"), Cond::eq("version", case.version)]);
    let key = keys::report_target(&case.target_type, &case.target_id);
    let mut ops = vec![TxOp::Update { key, update, cond: Some(cond) }, entry];
    ops.extend(stats::move_op(ctx, stats::REPORTS_STATUS, "open", status.name()));
    match ctx.table.transact(ops).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { .. }) => {
            Err(ApiError::conflict("REPORT_CLOSED", "This report was resolved or changed meanwhile; reload it"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Puts a claimed case back in the open queue (its action failed).
async fn reopen(ctx: &AppContext, case: &Case, status: Status) {
    let (g1pk, g1sk) =
        keys::report_queue("open", case.score, &case.first_reported_at, &case.target_type, &case.target_id);
    let update = Update::new()
        .set("status", "open")
        .remove("resolution")
        .set(GSI1_PK, g1pk)
        .set(GSI1_SK, g1sk)
        .add("version", 1);
    let key = keys::report_target(&case.target_type, &case.target_id);
    let mut ops = vec![TxOp::Update { key, update, cond: Some(Cond::eq("status", status.name())) }];
    ops.extend(stats::move_op(ctx, stats::REPORTS_STATUS, status.name(), "open"));
    if let Err(e) = ctx.table.transact(ops).await {
        tracing::error!(report_id = %case.report_id, error = %e, "could not reopen a report whose action failed");
    }
}

async fn act(
    ctx: &AppContext,
    case: &Case,
    action: Action,
    until: Option<i64>,
    actor: &audit::Actor,
    note: Option<&str>,
) -> ApiResult<()> {
    let owner = case.owner_id.clone().unwrap_or_default();
    match action {
        Action::Dismiss | Action::WarnUser => Ok(()),
        Action::Hide => targets::hide(ctx, &case.target_type, &case.target_id, &owner).await,
        Action::Remove => targets::remove(ctx, &case.target_type, &case.target_id, &owner).await,
        Action::SuspendUser | Action::BanUser => {
            let status = if action == Action::BanUser {
                (AccountStatus::Banned, None)
            } else {
                (AccountStatus::Suspended, until)
            };
            let change = Change { role: None, status: Some(status) };
            roles::apply(ctx, actor, &UserId::from_trusted(owner), &change, None, note, None).await.map(|_| ())
        }
    }
}

/// Moves every open report of the case's target to its closed key (so each
/// reporter may report it again), with the outcome; returns the reporters
/// that are accounts.
async fn close_reports(ctx: &AppContext, case: &Case, status: Status, action: Action) -> ApiResult<Vec<UserId>> {
    let open = reports::open_reports(ctx, case).await?;
    let mut reporters = Vec::new();
    for chunk in open.chunks(40) {
        let mut ops = Vec::new();
        for report in chunk {
            let Some(key) = Key::of(report) else { continue };
            let id = report.get("reportId").and_then(Value::as_str).unwrap_or_default();
            let mut closed: Item = report.clone();
            closed.insert(SK.into(), json!(format!("CLOSED#{id}")));
            closed.insert("status".into(), json!(status.name()));
            closed.insert("action".into(), json!(action.name()));
            ops.push(TxOp::Delete { key, cond: None });
            ops.push(TxOp::Put { item: closed, cond: None });
            if let Some(user) = report.get("reporter").and_then(Value::as_str).and_then(|r| r.strip_prefix("user:")) {
                reporters.push(UserId::from_trusted(user));
            }
        }
        ctx.table.transact(ops).await?;
    }
    Ok(reporters)
}

/// Tells the owner (unless dismissed) and the reporters what came of it.
async fn tell(ctx: &AppContext, case: &Case, action: Action, note: Option<&str>, reporters: &[UserId]) {
    let notice = |text: String| Notice {
        kind: Kind::Moderation,
        actor: None,
        target_type: target_type(&case.target_type),
        target_id: case.target_id.clone(),
        post_id: None,
        text: Some(text),
    };
    if action != Action::Dismiss
        && let Some(owner) = &case.owner_id
    {
        let mut text = format!("A moderator reviewed your {}: {}.", case.target_type, action.outcome());
        if let Some(note) = note {
            text.push_str(&format!(" {note}"));
        }
        notify::send(ctx, &UserId::from_trusted(owner), notice(text)).await;
    }
    let text = format!("A moderator reviewed the {} you reported: {}.", case.target_type, action.outcome());
    for reporter in reporters {
        notify::send(ctx, reporter, notice(text.clone())).await;
    }
}

fn target_type(name: &str) -> &'static str {
    match name {
        "scenario" => "scenario",
        "share" => "share",
        "post" => "post",
        "comment" => "comment",
        _ => "user",
    }
}
