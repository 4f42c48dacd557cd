//! The credit ledger. Every account has a balance item (`keys::credits`) and
//! an append-only ledger (`keys::ledger_entry`): each grant, debit, refund and
//! reversal is an entry, written in the SAME table transaction as the change
//! of the balance, so the two never disagree.
//!
//! - A debit goes into the transaction that records what it pays for (the
//!   scenario, the job, the media item), with the condition `balance >= price`
//!   on the balance item: the balance never goes below zero by spending, and
//!   two spends racing for the last credits cannot both win.
//! - The monthly allowance is renewed lazily: the first read or spend of a new
//!   calendar month (UTC) tops the balance up to the plan's allowance, once,
//!   under a condition on the period and the balance it read (no sweep).
//! - A refund (a job that failed or was cancelled before it produced
//!   anything) is written with the job's final state (`crate::jobs::records`),
//!   conditional on the job, so it happens once.
//! - A payment's grant and its reversal (Stripe refund or dispute) are applied
//!   by the billing service, once per Stripe event; a reversal may leave the
//!   balance negative until the next grant.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::Plan;
use crate::clock::rfc3339;
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::keys;
use crate::ports::StoreError;
use crate::ports::table::{Cond, Index, Item, PK, Query, SK, SortKey, TxOp, Update};

/// The balance attribute of the balance item.
pub const BALANCE: &str = "balance";
/// The month (`yyyy-mm`, UTC) the allowance was last renewed for.
pub const PERIOD: &str = "period";

/// What a ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// Credits in: the monthly allowance, a purchased pack, an admin's grant.
    Grant,
    /// Credits spent on a generation, narration or video.
    Debit,
    /// A debit given back: its job failed or was cancelled before it produced anything.
    Refund,
    /// A purchase taken back (the payment was refunded or disputed).
    Reversal,
}

/// What is being paid for (its price is configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spending {
    Generation,
    Continuation,
    Regeneration,
    BatchTopic,
    Narration,
    Video,
}

impl Spending {
    /// The reason the ledger shows.
    pub fn reason(self) -> &'static str {
        match self {
            Spending::Generation => "generation",
            Spending::Continuation => "continuation",
            Spending::Regeneration => "regeneration",
            Spending::BatchTopic => "batch-generation",
            Spending::Narration => "narration",
            Spending::Video => "video",
        }
    }

    /// The spending whose [`reason`](Self::reason) is `reason` (a paid job
    /// records its charge by reason).
    pub fn from_reason(reason: &str) -> Option<Self> {
        [
            Spending::Generation,
            Spending::Continuation,
            Spending::Regeneration,
            Spending::BatchTopic,
            Spending::Narration,
            Spending::Video,
        ]
        .into_iter()
        .find(|s| s.reason() == reason)
    }

    pub fn price(self, ctx: &AppContext) -> i64 {
        let p = &ctx.config.billing.prices;
        match self {
            Spending::Generation => p.generate,
            Spending::Continuation => p.continuation,
            Spending::Regeneration => p.regenerate,
            Spending::BatchTopic => p.batch_topic,
            Spending::Narration => p.narration,
            Spending::Video => p.video,
        }
    }
}

/// One debit: what it pays for and the id of that (a scenario or a job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub spending: Spending,
    pub credits: i64,
    /// The scenario's or job's id.
    pub reference: String,
}

impl Charge {
    pub fn new(ctx: &AppContext, spending: Spending, reference: &str) -> Self {
        Charge { spending, credits: spending.price(ctx), reference: reference.to_string() }
    }
}

/// An account's credits, as `GET /api/credits` shows them.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub balance: i64,
    pub plan: Plan,
    /// What the plan renews the balance to each month.
    pub monthly_allowance: i64,
    /// When the allowance next renews (the first instant of next month, UTC).
    pub resets_at: String,
    /// The month the allowance was last renewed for (`yyyy-mm`).
    #[serde(skip)]
    #[schemars(skip)]
    pub period: String,
}

/// A ledger entry as its account sees it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub id: String,
    pub kind: EntryKind,
    /// Signed: positive in, negative out.
    pub credits: i64,
    pub reason: String,
    /// The job, scenario or payment it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    pub created_at: String,
}

/// What a ledger entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Job,
    Scenario,
    Payment,
    /// Nothing outside the ledger (the monthly allowance, an admin grant).
    None,
}

fn period_of(at: OffsetDateTime) -> String {
    format!("{:04}-{:02}", at.year(), u8::from(at.month()))
}

