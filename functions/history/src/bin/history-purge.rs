//! The `history-purge` Lambda function (an EventBridge schedule): removes the
//! scenarios deleted over 30 days ago.

use lambda_runtime::{LambdaEvent, service_fn};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::from_process_env()?;
    whatif_shared::logging::init(config.log_json);
    let ctx = AppContext::connect(config).await?;
    lambda_runtime::run(service_fn(|_event: LambdaEvent<serde_json::Value>| {
        let ctx = ctx.clone();
        async move {
            let purged = whatif_history::lifecycle::purge_expired(&ctx).await.map_err(|e| e.message)?;
            Ok::<_, lambda_runtime::Error>(serde_json::json!({"purged": purged}))
        }
    }))
    .await
}
