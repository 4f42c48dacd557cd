//! `GET /api/sharing/metadata/{shareUrl}`: the Open Graph and Twitter card
//! fields of a share, as JSON (for a client that renders its own `<head>`).
//! [`Preview`] is also what the public page (`/s/{shareUrl}`) and the card
//! image show. A password-protected share previews without its content.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::{Language, Scenario};
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::caching;
use crate::card;
use crate::share::{self, Links, Share};

pub const SITE_NAME: &str = "What If Generator";
/// What a protected share shows instead of its content.
pub const PROTECTED_TITLE: &str = "A password-protected scenario";
pub const PROTECTED_DESCRIPTION: &str = "Open the link and enter its password to read it.";
/// The longest description a preview carries (crawlers cut around here anyway).
const MAX_DESCRIPTION_CHARS: usize = 300;

/// What a link preview shows of a share.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub title: String,
    pub description: String,
    /// The share's public page (`og:url`, the canonical URL).
    pub url: String,
    /// The 1200×630 PNG card (`og:image`).
    pub image: String,
    pub image_width: u32,
    pub image_height: u32,
    /// `og:type`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub site_name: &'static str,
    /// `og:locale`: `en_US` or `vi_VN`.
    pub locale: &'static str,
    /// `twitter:card`.
    pub twitter_card: &'static str,
    /// The web client's page of the share, where people are sent.
    pub redirect_url: String,
    pub is_password_protected: bool,
}

impl Preview {
    pub fn of(ctx: &AppContext, share: &Share, scenario: &Scenario) -> Self {
        let links = Links::of(ctx, &share.share_url);
        let protected = share.password_hash.is_some();
        let (title, description) = if protected {
            (PROTECTED_TITLE.to_string(), PROTECTED_DESCRIPTION.to_string())
        } else {
            (share.shown_title(scenario), shorten(&share.shown_description(scenario), MAX_DESCRIPTION_CHARS))
        };
        Preview {
            title,
            description,
            url: links.full_url,
            image: links.card_url,
            image_width: card::WIDTH,
            image_height: card::HEIGHT,
            kind: "article",
            site_name: SITE_NAME,
            locale: if protected || scenario.language != Language::Vi { "en_US" } else { "vi_VN" },
            twitter_card: "summary_large_image",
            redirect_url: links.client_url,
            is_password_protected: protected,
        }
    }

    /// The `ETag` of everything the preview shows (`what` names the answer).
    pub fn etag(&self, what: &str) -> String {
        caching::etag(&[what, &self.title, &self.description, &self.url, &self.image, &self.redirect_url, self.locale])
    }
}

/// `text` cut at a word boundary to at most `max` characters, with "…" when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = cut.rfind(char::is_whitespace).filter(|&i| i > cut.len() / 2).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

/// The preview of the live share `raw` (404 otherwise, as every public share route).
pub async fn preview(ctx: &AppContext, raw: &str) -> ApiResult<Preview> {
    let (share, scenario) = share::open(ctx, raw).await?;
    Ok(Preview::of(ctx, &share, &scenario))
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let preview = preview(&ctx, req.path_param("shareUrl")?).await?;
    let etag = preview.etag("metadata");
    Ok(caching::cached(&req, &etag, caching::EDGE_SECONDS, || Reply::ok(&preview)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_are_cut_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        let cut = shorten("Nếu Việt Nam có tàu vũ trụ riêng thì sao và chuyện gì xảy ra", 20);
        assert!(cut.chars().count() <= 20 && cut.ends_with('…'), "{cut}");
        assert!(!cut.contains("ri…"), "no word is cut in half: {cut}");
    }
}
