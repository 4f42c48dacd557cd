//! `GET /health`: liveness plus a real round trip to each dependency.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::json;
use whatif_shared::context::AppContext;
use whatif_shared::ports::StoreResult;
use whatif_shared::{ApiRequest, ApiResult, Reply};

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize, JsonSchema)]
pub struct HealthReport {
    /// `healthy`, or `degraded` when a dependency failed (then the status is 503).
    pub status: &'static str,
    pub version: &'static str,
    pub checks: BTreeMap<&'static str, Check>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `ok` or `failed`.
    pub status: &'static str,
    pub latency_ms: f64,
}

pub async fn handle(ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let (table, blobs, queue) = tokio::join!(
        timed(async { ctx.table.check().await }),
        timed(async { ctx.blobs.check().await }),
        timed(async { ctx.queue.check().await }),
    );
    let checks = BTreeMap::from([("table", table), ("blobStore", blobs), ("queue", queue)]);
    let healthy = checks.values().all(|c| c.status == "ok");
    let report = HealthReport {
        status: if healthy { "healthy" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    if healthy {
        Ok(Reply::ok(report))
    } else {
        let body = json!({
            "success": false,
            "code": "DEPENDENCY_DOWN",
            "message": "A dependency is not answering",
            "data": report,
        });
        Ok(Reply::raw_json(StatusCode::SERVICE_UNAVAILABLE, body))
    }
}

async fn timed(check: impl std::future::Future<Output = StoreResult<()>>) -> Check {
    let started = Instant::now();
    let outcome = tokio::time::timeout(CHECK_TIMEOUT, check).await;
    let latency_ms = (started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
    let status = match outcome {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check failed");
            "failed"
        }
        Err(_) => {
            tracing::error!("health check timed out");
            "failed"
        }
    };
    Check { status, latency_ms }
}
