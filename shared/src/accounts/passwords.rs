//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). Unknown
//! accounts are checked against a dummy hash, so a login takes the same
//! time whether or not the email exists.
//!
//! Hashing runs on a few threads of its own, one per CPU, not on the blocking
//! pool: a burst of sign-ins queues for them instead of taking a thread (and
//! a 19 MiB block that the allocator keeps afterwards) per request, so a
//! long-running process stays small.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::error::{ApiError, ApiResult};

fn hasher() -> Argon2<'static> {
    // 19 MiB, t = 2, p = 1: OWASP's first recommended configuration.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

type Task = Box<dyn FnOnce() + Send>;

/// Runs `work` on the hashing threads (started on first use) and waits for it.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Task>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (sender, receiver) = mpsc::channel::<Task>();
        let receiver = Arc::new(Mutex::new(receiver));
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        for i in 0..threads {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new().name(format!("password-hash-{i}")).spawn(move || {
                loop {
                    // The lock is released before the task runs.
                    let next = receiver.lock().map_err(|_| ()).and_then(|r| r.recv().map_err(|_| ()));
                    let Ok(task) = next else { return };
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(task));
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password-hashing thread");
            }
        }
        Mutex::new(sender)
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let task: Task = Box::new(move || {
        let _ = done.send(work());
    });
    queue
        .lock()
        .map_err(|_| ApiError::internal("the password-hashing queue is poisoned"))?
        .send(task)
        .map_err(|_| ApiError::internal("no password-hashing thread is running"))?;
    result.await.map_err(|_| ApiError::internal("a password-hashing task failed"))
}

/// Hashes on a hashing thread (it takes tens of milliseconds on purpose).
pub async fn hash(password: &str) -> ApiResult<String> {
    let password = password.to_string();
    on_hashing_thread(move || {
        let salt = new_salt();
        hasher().hash_password(password.as_bytes(), &salt).map(|h| h.to_string())
    })
    .await?
    .map_err(ApiError::internal)
}

/// Checks `password` against `stored` (or, when there is no account, against a
/// dummy hash, so the time is the same). True only for a real match.
pub async fn verify(password: &str, stored: Option<&str>) -> ApiResult<bool> {
    let real = stored.is_some();
    let stored = match stored {
        Some(s) => s.to_string(),
        None => dummy_hash().to_string(),
    };
    let password = password.to_string();
    let matched = on_hashing_thread(move || match PasswordHash::new(&stored) {
        Ok(parsed) => hasher().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    })
    .await?;
    Ok(real && matched)
}

fn new_salt() -> SaltString {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    SaltString::encode_b64(&bytes)
        .unwrap_or_else(|_| SaltString::from_b64("c2FsdHNhbHRzYWx0c2FsdA").expect("a valid salt"))
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = new_salt();
        hasher().hash_password(b"no account has this password", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_are_argon2id() {
        let h = hash("correct horse 1").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse 1", Some(&h)).await.unwrap());
        assert!(!verify("wrong horse 1", Some(&h)).await.unwrap());
        assert!(!verify("correct horse 1", None).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_hashes_queues_on_the_hashing_threads_and_each_gets_its_own_answer() {
        let burst = (0..12).map(|i| {
            tokio::spawn(async move {
                let password = format!("password number {i}");
                let stored = hash(&password).await.unwrap();
                let mine = verify(&password, Some(&stored)).await.unwrap();
                let other = verify(&format!("password number {}", i + 1), Some(&stored)).await.unwrap();
                (mine, other)
            })
        });
        for answer in futures::future::join_all(burst).await {
            assert_eq!(answer.unwrap(), (true, false));
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let names: std::collections::HashSet<String> = futures::future::join_all(
            (0..8).map(|_| on_hashing_thread(|| std::thread::current().name().map(str::to_string))),
        )
        .await
        .into_iter()
        .map(|name| name.unwrap().unwrap_or_default())
        .collect();
        assert!(names.len() <= threads, "at most one hashing thread per CPU: {names:?}");
        assert!(names.iter().all(|n| n.starts_with("password-hash-")), "{names:?}");
    }
}