fn next_month(at: OffsetDateTime) -> String {
    let (year, month) =
        if at.month() == time::Month::December { (at.year() + 1, 1) } else { (at.year(), u8::from(at.month()) + 1) };
    format!("{year:04}-{month:02}-01T00:00:00.000Z")
}

/// The item of a new ledger entry (written with `NotExists`: entries are never rewritten).
pub fn entry_op(
    ctx: &AppContext,
    user: &UserId,
    kind: EntryKind,
    credits: i64,
    reason: &str,
    reference: (RefKind, &str),
) -> TxOp {
    let id = ctx.ids.ulid().to_string();
    let key = keys::ledger_entry(user, &id);
    let mut item = Item::new();
    item.insert(PK.into(), key.pk.into());
    item.insert(SK.into(), key.sk.into());
    item.insert("id".into(), json!(id));
    item.insert("kind".into(), json!(kind));
    item.insert("credits".into(), json!(credits));
    item.insert("reason".into(), json!(reason));
    let attr = match reference.0 {
        RefKind::Job => Some("jobId"),
        RefKind::Scenario => Some("scenarioId"),
        RefKind::Payment => Some("paymentId"),
        RefKind::None => None,
    };
    if let Some(attr) = attr {
        item.insert(attr.into(), json!(reference.1));
    }
    item.insert("createdAt".into(), json!(rfc3339(ctx.clock.now())));
    TxOp::Put { item, cond: Some(Cond::NotExists) }
}

/// The account's credits, renewing the monthly allowance first when this is
/// the first read of a new month.
pub async fn account(ctx: &AppContext, user: &UserId) -> ApiResult<Account> {
    Ok(account_renewing(ctx, user).await?.0)
}

