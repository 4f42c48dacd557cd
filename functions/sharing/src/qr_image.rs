//! `GET /qr/{shareUrl}`: the QR code of a live share's full URL (its public
//! page), `format` png (default) or svg, `size` 128–1024 pixels (default
//! 512). Browsers keep it a day (it only encodes the URL); the edge keeps it
//! a minute and revalidates by `ETag`, so a revoked share's code is gone from
//! the edge within a minute.

use std::sync::Arc;

use http::StatusCode;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::caching;
use crate::qr::{self, DEFAULT_SIZE, MAX_SIZE, MIN_SIZE, QrFormat};
use crate::share::{self, Links};

/// A day in a browser.
const BROWSER_SECONDS: u32 = 86_400;

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let (format, size) = params(req.query_param("format"), req.query_param("size"))?;
    let (share, _) = share::open(&ctx, req.path_param("shareUrl")?).await?;
    let url = Links::of(&ctx, &share.share_url).full_url;
    let etag = caching::etag(&["qr", qr::VERSION, &url, format.content_type(), &size.to_string()]);
    let bytes = if caching::not_modified(&req, &etag) {
        Vec::new()
    } else {
        qr::render(&url, format, size).map_err(ApiError::internal)?
    };
    Ok(caching::cached(&req, &etag, BROWSER_SECONDS, || Reply::bytes(StatusCode::OK, format.content_type(), bytes)))
}

/// The `format` and `size` query parameters as they come: absent or empty is
/// the default (png, 512); otherwise exactly `png` or `svg`, and a whole
/// number of pixels from 128 to 1024 (400 naming the parameter otherwise).
pub fn params(format: Option<&str>, size: Option<&str>) -> ApiResult<(QrFormat, u32)> {
    let format = match format {
        None | Some("") => QrFormat::Png,
        Some(raw) => QrFormat::parse(raw).ok_or_else(|| ApiError::validation("format", "must be png or svg"))?,
    };
    let size = match size {
        None | Some("") => DEFAULT_SIZE,
        Some(raw) => raw.parse::<u32>().ok().filter(|s| (MIN_SIZE..=MAX_SIZE).contains(s)).ok_or_else(|| {
            ApiError::validation("size", format!("must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}"))
        })?,
    };
    Ok((format, size))
}
