//! What one request costs, and what its handler may do before the request's
//! checks have passed.
//!
//! Every port of a context is wrapped in [`Metered`] (by `AppContext`, over
//! the adapters, under any cache), and the pipeline runs each request inside
//! [`metered`]. Each call that reaches an adapter is then counted on the
//! request's [`Meter`]: table reads (`GetItem`, `BatchGetItem`, `Query`),
//! writes (`PutItem`, `UpdateItem`, `DeleteItem`), transactions, and the calls
//! to the blob store, the queue and the secret store (below the secrets'
//! cache, so a hit is no call). The meter also keeps how many table calls
//! happened one after another: a call started after another one finished
//! comes after it, calls in flight at once are side by side, and the longest
//! chain is the request's table round trips.
//!
//! A read route runs its handler alongside its checks (the rate limit and the
//! account status). Inside [`gated`], every call that changes something (a
//! table write, a blob put or delete, a queue send, a secret put, an email, a
//! synthesis) first waits for the checks: it goes on once they pass and fails
//! if they refuse, so nothing is changed for a request that is then refused.
//!
//! While a request's [`batch`] is open, single-item table reads (`get`) wait
//! for it instead of going out, and [`flush`] sends them as one
//! `BatchGetItem`: the status check's read and the handler's first read are
//! one call.
//!
//! Work a request leaves for after its answer ([`afterwards`]: a read's
//! rate-limit count) is counted, but as no round trip: the answer did not
//! wait for it.
//!
//! Calls outside a request (the job worker, start-up, tools) are neither
//! counted nor held.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{oneshot, watch};

use crate::ports::{
    BlobMeta, BlobStore, Delivery, Email, Item, ItemTable, JobQueue, Key, Mailer, Pcm, Presigned, PutLimits, Query,
    QueryPage, SecretStore, SpeechError, SpeechRequest, SpeechSynthesizer, StoreError, StoreResult, TxOp, Update,
    Voice,
};

tokio::task_local! {
    static METER: Arc<Meter>;
    static GATE: Gate;
    static CHAIN: Chain;
    /// Set inside [`afterwards`]: work done after the answer.
    static AFTERWARDS: ();
}

/// The calls one request made, by port.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// `GetItem`, `BatchGetItem` and `Query` calls.
    pub reads: u32,
    /// `PutItem`, `UpdateItem` and `DeleteItem` calls.
    pub writes: u32,
    /// `TransactWriteItems` calls.
    pub transactions: u32,
    /// Table calls one after another: the longest chain, what the request waited for.
    pub round_trips: u32,
    pub blobs: u32,
    pub queue: u32,
    pub secrets: u32,
}

impl Cost {
    /// Table calls of any kind.
    pub fn table_calls(&self) -> u32 {
        self.reads + self.writes + self.transactions
    }

    /// Whether no count of `self` is above `other`'s.
    pub fn within(&self, other: &Cost) -> bool {
        self.fields().iter().zip(other.fields()).all(|((_, a), (_, b))| *a <= b)
    }

    fn fields(&self) -> [(&'static str, u32); 7] {
        [
            ("reads", self.reads),
            ("writes", self.writes),
            ("transactions", self.transactions),
            ("round-trips", self.round_trips),
            ("blobs", self.blobs),
            ("queue", self.queue),
            ("secrets", self.secrets),
        ]
    }

    /// Short, for a table: `2r 1w 1t ↦1 +1b +1q +1s`, each part only when
    /// not zero (`—` when nothing was called); `↦n` is the table round trips.
    pub fn short(&self) -> String {
        let mut parts = Vec::new();
        for (n, unit) in [(self.reads, "r"), (self.writes, "w"), (self.transactions, "t")] {
            if n > 0 {
                parts.push(format!("{n}{unit}"));
            }
        }
        if self.round_trips > 0 {
            parts.push(format!("↦{}", self.round_trips));
        }
        for (n, unit) in [(self.blobs, "b"), (self.queue, "q"), (self.secrets, "s")] {
            if n > 0 {
                parts.push(format!("+{n}{unit}"));
            }
        }
        if parts.is_empty() { "—".to_string() } else { parts.join(" ") }
    }

    /// Reads [`Cost::short`] back.
    pub fn from_short(text: &str) -> Option<Cost> {
        let mut cost = Cost::default();
        if text.trim() == "—" {
            return Some(cost);
        }
        for part in text.split_whitespace() {
            let (number, slot) = if let Some(n) = part.strip_prefix('↦') {
                (n, &mut cost.round_trips)
            } else {
                let body = part.strip_prefix('+').unwrap_or(part);
                let (n, unit) = body.split_at(body.len().checked_sub(1)?);
                let slot = match (part.starts_with('+'), unit) {
                    (false, "r") => &mut cost.reads,
                    (false, "w") => &mut cost.writes,
                    (false, "t") => &mut cost.transactions,
                    (true, "b") => &mut cost.blobs,
                    (true, "q") => &mut cost.queue,
                    (true, "s") => &mut cost.secrets,
                    _ => return None,
                };
                (n, slot)
            };
            *slot = number.parse().ok()?;
        }
        Some(cost)
    }
}

/// `reads=2;writes=1;…`: the `X-Whatif-Cost` header.
impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.fields().iter().map(|(name, n)| format!("{name}={n}")).collect();
        f.write_str(&parts.join(";"))
    }
}

