//! `POST /api/billing/webhook`: Stripe's events. The raw body is verified
//! against `Stripe-Signature` (see `signature.rs`) before anything is read
//! from it; then each event is applied once, by its id: the event's marker
//! (`keys::stripe_event`) is put with `NotExists` in the same transaction as
//! what the event changes, so a replayed or duplicated event changes
//! nothing and answers 200.
//!
//! - `checkout.session.completed` with `payment_status: "paid"`, and
//!   `checkout.session.async_payment_succeeded`: grant the session's pack to
//!   the account in its metadata. The grant writes the payment's record
//!   (`keys::payment`, by payment intent) with `NotExists`, so a payment
//!   grants once whichever of its events comes first.
//! - `charge.refunded` and `charge.dispute.created`: take back what the
//!   payment granted, once (the balance may go negative); a partial refund
//!   takes back its share of the credits, rounded up, and a later refund of
//!   the same charge the rest of its own share. A refund that comes
//!   before the grant (events re-ordered) writes the payment's record first:
//!   taken back when it is a full refund or a dispute, so the late grant
//!   finds it and grants nothing; with the refunded cents when it is part of
//!   the payment, so the late grant gives the pack less that share.
//! - Any other type: 200, logged.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};
use whatif_shared::auth::Plan;
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::credits::{self, EntryKind, RefKind};
use whatif_shared::ports::StoreError;
use whatif_shared::ports::table::{Cond, Item, PK, SK, TxOp, Update};
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, UserId, keys};

use crate::signature::{self, SignatureError};
use crate::stripe;

#[derive(Debug, Deserialize)]
pub struct Event {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: EventData,
}

#[derive(Debug, Deserialize)]
pub struct EventData {
    pub object: Value,
}

/// What became of an event (the answer's `result`, and the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Granted,
    TakenBack,
    /// Seen before: nothing changed.
    Replayed,
    /// Nothing to do (unpaid yet, already granted, unknown type).
    Ignored,
}

impl Applied {
    fn as_str(self) -> &'static str {
        match self {
            Applied::Granted => "granted",
            Applied::TakenBack => "taken-back",
            Applied::Replayed => "replayed",
            Applied::Ignored => "ignored",
        }
    }
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let header = req
        .header("stripe-signature")
        .ok_or_else(|| ApiError::bad_request("BAD_SIGNATURE", "The Stripe-Signature header is missing"))?;
    let now = ctx.clock.now().unix_timestamp();
    let tolerance = ctx.config.billing.webhook_tolerance_secs;
    // The header's shape and age first: a stale replay costs no secret read.
    let checked = signature::parse(header).and_then(|(t, _)| signature::check_age(t, now, tolerance));
    let checked = match checked {
        Ok(()) => {
            let keys = stripe::keys(&ctx).await?;
            if keys.webhook_secrets.is_empty() {
                return Err(ApiError::unavailable("Payments are not set up on this server"));
            }
            signature::verify(header, &req.body, &keys.webhook_secrets, now, tolerance).map(|_| ())
        }
        Err(e) => Err(e),
    };
    if let Err(e) = checked {
        tracing::warn!(reason = ?e, "a webhook with a bad signature was refused");
        let message = match e {
            SignatureError::Malformed => "The Stripe-Signature header is malformed",
            SignatureError::NoMatch => "The signature does not match",
            SignatureError::Stale => "The signature is too old",
        };
        return Err(ApiError::bad_request("BAD_SIGNATURE", message));
    }
    let event: Event = serde_json::from_slice(&req.body)
        .map_err(|_| ApiError::bad_request("BAD_EVENT", "The body is not a Stripe event"))?;
    if event.id.is_empty() || event.id.len() > 255 {
        return Err(ApiError::bad_request("BAD_EVENT", "The event has no valid id"));
    }
    let applied = apply(&ctx, &event).await?;
    tracing::info!(event_id = %event.id, event_type = %event.kind, result = applied.as_str(), "stripe event");
    Ok(Reply::ok(json!({"received": true, "result": applied.as_str()})))
}

