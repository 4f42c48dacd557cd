//! `/_blobs/<key>`: what the embedded blob store's presigned URLs point at.
//! A GET downloads, a PUT uploads, each only with a valid, unexpired signature
//! (and, for a PUT, the content type and length that were signed), like S3.
//! A PUT's body is read up to the signed maximum and no further: a longer one
//! is refused with 413, nothing is stored and the connection is closed.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONNECTION, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use whatif_shared::adapters::local::SignedBlobRequest;
use whatif_shared::context::AppContext;
use whatif_shared::error::ApiError;
use whatif_shared::pipeline;

use crate::response::{BodyError, read_body, status_only, to_hyper};

/// The largest upload through a presigned PUT without a signed maximum (S3
/// allows 5 GB; locally we keep it sane).
const MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

pub async fn serve(
    ctx: &Arc<AppContext>,
    req: Request<Incoming>,
    key: &str,
    body_timeout: std::time::Duration,
) -> Response<Full<Bytes>> {
    let Some(blobs) = ctx.local_blobs.clone() else {
        return error(ctx, &req, ApiError::not_found("Blob"));
    };
    let key = match percent_encoding::percent_decode_str(key).decode_utf8() {
        Ok(k) => k.into_owned(),
        Err(_) => return error(ctx, &req, ApiError::not_found("Blob")),
    };
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    if method != Method::GET && method != Method::PUT {
        return error(ctx, &req, ApiError::method_not_allowed());
    }
    let signed = match blobs.verify(method.as_str(), &key, &query) {
        Ok(signed) => signed,
        Err(e) => return refuse(ctx, &req, ApiError::forbidden(e.to_string()).with_code("SIGNATURE_INVALID")),
    };
    let store = ctx.blobs.clone();
    if method == Method::PUT {
        return match upload(&req, &signed) {
            Err(err) => refuse(ctx, &req, err),
            Ok(limit) => {
                let content_type = signed.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
                let most = usize::try_from(limit).unwrap_or(usize::MAX);
                let body = match read_body(req.into_body(), most, body_timeout).await {
                    Ok(bytes) => bytes,
                    Err(BodyError::TooLarge) => return closing(error_parts(ctx, too_large(limit))),
                    Err(BodyError::TooSlow) => return closing(status_only(StatusCode::REQUEST_TIMEOUT)),
                };
                match store.put(&key, body, &content_type).await {
                    Ok(()) => status_only(StatusCode::OK),
                    Err(e) => error_parts(ctx, e.into()),
                }
            }
        };
    }
    match store.get(&key).await {
        Ok(Some((bytes, meta))) => {
            let mut response = Response::new(Full::new(bytes));
            let content_type = meta.content_type.unwrap_or_else(|| "application/octet-stream".into());
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                response.headers_mut().insert(CONTENT_TYPE, v);
            }
            if let Some(name) = signed.download_name
                && let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
            {
                response.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
            // Served as the type it was stored with, never sniffed as another.
            response.headers_mut().insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            response
        }
        Ok(None) => error(ctx, &req, ApiError::not_found("Blob")),
        Err(e) => error_parts(ctx, e.into()),
    }
}

/// Whether a PUT's headers match what was signed; the most body bytes to read.
fn upload(req: &Request<Incoming>, signed: &SignedBlobRequest) -> Result<u64, ApiError> {
    let signature = |what: &str| {
        ApiError::forbidden(format!("The {what} is not the one the URL was signed for")).with_code("SIGNATURE_INVALID")
    };
    let sent_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if sent_type != signed.content_type.as_deref() {
        return Err(signature("Content-Type"));
    }
    // hyper has refused a malformed or repeated Content-Length already.
    let sent_length = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if signed.content_length.is_some() && sent_length != signed.content_length {
        return Err(signature("Content-Length"));
    }
    let limit = signed.max_bytes.unwrap_or(MAX_UPLOAD_BYTES).min(MAX_UPLOAD_BYTES);
    if sent_length.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    Ok(limit)
}

fn too_large(limit: u64) -> ApiError {
    ApiError::payload_too_large(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// A refused request: its body (an upload's) is never read, so the connection
/// is closed rather than kept for a next request behind the unread bytes.
fn refuse(ctx: &AppContext, req: &Request<Incoming>, err: ApiError) -> Response<Full<Bytes>> {
    closing(error(ctx, req, err))
}

fn closing(mut response: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn error(ctx: &AppContext, req: &Request<Incoming>, err: ApiError) -> Response<Full<Bytes>> {
    let request_id = pipeline::request_id(req.headers(), None, ctx);
    to_hyper(pipeline::finish(ctx, Err(err), &request_id, None, None))
}

fn error_parts(ctx: &AppContext, err: ApiError) -> Response<Full<Bytes>> {
    let request_id = ctx.ids.ulid().to_string();
    to_hyper(pipeline::finish(ctx, Err(err), &request_id, None, None))
}
