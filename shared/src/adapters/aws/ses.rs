//! The mailer on SES v2 (`Mailer`): SendEmail with simple content, UTF-8.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use super::sdk_error;
use crate::ports::mailer::{Email, Mailer};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "ses";
const CHARSET: &str = "UTF-8";

pub struct SesMailer {
    client: super::Lazy<Client>,
    from: String,
}

impl SesMailer {
    pub fn new(client: impl Into<super::Lazy<Client>>, from: String) -> Self {
        Self { client: client.into(), from }
    }
}

fn content(data: &str) -> StoreResult<Content> {
    Content::builder().data(data).charset(CHARSET).build().map_err(|e| StoreError::Invalid(format!("{SERVICE}: {e}")))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &Email) -> StoreResult<String> {
        let mut body = Body::builder().text(content(&email.text)?);
        if let Some(html) = &email.html {
            body = body.html(content(html)?);
        }
        let message = Message::builder().subject(content(&email.subject)?).body(body.build()).build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| sdk_error(SERVICE, &e))?;
        match out.message_id() {
            Some(id) if !id.is_empty() => Ok(id.to_string()),
            _ => Err(StoreError::Unavailable(format!("{SERVICE}: no message id in the response"))),
        }
    }
}