/// Applies one verified event, once.
pub async fn apply(ctx: &AppContext, event: &Event) -> ApiResult<Applied> {
    let object = &event.data.object;
    match event.kind.as_str() {
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let paid = object.get("payment_status").and_then(Value::as_str) == Some("paid");
            if !paid {
                // Completed but not paid yet (a delayed method): async_payment_succeeded grants.
                return mark_only(ctx, event).await;
            }
            grant(ctx, event).await
        }
        "charge.refunded" | "charge.dispute.created" => take_back(ctx, event).await,
        other => {
            tracing::info!(event_type = %other, "a stripe event of a type this API does not act on");
            Ok(Applied::Ignored)
        }
    }
}

fn marker(ctx: &AppContext, event: &Event) -> TxOp {
    let key = keys::stripe_event(&event.id);
    let mut item = Item::new();
    item.insert(PK.into(), key.pk.into());
    item.insert(SK.into(), key.sk.into());
    item.insert("type".into(), json!(event.kind));
    item.insert("appliedAt".into(), json!(rfc3339(ctx.clock.now())));
    TxOp::Put { item, cond: Some(Cond::NotExists) }
}

async fn mark_only(ctx: &AppContext, event: &Event) -> ApiResult<Applied> {
    match ctx.table.transact(vec![marker(ctx, event)]).await {
        Ok(()) => Ok(Applied::Ignored),
        Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => Ok(Applied::Replayed),
        Err(e) => Err(e.into()),
    }
}

fn text<'a>(object: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = object;
    for step in path {
        at = at.get(step)?;
    }
    at.as_str().filter(|s| !s.is_empty() && s.len() <= 255)
}

/// Grants the session's pack to its account, once per payment.
async fn grant(ctx: &AppContext, event: &Event) -> ApiResult<Applied> {
    let object = &event.data.object;
    let bad = |what: &str| ApiError::bad_request("BAD_EVENT", format!("The checkout session has no valid {what}"));
    let account = text(object, &["metadata", "account_id"])
        .or_else(|| text(object, &["client_reference_id"]))
        .ok_or_else(|| bad("account"))?;
    let user = UserId::parse(account).map_err(|_| bad("account"))?;
    let pack_id = text(object, &["metadata", "pack"]).ok_or_else(|| bad("pack"))?;
    let payment = text(object, &["payment_intent"]).or_else(|| text(object, &["id"])).ok_or_else(|| bad("payment"))?;
    let Some(pack) = ctx.config.billing.pack(pack_id).cloned() else {
        // A pack no longer configured: credits come only from configuration,
        // so nothing is granted; logged for a person to settle.
        tracing::error!(event_id = %event.id, pack = %pack_id, "a paid session for a pack that is not configured");
        return mark_only(ctx, event).await;
    };
    if ctx.table.get(&keys::user_profile(&user)).await?.is_none() {
        tracing::error!(event_id = %event.id, "a paid session for an account that no longer exists");
        return mark_only(ctx, event).await;
    }
    // Renew first, so the purchase adds to this month's allowance rather than replace it.
    credits::account(ctx, &user).await?;
    let key = keys::payment(payment);
    let facts = [
        ("accountId", json!(user.as_str())),
        ("pack", json!(pack.id)),
        ("credits", json!(pack.credits)),
        ("eventId", json!(event.id)),
        ("premium", json!(pack.premium)),
        ("createdAt", json!(rfc3339(ctx.clock.now()))),
    ];
    let mut record = Item::new();
    record.insert(PK.into(), key.pk.clone().into());
    record.insert(SK.into(), key.sk.clone().into());
    record.extend(facts.iter().map(|(attr, value)| (attr.to_string(), value.clone())));
    let mut write = TxOp::Put { item: record, cond: Some(Cond::NotExists) };
    let mut taken = 0;
    for _ in 0..5 {
        let mut ops = vec![marker(ctx, event), write.clone()];
        if pack.credits > taken {
            ops.extend(credits::change_ops(
                ctx,
                &user,
                EntryKind::Grant,
                pack.credits - taken,
                &format!("pack:{}", pack.id),
                (RefKind::Payment, payment),
            ));
        }
        if pack.premium {
            ops.extend(plan_ops(&user, Plan::Premium));
        }
        match ctx.table.transact(ops).await {
            Ok(()) => return Ok(Applied::Granted),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => return Ok(Applied::Replayed),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&1) => {}
            Err(StoreError::TransactionCanceled { failed }) if !failed.is_empty() => {
                tracing::error!(event_id = %event.id, "the account went away while its purchase was granted");
                return mark_only(ctx, event).await;
            }
            Err(e) => return Err(e.into()),
        }
        // The payment has a record: granted by another of its events, taken
        // back in full before it, or refunded in part before it (events
        // re-ordered), when the pack is granted less that part.
        let record = ctx.table.get(&key).await?.unwrap_or_default();
        let Some(part) = refunded_before_grant(&record) else { return mark_only(ctx, event).await };
        taken = part.of_credits(pack.credits);
        let mut update = Update::new().set(TAKEN, taken);
        for (attr, value) in &facts {
            update = update.set(attr, value.clone());
        }
        write = TxOp::Update { key: key.clone(), update, cond: Some(before_grant(&record)) };
    }
    Err(ApiError::unavailable("The payment kept changing; Stripe will retry"))
}

