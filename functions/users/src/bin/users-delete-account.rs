//! The `users-delete-account` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_users::DELETE_ACCOUNT).await
}
