//! The `history-bulk` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_history::BULK).await
}