impl FromStr for Cost {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut cost = Cost::default();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, n) = part.split_once('=').ok_or_else(|| format!("{part:?} is not name=count"))?;
            let n: u32 = n.parse().map_err(|_| format!("{part:?}: the count is not a number"))?;
            let slot = match name {
                "reads" => &mut cost.reads,
                "writes" => &mut cost.writes,
                "transactions" => &mut cost.transactions,
                "round-trips" => &mut cost.round_trips,
                "blobs" => &mut cost.blobs,
                "queue" => &mut cost.queue,
                "secrets" => &mut cost.secrets,
                other => return Err(format!("{other:?} is not a cost")),
            };
            *slot = n;
        }
        Ok(cost)
    }
}

/// The header that carries a request's cost when `WHATIF_COST_HEADER` is on.
pub const COST_HEADER: &str = "x-whatif-cost";

/// One request's tally.
#[derive(Default)]
pub struct Meter {
    tally: Mutex<Tally>,
    /// The chain of the request's calls outside any [`branch`].
    root: Chain,
    /// The chains are measured as over a network, on any backend (see [`call`]).
    precise: bool,
}

#[derive(Default)]
struct Tally {
    cost: Cost,
    /// Single-item reads waiting to go out together (see [`batch`]).
    batch: Option<Batch>,
}

struct Batch {
    /// The table the reads go to (the first read's).
    table: Option<Arc<dyn ItemTable>>,
    /// Each read: its key, its strand and how deep that strand was when it
    /// was asked for, and where its item goes.
    waiting: Vec<(Key, Chain, u32, Answer)>,
}

/// Where a batched read's item goes.
type Answer = oneshot::Sender<StoreResult<Option<Item>>>;

/// How many table calls one after another a strand of the request has
/// waited for so far. A call made on it is one more; a [`branch`] starts a
/// strand of its own (work that runs alongside), which its parent waits
/// for when it ends.
#[derive(Clone, Default)]
struct Chain(Arc<AtomicU32>);

impl Chain {
    fn depth(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    fn reach(&self, depth: u32) {
        self.0.fetch_max(depth, Ordering::Relaxed);
    }
}

/// The strand the current code runs on (the request's root outside any branch).
fn chain(meter: &Meter) -> Chain {
    CHAIN.try_with(Chain::clone).unwrap_or_else(|_| meter.root.clone())
}

#[derive(Clone, Copy)]
enum Call {
    Read,
    Write,
    Transaction,
    Blob,
    Queue,
    Secret,
}

impl Meter {
    /// A meter for one request; `precise` when its counts are answered (the
    /// tests and the benchmark), which makes a call the embedded store
    /// answers at once take a turn.
    pub fn new(precise: bool) -> Self {
        Self { precise, ..Self::default() }
    }

