//! The `users-avatar-upload-url` Lambda function.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    whatif_shared::lambda::serve(&whatif_users::AVATAR_UPLOAD_URL).await
}
