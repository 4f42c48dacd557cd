//! The mailer: transactional email, plain text with an optional HTML part.

use async_trait::async_trait;

use super::StoreResult;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends the message from the configured sender; returns the message id.
    async fn send(&self, email: &Email) -> StoreResult<String>;
}
