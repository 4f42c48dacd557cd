//! The `jobs-worker` Lambda function (SQS event source, partial batch failures).

use lambda_runtime::{LambdaEvent, service_fn};
use whatif_shared::config::Config;
use whatif_shared::context::AppContext;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let config = Config::from_process_env()?;
    whatif_shared::logging::init(config.log_json);
    let ctx = AppContext::connect(config).await?;
    let kinds = whatif_workers::job_kinds();
    lambda_runtime::run(service_fn(|event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
        let (ctx, kinds) = (ctx.clone(), kinds.clone());
        async move { Ok::<_, lambda_runtime::Error>(whatif_workers::handle_batch(&ctx, &kinds, event.payload).await) }
    }))
    .await
}
