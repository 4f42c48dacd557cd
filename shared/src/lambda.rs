//! What a function's `main` calls: build the context once per cold start,
//! then serve API Gateway events with the shared pipeline.

use std::sync::Arc;

use lambda_http::service_fn;

use crate::config::Config;
use crate::context::AppContext;
use crate::routes::Route;

/// Runs `route` as a Lambda function. Fails at start, naming the variable,
/// when the configuration is missing or bad.
pub async fn serve(route: &'static Route) -> Result<(), lambda_http::Error> {
    let config = Config::from_process_env()?;
    crate::logging::init(config.log_json);
    let ctx: Arc<AppContext> = AppContext::connect(config).await?;
    lambda_http::run(service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(crate::pipeline::dispatch(&ctx, route, req).await) }
    }))
    .await
}
