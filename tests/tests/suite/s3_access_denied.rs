//! The S3 blob store as AWS really answers a function with least privilege:
//! without an unconditional `s3:ListBucket`, HeadObject on a missing key is
//! 403, not 404. moto does not enforce IAM, so a fake S3 on 127.0.0.1 plays
//! that part: the store must still tell "not uploaded yet" (so the avatar
//! route answers 400, not 500) from a key that exists but is forbidden.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use whatif_shared::adapters::aws::{S3Blobs, emulator_config, s3_client};
use whatif_shared::clock::SystemClock;
use whatif_shared::ports::{BlobStore, StoreError};

const BUCKET: &str = "media";
/// Keys that exist. HEAD answers 200 only for `avatars/u1/readable.png`.
const EXISTING: [&str; 3] = ["avatars/u1/readable.png", "avatars/u1/forbidden.png", "avatars/u1/missing.png.bak"];

async fn answer(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().trim_start_matches(&format!("/{BUCKET}")).trim_start_matches('/').to_string();
    let status = |code: u16, body: String| {
        Response::builder().status(code).header("content-type", "application/xml").body(Full::new(Bytes::from(body)))
    };
    let response = match (req.method().clone(), path.as_str()) {
        (Method::HEAD, "avatars/u1/readable.png") => Response::builder()
            .status(200)
            .header("content-type", "image/png")
            .header("content-length", "3")
            .body(Full::new(Bytes::new())),
        // What S3 answers a caller without an unconditional ListBucket: 403
        // whether or not the key exists, and no body (it is a HEAD).
        (Method::HEAD, _) => Response::builder().status(403).body(Full::new(Bytes::new())),
        (Method::GET, "") => {
            let query = req.uri().query().unwrap_or_default();
            let prefix = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("prefix="))
                .map(|p| percent_encoding::percent_decode_str(p).decode_utf8_lossy().into_owned())
                .unwrap_or_default();
            let keys: Vec<&str> = EXISTING.iter().copied().filter(|k| k.starts_with(&prefix)).take(1).collect();
            let contents: String =
                keys.iter().map(|k| format!("<Contents><Key>{k}</Key><Size>3</Size></Contents>")).collect();
            status(
                200,
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
                     <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                     <Name>{BUCKET}</Name><Prefix>{prefix}</Prefix><KeyCount>{}</KeyCount><MaxKeys>1</MaxKeys>\
                     <IsTruncated>false</IsTruncated>{contents}</ListBucketResult>",
                    keys.len()
                ),
            )
        }
        _ => status(400, "<Error><Code>InvalidRequest</Code></Error>".into()),
    };
    Ok(response.expect("a valid response"))
}

async fn fake_s3() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn a_missing_key_answered_403_reads_as_missing_and_a_forbidden_one_stays_an_error() {
    let client = s3_client(&emulator_config(&fake_s3().await), true);
    let blobs = S3Blobs::new(client, BUCKET.to_string(), Arc::new(SystemClock));

    let readable = blobs.head("avatars/u1/readable.png").await.expect("a readable key");
    assert_eq!(readable.map(|m| (m.size, m.content_type)), Some((3, Some("image/png".to_string()))));
    // Not uploaded: 403 on HEAD, and the listing of exactly that key is empty
    // (a longer key that shares the prefix does not count).
    assert_eq!(blobs.head("avatars/u1/missing.png").await.expect("no error for a missing key"), None);
    // There but forbidden: still an error, never "missing".
    let forbidden = blobs.head("avatars/u1/forbidden.png").await;
    assert!(matches!(forbidden, Err(StoreError::Unavailable(_))), "{forbidden:?}");
}
