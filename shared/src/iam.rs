//! The IAM policy of a function, made from its row's `access` (see
//! [`Access`]): the one mapping both deployments render. The SAM template
//! (`local/src/template.rs`) turns each [`Resource`] and [`Condition`] into
//! CloudFormation intrinsics; the CDK app reads the same statements from
//! `cdk/routes.json` / `cdk/workers.json` (field `policy`) and turns them into
//! its constructs' ARNs. Neither knows what a capability means.
//!
//! `crate::access` checks the same rules locally, so a missing grant fails in
//! tests rather than in AWS.

use serde::Serialize;

use crate::routes::Access;

/// The partition-key prefixes of the items the request pipeline writes for
/// every function: rate-limit windows (`RL#`) and idempotency records
/// (`IDEM#`); see `crate::keys`.
pub const PIPELINE_KEY_PREFIXES: &[&str] = &["RL#", "IDEM#"];

/// One `Allow` statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub sid: &'static str,
    pub actions: Vec<&'static str>,
    pub resources: Vec<Resource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

/// What a statement points at, independent of how a deployment names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Resource {
    /// The table.
    Table,
    /// Every index of the table (`<table>/index/*`).
    TableIndexes,
    /// The media bucket itself (listing, HeadBucket).
    Bucket,
    /// The objects of the media bucket under `prefix` (`<bucket>/<prefix>*`).
    BucketObjects { prefix: &'static str },
    /// The job queue.
    Queue,
    /// The secret `name` (after the stage's secrets prefix; any version suffix).
    Secret { name: &'static str },
    /// Bedrock's foundation models, in any Region.
    FoundationModels,
    /// This account's Bedrock inference profiles in this Region.
    InferenceProfiles,
    /// This account's SES identities in this Region.
    SesIdentities,
    /// Every resource (`*`): for actions IAM cannot scope, such as Polly's
    /// SynthesizeSpeech without lexicons and DescribeVoices.
    Any,
}

/// A statement's condition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Condition {
    /// Every item's partition key matches one of `patterns`
    /// (`ForAllValues:StringLike` on `dynamodb:LeadingKeys`).
    LeadingKeys { patterns: Vec<String> },
    /// The listed prefix matches one of `patterns` (`StringLike` on `s3:prefix`).
    S3Prefix { patterns: Vec<String> },
    /// The sender is the configured address (`StringEquals` on `ses:FromAddress`).
    FromAddress,
}

