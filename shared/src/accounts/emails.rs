//! The account emails, plain text and HTML, with links to the front end.

use crate::ports::Email;
use crate::text::escape_markup as html_escape;

fn message(to: &str, subject: &str, intro: &str, action: &str, link: &str, outro: &str) -> Email {
    let text = format!("{intro}\n\n{action}: {link}\n\n{outro}\n\n— What If Generator\n");
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><p><a href=\"{}\">{}</a></p><p style=\"color:#666\">{}</p><p>— What If Generator</p></body></html>",
        html_escape(intro),
        html_escape(link),
        html_escape(action),
        html_escape(outro)
    );
    Email { to: to.to_string(), subject: subject.to_string(), text, html: Some(html) }
}

pub fn verify_email(frontend: &str, to: &str, token: &str) -> Email {
    message(
        to,
        "Confirm your email address",
        "Welcome to What If Generator! Please confirm that this is your email address.",
        "Confirm your email",
        &format!("{frontend}/verify-email?token={token}"),
        "The link works once and expires in 24 hours. If you did not sign up, ignore this email.",
    )
}

pub fn reset_password(frontend: &str, to: &str, token: &str) -> Email {
    message(
        to,
        "Reset your password",
        "Someone (hopefully you) asked to reset the password of your What If Generator account.",
        "Choose a new password",
        &format!("{frontend}/reset-password?token={token}"),
        "The link works once and expires in 1 hour. If you did not ask for it, ignore this email: your password stays the same.",
    )
}

pub fn password_changed(to: &str) -> Email {
    let text = "The password of your What If Generator account was just changed, and your other sessions were signed out.\n\nIf this was not you, reset your password now.\n\n— What If Generator\n";
    Email { to: to.to_string(), subject: "Your password was changed".into(), text: text.into(), html: None }
}
