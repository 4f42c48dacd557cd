//! The `history-stats` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_history::STATS).await
}