fn statement(
    sid: &'static str,
    actions: &[&'static str],
    resources: Vec<Resource>,
    condition: Option<Condition>,
) -> Statement {
    Statement { sid, actions: actions.to_vec(), resources, condition }
}

/// The statements of a function: what the request pipeline needs, then one
/// group per capability in `access`.
pub fn statements(access: &[Access]) -> Vec<Statement> {
    let mut out = vec![
        // Token status, JWKS, replays: every function reads single items, by
        // key (the status read goes out with a read route's first read as one
        // BatchGetItem: `crate::metering`).
        statement("PipelineRead", &["dynamodb:GetItem", "dynamodb:BatchGetItem"], vec![Resource::Table], None),
        // Rate-limit windows and idempotency records, and nothing else.
        statement(
            "PipelineLimits",
            &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            vec![Resource::Table],
            Some(Condition::LeadingKeys { patterns: PIPELINE_KEY_PREFIXES.iter().map(|p| format!("{p}*")).collect() }),
        ),
    ];
    let has = |a: Access| access.contains(&a);
    if has(Access::TableRead) {
        out.push(statement(
            "TableRead",
            &["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
            vec![Resource::Table, Resource::TableIndexes],
            None,
        ));
    }
    if has(Access::TableWrite) {
        // TransactWriteItems has no IAM action of its own: each of its items is
        // authorised as the Put/Update/Delete/ConditionCheck it is.
        out.push(statement(
            "TableWrite",
            &["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"],
            vec![Resource::Table],
            None,
        ));
    }
    if has(Access::HealthChecks) {
        out.push(statement("HealthTable", &["dynamodb:DescribeTable"], vec![Resource::Table], None));
        // HeadBucket is authorised as ListBucket.
        out.push(statement("HealthBucket", &["s3:ListBucket"], vec![Resource::Bucket], None));
        out.push(statement("HealthQueue", &["sqs:GetQueueAttributes"], vec![Resource::Queue], None));
    }
    let scopes = |pick: fn(&Access) -> Option<&'static str>| -> Vec<&'static str> {
        let mut found: Vec<&'static str> = Vec::new();
        for scope in access.iter().filter_map(pick) {
            if !found.contains(&scope) {
                found.push(scope);
            }
        }
        found
    };
    let objects = |prefixes: &[&'static str]| -> Vec<Resource> {
        prefixes.iter().map(|&prefix| Resource::BucketObjects { prefix }).collect()
    };
    let read = scopes(|a| if let Access::BlobRead(p) = a { Some(*p) } else { None });
    if !read.is_empty() {
        out.push(statement("BlobRead", &["s3:GetObject"], objects(&read), None));
        // Listing keys under the same prefixes (ListObjectsV2 asks for the prefix).
        out.push(statement(
            "BlobList",
            &["s3:ListBucket"],
            vec![Resource::Bucket],
            Some(Condition::S3Prefix { patterns: read.iter().map(|p| format!("{p}*")).collect() }),
        ));
    }
    let write = scopes(|a| if let Access::BlobWrite(p) = a { Some(*p) } else { None });
    if !write.is_empty() {
        out.push(statement("BlobWrite", &["s3:PutObject", "s3:DeleteObject"], objects(&write), None));
    }
    if has(Access::QueueSend) {
        out.push(statement("QueueSend", &["sqs:SendMessage"], vec![Resource::Queue], None));
    }
    if has(Access::QueueConsume) {
        out.push(statement(
            "QueueConsume",
            &["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
            vec![Resource::Queue],
            None,
        ));
    }
    let secrets =
        |names: &[&'static str]| -> Vec<Resource> { names.iter().map(|&name| Resource::Secret { name }).collect() };
    let read = scopes(|a| if let Access::SecretRead(n) = a { Some(*n) } else { None });
    if !read.is_empty() {
        out.push(statement("SecretRead", &["secretsmanager:GetSecretValue"], secrets(&read), None));
    }
    let write = scopes(|a| if let Access::SecretWrite(n) = a { Some(*n) } else { None });
    if !write.is_empty() {
        out.push(statement("SecretWrite", &["secretsmanager:PutSecretValue"], secrets(&write), None));
    }
    if has(Access::InvokeModel) {
        // Converse is authorised as InvokeModel: foundation models, and the
        // inference profiles newer models are called through.
        out.push(statement(
            "InvokeModel",
            &["bedrock:InvokeModel"],
            vec![Resource::FoundationModels, Resource::InferenceProfiles],
            None,
        ));
    }
    if has(Access::Speech) {
        // Neither action has a resource of its own (lexicons are not used).
        out.push(statement("Speech", &["polly:SynthesizeSpeech", "polly:DescribeVoices"], vec![Resource::Any], None));
    }
    if has(Access::SendEmail) {
        out.push(statement(
            "SendEmail",
            &["ses:SendEmail", "ses:SendRawEmail"],
            vec![Resource::SesIdentities],
            Some(Condition::FromAddress),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_gets_the_pipeline_statements_first() {
        let st = statements(&[]);
        assert_eq!(st.iter().map(|s| s.sid).collect::<Vec<_>>(), ["PipelineRead", "PipelineLimits"]);
        assert_eq!(st[1].condition, Some(Condition::LeadingKeys { patterns: vec!["RL#*".into(), "IDEM#*".into()] }));
    }

    #[test]
    fn scopes_are_listed_once_in_row_order() {
        let st = statements(&[
            Access::BlobRead("exports/"),
            Access::BlobRead("avatars/"),
            Access::BlobRead("exports/"),
            Access::SecretRead("signing-keys"),
        ]);
        let read = st.iter().find(|s| s.sid == "BlobRead").expect("BlobRead");
        assert_eq!(
            read.resources,
            [Resource::BucketObjects { prefix: "exports/" }, Resource::BucketObjects { prefix: "avatars/" }]
        );
        let list = st.iter().find(|s| s.sid == "BlobList").expect("BlobList");
        assert_eq!(
            list.condition,
            Some(Condition::S3Prefix { patterns: vec!["exports/*".into(), "avatars/*".into()] })
        );
        assert!(st.iter().any(|s| s.sid == "SecretRead" && s.resources == [Resource::Secret { name: "signing-keys" }]));
    }

    #[test]
    fn statements_serialise_with_a_kind_tag_in_camel_case() {
        let st = statements(&[Access::BlobWrite("avatars/"), Access::SendEmail]);
        let json = serde_json::to_value(&st).expect("json");
        assert_eq!(json[1]["condition"]["kind"], "leadingKeys");
        assert_eq!(json[2]["resources"][0], serde_json::json!({"kind": "bucketObjects", "prefix": "avatars/"}));
        assert_eq!(json[3]["resources"][0]["kind"], "sesIdentities");
        assert_eq!(json[3]["condition"], serde_json::json!({"kind": "fromAddress"}));
        assert!(json[0].get("condition").is_none());
    }
}
