//! Typed configuration, read once at start from the environment. A missing
//! or bad variable stops the start with a message that names it.
//!
//! Every variable is listed in `docs/configuration.md`.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::ratelimit::RateLimits;

pub mod billing;

/// The names of the secrets, after the stage's secrets prefix: the one
/// definition the code, the SAM template and the CDK app (`cdk/constants.json`) use.
pub mod secrets {
    /// The access-token signing keys (`crate::accounts::signing`); readable
    /// only by the functions that issue tokens.
    pub const SIGNING_KEYS: &str = "signing-keys";
    /// The model providers' keys (`WHATIF_MODEL_KEYS_SECRET` in the templates).
    pub const MODEL_KEYS: &str = "model-keys";
    /// Stripe's keys, a JSON object `{"secretKey": "sk_...", "webhookSecrets":
    /// ["whsec_...", ...]}` (more than one signing secret while rotating);
    /// readable only by the billing functions.
    pub const STRIPE: &str = "stripe";
}

/// The CORS header lists: what the local server answers preflights and
/// responses with, and what the SAM template's and the CDK app's HTTP API
/// (`cdk/constants.json`) allow.
pub mod cors {
    /// Headers a browser may send cross-origin.
    pub const ALLOW_HEADERS: &[&str] =
        &["Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id", "X-Share-Password", "If-Match"];

