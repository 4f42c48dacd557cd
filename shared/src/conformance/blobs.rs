//! The `BlobStore` suite. The runner does the HTTP for presigned requests:
//! `fetch(presigned, body)` sends `presigned.method` to `presigned.url` with
//! `presigned.headers` (and the body, for a PUT) and returns (status, body).
//! `clock` is the clock the store was built with.
//!
//! [`Enforces`] says what the service behind the store refuses: the embedded
//! store refuses tampered URLs, other lengths than a signed Content-Length and
//! bodies over a signed maximum; real S3 the first two (a presigned PUT cannot
//! carry a maximum); moto none (it serves presigned URLs without checking
//! their signature).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::{assert_invalid, ok, run_id};
use crate::clock::Clock;
use crate::ports::blobs::{BlobMeta, BlobStore, MAX_PRESIGN_TTL, Presigned, PutLimits};

/// What the service behind a blob store refuses of presigned requests.
#[derive(Clone, Copy, Debug)]
pub struct Enforces {
    /// A tampered signature, and a body of another length than a signed `Content-Length`.
    pub signatures: bool,
    /// A body over `PutLimits::max_bytes`.
    pub max_bytes: bool,
}

/// Runs every blob check; panics on the first broken behaviour.
pub async fn blob_store<F, Fut>(blobs: Arc<dyn BlobStore>, clock: Arc<dyn Clock>, enforces: Enforces, fetch: F)
where
    F: Fn(Presigned, Option<Bytes>) -> Fut,
    Fut: Future<Output = (u16, Bytes)>,
{
    let root = format!("conformance/{}", run_id());
    let b = blobs.as_ref();
    ok(b.check().await, "check");
    objects(b, &root).await;
    listing(b, &root).await;
    invalid_keys(b, &root).await;
    presigned(b, clock.as_ref(), &fetch, &root).await;
    limited(b, enforces, &fetch, &root).await;
    if enforces.signatures {
        tampered(b, &fetch, &root).await;
    }
}

async fn objects(b: &dyn BlobStore, root: &str) {
    let key = format!("{root}/objects/hello.txt");
    ok(b.put(&key, Bytes::from_static(b"hello"), "text/plain").await, "put");
    let (body, meta) = ok(b.get(&key).await, "get").expect("get returns a stored object");
    assert_eq!(body, Bytes::from_static(b"hello"), "get returns the stored body");
    let want = BlobMeta { size: 5, content_type: Some("text/plain".into()) };
    assert_eq!(meta, want, "get returns size and content type");
    assert_eq!(ok(b.head(&key).await, "head"), Some(want), "head returns size and content type");

    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    ok(b.put(&key, Bytes::from(binary.clone()), "application/octet-stream").await, "overwrite");
    let (body, meta) = ok(b.get(&key).await, "get overwritten").expect("the overwritten object exists");
    assert_eq!(body.as_ref(), binary.as_slice(), "put overwrites, binary bodies round-trip");
    assert_eq!(meta.content_type.as_deref(), Some("application/octet-stream"), "put replaces the content type");
    assert_eq!(meta.size, binary.len() as u64, "the size follows the new body");

    let empty = format!("{root}/objects/empty");
    ok(b.put(&empty, Bytes::new(), "text/plain").await, "put an empty object");
    let (body, meta) = ok(b.get(&empty).await, "get empty").expect("an empty object exists");
    assert!(body.is_empty() && meta.size == 0, "an empty object round-trips");

    ok(b.delete(&key).await, "delete");
    assert_eq!(ok(b.get(&key).await, "get deleted"), None, "a deleted object reads as None");
    assert_eq!(ok(b.head(&key).await, "head deleted"), None, "head of a deleted object is None");
    ok(b.delete(&key).await, "delete a missing object succeeds");
    let missing = format!("{root}/objects/never");
    assert_eq!(ok(b.get(&missing).await, "get missing"), None, "a missing object reads as None");
}

async fn listing(b: &dyn BlobStore, root: &str) {
    let dir = format!("{root}/list");
    // Byte order of whole keys: '-' < '.' < '/' < digits < letters.
    let names = ["c", "b/2", "b-x", "a.txt", "b/1", "a-b", "b/sub/deep", "B"];
    for name in names {
        ok(b.put(&format!("{dir}/{name}"), Bytes::from_static(b"x"), "text/plain").await, "put a listed object");
    }
    let mut want: Vec<String> = names.iter().map(|n| format!("{dir}/{n}")).collect();
    want.sort();
    assert_eq!(
        ok(b.list(&format!("{dir}/")).await, "list"),
        want,
        "list returns every key under the prefix, in byte order"
    );
    let sub = ok(b.list(&format!("{dir}/b/")).await, "list b/");
    assert_eq!(sub, [format!("{dir}/b/1"), format!("{dir}/b/2"), format!("{dir}/b/sub/deep")], "list is recursive");
    assert!(ok(b.list(&format!("{root}/nothing/")).await, "list empty").is_empty(), "an empty prefix lists nothing");
    ok(b.delete(&format!("{dir}/b/1")).await, "delete a listed object");
    let after = ok(b.list(&format!("{dir}/b/")).await, "list after delete");
    assert_eq!(after, [format!("{dir}/b/2"), format!("{dir}/b/sub/deep")], "list forgets deleted objects");
}

