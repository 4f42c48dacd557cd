//! The in-process job worker on the embedded queue: at-least-once delivery,
//! heartbeat, retries and the dead-letter queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use whatif_shared::config::Config;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::{JobError, JobFuture, JobKind, JobMessage, JobStatus, Lease, records, run_worker};

static RUNS: AtomicU32 = AtomicU32::new(0);
static SLOW_RUNS: AtomicU32 = AtomicU32::new(0);

fn counted(_ctx: Arc<AppContext>, _m: JobMessage) -> JobFuture {
    Box::pin(async {
        RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

fn always_retry(_ctx: Arc<AppContext>, _m: JobMessage) -> JobFuture {
    Box::pin(async { Err(JobError::Retry("the model provider is down".into())) })
}

fn hopeless(_ctx: Arc<AppContext>, _m: JobMessage) -> JobFuture {
    Box::pin(async { Err(JobError::Fail("the scenario was deleted".into())) })
}

fn slow(_ctx: Arc<AppContext>, _m: JobMessage) -> JobFuture {
    Box::pin(async {
        SLOW_RUNS.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(2500)).await;
        Ok(())
    })
}

static KINDS: [JobKind; 4] = [
    JobKind { name: "counted", handler: counted, access: &[] },
    JobKind { name: "retry", handler: always_retry, access: &[] },
    JobKind { name: "hopeless", handler: hopeless, access: &[] },
    JobKind { name: "slow", handler: slow, access: &[] },
];

const LEASE: Lease = Lease { visibility: Duration::from_secs(1), heartbeat: Duration::from_millis(300) };

async fn context(dir: &std::path::Path) -> Arc<AppContext> {
    let mut config = Config::embedded(dir.to_path_buf());
    config.queue_max_receives = 3;
    AppContext::connect(config).await.unwrap()
}

fn start_worker(ctx: &Arc<AppContext>) -> tokio::sync::oneshot::Sender<()> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(run_worker(ctx.clone(), KINDS.iter().collect(), LEASE, async {
        let _ = stopped.await;
    }));
    stop
}

async fn eventually(mut check: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn finished_jobs_run_once_and_leave_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let before = RUNS.load(Ordering::SeqCst);
    ctx.queue.send(&JobMessage::new("counted", "j1").to_body(), Duration::ZERO).await.unwrap();
    let _stop = start_worker(&ctx);
    assert!(eventually(async || RUNS.load(Ordering::SeqCst) > before).await, "the job ran");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(RUNS.load(Ordering::SeqCst), before + 1, "and only once");
}

#[tokio::test]
async fn failing_jobs_are_retried_then_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let job = records::enqueue(&ctx, "retry", "user-1", serde_json::json!({})).await.unwrap();
    ctx.queue.send(&JobMessage::new("no-such-kind", "j3").to_body(), Duration::ZERO).await.unwrap();
    let _stop = start_worker(&ctx);
    let dead = eventually(async || ctx.queue.dead_letters(10).await.unwrap().len() == 2).await;
    assert!(dead, "both end in the dead-letter queue after 3 receives");
    let letters = ctx.queue.dead_letters(10).await.unwrap();
    assert!(letters.iter().all(|d| d.receive_count == 3), "{letters:?}");
    // Its owner sees it failed, without the internal reason.
    let record = records::get(&ctx, &job.id).await.unwrap().unwrap();
    assert_eq!(record.status, JobStatus::Failed);
    assert_eq!(record.error.as_deref(), Some("The job failed after 3 attempts"));
}

#[tokio::test]
async fn a_job_that_cannot_succeed_is_recorded_failed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    let job = records::enqueue(&ctx, "hopeless", "user-1", serde_json::json!({})).await.unwrap();
    let _stop = start_worker(&ctx);
    let failed =
        eventually(async || records::get(&ctx, &job.id).await.unwrap().is_some_and(|r| r.status == JobStatus::Failed))
            .await;
    assert!(failed, "the record says failed");
    let record = records::get(&ctx, &job.id).await.unwrap().unwrap();
    assert_eq!(record.error.as_deref(), Some("the scenario was deleted"));
    assert!(ctx.queue.dead_letters(10).await.unwrap().is_empty(), "and it is not retried");
}

#[tokio::test]
async fn a_running_job_keeps_its_message_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    ctx.queue.send(&JobMessage::new("slow", "j4").to_body(), Duration::ZERO).await.unwrap();
    let before = SLOW_RUNS.load(Ordering::SeqCst);
    let _stop = start_worker(&ctx);
    assert!(eventually(async || SLOW_RUNS.load(Ordering::SeqCst) > before).await);
    // Longer than the 1 s visibility: without the heartbeat another receive would get it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let stolen = ctx.queue.receive(10, Duration::from_secs(30), Duration::ZERO).await.unwrap();
    assert!(stolen.is_empty(), "the heartbeat kept the running job hidden");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(SLOW_RUNS.load(Ordering::SeqCst), before + 1);
}

#[tokio::test]
async fn a_crashed_worker_s_job_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = context(dir.path()).await;
    ctx.queue.send(&JobMessage::new("counted", "j5").to_body(), Duration::ZERO).await.unwrap();
    // A worker takes it and dies without deleting it.
    let taken = ctx.queue.receive(1, Duration::from_secs(1), Duration::ZERO).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert!(ctx.queue.receive(1, Duration::from_secs(1), Duration::ZERO).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = ctx.queue.receive(1, Duration::from_secs(1), Duration::ZERO).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
}

#[tokio::test]
async fn queued_jobs_survive_a_restart() {
    use whatif_shared::adapters::local::{LocalQueue, LocalStore};
    use whatif_shared::clock::{SystemClock, UlidGen};
    use whatif_shared::ports::JobQueue;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("whatif.redb");
    let open = || {
        let store = LocalStore::open(&path).unwrap();
        LocalQueue::new(store, Arc::new(SystemClock), Arc::new(UlidGen::default()), 5)
    };
    let id = open().send(&JobMessage::new("counted", "j6").to_body(), Duration::ZERO).await.unwrap();
    let queue = open();
    let got = queue.receive(1, Duration::from_secs(30), Duration::ZERO).await.unwrap();
    assert_eq!(got[0].message_id, id);
}