    /// Response headers a browser script may read.
    pub const EXPOSE_HEADERS: &[&str] = &[
        "X-Request-Id",
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
        "Idempotent-Replayed",
    ];
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub backend: Backend,
    /// Where the local server listens (`HOST`, `PORT`).
    pub host: String,
    pub port: u16,
    /// Origins allowed by CORS (exact match). Never `*`: we send credentials.
    pub cors_origins: Vec<String>,
    /// The largest request body a route takes unless it says otherwise.
    pub max_body_bytes: usize,
    /// The web front end, for links in emails and shares.
    pub frontend_url: String,
    /// Where this API answers, for links to itself (local blob URLs, QR codes).
    pub public_url: String,
    /// The web client's page of a share, with `{shareUrl}` where the share's id
    /// goes: where a share's public page sends people (`WHATIF_SHARE_PAGE`).
    pub share_page: String,
    pub rate_limits: RateLimits,
    /// Receives of one job message before it goes to the dead-letter queue.
    pub queue_max_receives: u32,
    /// How long a received job stays hidden from other workers; a running job
    /// renews it every third of this (`WHATIF_JOB_VISIBILITY_SECS`, default 60).
    pub job_visibility_secs: u32,
    /// Exports up to this size are answered inline; larger ones through the
    /// blob store (`WHATIF_EXPORT_INLINE_MAX_BYTES`, default 1 MiB).
    pub export_inline_max_bytes: usize,
    pub log_json: bool,
    /// Answer every request with its cost (`X-Whatif-Cost`, see
    /// `crate::metering`): for the benchmark and the tests, off by default.
    pub cost_header: bool,
    /// OpenID Connect providers for `POST /api/auth/oauth/{provider}`.
    pub oidc: crate::oidc::OidcProviders,
    /// Credit prices, allowances, packs, Stripe (`config/billing.rs`).
    pub billing: billing::BillingConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Backend {
    /// Everything on local disk under `data_dir`.
    Embedded { data_dir: PathBuf },
    /// DynamoDB, S3, SQS, SES, Secrets Manager (or emulators, through `AWS_ENDPOINT_URL*`).
    Aws(AwsResources),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AwsResources {
    pub table: String,
    pub bucket: String,
    pub queue_url: String,
    pub dlq_url: Option<String>,
    pub mail_from: String,
    /// Prepended to secret names (e.g. `whatif/prod/`).
    pub secrets_prefix: String,
    /// Path-style S3 URLs, needed by emulators on an IP address.
    pub s3_path_style: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
}

pub const DEFAULT_PORT: u16 = 3000;

impl Config {
    pub fn from_process_env() -> Result<Self, ConfigError> {
        Self::from_env(&std::env::vars().collect())
    }

    /// Reads the configuration from `env` (the process environment in production,
    /// a map in tests).
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let required = |name: &'static str| var(name).map(str::to_string).ok_or(ConfigError::Missing(name));

        let in_lambda = var("AWS_LAMBDA_FUNCTION_NAME").is_some();
        let use_aws = match var("WHATIF_BACKEND") {
            Some("aws") => true,
            Some("embedded") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "WHATIF_BACKEND",
                    reason: format!("{other:?} is not one of aws, embedded"),
                });
            }
            // In Lambda, or pointed at AWS endpoints (emulators), the AWS adapters are the default.
            None => in_lambda || var("AWS_ENDPOINT_URL").is_some(),
        };
        let backend = if use_aws {
            Backend::Aws(AwsResources {
                table: required("WHATIF_TABLE_NAME")?,
                bucket: required("WHATIF_BUCKET_NAME")?,
                queue_url: url("WHATIF_QUEUE_URL", &required("WHATIF_QUEUE_URL")?)?,
                dlq_url: var("WHATIF_DLQ_URL").map(|v| url("WHATIF_DLQ_URL", v)).transpose()?,
                mail_from: email("WHATIF_MAIL_FROM", &required("WHATIF_MAIL_FROM")?)?,
                secrets_prefix: var("WHATIF_SECRETS_PREFIX").unwrap_or("whatif/").to_string(),
                s3_path_style: flag(env, "WHATIF_S3_PATH_STYLE", var("AWS_ENDPOINT_URL").is_some())?,
            })
        } else {
            Backend::Embedded { data_dir: PathBuf::from(var("WHATIF_DATA_DIR").unwrap_or(".whatif")) }
        };

        let port: u16 = parse(env, "PORT", DEFAULT_PORT)?;
        let host = var("HOST").unwrap_or("127.0.0.1");
        let public_url = match var("WHATIF_PUBLIC_URL") {
            Some(v) => url("WHATIF_PUBLIC_URL", v)?,
            None => format!("http://{}:{port}", if host == "0.0.0.0" { "127.0.0.1" } else { host }),
        };
        let frontend_url = url("WHATIF_FRONTEND_URL", var("WHATIF_FRONTEND_URL").unwrap_or("http://localhost:3001"))?;
        // A static site cannot have a page per share id: by default the id
        // travels in the query of one page (`/shared` is the API's own path prefix).
        let share_page = match var("WHATIF_SHARE_PAGE") {
            Some(v) if v.starts_with('/') => format!("{}{v}", frontend_url.trim_end_matches('/')),
            Some(v) => url("WHATIF_SHARE_PAGE", v)?,
            None => format!("{}/shared?shareUrl={{shareUrl}}", frontend_url.trim_end_matches('/')),
        };
        if !share_page.contains("{shareUrl}") {
            return Err(ConfigError::Invalid {
                var: "WHATIF_SHARE_PAGE",
                reason: "must hold {shareUrl}, where the share's id goes".into(),
            });
        }
        let cors_origins = match var("WHATIF_CORS_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| origin("WHATIF_CORS_ORIGINS", o))
                .collect::<Result<Vec<_>, _>>()?,
            None => vec![frontend_url.clone(), "http://localhost:3000".into(), "http://localhost:3001".into()],
        };
        let rate_limits = match var("WHATIF_RATE_LIMITS") {
            Some(spec) => {
                RateLimits::parse(spec).map_err(|reason| ConfigError::Invalid { var: "WHATIF_RATE_LIMITS", reason })?
            }
            None => RateLimits::default(),
        };
        let max_body_bytes: usize = parse(env, "WHATIF_MAX_BODY_BYTES", 1024 * 1024)?;
        if !(1024..=6 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(ConfigError::Invalid {
                var: "WHATIF_MAX_BODY_BYTES",
                reason: "must be 1024..=6291456 (Lambda's payload limit)".into(),
            });
        }
        let queue_max_receives: u32 = parse(env, "WHATIF_QUEUE_MAX_RECEIVES", 5)?;
        if !(1..=1000).contains(&queue_max_receives) {
            return Err(ConfigError::Invalid { var: "WHATIF_QUEUE_MAX_RECEIVES", reason: "must be 1..=1000".into() });
        }
        let job_visibility_secs: u32 = parse(env, "WHATIF_JOB_VISIBILITY_SECS", 60)?;
        if !(1..=43_200).contains(&job_visibility_secs) {
            return Err(ConfigError::Invalid {
                var: "WHATIF_JOB_VISIBILITY_SECS",
                reason: "must be 1..=43200 (SQS's limit)".into(),
            });
        }
        let export_inline_max_bytes: usize = parse(env, "WHATIF_EXPORT_INLINE_MAX_BYTES", 1024 * 1024)?;
        if !(1024..=4 * 1024 * 1024).contains(&export_inline_max_bytes) {
            return Err(ConfigError::Invalid {
                var: "WHATIF_EXPORT_INLINE_MAX_BYTES",
                reason: "must be 1024..=4194304 (a response is at most 6 MB, and base64 adds a third)".into(),
            });
        }
        let log_json = match var("WHATIF_LOG_FORMAT") {
            Some("json") => true,
            Some("text") => false,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    var: "WHATIF_LOG_FORMAT",
                    reason: format!("{other:?} is not one of json, text"),
                });
            }
            None => true,
        };
        let cost_header = flag(env, "WHATIF_COST_HEADER", false)?;
        let oidc = crate::oidc::OidcProviders::from_env(env).map_err(|reason| {
            let var = if reason.contains("WHATIF_OIDC_GOOGLE_CLIENT_IDS") {
                "WHATIF_OIDC_GOOGLE_CLIENT_IDS"
            } else {
                "WHATIF_OIDC_PROVIDERS"
            };
            let reason = reason.split_once("is invalid: ").map_or(reason.clone(), |(_, r)| r.to_string());
            ConfigError::Invalid { var, reason }
        })?;
        let billing = billing::BillingConfig::from_env(env, &frontend_url)?;
        Ok(Config {
            backend,
            oidc,
            billing,
            host: host.to_string(),
            port,
            cors_origins,
            max_body_bytes,
            frontend_url,
            public_url,
            share_page,
            rate_limits,
            queue_max_receives,
            job_visibility_secs,
            export_inline_max_bytes,
            log_json,
            cost_header,
        })
    }

    /// The configuration of the embedded backend under `data_dir`, with defaults
    /// for everything else (tests and tools).
    pub fn embedded(data_dir: PathBuf) -> Self {
        let mut config = Self::from_env(&HashMap::new()).expect("the defaults are valid");
        config.backend = Backend::Embedded { data_dir };
        config
    }
}