    /// What the request has called so far.
    pub fn cost(&self) -> Cost {
        self.lock().cost
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a call made at `depth` (for a table call: its place in the
    /// chain of calls one after another).
    fn count(&self, call: Call, depth: u32) {
        let mut tally = self.lock();
        let slot = match call {
            Call::Read => &mut tally.cost.reads,
            Call::Write => &mut tally.cost.writes,
            Call::Transaction => &mut tally.cost.transactions,
            Call::Blob => &mut tally.cost.blobs,
            Call::Queue => &mut tally.cost.queue,
            Call::Secret => &mut tally.cost.secrets,
        };
        *slot += 1;
        if matches!(call, Call::Read | Call::Write | Call::Transaction) {
            tally.cost.round_trips = tally.cost.round_trips.max(depth);
        }
    }
}

/// Runs `work` as one request, its calls counted on `meter`.
pub async fn metered<F: Future>(meter: Arc<Meter>, work: F) -> F::Output {
    METER.scope(meter, work).await
}

/// Runs `work` alongside what else the request does: its calls make a
/// chain of their own, and the code after it has waited for the longer of
/// the two.
pub async fn branch<F: Future>(work: F) -> F::Output {
    let Ok(parent) = METER.try_with(|meter| chain(meter)) else { return work.await };
    let strand = Chain(Arc::new(AtomicU32::new(parent.depth())));
    let out = CHAIN.scope(strand.clone(), work).await;
    parent.reach(strand.depth());
    out
}

/// Runs `work`, left for after the request's answer (a read's rate-limit
/// count): its calls are counted, but the answer waited for none of them, so
/// they add no round trip.
pub async fn afterwards<F: Future>(work: F) -> F::Output {
    AFTERWARDS.scope((), work).await
}

/// A call in flight, counted on the current request's meter (if any): a
/// table call is one more on its strand once it returns (it is dropped).
struct InFlight(Option<(Chain, u32)>);

impl InFlight {
    /// A call that waited for calls as deep as `after` (None: for what its strand has waited for so far).
    fn begin(call: Call, after: Option<u32>) -> Self {
        let table =
            matches!(call, Call::Read | Call::Write | Call::Transaction) && AFTERWARDS.try_with(|_| ()).is_err();
        InFlight(
            METER
                .try_with(|meter| {
                    let strand = chain(meter);
                    let depth = if table { after.unwrap_or_else(|| strand.depth()) + 1 } else { 0 };
                    meter.count(call, depth);
                    (strand, depth)
                })
                .ok(),
        )
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some((strand, depth)) = &self.0 {
            strand.reach(*depth);
        }
    }
}

/// Makes `work`, a call of `kind`, counted on the current request's meter.
/// On a precise meter, a call that is done the first time it is polled (the
/// embedded adapters' reads) still returns on a later turn, as a call over
/// the network does, so calls started together are side by side on either
/// backend (otherwise the embedded store is left to answer at once).
async fn call<F: Future>(kind: Call, work: F) -> F::Output {
    call_after(None, kind, work).await
}

/// [`call`], for a call that waited for calls as deep as `after` (a change that waited for the checks).
async fn call_after<F: Future>(after: Option<u32>, kind: Call, work: F) -> F::Output {
    let _call = InFlight::begin(kind, after);
    let mut work = std::pin::pin!(work);
    match futures::poll!(work.as_mut()) {
        std::task::Poll::Ready(out) => {
            if METER.try_with(|meter| meter.precise).unwrap_or(false) {
                tokio::task::yield_now().await;
            }
            out
        }
        std::task::Poll::Pending => work.await,
    }
}

/// Whether the request's checks let its changes through (`None` while they
/// run), and how many table calls one after another they took.
#[derive(Clone)]
pub struct Gate(watch::Receiver<Option<(bool, u32)>>);

/// Opens or shuts a [`Gate`]; dropped undecided, it shuts it.
pub struct GateKeeper(watch::Sender<Option<(bool, u32)>>);

impl Gate {
    pub fn new() -> (GateKeeper, Gate) {
        let (tx, rx) = watch::channel(None);
        (GateKeeper(tx), Gate(rx))
    }
}

impl GateKeeper {
    /// Lets the held changes through (`true`) or refuses them. Called where
    /// the checks ran: a change let through comes after them.
    pub fn decide(self, pass: bool) {
        let depth = METER.try_with(|meter| chain(meter).depth()).unwrap_or(0);
        let _ = self.0.send(Some((pass, depth)));
    }
}

impl Drop for GateKeeper {
    fn drop(&mut self) {
        self.0.send_if_modified(|v| {
            let undecided = v.is_none();
            if undecided {
                *v = Some((false, 0));
            }
            undecided
        });
    }
}

/// Runs `work` behind `gate`: its changes wait for the gate.
pub async fn gated<F: Future>(gate: Gate, work: F) -> F::Output {
    GATE.scope(gate, work).await
}

/// The refusal of a change made behind a gate that shut.
const REFUSED: &str = "the request was refused by its checks";

/// Waits, inside [`gated`], until the checks pass; an error if they refuse.
/// What the change then waited for: the deeper of its strand when it was
/// asked for and the checks (None outside a gate: nothing more than its strand).
async fn pass() -> StoreResult<Option<u32>> {
    let Ok(mut gate) = GATE.try_with(|g| g.0.clone()) else { return Ok(None) };
    let asked_at = METER.try_with(|meter| chain(meter).depth()).unwrap_or(0);
    match gate.wait_for(Option::is_some).await.map(|v| *v) {
        Ok(Some((true, checks))) => Ok(Some(asked_at.max(checks))),
        _ => Err(StoreError::Unavailable(REFUSED.into())),
    }
}

/// Opens the current request's batch: from now until [`flush`], its
/// single-item table reads wait to go out together.
pub fn batch() {
    let _ = METER.try_with(|meter| {
        meter.lock().batch = Some(Batch { table: None, waiting: Vec::new() });
    });
}

/// Sends the reads waiting in the current request's batch as one call (a
/// `GetItem` for one, a `BatchGetItem` for more) and closes the batch, so
/// later reads go out at once. Call it once everything that runs alongside
/// has had its first turn ([`tokio::task::yield_now`] before it does that
/// inside one `join`).
pub async fn flush() {
    let Ok(meter) = METER.try_with(Arc::clone) else { return };
    let Some(Batch { table, waiting }) = meter.lock().batch.take() else { return };
    let Some(table) = table else { return };
    // The batch goes out after what each of its reads waited for.
    let depth = waiting.iter().map(|(_, _, asked_at, _)| *asked_at).max().unwrap_or(0) + 1;
    meter.count(Call::Read, depth);
    let mut keys: Vec<Key> = waiting.iter().map(|(k, _, _, _)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    let found = match keys.as_slice() {
        [key] => table.get(key).await.map(|item| item.into_iter().collect::<Vec<_>>()),
        _ => table.batch_get(&keys).await,
    };
    let found: StoreResult<HashMap<Key, Item>> =
        found.map(|items| items.into_iter().filter_map(|item| Some((Key::of(&item)?, item))).collect());
    for (key, strand, _, tx) in waiting {
        strand.reach(depth);
        let _ = tx.send(found.as_ref().map(|items| items.get(&key).cloned()).map_err(Clone::clone));
    }
}

/// Joins the current request's open batch with a read of `key` from `table`:
/// `None` when no batch is open (read it now).
fn join_batch(table: &Arc<dyn ItemTable>, key: &Key) -> Option<oneshot::Receiver<StoreResult<Option<Item>>>> {
    METER
        .try_with(|meter| {
            let mut tally = meter.lock();
            let batch = tally.batch.as_mut()?;
            let (tx, rx) = oneshot::channel();
            batch.table.get_or_insert_with(|| table.clone());
            let strand = chain(meter);
            let asked_at = strand.depth();
            batch.waiting.push((key.clone(), strand, asked_at, tx));
            Some(rx)
        })
        .ok()
        .flatten()
}

/// A port whose calls are counted on the current request's meter, and whose
/// changes wait for the current request's gate.
pub struct Metered<P: ?Sized> {
    inner: Arc<P>,
}

impl<P: ?Sized> Metered<P> {
    pub fn new(inner: Arc<P>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl ItemTable for Metered<dyn ItemTable> {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        if let Some(batched) = join_batch(&self.inner, key) {
            return batched.await.unwrap_or_else(|_| Err(StoreError::Unavailable("a batched read was lost".into())));
        }
        call(Call::Read, self.inner.get(key)).await
    }

    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        call(Call::Read, self.inner.batch_get(keys)).await
    }

    async fn put(&self, item: Item, cond: Option<crate::ports::Cond>) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Write, self.inner.put(item, cond)).await
    }

    async fn update(&self, key: &Key, update: Update, cond: Option<crate::ports::Cond>) -> StoreResult<Item> {
        let after = pass().await?;
        call_after(after, Call::Write, self.inner.update(key, update, cond)).await
    }

    async fn delete(&self, key: &Key, cond: Option<crate::ports::Cond>) -> StoreResult<Option<Item>> {
        let after = pass().await?;
        call_after(after, Call::Write, self.inner.delete(key, cond)).await
    }

    async fn query(&self, query: &Query) -> StoreResult<QueryPage> {
        call(Call::Read, self.inner.query(query)).await
    }

    async fn transact(&self, ops: Vec<TxOp>) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Transaction, self.inner.transact(ops)).await
    }

