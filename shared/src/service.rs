//! A service's manifest: everything the rest of the system needs to know
//! about one service crate, in one value. Each crate under `functions/`
//! exports `pub const SERVICE: Service`; the `whatif-app` crate lists them
//! (`whatif_app::SERVICES`), and the local server, the Lambda entry, the job
//! worker, the account export and deletion, the OpenAPI document and both
//! infrastructure templates all read that one list.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use crate::context::AppContext;
use crate::error::ApiResult;
use crate::jobs::JobKind;
use crate::routes::{Access, Route};

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Runs once per process at start, before the first request: in a Lambda
/// function at init (so a bad setting is a start failure, not a 500), and in
/// the local server before it listens. Only the hook of the function's own
/// service runs in a Lambda function.
/// The hook is given the function's access (locally: all of its service's
/// routes'), so it starts only what that function may use.
pub type StartHook = fn(Arc<AppContext>, &'static [Access]) -> BoxFuture<Result<(), String>>;

pub struct Service {
    /// Its name (the crate is `functions/<name>`); also the OpenAPI tag.
    pub name: &'static str,
    /// Its routes: one Lambda function each.
    pub routes: &'static [Route],
    /// The job kinds it runs on the job queue (in the `jobs-worker` function).
    pub jobs: &'static [JobKind],
    /// Its functions that no route calls (queue consumers, schedules).
    pub workers: &'static [Worker],
    /// What it stores of an account, for the data export and account
    /// deletion. Owners run in the order of `SERVICES`, then of this list.
    pub owns: &'static [DataOwner],
    pub start: Option<StartHook>,
}

impl Service {
    /// A service with nothing yet; fill in what it has with `..Service::new(name)`.
    pub const fn new(name: &'static str) -> Self {
        Self { name, routes: &[], jobs: &[], workers: &[], owns: &[], start: None }
    }
}

/// A function no route calls: the job-queue consumer or a scheduled job.
#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    /// Its name: its Lambda, its handler, its `events/<name>.json`.
    pub function: &'static str,
    pub trigger: Trigger,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    /// Its `/tmp` size in MB (Lambda's default and least is 512).
    pub ephemeral_storage_mb: u32,
    /// What it may touch beyond what every function gets. The job worker's is
    /// this plus the access of every job kind (see [`Catalog::worker_access`]).
    pub access: &'static [Access],
    /// Gets the `FfmpegLayerArn` layer (when that parameter is set).
    pub ffmpeg: bool,
    pub description: &'static str,
    /// What it runs.
    #[serde(skip)]
    pub run: WorkerRun,
}

/// What starts a worker.
#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Trigger {
    /// Batches from the job queue (partial failures reported per message).
    #[serde(rename_all = "camelCase")]
    Queue { batch_size: u32 },
    /// An EventBridge schedule, `rate(N minute|minutes|hour|hours|day|days)`.
    Schedule { expression: &'static str },
}

impl Trigger {
    /// How often a schedule runs, for the local server's timer.
    pub fn every(&self) -> Option<std::time::Duration> {
        let Trigger::Schedule { expression } = self else { return None };
        let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
        let (n, unit) = inner.split_once(' ')?;
        let n: u64 = n.parse().ok()?;
        let secs = match unit {
            "minute" | "minutes" => 60,
            "hour" | "hours" => 3600,
            "day" | "days" => 86_400,
            _ => return None,
        };
        Some(std::time::Duration::from_secs(n * secs))
    }
}

#[derive(Clone, Copy)]
pub enum WorkerRun {
    /// Runs the job kinds of every service from the job queue.
    Jobs,
    /// Runs this on its schedule; returns what it did, for the log.
    Scheduled(fn(Arc<AppContext>) -> BoxFuture<ApiResult<String>>),
}

impl std::fmt::Debug for WorkerRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorkerRun::Jobs => "Jobs",
            WorkerRun::Scheduled(_) => "Scheduled",
        })
    }
}

/// One file of an account's data export.
pub struct ExportFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl ExportFile {
    /// `value` as a pretty-printed JSON file.
    pub fn json(name: &str, value: &serde_json::Value) -> ApiResult<Self> {
        let bytes = serde_json::to_vec_pretty(value).map_err(crate::error::ApiError::internal)?;
        Ok(Self { name: name.to_string(), bytes })
    }
}

/// Exports what an owner holds of the account with this id.
pub type ExportFn = fn(Arc<AppContext>, String) -> BoxFuture<ApiResult<Vec<ExportFile>>>;
/// Deletes what an owner holds of the account with this id.
pub type DeleteFn = fn(Arc<AppContext>, String) -> BoxFuture<ApiResult<()>>;

