//! AWS adapters: the ports on DynamoDB, S3, Secrets Manager, SQS, SES v2 and Polly.
//!
//! Every adapter maps SDK errors through [`sdk_error`], which keeps messages
//! short (service, error code, message) and never includes request contents.

mod dynamodb;
mod polly;
mod s3;
mod secrets;
mod ses;
mod sqs;

use std::error::Error;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub use dynamodb::{DynamoTable, create_table_if_missing};
pub use polly::{POLLY_MAX_TEXT_CHARS, POLLY_MAX_TOTAL_CHARS, POLLY_SAMPLE_RATE, PollySpeech, ssml};
pub use s3::{S3Blobs, create_bucket_if_missing, s3_client};
pub use secrets::AwsSecrets;
pub use ses::SesMailer;
pub use sqs::{SqsQueue, create_queues_if_missing};

use crate::ports::StoreError;

/// The SDK crates the adapters are built on, for callers that build clients
/// (the local server on emulators, the emulator tests) without depending on them.
pub mod sdk {
    pub use {
        aws_config, aws_sdk_dynamodb, aws_sdk_polly, aws_sdk_s3, aws_sdk_secretsmanager, aws_sdk_sesv2, aws_sdk_sqs,
    };
}

/// An SDK config for an emulator (DynamoDB Local, moto): region us-east-1,
/// static dummy credentials and `endpoint_url`; nothing is read from the environment.
pub fn emulator_config(endpoint_url: &str) -> SdkConfig {
    let credentials = Credentials::new("test", "test", None, None, "emulator");
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .endpoint_url(endpoint_url)
        .build()
}

/// The longest service message kept in an error.
const MAX_MESSAGE_CHARS: usize = 200;

/// The error code of a service error (None for transport failures).
/// An SDK client made on its first use, so a function builds only the
/// clients its calls reach (most read the table alone): less to do at
/// init, less memory. One made already (tests, tools) is taken as it is.
pub struct Lazy<C> {
    client: std::sync::OnceLock<C>,
    make: Option<Box<dyn Fn() -> C + Send + Sync>>,
}

impl<C> Lazy<C> {
    pub fn new(make: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self { client: std::sync::OnceLock::new(), make: Some(Box::new(make)) }
    }

    /// The client `make` builds from `sdk`, on first use.
    pub fn of(sdk: &SdkConfig, make: fn(&SdkConfig) -> C) -> Self
    where
        C: 'static,
    {
        let sdk = sdk.clone();
        Self::new(move || make(&sdk))
    }
}

impl<C> From<C> for Lazy<C> {
    fn from(client: C) -> Self {
        Self { client: std::sync::OnceLock::from(client), make: None }
    }
}

impl<C> std::ops::Deref for Lazy<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.client.get_or_init(|| match &self.make {
            Some(make) => make(),
            // `From` sets the client, and only `new` leaves it to be made.
            None => unreachable!("a lazy client without a maker is made already"),
        })
    }
}

pub(crate) fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(_) => err.code(),
        _ => None,
    }
}

/// A short description of an SDK failure: `service: code: message`.
pub(crate) fn describe<E, R>(service: &str, err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or("ServiceError");
            match err.message() {
                Some(message) if !message.is_empty() => format!("{service}: {code}: {}", truncate(message)),
                _ => format!("{service}: {code}"),
            }
        }
        SdkError::TimeoutError(_) => format!("{service}: timed out"),
        SdkError::DispatchFailure(_) => format!("{service}: request failed: {}", source_chain(err.source())),
        SdkError::ResponseError(_) => format!("{service}: unreadable response"),
        SdkError::ConstructionFailure(_) => {
            format!("{service}: could not build the request: {}", source_chain(err.source()))
        }
        _ => format!("{service}: request failed"),
    }
}

/// Maps any SDK failure to `Invalid` (validation errors) or `Unavailable`.
pub(crate) fn sdk_error<E, R>(service: &str, err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug,
{
    let message = describe(service, err);
    match error_code(err) {
        Some(code) if is_validation(code) => StoreError::Invalid(message),
        _ => StoreError::Unavailable(message),
    }
}

fn is_validation(code: &str) -> bool {
    matches!(
        code,
        "ValidationException"
            | "InvalidParameterValue"
            | "InvalidParameterValueException"
            | "InvalidParameterException"
            | "InvalidRequestException"
            | "InvalidArgument"
            | "KeyTooLongError"
            | "EntityTooLarge"
            | "MessageRejected"
            | "ReceiptHandleIsInvalid"
            | "InvalidParameterCombination"
            | "BadRequestException"
    )
}

/// The messages of an error's sources, joined and truncated.
fn source_chain(first: Option<&(dyn Error + 'static)>) -> String {
    let mut parts = Vec::new();
    let mut next = first;
    while let Some(e) = next {
        parts.push(e.to_string());
        next = e.source();
    }
    if parts.is_empty() { "unknown cause".to_string() } else { truncate(&parts.join(": ")) }
}

fn truncate(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_string();
    }
    let cut: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut() {
        let long = "x".repeat(500);
        assert_eq!(truncate(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
        assert_eq!(truncate("short"), "short");
    }
}
