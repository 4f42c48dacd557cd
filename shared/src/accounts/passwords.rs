//! Argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane). Unknown
//! accounts are checked against a dummy hash, so a login takes the same
//! time whether or not the email exists.
//!
//! Hashing runs on a few threads of its own, one per CPU, not on the blocking
//! pool, and each thread keeps its 19 MiB of Argon2 memory between hashes: a
//! burst of sign-ins queues for them instead of taking a thread and a fresh
//! block per request, so a long-running process stays small.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;

use crate::error::{ApiError, ApiResult};

fn hasher() -> Argon2<'static> {
    // 19 MiB, t = 2, p = 1: OWASP's first recommended configuration.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

thread_local! {
    /// This thread's Argon2 memory, kept between hashes.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Runs `argon2` over `password` and `salt` into `out`, in this thread's memory.
fn argon2_into(argon2: &Argon2, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<(), argon2::Error> {
    MEMORY.with_borrow_mut(|blocks| {
        let needed = argon2.params().block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
    })
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
fn hash_now(password: &str, salt: &SaltString) -> Result<String, argon2::password_hash::Error> {
    let argon2 = hasher();
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, password.as_bytes(), salt_raw, &mut out)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, with the parameters
/// it names; false when it does not read.
fn matches_now(password: &str, stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else { return false };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return false };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    // `Output`'s comparison takes the same time wherever the bytes differ.
    argon2_into(&argon2, password.as_bytes(), salt_raw, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == expected)
}

type Task = Box<dyn FnOnce() + Send>;

/// Runs `work` on the hashing threads (started on first use) and waits for it.
async fn on_hashing_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
    static QUEUE: OnceLock<mpsc::Sender<Task>> = OnceLock::new();
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
        sender
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let task: Task = Box::new(move || {
        let _ = done.send(work());
    });
    queue.send(task).map_err(|_| ApiError::internal("no password-hashing thread is running"))?;
    result.await.map_err(|_| ApiError::internal("a password-hashing task failed"))
}

/// Hashes on a hashing thread (it takes tens of milliseconds on purpose).
pub async fn hash(password: &str) -> ApiResult<String> {
    let password = password.to_string();
    on_hashing_thread(move || hash_now(&password, &new_salt())).await?.map_err(ApiError::internal)
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
    let matched = on_hashing_thread(move || matches_now(&password, &stored)).await?;
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
    DUMMY.get_or_init(|| hash_now("no account has this password", &new_salt()).unwrap_or_default())
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

    #[test]
    fn hashes_agree_with_the_argon2_crates_own_hashing_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash_now("correct horse 1", &new_salt()).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher().verify_password(b"correct horse 1", &parsed).is_ok(), "the crate verifies ours");
        assert!(hasher().verify_password(b"correct horse 2", &parsed).is_err());
        let theirs = hasher().hash_password(b"correct horse 1", &new_salt()).unwrap().to_string();
        assert!(matches_now("correct horse 1", &theirs), "we verify the crate's");
        assert!(!matches_now("correct horse 2", &theirs));
        // Other parameters (an older or a future setting) verify with their own.
        let light = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap());
        let older = light.hash_password(b"correct horse 1", &new_salt()).unwrap().to_string();
        assert!(matches_now("correct horse 1", &older) && !matches_now("correct horse 3", &older));
        for garbage in
            ["", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$", "$bcrypt$whatever", &ours[..ours.len() - 4]]
        {
            assert!(!matches_now("correct horse 1", garbage), "{garbage:?}");
        }
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
