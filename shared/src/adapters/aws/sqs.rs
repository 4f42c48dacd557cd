//! The job queue on SQS (`JobQueue`), plus `create_queues_if_missing`.
//!
//! SQS counts in whole seconds: visibility and wait are rounded up, the wait
//! is capped at 20 s. Dead letters are read from the DLQ with visibility 0,
//! so they stay there (each read counts as a receive in the DLQ).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};

use super::{describe, error_code, sdk_error};
use crate::ports::queue::{Delivery, JobQueue, MAX_MESSAGE_BYTES};
use crate::ports::{StoreError, StoreResult};

const SERVICE: &str = "sqs";
const MAX_WAIT: Duration = Duration::from_secs(20);
const MAX_DELAY: Duration = Duration::from_secs(900);
const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

pub struct SqsQueue {
    client: super::Lazy<Client>,
    queue_url: String,
    dlq_url: Option<String>,
}

impl SqsQueue {
    pub fn new(client: impl Into<super::Lazy<Client>>, queue_url: String, dlq_url: Option<String>) -> Self {
        Self { client: client.into(), queue_url, dlq_url }
    }

    async fn receive_from(
        &self,
        url: &str,
        max: u32,
        visibility: Duration,
        wait: Duration,
    ) -> StoreResult<Vec<Delivery>> {
        if !(1..=10).contains(&max) {
            return Err(StoreError::Invalid("receive takes 1..=10 messages".into()));
        }
        if visibility > MAX_VISIBILITY {
            return Err(StoreError::Invalid("visibility is at most 12 hours".into()));
        }
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max as i32)
            .visibility_timeout(seconds(visibility))
            .wait_time_seconds(seconds(wait.min(MAX_WAIT)))
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(out.messages().iter().filter_map(delivery).collect())
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    async fn send(&self, body: &str, delay: Duration) -> StoreResult<String> {
        if body.is_empty() || body.len() > MAX_MESSAGE_BYTES {
            return Err(StoreError::Invalid(format!("a message body is 1..={MAX_MESSAGE_BYTES} bytes")));
        }
        if delay > MAX_DELAY {
            return Err(StoreError::Invalid("delay is at most 15 minutes".into()));
        }
        let out = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(seconds(delay))
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        out.message_id()
            .map(str::to_string)
            .ok_or_else(|| StoreError::Unavailable(format!("{SERVICE}: no message id in the response")))
    }

    async fn receive(&self, max: u32, visibility: Duration, wait: Duration) -> StoreResult<Vec<Delivery>> {
        self.receive_from(&self.queue_url, max, visibility, wait).await
    }

    async fn delete(&self, receipt: &str) -> StoreResult<()> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(())
    }

    async fn extend(&self, receipt: &str, visibility: Duration) -> StoreResult<()> {
        if visibility > MAX_VISIBILITY {
            return Err(StoreError::Invalid("visibility is at most 12 hours".into()));
        }
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds(visibility))
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(())
    }

    async fn dead_letters(&self, max: u32) -> StoreResult<Vec<Delivery>> {
        match &self.dlq_url {
            Some(url) => self.receive_from(url, max.clamp(1, 10), Duration::ZERO, Duration::ZERO).await,
            None => Ok(Vec::new()),
        }
    }

    async fn check(&self) -> StoreResult<()> {
        self.client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| map_err(&e))?;
        Ok(())
    }
}

/// Creates `<name>-dlq` and `<name>` (redriving to the DLQ after `max_receives`
/// receives) unless they exist; returns `(queue_url, dlq_url)`.
pub async fn create_queues_if_missing(client: &Client, name: &str, max_receives: u32) -> StoreResult<(String, String)> {
    let dlq_url = create_queue(client, &format!("{name}-dlq"), None).await?;
    let attrs = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error(SERVICE, &e))?;
    let dlq_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .ok_or_else(|| StoreError::Unavailable(format!("{SERVICE}: the DLQ has no ARN")))?;
    let policy = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives.max(1) });
    let queue_url = create_queue(client, name, Some(policy.to_string())).await?;
    Ok((queue_url, dlq_url))
}

async fn create_queue(client: &Client, name: &str, redrive_policy: Option<String>) -> StoreResult<String> {
    let mut request = client.create_queue().queue_name(name);
    if let Some(policy) = redrive_policy {
        request = request.attributes(QueueAttributeName::RedrivePolicy, policy);
    }
    let out = request.send().await.map_err(|e| sdk_error(SERVICE, &e))?;
    out.queue_url().map(str::to_string).ok_or_else(|| StoreError::Unavailable(format!("{SERVICE}: no queue URL")))
}

fn delivery(message: &Message) -> Option<Delivery> {
    let receive_count = message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    Some(Delivery {
        message_id: message.message_id()?.to_string(),
        receipt: message.receipt_handle()?.to_string(),
        body: message.body().unwrap_or_default().to_string(),
        receive_count,
    })
}

/// Whole seconds, rounded up (SQS's granularity).
fn seconds(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

/// A stale or unknown receipt is the caller's mistake, not an outage.
fn map_err<E, R>(err: &SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error_code(err) {
        Some("MessageNotInflight" | "AWS.SimpleQueueService.MessageNotInflight") => {
            StoreError::Invalid(describe(SERVICE, err))
        }
        _ => sdk_error(SERVICE, err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_up_to_seconds() {
        assert_eq!(seconds(Duration::ZERO), 0);
        assert_eq!(seconds(Duration::from_millis(1500)), 2);
        assert_eq!(seconds(Duration::from_secs(3)), 3);
    }
}
