//! The `JobQueue` suite. It needs a queue of its own, empty, whose redrive
//! policy moves a message to the dead-letter queue after `max_receives`
//! receives; it runs on real time (a few seconds of sleeps: SQS counts
//! visibility in whole seconds).
//!
//! Not asserted, because SQS and a faithful in-process queue disagree:
//! deleting or extending with a stale or unknown receipt (SQS often accepts a
//! stale receipt and may even delete the message), the exact receive count of
//! a dead letter, and how many messages one receive returns (SQS may return
//! fewer than are visible).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::{assert_invalid, ok, run_id};
use crate::ports::queue::{Delivery, JobQueue, MAX_MESSAGE_BYTES};

const SECOND: Duration = Duration::from_secs(1);
/// Longer than a 1 s visibility, with room for SQS's rounding.
const PAST_VISIBILITY: Duration = Duration::from_millis(1300);
/// How long a message may take to show up (or reappear).
const PATIENCE: Duration = Duration::from_secs(6);

/// Runs every queue check; panics on the first broken behaviour.
pub async fn job_queue(queue: Arc<dyn JobQueue>, max_receives: u32) {
    let run = run_id();
    let q = queue.as_ref();
    ok(q.check().await, "check");
    invalid_requests(q).await;
    redelivery(q, &run).await;
    extend(q, &run).await;
    delay(q, &run).await;
    batch(q, &run).await;
    dead_letter(q, &run, max_receives).await;
}

/// Receives until a message with `body` arrives (others are left to time out).
async fn receive_body(q: &dyn JobQueue, body: &str, visibility: Duration, step: &str) -> Delivery {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        let got = ok(q.receive(10, visibility, SECOND).await, step);
        if let Some(d) = got.into_iter().find(|d| d.body == body) {
            return d;
        }
    }
    panic!("{step}: message {body:?} was not delivered within {PATIENCE:?}");
}

/// Asserts that no message with `body` is visible now.
async fn assert_hidden(q: &dyn JobQueue, body: &str, step: &str) {
    let got = ok(q.receive(10, SECOND, Duration::ZERO).await, step);
    assert!(got.iter().all(|d| d.body != body), "{step}: message {body:?} was delivered but should be hidden");
}

async fn invalid_requests(q: &dyn JobQueue) {
    assert_invalid(q.send("", Duration::ZERO).await, "send an empty body");
    assert_invalid(q.send(&"x".repeat(MAX_MESSAGE_BYTES + 1), Duration::ZERO).await, "send an oversized body");
    assert_invalid(q.send("x", Duration::from_secs(901)).await, "send with a delay over 15 minutes");
    assert_invalid(q.receive(0, SECOND, Duration::ZERO).await, "receive 0 messages");
    assert_invalid(q.receive(11, SECOND, Duration::ZERO).await, "receive 11 messages");
}

async fn redelivery(q: &dyn JobQueue, run: &str) {
    let body = format!("{run} redelivery ✓");
    let id = ok(q.send(&body, Duration::ZERO).await, "send");
    assert!(!id.is_empty(), "send returns a message id");
    let first = receive_body(q, &body, SECOND, "first receive").await;
    assert_eq!(first.message_id, id, "the delivery carries the id send returned");
    assert_eq!(first.receive_count, 1, "the first delivery has receive_count 1");
    assert!(!first.receipt.is_empty(), "a delivery has a receipt");
    assert_hidden(q, &body, "receive during the visibility timeout").await;

    sleep(PAST_VISIBILITY).await;
    let second = receive_body(q, &body, SECOND, "receive after the visibility timeout").await;
    assert_eq!(second.message_id, id, "an undeleted message is delivered again");
    assert_eq!(second.receive_count, 2, "the second delivery has receive_count 2");
    assert_ne!(second.receipt, first.receipt, "each delivery has a new receipt");

    ok(q.delete(&second.receipt).await, "delete with the current receipt");
    sleep(PAST_VISIBILITY).await;
    assert_hidden(q, &body, "receive after delete").await;
}

async fn extend(q: &dyn JobQueue, run: &str) {
    let body = format!("{run} extend");
    ok(q.send(&body, Duration::ZERO).await, "send");
    let d = receive_body(q, &body, SECOND, "receive").await;
    ok(q.extend(&d.receipt, Duration::from_secs(4)).await, "extend");
    sleep(PAST_VISIBILITY + SECOND).await;
    assert_hidden(q, &body, "receive after the original visibility, before the extended one").await;
    ok(q.delete(&d.receipt).await, "delete after extend");
}

async fn delay(q: &dyn JobQueue, run: &str) {
    let body = format!("{run} delay");
    let sent = Instant::now();
    ok(q.send(&body, Duration::from_secs(2)).await, "send with a delay");
    assert_hidden(q, &body, "receive before the delay").await;
    let d = receive_body(q, &body, SECOND, "receive after the delay").await;
    assert!(sent.elapsed() >= Duration::from_millis(1500), "a delayed message came after {:?}", sent.elapsed());
    ok(q.delete(&d.receipt).await, "delete the delayed message");
}

async fn batch(q: &dyn JobQueue, run: &str) {
    let bodies: Vec<String> = (0..3).map(|i| format!("{run} batch {i}")).collect();
    for body in &bodies {
        ok(q.send(body, Duration::ZERO).await, "send a batch message");
    }
    let mut seen: Vec<Delivery> = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while seen.len() < bodies.len() && Instant::now() < deadline {
        let got = ok(q.receive(10, Duration::from_secs(10), SECOND).await, "receive a batch");
        assert!(got.len() <= 10, "receive returns at most `max` messages");
        seen.extend(got.into_iter().filter(|d| bodies.contains(&d.body)));
    }
    let mut got: Vec<&str> = seen.iter().map(|d| d.body.as_str()).collect();
    got.sort();
    assert_eq!(got, bodies, "every message is delivered, once while hidden");
    for d in &seen {
        ok(q.delete(&d.receipt).await, "delete a batch message");
    }
    let one = ok(q.receive(1, SECOND, Duration::ZERO).await, "receive at most one");
    assert!(one.len() <= 1, "receive(1) returns at most one message");
}

async fn dead_letter(q: &dyn JobQueue, run: &str, max_receives: u32) {
    let body = format!("{run} poison");
    ok(q.send(&body, Duration::ZERO).await, "send a message that is never deleted");
    for n in 1..=max_receives {
        let d = receive_body(q, &body, SECOND, &format!("receive {n} of {max_receives}")).await;
        assert_eq!(d.receive_count, n, "receive {n} counts {n}");
        sleep(PAST_VISIBILITY).await;
    }
    let got = ok(q.receive(10, SECOND, SECOND).await, "receive past max_receives");
    assert!(got.iter().all(|d| d.body != body), "a message received {max_receives} times is not delivered again");
    let deadline = Instant::now() + PATIENCE;
    loop {
        let dead = ok(q.dead_letters(10).await, "dead_letters");
        if dead.iter().any(|d| d.body == body) {
            break;
        }
        assert!(Instant::now() < deadline, "the message reached the dead-letter queue (it holds {dead:?})");
        sleep(Duration::from_millis(200)).await;
    }
    let again = ok(q.dead_letters(10).await, "dead_letters again");
    assert!(again.iter().any(|d| d.body == body), "dead_letters does not remove messages");
    assert_hidden(q, &body, "receive after dead-lettering").await;
}
