//! The context a function builds once per cold start (or the local server once
//! at start) and hands to every handler: configuration and the ports.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::Arc;

use crate::access::{CheckedBlobs, CheckedMailer, CheckedQueue, CheckedSecrets, CheckedSpeech, CheckedTable, Grant};
use crate::accounts::signing::Signer;
use crate::adapters::aws;
use crate::adapters::local::{EspeakSpeech, FileSecrets, LocalBlobs, LocalQueue, LocalStore, LocalTable, OutboxMailer};
use crate::clock::{Clock, IdGen, SystemClock, UlidGen};
use crate::config::{AwsResources, Backend, Config};
use crate::metering::Metered;
use crate::ports::secrets::CachedSecrets;
use crate::ports::{BlobStore, ItemTable, JobQueue, Mailer, SecretStore, SpeechSynthesizer, StoreError};
use crate::routes::Access;
use crate::tokens::TokenVerifier;

pub struct AppContext {
    pub config: Config,
    pub table: Arc<dyn ItemTable>,
    pub blobs: Arc<dyn BlobStore>,
    pub secrets: Arc<dyn SecretStore>,
    pub queue: Arc<dyn JobQueue>,
    pub mailer: Arc<dyn Mailer>,
    /// Speech synthesis: Polly in AWS, espeak-ng on the embedded backend.
    pub speech: Arc<dyn SpeechSynthesizer>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGen>,
    /// Verifies access tokens and admits their callers.
    pub auth: Arc<TokenVerifier>,
    /// Signs access tokens; loads the private key set on first use, so only
    /// the functions that issue tokens (and may read the secret) touch it.
    pub signer: Arc<Signer>,
    /// Verifies OpenID Connect ID tokens; built on first use (its HTTP client
    /// is not needed at cold start by the functions that never use it).
    /// Shared with the contexts [`AppContext::for_function`] makes.
    oidc: Arc<std::sync::OnceLock<crate::oidc::OidcVerifier>>,
    /// Services' own state built once per context (e.g. the generation
    /// engine), by type; see [`AppContext::extension`]. Shared with the
    /// contexts [`AppContext::for_function`] makes.
    extensions: Arc<Extensions>,
    /// The unchecked ports and the checked contexts made from them; see
    /// [`AppContext::for_function`].
    scope: Scope,
    /// Set on the embedded backend: the local server serves its signed URLs.
    pub local_blobs: Option<Arc<LocalBlobs>>,
    /// Set on the embedded backend: flushed on shutdown.
    pub local_store: Option<Arc<LocalStore>>,
}

/// State by type; see [`AppContext::extension`].
#[derive(Default)]
struct Extensions(std::sync::Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>);

/// The ports as the adapters made them, before any access check.
#[derive(Clone)]
struct Ports {
    table: Arc<dyn ItemTable>,
    blobs: Arc<dyn BlobStore>,
    secrets: Arc<dyn SecretStore>,
    queue: Arc<dyn JobQueue>,
    mailer: Arc<dyn Mailer>,
    speech: Arc<dyn SpeechSynthesizer>,
}

/// What [`AppContext::for_function`] needs: on a checked context, the
/// function it is checked for and the unchecked ports under its own (an
/// unchecked context's are its public fields); on any context, the checked
/// contexts made from it, by function (a checked context never holds the one
/// it was made from, so there is no cycle).
#[derive(Default)]
struct Scope {
    checked_for: Option<(Grant, Ports)>,
    made: std::sync::Mutex<HashMap<&'static str, Arc<AppContext>>>,
}

#[derive(Debug, thiserror::Error)]
#[error("could not start: {0}")]
pub struct StartError(pub String);

impl From<StoreError> for StartError {
    fn from(e: StoreError) -> Self {
        StartError(e.to_string())
    }
}

/// How long a secret read is kept, in AWS and on the embedded backend alike.
const SECRETS_KEPT: std::time::Duration = std::time::Duration::from_secs(300);

/// `secrets` with what they read kept for [`SECRETS_KEPT`].
fn cached(secrets: Arc<dyn SecretStore>, clock: &Arc<dyn Clock>) -> Arc<dyn SecretStore> {
    Arc::new(CachedSecrets::new(secrets, SECRETS_KEPT, clock.clone()))
}

/// The secret that signs the embedded blob store's URLs.
const LOCAL_BLOB_KEY: &str = "local-blob-url-key";

impl AppContext {
    /// Builds the context for `config` with the system clock and ULIDs.
    pub async fn connect(config: Config) -> Result<Arc<Self>, StartError> {
        Self::connect_with(config, Arc::new(SystemClock), Arc::new(UlidGen::default())).await
    }