async fn invalid_keys(b: &dyn BlobStore, root: &str) {
    for bad in ["", "/abs", "a//b", "../x", &format!("{root}/../x"), "sp ace", "é"] {
        assert_invalid(b.put(bad, Bytes::from_static(b"x"), "text/plain").await, &format!("put {bad:?}"));
        assert_invalid(b.get(bad).await, &format!("get {bad:?}"));
        assert_invalid(b.head(bad).await, &format!("head {bad:?}"));
        assert_invalid(b.delete(bad).await, &format!("delete {bad:?}"));
        let ttl = Duration::from_secs(60);
        assert_invalid(b.presign_get(bad, ttl, None).await, &format!("presign_get {bad:?}"));
        assert_invalid(b.presign_put(bad, "text/plain", ttl).await, &format!("presign_put {bad:?}"));
    }
    assert_invalid(b.list("../").await, "list ../");
    let key = format!("{root}/ttl");
    assert_invalid(b.presign_get(&key, Duration::ZERO, None).await, "presign with a zero ttl");
    let too_long = MAX_PRESIGN_TTL + Duration::from_secs(1);
    assert_invalid(b.presign_put(&key, "text/plain", too_long).await, "presign beyond MAX_PRESIGN_TTL");
}

async fn presigned<F, Fut>(b: &dyn BlobStore, clock: &dyn Clock, fetch: &F, root: &str)
where
    F: Fn(Presigned, Option<Bytes>) -> Fut,
    Fut: Future<Output = (u16, Bytes)>,
{
    let key = format!("{root}/presigned/report.txt");
    let body = Bytes::from("Chuyện gì xảy ra nếu…".as_bytes());
    ok(b.put(&key, body.clone(), "text/plain; charset=utf-8").await, "put the object to share");
    let ttl = Duration::from_secs(300);

    let before = clock.now();
    let get = ok(b.presign_get(&key, ttl, None).await, "presign_get");
    let after = clock.now();
    assert_eq!(get.method, "GET", "presign_get makes a GET");
    assert!(
        get.expires_at >= before + ttl - Duration::from_secs(1)
            && get.expires_at <= after + ttl + Duration::from_secs(1),
        "expires_at is now + ttl (got {}, now {before})",
        get.expires_at
    );
    let (status, got) = fetch(get.clone(), None).await;
    assert_eq!(status, 200, "a presigned GET is served");
    assert_eq!(got, body, "a presigned GET returns the object");

    let named = ok(b.presign_get(&key, ttl, Some("Báo cáo tháng 11.txt")).await, "presign_get with a download name");
    let (status, got) = fetch(named, None).await;
    assert_eq!((status, got), (200, body.clone()), "a presigned GET with a download name is served");
    assert_invalid(b.presign_get(&key, ttl, Some("a\"b")).await, "a download name with a quote");

    let upload = format!("{root}/presigned/upload.png");
    let put = ok(b.presign_put(&upload, "image/png", ttl).await, "presign_put");
    assert_eq!(put.method, "PUT", "presign_put makes a PUT");
    let content_type =
        put.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.as_str());
    assert_eq!(content_type, Some("image/png"), "a presigned PUT tells the client its Content-Type");

    let png = Bytes::from_static(b"\x89PNG\r\n\x1a\nnot really");
    let (status, _) = fetch(put, Some(png.clone())).await;
    assert!((200..300).contains(&status), "a presigned PUT is accepted (status {status})");
    let (stored, meta) = ok(b.get(&upload).await, "get the upload").expect("the presigned PUT stored the object");
    assert_eq!(stored, png, "a presigned PUT stores the body");
    assert_eq!(meta.content_type.as_deref(), Some("image/png"), "a presigned PUT stores the signed content type");
}