    async fn check(&self) -> StoreResult<()> {
        call(Call::Read, self.inner.check()).await
    }
}

#[async_trait]
impl BlobStore for Metered<dyn BlobStore> {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Blob, self.inner.put(key, body, content_type)).await
    }

    async fn get(&self, key: &str) -> StoreResult<Option<(Bytes, BlobMeta)>> {
        call(Call::Blob, self.inner.get(key)).await
    }

    async fn head(&self, key: &str) -> StoreResult<Option<BlobMeta>> {
        call(Call::Blob, self.inner.head(key)).await
    }

    async fn delete(&self, key: &str) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Blob, self.inner.delete(key)).await
    }

    async fn list(&self, prefix: &str) -> StoreResult<Vec<String>> {
        call(Call::Blob, self.inner.list(prefix)).await
    }

    async fn delete_all(&self, prefix: &str) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Blob, self.inner.delete_all(prefix)).await
    }

    /// Signed here, no call.
    async fn presign_get(&self, key: &str, ttl: Duration, download_name: Option<&str>) -> StoreResult<Presigned> {
        self.inner.presign_get(key, ttl, download_name).await
    }

    /// Signed here, no call (the upload is the client's).
    async fn presign_put_limited(
        &self,
        key: &str,
        content_type: &str,
        ttl: Duration,
        limits: PutLimits,
    ) -> StoreResult<Presigned> {
        self.inner.presign_put_limited(key, content_type, ttl, limits).await
    }

    async fn check(&self) -> StoreResult<()> {
        call(Call::Blob, self.inner.check()).await
    }
}