    pub async fn connect_with(
        config: Config,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Result<Arc<Self>, StartError> {
        match config.backend.clone() {
            Backend::Embedded { data_dir } => Self::embedded(config, &data_dir, clock, ids).await,
            Backend::Aws(resources) => Ok(Self::aws(config, &resources, clock, ids).await),
        }
    }

    async fn embedded(
        config: Config,
        data_dir: &std::path::Path,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Result<Arc<Self>, StartError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StartError(format!("cannot create the data folder {}: {e}", data_dir.display())))?;
        let env: HashMap<String, String> = std::env::vars().collect();
        let secrets = cached(
            Arc::new(Metered::<dyn SecretStore>::new(Arc::new(FileSecrets::new(data_dir.join("secrets"), &env)?))),
            &clock,
        );
        let blob_key = match secrets.get(LOCAL_BLOB_KEY).await? {
            Some(key) => key,
            None => {
                let key = crate::tokens::random_token(32);
                secrets.put(LOCAL_BLOB_KEY, &key).await?;
                key
            }
        };
        let store = LocalStore::open(&data_dir.join("whatif.redb"))?;
        let table: Arc<dyn ItemTable> =
            Arc::new(Metered::<dyn ItemTable>::new(Arc::new(LocalTable::new(store.clone(), clock.clone()))));
        let local_blobs = Arc::new(LocalBlobs::new(
            &data_dir.join("blobs"),
            &config.public_url,
            blob_key.into_bytes(),
            clock.clone(),
        )?);
        let queue: Arc<dyn JobQueue> = Arc::new(Metered::<dyn JobQueue>::new(Arc::new(LocalQueue::new(
            store.clone(),
            clock.clone(),
            ids.clone(),
            config.queue_max_receives,
        ))));
        let mailer: Arc<dyn Mailer> = Arc::new(Metered::<dyn Mailer>::new(Arc::new(OutboxMailer::new(
            data_dir.join("outbox"),
            "noreply@whatif.local".into(),
            clock.clone(),
            ids.clone(),
        )?)));
        // The access-token signing keys: made on the first start, kept in the data folder.
        crate::accounts::signing::ensure(&*secrets, &*table, &*clock)
            .await
            .map_err(|e| StartError(format!("cannot set up the signing keys: {}", e.message)))?;
        let auth = Arc::new(TokenVerifier::new(table.clone(), clock.clone()));
        let signer = Arc::new(Signer::new(secrets.clone(), table.clone()));
        Ok(Arc::new(Self {
            config,
            table,
            blobs: Arc::new(Metered::<dyn BlobStore>::new(local_blobs.clone())),
            secrets,
            queue,
            mailer,
            speech: Arc::new(Metered::<dyn SpeechSynthesizer>::new(Arc::new(EspeakSpeech::new()))),
            clock,
            ids,
            auth,
            signer,
            oidc: Default::default(),
            extensions: Default::default(),
            scope: Scope::default(),
            local_blobs: Some(local_blobs),
            local_store: Some(store),
        }))
    }

    /// Builds the SDK clients; this makes no network call (cold start stays small).
    async fn aws(config: Config, res: &AwsResources, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Arc<Self> {
        let sdk = aws_config::load_from_env().await;
        let table: Arc<dyn ItemTable> = Arc::new(Metered::<dyn ItemTable>::new(Arc::new(aws::DynamoTable::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            res.table.clone(),
            clock.clone(),
        ))));
        // Every client but the table's is made on first use (most functions reach the table alone).
        let path_style = res.s3_path_style;
        let s3 = aws::Lazy::new({
            let sdk = sdk.clone();
            move || aws::s3_client(&sdk, path_style)
        });
        let blobs: Arc<dyn BlobStore> =
            Arc::new(Metered::<dyn BlobStore>::new(Arc::new(aws::S3Blobs::new(s3, res.bucket.clone(), clock.clone()))));
        let secrets_manager = aws::Lazy::of(&sdk, aws_sdk_secretsmanager::Client::new);
        let secrets = cached(
            Arc::new(Metered::<dyn SecretStore>::new(Arc::new(aws::AwsSecrets::new(
                secrets_manager,
                res.secrets_prefix.clone(),
            )))),
            &clock,
        );
        let sqs = aws::Lazy::of(&sdk, aws_sdk_sqs::Client::new);
        let queue: Arc<dyn JobQueue> = Arc::new(Metered::<dyn JobQueue>::new(Arc::new(aws::SqsQueue::new(
            sqs,
            res.queue_url.clone(),
            res.dlq_url.clone(),
        ))));
        let ses = aws::Lazy::of(&sdk, aws_sdk_sesv2::Client::new);
        let mailer: Arc<dyn Mailer> =
            Arc::new(Metered::<dyn Mailer>::new(Arc::new(aws::SesMailer::new(ses, res.mail_from.clone()))));
        let auth = Arc::new(TokenVerifier::new(table.clone(), clock.clone()));
        let signer = Arc::new(Signer::new(secrets.clone(), table.clone()));
        Arc::new(Self {
            config,
            table,
            blobs,
            secrets,
            queue,
            mailer,
            speech: Arc::new(Metered::<dyn SpeechSynthesizer>::new(Arc::new(aws::PollySpeech::new(aws::Lazy::of(
                &sdk,
                aws_sdk_polly::Client::new,
            ))))),
            clock,
            ids,
            auth,
            signer,
            oidc: Default::default(),
            extensions: Default::default(),
            scope: Scope::default(),
            local_blobs: None,
            local_store: None,
        })
    }