/// Presigned PUTs with a maximum size and a declared length.
async fn limited<F, Fut>(b: &dyn BlobStore, enforces: Enforces, fetch: &F, root: &str)
where
    F: Fn(Presigned, Option<Bytes>) -> Fut,
    Fut: Future<Output = (u16, Bytes)>,
{
    let ttl = Duration::from_secs(300);
    let bytes = |n: usize| Bytes::from(vec![b'x'; n]);
    let header = |p: &Presigned, name: &str| {
        p.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    };
    let without_length = |p: Presigned| Presigned {
        headers: p.headers.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("content-length")).collect(),
        ..p
    };
    let key = format!("{root}/limited/any.txt");
    for bad in [PutLimits::at_most(10, Some(11)), PutLimits::at_most(0, None)] {
        assert_invalid(b.presign_put_limited(&key, "text/plain", ttl, bad).await, &format!("presign with {bad:?}"));
    }

    // A declared length: the client is told to send it, and that body is stored.
    let exact = format!("{root}/limited/exact.txt");
    let put = ok(b.presign_put_limited(&exact, "text/plain", ttl, PutLimits::at_most(16, Some(10))).await, "presign");
    assert_eq!(header(&put, "content-type").as_deref(), Some("text/plain"), "the signed Content-Type is listed");
    assert_eq!(header(&put, "content-length").as_deref(), Some("10"), "the signed Content-Length is listed");
    let (status, _) = fetch(put.clone(), Some(bytes(10))).await;
    assert!((200..300).contains(&status), "a body of the declared length is accepted (status {status})");
    assert_eq!(ok(b.head(&exact).await, "head").map(|m| m.size), Some(10), "and stored");
    if enforces.signatures {
        // A browser sets Content-Length itself, from the body it sends.
        for n in [9, 11] {
            let other = format!("{root}/limited/other-{n}.txt");
            let put =
                ok(b.presign_put_limited(&other, "text/plain", ttl, PutLimits::at_most(16, Some(10))).await, "presign");
            let (status, _) = fetch(without_length(put), Some(bytes(n))).await;
            assert_eq!(status, 403, "a body of {n} bytes, not the signed 10, is refused");
            assert_eq!(ok(b.head(&other).await, "head"), None, "a refused upload stores nothing");
        }
    }

    // A maximum without a declared length.
    let at_most = format!("{root}/limited/at-most.txt");
    let put = ok(b.presign_put_limited(&at_most, "text/plain", ttl, PutLimits::at_most(16, None)).await, "presign");
    assert_eq!(header(&put, "content-length"), None, "no length is asked for");
    let (status, _) = fetch(put.clone(), Some(bytes(16))).await;
    assert!((200..300).contains(&status), "a body of the maximum is accepted (status {status})");
    assert_eq!(ok(b.head(&at_most).await, "head").map(|m| m.size), Some(16), "and stored");
    if enforces.max_bytes {
        let over = format!("{root}/limited/over.txt");
        let put = ok(b.presign_put_limited(&over, "text/plain", ttl, PutLimits::at_most(16, None)).await, "presign");
        let (status, _) = fetch(put, Some(bytes(17))).await;
        assert_eq!(status, 413, "a body over the signed maximum is refused");
        assert_eq!(ok(b.head(&over).await, "head"), None, "a refused upload stores nothing");
    }
}

async fn tampered<F, Fut>(b: &dyn BlobStore, fetch: &F, root: &str)
where
    F: Fn(Presigned, Option<Bytes>) -> Fut,
    Fut: Future<Output = (u16, Bytes)>,
{
    let key = format!("{root}/tampered/secret.txt");
    ok(b.put(&key, Bytes::from_static(b"private"), "text/plain").await, "put the private object");
    let ttl = Duration::from_secs(300);
    let get = ok(b.presign_get(&key, ttl, None).await, "presign_get");
    let (status, body) = fetch(Presigned { url: tamper(&get.url), ..get }, None).await;
    assert_eq!(status, 403, "a presigned GET with a changed signature is refused");
    assert_ne!(body.as_ref(), b"private", "a refused GET does not leak the object");

    let upload = format!("{root}/tampered/upload.png");
    let put = ok(b.presign_put(&upload, "image/png", ttl).await, "presign_put");
    let (status, _) = fetch(Presigned { url: tamper(&put.url), ..put }, Some(Bytes::from_static(b"png"))).await;
    assert_eq!(status, 403, "a presigned PUT with a changed signature is refused");
    assert_eq!(ok(b.head(&upload).await, "head after the refused put"), None, "a refused upload stores nothing");
}

/// The URL with one character of its signature changed.
fn tamper(url: &str) -> String {
    let at = url
        .to_ascii_lowercase()
        .find("signature=")
        .map(|i| i + "signature=".len())
        .filter(|&i| i < url.len())
        .unwrap_or_else(|| panic!("a presigned URL carries a signature parameter: {url}"));
    let mut bytes = url.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'a' { b'b' } else { b'a' };
    String::from_utf8(bytes).unwrap_or_else(|_| panic!("presigned URLs are ASCII: {url}"))
}
