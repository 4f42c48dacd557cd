//! `GET /s/{shareUrl}/card.png`: the share's 1200×630 preview card (the
//! `og:image` of its page), rendered from the title and description a
//! preview shows; a protected share's card carries no content. Rendered on
//! request (milliseconds; see docs/sharing.md) and revalidated by `ETag`, so
//! nothing is stored that a revocation or a purge would have to remove.

use std::sync::Arc;

use http::StatusCode;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::caching;
use crate::card::{self, Card};
use crate::metadata::{SITE_NAME, preview};

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let preview = preview(&ctx, req.path_param("shareUrl")?).await?;
    let footer = format!("{SITE_NAME} · {}", host(&ctx.config.frontend_url));
    let etag = preview.etag(&format!("card:{}:{footer}", card::VERSION));
    let png = if caching::not_modified(&req, &etag) {
        Vec::new()
    } else {
        card::render(&Card { title: &preview.title, summary: &preview.description, footer: &footer })
            .map_err(ApiError::internal)?
    };
    Ok(caching::cached(&req, &etag, caching::EDGE_SECONDS, || Reply::bytes(StatusCode::OK, "image/png", png)))
}

/// The host of a URL (`https://whatif.example.com/x` → `whatif.example.com`).
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}