/// [`account`], and whether this read renewed the allowance (wrote a grant
/// to the ledger).
pub async fn account_renewing(ctx: &AppContext, user: &UserId) -> ApiResult<(Account, bool)> {
    let now = ctx.clock.now();
    let period = period_of(now);
    for attempt in 0..8u32 {
        // The balance and the plan at once.
        let balance = async { ctx.table.get(&keys::credits(user)).await.map_err(ApiError::from) };
        let (item, plan) = futures::try_join!(balance, plan_of(ctx, user))?;
        let seen_period = item.as_ref().and_then(|i| i.get(PERIOD)).and_then(Value::as_str).map(str::to_string);
        let seen_balance = item.as_ref().and_then(|i| i.get(BALANCE)).and_then(Value::as_i64);
        let allowance = ctx.config.billing.allowance(plan);
        if seen_period.as_deref() == Some(period.as_str()) {
            let account = Account {
                balance: seen_balance.unwrap_or(0),
                plan,
                monthly_allowance: allowance,
                resets_at: next_month(now),
                period,
            };
            return Ok((account, false));
        }
        // Top up to the allowance; a debt (a reversed purchase) is paid off first.
        let balance = seen_balance.unwrap_or(0);
        let top_up = (allowance - balance.max(0)).clamp(0, allowance);
        let same_balance = match seen_balance {
            Some(b) => Cond::Eq(BALANCE.into(), json!(b)),
            None => Cond::AttrNotExists(BALANCE.into()),
        };
        let stale = Cond::Or(vec![Cond::AttrNotExists(PERIOD.into()), Cond::Ne(PERIOD.into(), json!(period))]);
        let update = Update::new().set(PERIOD, period.clone()).add(BALANCE, top_up).set("updatedAt", rfc3339(now));
        let mut ops =
            vec![TxOp::Update { key: keys::credits(user), update, cond: Some(Cond::And(vec![stale, same_balance])) }];
        if top_up > 0 {
            ops.push(entry_op(ctx, user, EntryKind::Grant, top_up, "monthly-allowance", (RefKind::None, "")));
        }
        match ctx.table.transact(ops).await {
            Ok(()) => {
                let account = Account {
                    balance: balance + top_up,
                    plan,
                    monthly_allowance: allowance,
                    resets_at: next_month(now),
                    period,
                };
                return Ok((account, top_up > 0));
            }
            // Someone else renewed or spent meanwhile: read again.
            Err(StoreError::TransactionCanceled { .. } | StoreError::ConditionFailed) => backoff(attempt).await,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::unavailable("The credit balance is busy; try again"))
}

/// The plan on the account's status item (free when it has none).
async fn plan_of(ctx: &AppContext, user: &UserId) -> ApiResult<Plan> {
    let status = ctx.table.get(&keys::account_status(user)).await?;
    Ok(status.and_then(|s| s.get("plan").cloned()).and_then(|p| serde_json::from_value(p).ok()).unwrap_or_default())
}

/// 402 before any work when the account cannot pay `credits`.
pub async fn ensure_can_spend(ctx: &AppContext, user: &UserId, credits: i64) -> ApiResult<Account> {
    let account = account(ctx, user).await?;
    if account.balance < credits {
        return Err(out_of_credits(credits, &account));
    }
    Ok(account)
}

/// The 402 of a spend the balance cannot pay.
pub fn out_of_credits(need: i64, account: &Account) -> ApiError {
    ApiError::payment_required(format!(
        "Not enough credits: this costs {need} and your balance is {}. Buy a credit pack, or wait for your \
         monthly allowance of {} on {}",
        account.balance, account.monthly_allowance, account.resets_at
    ))
}

/// Why a paid transaction did not happen.
#[derive(Debug)]
pub enum ChargeFailure {
    /// The balance cannot pay (402).
    OutOfCredits(ApiError),
    /// The caller's own operations failed (their indexes are unchanged).
    Store(StoreError),
    Api(ApiError),
}

impl From<ChargeFailure> for ApiError {
    fn from(f: ChargeFailure) -> Self {
        match f {
            ChargeFailure::OutOfCredits(e) | ChargeFailure::Api(e) => e,
            ChargeFailure::Store(e) => e.into(),
        }
    }
}

/// Runs `ops` with the debits of `charges` appended, in one transaction:
/// the balance update (conditional on `balance >= total`) and one ledger
/// entry per charge. The caller's operations keep their indexes, so its own
/// condition failures read as before (`ChargeFailure::Store`).
pub async fn transact_charged(
    ctx: &AppContext,
    user: &UserId,
    charges: &[Charge],
    ops: Vec<TxOp>,
    ref_kind: RefKind,
) -> Result<(), ChargeFailure> {
    let total: i64 = charges.iter().map(|c| c.credits).sum();
    if total <= 0 {
        return ctx.table.transact(ops).await.map_err(ChargeFailure::Store);
    }
    let balance_at = ops.len();
    for attempt in 0..12u32 {
        let account = account(ctx, user).await.map_err(ChargeFailure::Api)?;
        if account.balance < total {
            return Err(ChargeFailure::OutOfCredits(out_of_credits(total, &account)));
        }
        let mut all = ops.clone();
        all.push(TxOp::Update {
            key: keys::credits(user),
            update: Update::new().add(BALANCE, -total).set("updatedAt", rfc3339(ctx.clock.now())),
            cond: Some(Cond::And(vec![
                Cond::Eq(PERIOD.into(), json!(account.period)),
                Cond::Ge(BALANCE.into(), json!(total)),
            ])),
        });
        for charge in charges {
            all.push(entry_op(
                ctx,
                user,
                EntryKind::Debit,
                -charge.credits,
                charge.spending.reason(),
                (ref_kind, &charge.reference),
            ));
        }
        match ctx.table.transact(all).await {
            Ok(()) => return Ok(()),
            // The balance changed since it was read (another spend, a new month): read again.
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&balance_at) => backoff(attempt).await,
            // A conflict with a concurrent transaction (DynamoDB): nothing failed, try again.
            Err(StoreError::TransactionCanceled { failed }) if failed.is_empty() => backoff(attempt).await,
            Err(e) => return Err(ChargeFailure::Store(e)),
        }
    }
    Err(ChargeFailure::Api(ApiError::unavailable("The credit balance is busy; try again")))
}