/// What was refunded of a payment before its grant, when its record is
/// still waiting for the grant and nothing has taken it back in full.
fn refunded_before_grant(record: &Item) -> Option<Part> {
    if record.contains_key("accountId") || record.contains_key("takenBackAt") {
        return None;
    }
    let cents = |attr: &str| record.get(attr).and_then(Value::as_i64);
    Some(Part::Refunded { refunded: cents(REFUNDED)?, amount: cents(AMOUNT)? })
}

/// The condition of a change to a record that waits for its grant: it still
/// does, with the refund it was read with.
fn before_grant(record: &Item) -> Cond {
    let refunded = record.get(REFUNDED).cloned().unwrap_or(Value::Null);
    Cond::And(vec![
        Cond::Exists,
        Cond::AttrNotExists("accountId".into()),
        Cond::AttrNotExists("takenBackAt".into()),
        Cond::eq(REFUNDED, refunded),
    ])
}

/// Sets the account's plan on its profile and status items (which exist).
fn plan_ops(user: &UserId, plan: Plan) -> Vec<TxOp> {
    let value = serde_json::to_value(plan).unwrap_or_default();
    [keys::user_profile(user), keys::account_status(user)]
        .into_iter()
        .map(|key| TxOp::Update { key, update: Update::new().set("plan", value.clone()), cond: Some(Cond::Exists) })
        .collect()
}

/// How much of a payment an event takes back.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    /// All of it: a dispute, or a charge refunded in full.
    Whole,
    /// `refunded` of `amount` (Stripe's `amount_refunded` is the total so far).
    Refunded { refunded: i64, amount: i64 },
}

impl Part {
    /// What the charge of `object` says; `None` when nothing is refunded.
    fn of(kind: &str, object: &Value) -> Option<Part> {
        if kind != "charge.refunded" || object.get("refunded").and_then(Value::as_bool) == Some(true) {
            return Some(Part::Whole);
        }
        let refunded = object.get("amount_refunded").and_then(Value::as_i64).unwrap_or(0);
        match object.get("amount").and_then(Value::as_i64) {
            _ if refunded <= 0 => None,
            Some(amount) if refunded < amount => Some(Part::Refunded { refunded, amount }),
            // No amount to weigh it against, or all of it.
            _ => Some(Part::Whole),
        }
    }

    /// The credits of a `granted` pack this part takes back in all: the
    /// refunded share, rounded up, so a refund never leaves credits it paid for.
    fn of_credits(self, granted: i64) -> i64 {
        match self {
            Part::Whole => granted,
            Part::Refunded { refunded, amount } => {
                let share = (i128::from(granted) * i128::from(refunded) + i128::from(amount) - 1) / i128::from(amount);
                i64::try_from(share).unwrap_or(granted).clamp(0, granted)
            }
        }
    }
}

/// The attribute of a payment's record that holds the credits taken back so far.
const TAKEN: &str = "takenBackCredits";
/// A record made by a partial refund before its grant: the cents refunded
/// so far, and of how many (Stripe's `amount_refunded` and `amount`).
const REFUNDED: &str = "refundedCents";
const AMOUNT: &str = "amountCents";

