//! `whatif-lambda`: the one binary every Lambda function of the system runs.
//! It serves the function its handler (`_HANDLER`) names; see `whatif_app::lambda`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    whatif_app::lambda::run().await
}
