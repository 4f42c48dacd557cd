//! `/_blobs/<key>`: what the embedded blob store's presigned URLs point at.
//! A GET downloads, a PUT uploads, each only with a valid, unexpired signature
//! (and, for a PUT, the content type that was signed), like S3.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use whatif_shared::context::AppContext;
use whatif_shared::error::ApiError;
use whatif_shared::pipeline;

use crate::response::{BodyError, read_body, status_only, to_hyper};

/// The largest upload through a presigned PUT (S3 allows 5 GB; locally we keep it sane).
const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

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
        Err(e) => return error(ctx, &req, ApiError::forbidden(e.to_string()).with_code("SIGNATURE_INVALID")),
    };
    let store = ctx.blobs.clone();
    if method == Method::PUT {
        let sent_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        if sent_type != signed.content_type {
            let err = ApiError::forbidden("The Content-Type is not the one the URL was signed for")
                .with_code("SIGNATURE_INVALID");
            return error(ctx, &req, err);
        }
        let body = match read_body(req.into_body(), MAX_UPLOAD_BYTES, body_timeout).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => return status_only(StatusCode::PAYLOAD_TOO_LARGE),
            Err(BodyError::TooSlow) => return status_only(StatusCode::REQUEST_TIMEOUT),
        };
        return match store.put(&key, body, sent_type.as_deref().unwrap_or("application/octet-stream")).await {
            Ok(()) => status_only(StatusCode::OK),
            Err(e) => error_parts(ctx, e.into()),
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

fn error(ctx: &AppContext, req: &Request<Incoming>, err: ApiError) -> Response<Full<Bytes>> {
    let request_id = pipeline::request_id(req.headers(), None, ctx);
    to_hyper(pipeline::finish(ctx, Err(err), &request_id, None, None))
}

fn error_parts(ctx: &AppContext, err: ApiError) -> Response<Full<Bytes>> {
    let request_id = ctx.ids.ulid().to_string();
    to_hyper(pipeline::finish(ctx, Err(err), &request_id, None, None))
}
