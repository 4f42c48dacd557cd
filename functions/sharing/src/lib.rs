//! Sharing (API.md, "Sharing, QR, reports"): share links, their public page
//! and preview card, QR codes, share analytics and reports.

pub mod card;
pub mod qr;
