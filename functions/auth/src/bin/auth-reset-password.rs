//! The `auth-reset-password` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_auth::RESET_PASSWORD).await
}