    /// This context for one function: the same adapters, clock, ids,
    /// authenticator, extensions and OIDC verifier, but ports that refuse
    /// (with [`StoreError::AccessDenied`]) whatever `access` (the function's
    /// row) does not grant, as its IAM policy would in AWS (see
    /// `crate::access`). The signer reads the `signing-keys` secret through
    /// the checked store, so a function that issues tokens needs
    /// `SecretRead` of it in its row.
    ///
    /// Made once per function and kept in this context; called on a checked
    /// context, it checks against `access` alone (never both rows).
    pub fn for_function(self: &Arc<Self>, function: &'static str, access: &'static [Access]) -> Arc<AppContext> {
        if let Some((grant, _)) = &self.scope.checked_for
            && grant.function == function
            && grant.access == access
        {
            return self.clone();
        }
        let mut made = self.scope.made.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ctx) = made.get(function)
            && ctx.scope.checked_for.as_ref().is_some_and(|(g, _)| g.access == access)
        {
            return ctx.clone();
        }
        let ctx = Arc::new(self.checked(Grant::new(function, access)));
        made.insert(function, ctx.clone());
        ctx
    }

    fn checked(&self, grant: Grant) -> AppContext {
        let raw = match &self.scope.checked_for {
            Some((_, unchecked)) => unchecked.clone(),
            None => Ports {
                table: self.table.clone(),
                blobs: self.blobs.clone(),
                secrets: self.secrets.clone(),
                queue: self.queue.clone(),
                mailer: self.mailer.clone(),
                speech: self.speech.clone(),
            },
        };
        let table: Arc<dyn ItemTable> = Arc::new(CheckedTable::new(raw.table.clone(), grant));
        let secrets: Arc<dyn SecretStore> = Arc::new(CheckedSecrets::new(raw.secrets.clone(), grant));
        AppContext {
            config: self.config.clone(),
            signer: Arc::new(Signer::new(secrets.clone(), table.clone())),
            table,
            blobs: Arc::new(CheckedBlobs::new(raw.blobs.clone(), grant)),
            secrets,
            queue: Arc::new(CheckedQueue::new(raw.queue.clone(), grant)),
            mailer: Arc::new(CheckedMailer::new(raw.mailer.clone(), grant)),
            speech: Arc::new(CheckedSpeech::new(raw.speech.clone(), grant)),
            clock: self.clock.clone(),
            ids: self.ids.clone(),
            auth: self.auth.clone(),
            oidc: self.oidc.clone(),
            extensions: self.extensions.clone(),
            scope: Scope { checked_for: Some((grant, raw)), made: Default::default() },
            local_blobs: self.local_blobs.clone(),
            local_store: self.local_store.clone(),
        }
    }

    /// The function this context's ports are checked for (None: unchecked).
    pub fn function(&self) -> Option<&'static str> {
        self.scope.checked_for.as_ref().map(|(g, _)| g.function)
    }

    pub fn oidc(&self) -> &crate::oidc::OidcVerifier {
        self.oidc.get_or_init(|| crate::oidc::OidcVerifier::new(self.config.oidc.clone(), self.clock.clone()))
    }

    /// The `T` this context holds, if one was set.
    pub fn extension<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let map = self.extensions.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&TypeId::of::<T>()).cloned().and_then(|v| v.downcast::<T>().ok())
    }

    /// Sets (or replaces) the `T` this context holds. A service builds its
    /// state once (at start, or on first use) and every handler of that
    /// context then shares it.
    pub fn set_extension<T: Any + Send + Sync>(&self, value: Arc<T>) {
        self.extensions.0.lock().unwrap_or_else(|e| e.into_inner()).insert(TypeId::of::<T>(), value);
    }

    /// Makes the embedded store durable now (no-op on AWS).
    pub fn flush(&self) {
        if let Some(store) = &self.local_store
            && let Err(e) = store.flush()
        {
            tracing::error!(error = %e, "flushing the embedded store failed");
        }
    }
}