/// A short, growing, jittered pause before reading a contended balance again.
async fn backoff(attempt: u32) {
    let base = 5u64 << attempt.min(6);
    let jitter = rand::random::<u64>() % base.max(1);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// The operations that give `credits` back to `user` (a refund of the job
/// `job_id`). Unconditional on the balance: the caller's condition on the
/// job makes it happen once.
pub fn refund_ops(ctx: &AppContext, user: &UserId, credits: i64, reason: &str, job_id: &str) -> Vec<TxOp> {
    vec![
        TxOp::Update {
            key: keys::credits(user),
            update: Update::new().add(BALANCE, credits).set("updatedAt", rfc3339(ctx.clock.now())),
            cond: None,
        },
        entry_op(ctx, user, EntryKind::Refund, credits, reason, (RefKind::Job, job_id)),
    ]
}

/// The operations that add `credits` (negative: take back) to `user`'s
/// balance with their ledger entry; the caller adds what makes them happen
/// once (an event marker, a payment record).
pub fn change_ops(
    ctx: &AppContext,
    user: &UserId,
    kind: EntryKind,
    credits: i64,
    reason: &str,
    reference: (RefKind, &str),
) -> Vec<TxOp> {
    vec![
        TxOp::Update {
            key: keys::credits(user),
            update: Update::new().add(BALANCE, credits).set("updatedAt", rfc3339(ctx.clock.now())),
            cond: None,
        },
        entry_op(ctx, user, kind, credits, reason, reference),
    ]
}

/// Grants `credits` to an account as an admin (the admin routes call this;
/// `note` is the reason the ledger shows). Renews the allowance first, so
/// the grant adds to this month's balance. `extra` joins the grant's
/// transaction (the admin's audit entry). Returns the account afterwards.
pub async fn admin_grant(
    ctx: &AppContext,
    user: &UserId,
    credits: i64,
    note: &str,
    extra: Vec<TxOp>,
) -> ApiResult<Account> {
    if credits == 0 || credits.abs() > 10_000_000 {
        return Err(ApiError::validation("credits", "must be a whole number from -10000000 to 10000000, not 0"));
    }
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 200 {
        return Err(ApiError::validation("note", "must be 1 to 200 characters"));
    }
    if ctx.table.get(&keys::user_profile(user)).await?.is_none() {
        return Err(ApiError::not_found("User"));
    }
    account(ctx, user).await?;
    let kind = if credits > 0 { EntryKind::Grant } else { EntryKind::Reversal };
    let mut ops = change_ops(ctx, user, kind, credits, &format!("admin: {note}"), (RefKind::None, ""));
    ops.extend(extra);
    ctx.table.transact(ops).await?;
    account(ctx, user).await
}

/// Sets an account's plan (on its profile and on the status item every
/// request reads); the allowance of the new plan applies from next month.
/// For the admin routes and purchases of a plan.
pub async fn set_plan(ctx: &AppContext, user: &UserId, plan: Plan) -> ApiResult<()> {
    let value = serde_json::to_value(plan).map_err(ApiError::internal)?;
    let set = |key| TxOp::Update { key, update: Update::new().set("plan", value.clone()), cond: Some(Cond::Exists) };
    match ctx.table.transact(vec![set(keys::user_profile(user)), set(keys::account_status(user))]).await {
        Ok(()) => Ok(()),
        Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => Err(ApiError::not_found("User")),
        Err(e) => Err(e.into()),
    }
}

/// One page of the ledger, newest first, after the entry `after` (a sort key
/// a previous page ended on).
pub async fn ledger(
    ctx: &AppContext,
    user: &UserId,
    limit: usize,
    after: Option<&str>,
) -> ApiResult<(Vec<Entry>, Option<String>)> {
    let sk = match after {
        Some(after) => SortKey::Lt(after.to_string()),
        None => SortKey::BeginsWith(keys::LEDGER_PREFIX.to_string()),
    };
    let mut query = Query::partition(Index::Primary, keys::user_partition(user)).sk(sk).backward().limit(limit);
    let mut entries = Vec::new();
    // A page of a DynamoDB query may hold fewer items than asked and still go on.
    loop {
        let page = ctx.table.query(&query).await?;
        for item in page.items {
            let Some(sk) = item.get(SK).and_then(Value::as_str).map(str::to_string) else { continue };
            if !sk.starts_with(keys::LEDGER_PREFIX) {
                // Below the ledger in the partition (sorted backward): no more entries.
                return Ok((entries, None));
            }
            let entry: Entry = serde_json::from_value(Value::Object(item))
                .map_err(|e| ApiError::internal(format!("a ledger entry: {e}")))?;
            entries.push(entry);
            if entries.len() == limit {
                return Ok((entries, Some(sk)));
            }
        }
        match page.next {
            Some(next) => query = query.start(Some(next)),
            None => return Ok((entries, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn periods_are_calendar_months_in_utc() {
        assert_eq!(period_of(datetime!(2026-11-30 23:59 UTC)), "2026-11");
        assert_eq!(next_month(datetime!(2026-11-30 23:59 UTC)), "2026-12-01T00:00:00.000Z");
        assert_eq!(next_month(datetime!(2026-12-05 0:00 UTC)), "2027-01-01T00:00:00.000Z");
    }
}