#[async_trait]
impl SecretStore for Metered<dyn SecretStore> {
    async fn get(&self, name: &str) -> StoreResult<Option<String>> {
        call(Call::Secret, self.inner.get(name)).await
    }

    async fn put(&self, name: &str, value: &str) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Secret, self.inner.put(name, value)).await
    }
}

#[async_trait]
impl JobQueue for Metered<dyn JobQueue> {
    async fn send(&self, body: &str, delay: Duration) -> StoreResult<String> {
        let after = pass().await?;
        call_after(after, Call::Queue, self.inner.send(body, delay)).await
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Delivery>> {
        let after = pass().await?;
        call_after(after, Call::Queue, self.inner.receive(max, visibility, wait)).await
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Queue, self.inner.delete(receipt)).await
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        let after = pass().await?;
        call_after(after, Call::Queue, self.inner.extend(receipt, visibility)).await
    }

    async fn dead_letters(&self, max: u32) -> StoreResult<Vec<Delivery>> {
        call(Call::Queue, self.inner.dead_letters(max)).await
    }

    async fn check(&self) -> StoreResult<()> {
        call(Call::Queue, self.inner.check()).await
    }
}

/// Mail is not counted; sending waits for the gate.
#[async_trait]
impl Mailer for Metered<dyn Mailer> {
    async fn send(&self, email: &Email) -> StoreResult<String> {
        pass().await?;
        self.inner.send(email).await
    }
}

/// Speech is not counted; a synthesis (paid) waits for the gate.
#[async_trait]
impl SpeechSynthesizer for Metered<dyn SpeechSynthesizer> {
    fn provider(&self) -> &'static str {
        self.inner.provider()
    }

    fn max_request_bytes(&self) -> usize {
        self.inner.max_request_bytes()
    }

    fn parallelism(&self) -> usize {
        self.inner.parallelism()
    }

    async fn voices(&self, language_code: Option<&str>) -> Result<Vec<Voice>, SpeechError> {
        self.inner.voices(language_code).await
    }

    async fn synthesize(&self, request: &SpeechRequest) -> Result<Pcm, SpeechError> {
        pass().await.map_err(|e| SpeechError::Unavailable(e.to_string()))?;
        self.inner.synthesize(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cost_reads_back_from_its_header_and_its_short_form() {
        let cost = Cost { reads: 2, writes: 1, transactions: 3, round_trips: 2, blobs: 1, queue: 4, secrets: 1 };
        assert_eq!(cost.to_string().parse::<Cost>(), Ok(cost));
        assert_eq!(cost.short(), "2r 1w 3t ↦2 +1b +4q +1s");
        assert_eq!(Cost::from_short(&cost.short()), Some(cost));
        assert_eq!(Cost::from_short("—"), Some(Cost::default()));
        assert_eq!(Cost::default().short(), "—");
        for bad in ["2x", "+1r", "r", "↦"] {
            assert_eq!(Cost::from_short(bad), None, "{bad}");
        }
        assert!("reads=x".parse::<Cost>().is_err());
        assert!(Cost { reads: 1, ..cost }.within(&cost));
        assert!(!Cost { round_trips: 3, ..cost }.within(&cost));
    }
}
