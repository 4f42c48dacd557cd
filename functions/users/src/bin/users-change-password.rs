//! The `users-change-password` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_users::CHANGE_PASSWORD).await
}
