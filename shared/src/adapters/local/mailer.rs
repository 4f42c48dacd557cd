//! The outbox mailer: one RFC 5322 `.eml` file per message under
//! `<data dir>/outbox/`, named so they sort by time. Open one in any mail
//! client, or read the link out of it in a test.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::clock::{Clock, IdGen};
use crate::ports::mailer::{Email, Mailer};
use crate::ports::{StoreError, StoreResult};

pub struct OutboxMailer {
    dir: PathBuf,
    from: String,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
}

impl OutboxMailer {
    pub fn new(dir: PathBuf, from: String, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> StoreResult<Self> {
        std::fs::create_dir_all(&dir).map_err(|e| StoreError::Unavailable(format!("outbox folder: {e}")))?;
        Ok(Self { dir, from, clock, ids })
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> StoreResult<String> {
        if !plausible_address(&email.to) {
            return Err(StoreError::Invalid("bad recipient address".into()));
        }
        let id = self.ids.ulid().to_string();
        let message = render(email, &self.from, &id, self.clock.now());
        let path = self.dir.join(format!("{id}.eml"));
        tokio::fs::write(&path, message).await.map_err(|e| StoreError::Unavailable(format!("outbox: {}", e.kind())))?;
        Ok(id)
    }
}

fn plausible_address(address: &str) -> bool {
    address.len() <= 320
        && address.split_once('@').is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
        && !address.contains(['\r', '\n', '<', '>', ',', ' '])
}

/// A MIME message: multipart/alternative when there is HTML, base64 parts so
/// any UTF-8 survives, an RFC 2047 subject.
fn render(email: &Email, from: &str, id: &str, at: time::OffsetDateTime) -> String {
    let date = at.format(&time::format_description::well_known::Rfc2822).unwrap_or_default();
    let subject = format!("=?UTF-8?B?{}?=", STANDARD.encode(email.subject.as_bytes()));
    let domain = from.split_once('@').map_or("localhost", |(_, d)| d);
    let mut out = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\nMIME-Version: 1.0\r\n",
        email.to
    );
    let part = |content_type: &str, body: &str| {
        format!(
            "Content-Type: {content_type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            wrap(&STANDARD.encode(body.as_bytes()))
        )
    };
    match &email.html {
        None => out.push_str(&part("text/plain", &email.text)),
        Some(html) => {
            let boundary = format!("whatif-{id}");
            out.push_str(&format!("Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"));
            out.push_str(&format!("--{boundary}\r\n{}", part("text/plain", &email.text)));
            out.push_str(&format!("--{boundary}\r\n{}", part("text/html", html)));
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out
}

fn wrap(b64: &str) -> String {
    b64.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_readable_mime_message() {
        let email = Email {
            to: "an@example.com".into(),
            subject: "Xác minh email".into(),
            text: "Mở liên kết: https://x/verify?token=abc".into(),
            html: Some("<p>Mở</p>".into()),
        };
        let eml = render(&email, "noreply@whatif.local", "01ID", time::OffsetDateTime::UNIX_EPOCH);
        assert!(eml.contains("To: an@example.com\r\n"));
        assert!(eml.contains("Subject: =?UTF-8?B?"));
        assert!(eml.contains("multipart/alternative"));
        let text_b64 = STANDARD.encode(email.text.as_bytes());
        assert!(eml.replace("\r\n", "").contains(&text_b64));
    }

    #[test]
    fn refuses_header_injection() {
        assert!(!plausible_address("a@b.c\r\nBcc: x@y.z"));
        assert!(plausible_address("a@b.c"));
    }
}
