//! Job routes. Each row below is one Lambda function.

pub mod cancel;
pub mod get;

use whatif_shared::handler;
use whatif_shared::keys;
use whatif_shared::routes::{Access, Route, RouteDoc};
use whatif_shared::service::{Service, Trigger, Worker, WorkerRun};

pub const GET: Route = Route::get("jobs-get", "/api/jobs/{jobId}", handler!(get::handle))
    .access(&[Access::TableRead, Access::BlobRead(keys::EXPORTS)])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<whatif_shared::jobs::JobRecord>()),
        ..RouteDoc::new("jobs", "A job's status, progress and result (owner only)")
    });

pub const CANCEL: Route = Route::post("jobs-cancel", "/api/jobs/{jobId}/cancel", handler!(cancel::handle))
    .max_body(1024)
    .access(&[Access::TableRead, Access::TableWrite])
    .doc(RouteDoc {
        response: Some(|g| g.subschema_for::<whatif_shared::jobs::JobRecord>()),
        answers: &[(409, "The job has already finished (JOB_FINISHED)")],
        ..RouteDoc::new("jobs", "Stop a queued or running job (owner only); finished work is kept")
    });

/// This service's rows of the route table.
pub const ROUTES: &[Route] = &[GET, CANCEL];

/// Receives of one job before it moves to the dead-letter queue (the redrive
/// policy, and `WHATIF_QUEUE_MAX_RECEIVES` for the functions).
pub const MAX_RECEIVES: u32 = 5;

/// The job worker: runs every service's job kinds from the job queue, with
/// partial batch failures. Its access is its own (consuming the queue) and,
/// joined in by the catalog, that of every job kind and data owner.
pub const WORKER: Worker = Worker {
    function: "jobs-worker",
    trigger: Trigger::Queue { batch_size: 5 },
    // Sized for the media jobs' renders (docs/media.md, "In AWS"): about two
    // vCPUs, the longest scenario's render with headroom, and room in /tmp
    // for a render's narration, font, card texts and video.
    memory_mb: 3008,
    timeout_seconds: 300,
    ephemeral_storage_mb: 2048,
    access: &[Access::QueueConsume],
    ffmpeg: true,
    description: "Runs the jobs of the job queue (partial batch failures)",
    run: WorkerRun::Jobs,
};

/// The jobs service: a job's status and cancellation, and the worker that runs them.
pub const SERVICE: Service = Service { routes: ROUTES, workers: &[WORKER], ..Service::new("jobs") };