/// Takes back what a refunded or disputed payment granted: a dispute or a
/// full refund all of it, a partial refund its share (each later refund of
/// the same charge the rest of its share), each event once.
async fn take_back(ctx: &AppContext, event: &Event) -> ApiResult<Applied> {
    let object = &event.data.object;
    let Some(part) = Part::of(&event.kind, object) else {
        return mark_only(ctx, event).await;
    };
    let Some(payment) = text(object, &["payment_intent"]) else {
        tracing::warn!(event_id = %event.id, "a refund or dispute without a payment intent");
        return mark_only(ctx, event).await;
    };
    let key = keys::payment(payment);
    for _ in 0..5 {
        let record = ctx.table.get(&key).await?;
        let ops = match &record {
            Some(r) if r.contains_key("takenBackAt") => return mark_only(ctx, event).await,
            Some(r) if !r.contains_key("accountId") => {
                // Refunded in part before its grant: the grant has not come yet.
                let update = match (part, refunded_before_grant(r)) {
                    (Part::Whole, _) => Update::new()
                        .set("takenBackAt", rfc3339(ctx.clock.now()))
                        .set("takenBackBy", event.kind.as_str()),
                    (Part::Refunded { refunded, .. }, Some(Part::Refunded { refunded: before, .. }))
                        if refunded <= before =>
                    {
                        return mark_only(ctx, event).await;
                    }
                    (Part::Refunded { refunded, amount }, _) => {
                        Update::new().set(REFUNDED, refunded).set(AMOUNT, amount)
                    }
                };
                vec![marker(ctx, event), TxOp::Update { key: key.clone(), update, cond: Some(before_grant(r)) }]
            }
            Some(r) => {
                let credits = r.get("credits").and_then(Value::as_i64).unwrap_or(0);
                let account = r.get("accountId").and_then(Value::as_str).unwrap_or_default();
                let user = UserId::from_trusted(account);
                // Taken back by earlier partial refunds of this charge.
                let taken = r.get(TAKEN).and_then(Value::as_i64);
                let target = part.of_credits(credits);
                if target <= taken.unwrap_or(0) {
                    return mark_only(ctx, event).await;
                }
                let mut update = Update::new().set(TAKEN, target);
                if target == credits {
                    update =
                        update.set("takenBackAt", rfc3339(ctx.clock.now())).set("takenBackBy", event.kind.as_str());
                }
                let unchanged = match taken {
                    Some(taken) => Cond::eq(TAKEN, taken),
                    None => Cond::AttrNotExists(TAKEN.into()),
                };
                let mut ops = vec![
                    marker(ctx, event),
                    TxOp::Update {
                        key: key.clone(),
                        update,
                        cond: Some(Cond::And(vec![Cond::Exists, Cond::AttrNotExists("takenBackAt".into()), unchanged])),
                    },
                ];
                let reason = if event.kind == "charge.refunded" { "payment-refunded" } else { "payment-disputed" };
                ops.extend(credits::change_ops(
                    ctx,
                    &user,
                    EntryKind::Reversal,
                    -(target - taken.unwrap_or(0)),
                    reason,
                    (RefKind::Payment, payment),
                ));
                let premium = r.get("premium").and_then(Value::as_bool).unwrap_or(false);
                if premium && target == credits && ctx.table.get(&keys::account_status(&user)).await?.is_some() {
                    // The plan came with this payment: it goes when all of the payment does.
                    ops.extend(plan_ops(&user, Plan::Free));
                }
                ops
            }
            None => {
                // Before its grant: record the payment as taken back, so the
                // grant never happens; or, for part of it, what was refunded,
                // so the grant gives the rest.
                let mut item = Item::new();
                item.insert(PK.into(), key.pk.clone().into());
                item.insert(SK.into(), key.sk.clone().into());
                match part {
                    Part::Whole => {
                        item.insert("credits".into(), json!(0));
                        item.insert("takenBackAt".into(), json!(rfc3339(ctx.clock.now())));
                        item.insert("takenBackBy".into(), json!(event.kind));
                    }
                    Part::Refunded { refunded, amount } => {
                        item.insert(REFUNDED.into(), json!(refunded));
                        item.insert(AMOUNT.into(), json!(amount));
                    }
                }
                vec![marker(ctx, event), TxOp::Put { item, cond: Some(Cond::NotExists) }]
            }
        };
        let took = record.as_ref().is_some_and(|r| r.contains_key("accountId"));
        match ctx.table.transact(ops).await {
            Ok(()) => return Ok(if took { Applied::TakenBack } else { Applied::Ignored }),
            Err(StoreError::TransactionCanceled { failed }) if failed.contains(&0) => return Ok(Applied::Replayed),
            // The payment's record changed meanwhile (granted, or taken back): read it again.
            Err(StoreError::TransactionCanceled { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::unavailable("The payment kept changing; Stripe will retry"))
}
