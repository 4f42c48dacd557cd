//! The `users-profile-get` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_users::PROFILE_GET).await
}
