//! The `Mailer` suite: messages are accepted and get an id. (What arrives
//! is checked by each runner: the outbox folder, or moto's sent-mail list.)

use std::sync::Arc;

use super::ok;
use crate::ports::{Email, Mailer};

/// Sends a text+HTML and a text-only message to `to`; panics when one is refused.
pub async fn mailer(mailer: Arc<dyn Mailer>, to: &str) {
    let full = Email {
        to: to.to_string(),
        subject: "Chuyện gì xảy ra nếu… — bản nháp đã sẵn sàng".into(),
        text: "Xin chào! Câu chuyện \"Nếu như\" của bạn đã được tạo.\nChúc một ngày tốt lành.".into(),
        html: Some("<p>Xin chào! Câu chuyện <b>“Nếu như”</b> của bạn đã được tạo.</p>".into()),
    };
    let id = ok(mailer.send(&full).await, "send a text+html message");
    assert!(!id.trim().is_empty(), "send returns a message id");

    let plain = Email { html: None, subject: "Mã xác nhận".into(), text: "Mã của bạn: 123456".into(), ..full };
    let second = ok(mailer.send(&plain).await, "send a text-only message");
    assert!(!second.trim().is_empty(), "send returns a message id for a text-only message");
    assert_ne!(id, second, "each message gets its own id");
}