/// Something a service stores of an account.
pub struct DataOwner {
    pub name: &'static str,
    pub export: ExportFn,
    /// Idempotent: a retried deletion finds less and finishes the rest.
    pub delete: DeleteFn,
    /// What its export and deletion touch (they run in the job worker).
    pub access: &'static [Access],
}

/// One function of the system, as its handler name finds it.
#[derive(Clone, Copy)]
pub enum Function {
    Route(&'static Route),
    Worker(&'static Worker),
}

/// The joined list of services, and what is read off it.
#[derive(Clone, Copy)]
pub struct Catalog {
    pub services: &'static [&'static Service],
}

impl Catalog {
    pub fn routes(&self) -> impl Iterator<Item = &'static Route> + '_ {
        self.services.iter().flat_map(|s| s.routes.iter())
    }

    pub fn workers(&self) -> impl Iterator<Item = &'static Worker> + '_ {
        self.services.iter().flat_map(|s| s.workers.iter())
    }

    pub fn job_kinds(&self) -> Vec<&'static JobKind> {
        self.services.iter().flat_map(|s| s.jobs.iter()).collect()
    }

    /// Every data owner; the account's own (the `users` service) comes last,
    /// so the others can still read the account while they run.
    pub fn data_owners(&self) -> Vec<&'static DataOwner> {
        let (last, mut rest): (Vec<&DataOwner>, Vec<&DataOwner>) =
            self.services.iter().flat_map(|s| s.owns.iter()).partition(|o| o.name == ACCOUNT_OWNER);
        rest.extend(last);
        rest
    }

    /// The function named `name` (a route's or a worker's).
    pub fn function(&self, name: &str) -> Option<Function> {
        if let Some(route) = self.routes().find(|r| r.function == name) {
            return Some(Function::Route(route));
        }
        self.workers().find(|w| w.function == name).map(Function::Worker)
    }

    /// The service a function belongs to.
    pub fn service_of(&self, name: &str) -> Option<&'static Service> {
        self.services
            .iter()
            .copied()
            .find(|s| s.routes.iter().any(|r| r.function == name) || s.workers.iter().any(|w| w.function == name))
    }

    /// Every function name, routes first.
    pub fn function_names(&self) -> Vec<&'static str> {
        self.routes().map(|r| r.function).chain(self.workers().map(|w| w.function)).collect()
    }

    /// What a worker may touch: its own access, and for the job worker that of
    /// every job kind and data owner too (export and deletion are jobs). Each
    /// grant once, in first-seen order.
    pub fn worker_access(&self, worker: &Worker) -> Vec<Access> {
        let mut all: Vec<&Access> = worker.access.iter().collect();
        if matches!(worker.run, WorkerRun::Jobs) {
            all.extend(self.job_kinds().iter().flat_map(|k| k.access));
            all.extend(self.data_owners().iter().flat_map(|o| o.access));
        }
        union(all)
    }
}

impl Service {
    /// Everything its routes may touch (what its start hook gets locally).
    pub fn routes_access(&self) -> Vec<Access> {
        union(self.routes.iter().flat_map(|r| r.access))
    }
}

/// Each grant once, in first-seen order.
fn union<'a>(grants: impl IntoIterator<Item = &'a Access>) -> Vec<Access> {
    let mut unique: Vec<Access> = Vec::new();
    for grant in grants {
        if !unique.contains(grant) {
            unique.push(*grant);
        }
    }
    unique
}

/// The name of the `DataOwner` that holds the account itself.
pub const ACCOUNT_OWNER: &str = "account";

static INSTALLED: OnceLock<Catalog> = OnceLock::new();

/// Makes `catalog` the process's list of services (the entry points call
/// this once at start; calling it again with the same list is harmless).
pub fn install(catalog: Catalog) {
    let _ = INSTALLED.set(catalog);
}

/// The process's list of services, as the entry point installed it.
pub fn installed() -> ApiResult<Catalog> {
    INSTALLED
        .get()
        .copied()
        .ok_or_else(|| crate::error::ApiError::internal("the list of services was not installed at start"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_as_durations() {
        let every = |e: &'static str| Trigger::Schedule { expression: e }.every();
        assert_eq!(every("rate(1 hour)"), Some(std::time::Duration::from_secs(3600)));
        assert_eq!(every("rate(5 minutes)"), Some(std::time::Duration::from_secs(300)));
        assert_eq!(every("rate(2 days)"), Some(std::time::Duration::from_secs(172_800)));
        assert_eq!(every("cron(0 3 * * ? *)"), None);
        assert_eq!(Trigger::Queue { batch_size: 5 }.every(), None);
    }
}