fn parse<T: std::str::FromStr>(env: &HashMap<String, String>, var: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env.get(var).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid { var, reason: e.to_string() }),
    }
}

fn flag(env: &HashMap<String, String>, var: &'static str, default: bool) -> Result<bool, ConfigError> {
    match env.get(var).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes") => Ok(true),
        Some("0" | "false" | "no") => Ok(false),
        Some(other) => Err(ConfigError::Invalid { var, reason: format!("{other:?} is not true or false") }),
    }
}

fn url(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(value).map_err(|e| ConfigError::Invalid { var, reason: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
        return Err(ConfigError::Invalid { var, reason: "must be an http(s) URL".into() });
    }
    Ok(value.trim_end_matches('/').to_string())
}

fn origin(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let parsed = url(var, value)?;
    if value == "*" || url::Url::parse(&parsed).map(|u| u.path() != "/").unwrap_or(true) {
        return Err(ConfigError::Invalid { var, reason: format!("{value:?} is not an origin (scheme://host[:port])") });
    }
    Ok(parsed)
}

fn email(var: &'static str, value: &str) -> Result<String, ConfigError> {
    match value.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') => Ok(value.to_string()),
        _ => Err(ConfigError::Invalid { var, reason: "must be an email address".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_to_the_embedded_backend() {
        let config = Config::from_env(&env(&[])).unwrap();
        assert_eq!(config.backend, Backend::Embedded { data_dir: ".whatif".into() });
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert!(config.cors_origins.contains(&"http://localhost:3001".to_string()));
    }

    #[test]
    fn lambda_needs_its_resources_and_names_the_missing_one() {
        let err = Config::from_env(&env(&[("AWS_LAMBDA_FUNCTION_NAME", "health")])).unwrap_err();
        assert_eq!(err, ConfigError::Missing("WHATIF_TABLE_NAME"));
        assert!(err.to_string().contains("WHATIF_TABLE_NAME"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("PORT", "eighty"),
            ("WHATIF_BACKEND", "mongo"),
            ("WHATIF_CORS_ORIGINS", "*"),
            ("WHATIF_CORS_ORIGINS", "https://ok.example/path"),
            ("WHATIF_FRONTEND_URL", "ftp://x"),
            ("WHATIF_MAX_BODY_BYTES", "10"),
            ("WHATIF_RATE_LIMITS", "general=abc"),
        ] {
            let err = Config::from_env(&env(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains(var), "{var}={value}: {err}");
        }
    }

    #[test]
    fn aws_backend_reads_its_resources() {
        let config = Config::from_env(&env(&[
            ("WHATIF_BACKEND", "aws"),
            ("WHATIF_TABLE_NAME", "whatif"),
            ("WHATIF_BUCKET_NAME", "media"),
            ("WHATIF_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/1/jobs"),
            ("WHATIF_MAIL_FROM", "noreply@whatif.example"),
        ]))
        .unwrap();
        let Backend::Aws(aws) = config.backend else { panic!("expected aws") };
        assert_eq!(aws.table, "whatif");
        assert!(!aws.s3_path_style);
    }
}
