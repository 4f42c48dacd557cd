//! `template.yaml`: the AWS SAM template of the whole system, rendered from the
//! list of services (`whatif_app::SERVICES`): their routes and workers.
//!
//! One `AWS::Serverless::Function` per route (and per worker), each with its
//! own least-privilege policy made from the row's `access`; the HTTP API, the
//! table, the media bucket, the job queue and its dead-letter queue, the
//! signing-key secret, log groups and alarms. The text is deterministic (the
//! same table always gives the same bytes), so the committed `template.yaml`
//! is checked against it by a test.
//!
//! The YAML is written by the small emitter at the end of this file: block
//! style, long-form intrinsics (`Ref`, `Fn::Sub`, ... rather than `!Ref` tags),
//! so the file is also plain YAML that any parser reads.

use std::fmt::Write as _;

use whatif_shared::config::{cors, secrets};
use whatif_shared::iam::{self, Condition, Resource};
use whatif_shared::routes::Access;
use whatif_shared::service::Trigger;

/// Receives of one job before it moves to the dead-letter queue (the redrive
/// policy, and `WHATIF_QUEUE_MAX_RECEIVES` for the functions).
pub const MAX_RECEIVES: u32 = whatif_jobs::MAX_RECEIVES;

/// Where the one release artifact is: `scripts/build-lambdas` builds
/// `whatif-lambda` into this zip, and every function deploys it.
pub const CODE_URI: &str = "target/lambda/whatif-lambda/bootstrap.zip";

const HEADER: &str = "\
# What If Generator: the AWS SAM template of the whole system.
# GENERATED from the route table: do not edit. Regenerate with
#   cargo run -p whatif-local -- template --write
# Deploy: see docs/deploy.md (./scripts/build-lambdas && sam deploy --guided).
";

/// The template as committed in `template.yaml`.
pub fn render() -> String {
    let mut out = String::from(HEADER);
    emit(&template(), 0, &mut out);
    out
}

/// The worker rows as JSON, as committed in `cdk/workers.json`: each with the
/// access it is given (the job worker's joins its job kinds') and its IAM
/// statements (`policy`), as in the route table.
pub fn workers_json() -> String {
    let catalog = whatif_app::catalog();
    let rows: Vec<serde_json::Value> = catalog
        .workers()
        .map(|w| {
            let access = catalog.worker_access(w);
            let mut row = serde_json::to_value(w).unwrap_or_default();
            row["access"] = serde_json::to_value(&access).unwrap_or_default();
            row["policy"] = serde_json::to_value(iam::statements(&access)).unwrap_or_default();
            row
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&rows).unwrap_or_default();
    text.push('\n');
    text
}

/// What the CDK app would otherwise repeat, as committed in `cdk/constants.json`:
/// the secret names, the CORS header lists and the redrive limit.
pub fn constants_json() -> String {
    let constants = serde_json::json!({
        "secrets": { "signingKeys": secrets::SIGNING_KEYS, "modelKeys": secrets::MODEL_KEYS, "stripe": secrets::STRIPE },
        "corsAllowHeaders": cors::ALLOW_HEADERS,
        "corsExposeHeaders": cors::EXPOSE_HEADERS,
        "maxReceives": MAX_RECEIVES,
    });
    let mut text = serde_json::to_string_pretty(&constants).unwrap_or_default();
    text.push('\n');
    text
}

/// One function of the template: a route's or a worker's.
struct Function {
    name: &'static str,
    description: String,
    memory_mb: u32,
    timeout_secs: u32,
    /// `/tmp` in MB (512 is Lambda's default, left out of the template).
    ephemeral_mb: u32,
    access: Vec<Access>,
    ffmpeg: bool,
    event: Event,
}

enum Event {
    Http { method: String, path: &'static str },
    Queue { batch_size: u32 },
    Schedule { expression: &'static str },
}

impl Function {
    fn logical_id(&self) -> String {
        format!("{}Function", pascal(self.name))
    }

    fn is_worker(&self) -> bool {
        !matches!(self.event, Event::Http { .. })
    }

    /// Queue consumers get an execution role of their own (see `function`).
    fn has_own_role(&self) -> bool {
        matches!(self.event, Event::Queue { .. })
    }
}

fn functions() -> Vec<Function> {
    let catalog = whatif_app::catalog();
    let mut all: Vec<Function> = catalog
        .routes()
        .map(|r| Function {
            name: r.function,
            description: format!("{} {}: {}", r.method, r.path, r.doc.summary),
            memory_mb: r.memory_mb,
            timeout_secs: r.timeout_secs,
            ephemeral_mb: 512,
            access: r.access.to_vec(),
            ffmpeg: false,
            event: Event::Http { method: r.method.as_str().to_string(), path: r.path },
        })
        .collect();
    all.extend(catalog.workers().map(|w| Function {
        name: w.function,
        description: w.description.to_string(),
        memory_mb: w.memory_mb,
        timeout_secs: w.timeout_seconds,
        ephemeral_mb: w.ephemeral_storage_mb,
        access: catalog.worker_access(w),
        ffmpeg: w.ffmpeg,
        event: match w.trigger {
            Trigger::Queue { batch_size } => Event::Queue { batch_size },
            Trigger::Schedule { expression } => Event::Schedule { expression },
        },
    }));
    all
}

/// `jobs-worker` -> `JobsWorker`.
fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect()
}

// ---- the template ----------------------------------------------------------------

fn template() -> Y {
    let functions = functions();
    let uses_ffmpeg = functions.iter().any(|f| f.ffmpeg);
    let mut top = vec![
        ("AWSTemplateFormatVersion", s("2010-09-09")),
        ("Transform", s("AWS::Serverless-2016-10-31")),
        (
            "Description",
            s(
                "What If Generator: the API (one Lambda function per route), its table, media bucket, job queue and alarms",
            ),
        ),
    ];
    if !uses_ffmpeg {
        // FfmpegLayerArn is for the media workers; until one exists it is unused on purpose.
        top.push(("Metadata", map([("cfn-lint", map([("config", map([("ignore_checks", list([s("W2001")]))]))]))])));
    }
    top.extend([
        ("Parameters", parameters()),
        ("Mappings", mappings()),
        ("Conditions", conditions(uses_ffmpeg)),
        ("Globals", globals()),
        ("Resources", resources(&functions)),
        ("Outputs", outputs()),
    ]);
    map(top)
}

fn parameters() -> Y {
    let param = |ty: &str, description: &str, rest: Vec<(&str, Y)>| {
        let mut p = vec![("Type", s(ty)), ("Description", s(description))];
        p.extend(rest);
        map(p)
    };
    map([
        (
            "Stage",
            param(
                "String",
                "The deployment stage: names the functions, log groups and alarms, and picks the stage settings",
                vec![("AllowedValues", list([s("dev"), s("prod")])), ("Default", s("dev"))],
            ),
        ),
        (
            "AllowedOrigins",
            param(
                "CommaDelimitedList",
                "Origins allowed by CORS, comma-separated, exact scheme://host[:port] (never *: requests carry credentials)",
                vec![],
            ),
        ),
        (
            "FrontendUrl",
            param(
                "String",
                "The web front end's URL, for links in emails and shares",
                vec![("AllowedPattern", s("^https?://[^\\s/]+.*$"))],
            ),
        ),
        (
            "PublicUrl",
            param(
                "String",
                "Where the API answers, for links to itself (QR codes). Empty: FrontendUrl (when the site serves /api, /shared, /qr, as the CDK stack's CloudFront does); for a bare SAM stack set it to the ApiUrl output",
                vec![("AllowedPattern", s("^(https?://[^\\s/]+.*)?$")), ("Default", s(""))],
            ),
        ),
        (
            "MailFrom",
            param(
                "String",
                "The SES-verified sender address of every email",
                vec![("AllowedPattern", s("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"))],
            ),
        ),
        (
            "ModelProviders",
            param(
                "String",
                "The generation providers to try, in order, comma-separated",
                vec![("AllowedPattern", s("^[a-z0-9-]+(,[a-z0-9-]+)*$")), ("Default", s("offline"))],
            ),
        ),
        (
            "FfmpegLayerArn",
            param(
                "String",
                "An arm64 Lambda layer with ffmpeg in /opt/bin, for the media workers (empty: none)",
                vec![
                    ("AllowedPattern", s("^(arn:[^:]+:lambda:[^:]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+)?$")),
                    ("Default", s("")),
                ],
            ),
        ),
        (
            "SecretsPrefix",
            param(
                "String",
                "Prepended to every secret name; one per stage (whatif/dev/, whatif/prod/)",
                vec![("AllowedPattern", s("^[A-Za-z0-9/_+=.@-]*/$")), ("Default", s("whatif/dev/"))],
            ),
        ),
        (
            "OidcGoogleClientIds",
            param(
                "String",
                "Sign in with Google: its OAuth client ids, comma-separated (empty: off)",
                vec![("Default", s(""))],
            ),
        ),
        (
            "OidcProviders",
            param(
                "String",
                "Other OpenID Connect providers: name|issuer|jwks_url|client_id[,client_id] entries separated by ; (empty: none)",
                vec![("Default", s(""))],
            ),
        ),
        (
            "AlarmEmail",
            param(
                "String",
                "Where alarm notifications go (an SNS topic with this email subscribed); empty: no notifications",
                vec![("Default", s(""))],
            ),
        ),
    ])
}

fn mappings() -> Y {
    let stage = |retention: i64, rate: i64, burst: i64| {
        map([("LogRetentionDays", int(retention)), ("ThrottleRate", int(rate)), ("ThrottleBurst", int(burst))])
    };
    map([("StageSettings", map([("dev", stage(14, 50, 100)), ("prod", stage(90, 500, 1000))]))])
}

fn conditions(uses_ffmpeg: bool) -> Y {
    let not_empty = |p: &str| map([("Fn::Not", list([map([("Fn::Equals", list([r(p), s("")]))])]))]);
    let mut c = vec![
        ("IsProd", map([("Fn::Equals", list([r("Stage"), s("prod")]))])),
        ("HasPublicUrl", not_empty("PublicUrl")),
        ("HasAlarmEmail", not_empty("AlarmEmail")),
    ];
    if uses_ffmpeg {
        c.push(("HasFfmpegLayer", not_empty("FfmpegLayerArn")));
    }
    map(c)
}

fn globals() -> Y {
    let env = map([
        ("WHATIF_BACKEND", s("aws")),
        ("WHATIF_TABLE_NAME", r("Table")),
        ("WHATIF_BUCKET_NAME", r("MediaBucket")),
        ("WHATIF_QUEUE_URL", r("JobQueue")),
        ("WHATIF_DLQ_URL", r("JobDeadLetterQueue")),
        ("WHATIF_QUEUE_MAX_RECEIVES", s(&MAX_RECEIVES.to_string())),
        ("WHATIF_MAIL_FROM", r("MailFrom")),
        ("WHATIF_SECRETS_PREFIX", r("SecretsPrefix")),
        ("WHATIF_CORS_ORIGINS", map([("Fn::Join", list([s(","), r("AllowedOrigins")]))])),
        ("WHATIF_FRONTEND_URL", r("FrontendUrl")),
        ("WHATIF_PUBLIC_URL", fn_if("HasPublicUrl", r("PublicUrl"), r("FrontendUrl"))),
        ("WHATIF_MODEL_PROVIDERS", r("ModelProviders")),
        ("WHATIF_MODEL_KEYS_SECRET", s(secrets::MODEL_KEYS)),
        ("WHATIF_OIDC_GOOGLE_CLIENT_IDS", r("OidcGoogleClientIds")),
        ("WHATIF_OIDC_PROVIDERS", r("OidcProviders")),
        ("WHATIF_LOG_FORMAT", s("json")),
    ]);
    map([(
        "Function",
        map([
            // Every function runs the one binary; its Handler names its row.
            ("CodeUri", s(CODE_URI)),
            ("Runtime", s("provided.al2023")),
            ("Architectures", list([s("arm64")])),
            ("Tracing", s("Active")),
            ("Environment", map([("Variables", env)])),
        ]),
    )])
}

fn resources(functions: &[Function]) -> Y {
    let mut res: Vec<(String, Y)> = Vec::new();
    for f in functions {
        res.push((format!("{}LogGroup", pascal(f.name)), log_group(f)));
        if f.has_own_role() {
            res.push((role_id(f), execution_role(f)));
        }
        res.push((f.logical_id(), function(f)));
    }
    res.push(("HttpApi".into(), http_api()));
    res.push(("ApiAccessLogGroup".into(), api_access_log_group()));
    res.push(("Table".into(), table()));
    res.push(("MediaBucket".into(), media_bucket()));
    res.push(("MediaBucketPolicy".into(), media_bucket_policy()));
    res.push(("JobQueue".into(), job_queue(functions)));
    res.push(("JobDeadLetterQueue".into(), dead_letter_queue()));
    res.push(("JobQueuePolicy".into(), queue_policy()));
    res.push(("SigningKeySecret".into(), signing_key_secret()));
    res.push(("ModelKeysSecret".into(), model_keys_secret()));
    res.push(("StripeSecret".into(), stripe_secret()));
    res.push(("AlarmTopic".into(), alarm_topic()));
    res.push(("ApiServerErrorAlarm".into(), api_5xx_alarm()));
    res.push(("FunctionThrottlesAlarm".into(), throttles_alarm()));
    res.push(("DeadLetterQueueAlarm".into(), dlq_alarm()));
    for f in functions.iter().filter(|f| f.is_worker()) {
        res.push((format!("{}ErrorsAlarm", pascal(f.name)), worker_errors_alarm(f)));
    }
    Y::Map(res)
}

fn log_group(f: &Function) -> Y {
    map([
        ("Type", s("AWS::Logs::LogGroup")),
        (
            "Properties",
            map([
                ("LogGroupName", sub(&format!("/aws/lambda/whatif-${{Stage}}-{}", f.name))),
                ("RetentionInDays", find_in_map("LogRetentionDays")),
            ]),
        ),
    ])
}

fn function(f: &Function) -> Y {
    let mut props = vec![
        ("FunctionName", sub(&format!("whatif-${{Stage}}-{}", f.name))),
        ("Description", s(&truncate(&f.description, 256))),
        ("Handler", s(f.name)),
        ("MemorySize", int(f.memory_mb.into())),
        ("Timeout", int(f.timeout_secs.into())),
        (
            "LoggingConfig",
            map([
                ("LogFormat", s("JSON")),
                ("ApplicationLogLevel", s("INFO")),
                ("SystemLogLevel", s("WARN")),
                ("LogGroup", r(&format!("{}LogGroup", pascal(f.name)))),
            ]),
        ),
    ];
    if f.ephemeral_mb > 512 {
        props.push(("EphemeralStorage", map([("Size", int(f.ephemeral_mb.into()))])));
    }
    if f.ffmpeg {
        props.push(("Layers", fn_if("HasFfmpegLayer", list([r("FfmpegLayerArn")]), r("AWS::NoValue"))));
    }
    if f.has_own_role() {
        // SAM would give a queue consumer's generated role the managed
        // AWSLambdaSQSQueueExecutionRole (every queue of the account) on top
        // of its policies; a role of its own holds only what it needs.
        props.push(("Role", get_att(&role_id(f), "Arn")));
    } else {
        props.push((
            "Policies",
            list([map([("Version", s("2012-10-17")), ("Statement", Y::List(statements(&f.access)))])]),
        ));
    }
    let (event_name, event) = match &f.event {
        Event::Http { method, path } => (
            "Api",
            map([
                ("Type", s("HttpApi")),
                ("Properties", map([("ApiId", r("HttpApi")), ("Method", s(method)), ("Path", s(path))])),
            ]),
        ),
        Event::Queue { batch_size } => (
            "Jobs",
            map([
                ("Type", s("SQS")),
                (
                    "Properties",
                    map([
                        ("Queue", get_att("JobQueue", "Arn")),
                        ("BatchSize", int((*batch_size).into())),
                        ("FunctionResponseTypes", list([s("ReportBatchItemFailures")])),
                    ]),
                ),
            ]),
        ),
        Event::Schedule { expression } => (
            "Schedule",
            map([
                ("Type", s("Schedule")),
                ("Properties", map([("Schedule", s(expression)), ("Enabled", Y::Bool(true))])),
            ]),
        ),
    };
    props.push(("Events", map([(event_name, event)])));
    map([("Type", s("AWS::Serverless::Function")), ("Properties", map(props))])
}

fn role_id(f: &Function) -> String {
    format!("{}Role", pascal(f.name))
}

/// The execution role of a function that has one of its own: its statements,
/// writing to its own log group, and X-Ray (which has no resource scoping).
fn execution_role(f: &Function) -> Y {
    let mut granted = statements(&f.access);
    let log_group = get_att(&format!("{}LogGroup", pascal(f.name)), "Arn");
    granted.push(statement("Logs", &["logs:CreateLogStream", "logs:PutLogEvents"], vec![log_group], None));
    granted.push(statement("Tracing", &["xray:PutTraceSegments", "xray:PutTelemetryRecords"], vec![s("*")], None));
    let trust = map([
        ("Effect", s("Allow")),
        ("Principal", map([("Service", s("lambda.amazonaws.com"))])),
        ("Action", s("sts:AssumeRole")),
    ]);
    map([
        ("Type", s("AWS::IAM::Role")),
        (
            "Properties",
            map([
                ("AssumeRolePolicyDocument", map([("Version", s("2012-10-17")), ("Statement", list([trust]))])),
                (
                    "Policies",
                    list([map([
                        ("PolicyName", s("least-privilege")),
                        ("PolicyDocument", map([("Version", s("2012-10-17")), ("Statement", Y::List(granted))])),
                    ])]),
                ),
            ]),
        ),
    ])
}

/// The IAM statements of a function (`whatif_shared::iam::statements`: what
/// the request pipeline needs, then one group per capability in `access`), in
/// CloudFormation.
fn statements(access: &[Access]) -> Vec<Y> {
    iam::statements(access)
        .iter()
        .map(|st| {
            statement(
                st.sid,
                &st.actions,
                st.resources.iter().map(resource).collect(),
                st.condition.as_ref().map(condition),
            )
        })
        .collect()
}

/// An abstract resource of `iam` as this template's ARN.
fn resource(res: &Resource) -> Y {
    match res {
        Resource::Table => get_att("Table", "Arn"),
        Resource::TableIndexes => sub("${Table.Arn}/index/*"),
        Resource::Bucket => get_att("MediaBucket", "Arn"),
        Resource::BucketObjects { prefix } => sub(&format!("${{MediaBucket.Arn}}/{prefix}*")),
        Resource::Queue => get_att("JobQueue", "Arn"),
        Resource::Secret { name } => secret_arn(name),
        Resource::FoundationModels => sub("arn:${AWS::Partition}:bedrock:*::foundation-model/*"),
        Resource::InferenceProfiles => {
            sub("arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/*")
        }
        Resource::SesIdentities => sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"),
        Resource::Any => s("*"),
    }
}

/// An abstract condition of `iam` as this template's `Condition` block.
fn condition(cond: &Condition) -> Y {
    let strings = |patterns: &[String]| list(patterns.iter().map(|p| s(p)));
    match cond {
        Condition::LeadingKeys { patterns } => {
            map([("ForAllValues:StringLike", map([("dynamodb:LeadingKeys", strings(patterns))]))])
        }
        Condition::S3Prefix { patterns } => map([("StringLike", map([("s3:prefix", strings(patterns))]))]),
        Condition::FromAddress => map([("StringEquals", map([("ses:FromAddress", r("MailFrom"))]))]),
    }
}

/// A secret's ARN pattern (Secrets Manager appends `-` and six characters).
fn secret_arn(name: &str) -> Y {
    sub(&format!(
        "arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:${{SecretsPrefix}}{name}-??????"
    ))
}

fn statement(sid: &str, actions: &[&str], resources: Vec<Y>, condition: Option<Y>) -> Y {
    let mut st = vec![
        ("Sid", s(sid)),
        ("Effect", s("Allow")),
        ("Action", list(actions.iter().map(|a| s(a)))),
        ("Resource", Y::List(resources)),
    ];
    if let Some(c) = condition {
        st.push(("Condition", c));
    }
    map(st)
}

fn http_api() -> Y {
    let access_log_format = concat!(
        r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","#,
        r#""requestTime":"$context.requestTime","method":"$context.httpMethod","#,
        r#""routeKey":"$context.routeKey","status":"$context.status","#,
        r#""protocol":"$context.protocol","responseLength":"$context.responseLength","#,
        r#""responseLatency":"$context.responseLatency","integrationLatency":"$context.integrationLatency","#,
        r#""integrationError":"$context.integrationErrorMessage","userAgent":"$context.identity.userAgent"}"#
    );
    map([
        ("Type", s("AWS::Serverless::HttpApi")),
        (
            "Properties",
            map([
                // No StageName: SAM deploys the `$default` stage (auto-deployed, no path prefix).
                ("Description", sub("What If API (${Stage})")),
                (
                    "CorsConfiguration",
                    map([
                        ("AllowOrigins", r("AllowedOrigins")),
                        ("AllowCredentials", Y::Bool(true)),
                        ("AllowHeaders", list(cors::ALLOW_HEADERS.iter().map(|h| s(h)))),
                        ("AllowMethods", list(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].into_iter().map(s))),
                        ("ExposeHeaders", list(cors::EXPOSE_HEADERS.iter().map(|h| s(h)))),
                        ("MaxAge", int(600)),
                    ]),
                ),
                (
                    "DefaultRouteSettings",
                    map([
                        ("ThrottlingRateLimit", find_in_map("ThrottleRate")),
                        ("ThrottlingBurstLimit", find_in_map("ThrottleBurst")),
                    ]),
                ),
                (
                    "AccessLogSettings",
                    map([("DestinationArn", get_att("ApiAccessLogGroup", "Arn")), ("Format", s(access_log_format))]),
                ),
            ]),
        ),
    ])
}

fn api_access_log_group() -> Y {
    map([
        ("Type", s("AWS::Logs::LogGroup")),
        (
            "Properties",
            map([
                ("LogGroupName", sub("/aws/apigateway/whatif-${Stage}-http-api")),
                ("RetentionInDays", find_in_map("LogRetentionDays")),
            ]),
        ),
    ])
}

/// Data resources are kept when the stack is deleted or they are replaced.
fn retained(ty: &str, props: Y) -> Y {
    map([("Type", s(ty)), ("DeletionPolicy", s("Retain")), ("UpdateReplacePolicy", s("Retain")), ("Properties", props)])
}

fn table() -> Y {
    let attr = |name: &str| map([("AttributeName", s(name)), ("AttributeType", s("S"))]);
    let key = |hash: &str, range: &str| {
        list([
            map([("AttributeName", s(hash)), ("KeyType", s("HASH"))]),
            map([("AttributeName", s(range)), ("KeyType", s("RANGE"))]),
        ])
    };
    let gsi = |name: &str| {
        map([
            ("IndexName", s(name)),
            ("KeySchema", key(&format!("{name}pk"), &format!("{name}sk"))),
            ("Projection", map([("ProjectionType", s("ALL"))])),
        ])
    };
    retained(
        "AWS::DynamoDB::Table",
        map([
            ("BillingMode", s("PAY_PER_REQUEST")),
            ("AttributeDefinitions", list(["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].into_iter().map(attr))),
            ("KeySchema", key("pk", "sk")),
            ("GlobalSecondaryIndexes", list([gsi("gsi1"), gsi("gsi2")])),
            ("TimeToLiveSpecification", map([("AttributeName", s("ttl")), ("Enabled", Y::Bool(true))])),
            ("PointInTimeRecoverySpecification", map([("PointInTimeRecoveryEnabled", Y::Bool(true))])),
            ("SSESpecification", map([("SSEEnabled", Y::Bool(true))])),
            ("DeletionProtectionEnabled", fn_if("IsProd", Y::Bool(true), Y::Bool(false))),
        ]),
    )
}

fn media_bucket() -> Y {
    let expire = |id: &str, prefix: &str, days: i64| {
        map([("Id", s(id)), ("Status", s("Enabled")), ("Prefix", s(prefix)), ("ExpirationInDays", int(days))])
    };
    retained(
        "AWS::S3::Bucket",
        map([
            (
                "BucketEncryption",
                map([(
                    "ServerSideEncryptionConfiguration",
                    list([map([("ServerSideEncryptionByDefault", map([("SSEAlgorithm", s("AES256"))]))])]),
                )]),
            ),
            (
                "PublicAccessBlockConfiguration",
                map([
                    ("BlockPublicAcls", Y::Bool(true)),
                    ("BlockPublicPolicy", Y::Bool(true)),
                    ("IgnorePublicAcls", Y::Bool(true)),
                    ("RestrictPublicBuckets", Y::Bool(true)),
                ]),
            ),
            ("OwnershipControls", map([("Rules", list([map([("ObjectOwnership", s("BucketOwnerEnforced"))])]))])),
            (
                "CorsConfiguration",
                map([(
                    "CorsRules",
                    list([map([
                        // Presigned PUTs (uploads) and GETs (downloads) straight from the browser.
                        ("AllowedMethods", list([s("GET"), s("HEAD"), s("PUT")])),
                        ("AllowedOrigins", r("AllowedOrigins")),
                        ("AllowedHeaders", list([s("*")])),
                        ("ExposedHeaders", list([s("ETag")])),
                        ("MaxAge", int(3600)),
                    ])]),
                )]),
            ),
            (
                "LifecycleConfiguration",
                map([(
                    "Rules",
                    list([
                        expire("ExpireExports", whatif_shared::keys::EXPORTS, 7),
                        expire("ExpireTmp", whatif_shared::keys::TMP, 1),
                        map([
                            ("Id", s("AbortIncompleteUploads")),
                            ("Status", s("Enabled")),
                            ("AbortIncompleteMultipartUpload", map([("DaysAfterInitiation", int(1))])),
                        ]),
                    ]),
                )]),
            ),
        ]),
    )
}

fn media_bucket_policy() -> Y {
    tls_only_policy(
        "AWS::S3::BucketPolicy",
        ("Bucket", r("MediaBucket")),
        "s3:*",
        vec![get_att("MediaBucket", "Arn"), sub("${MediaBucket.Arn}/*")],
    )
}

/// A resource policy (`kind`, attached by `target`) that denies `action` on
/// `resources` to any request not made over TLS.
fn tls_only_policy(kind: &str, target: (&str, Y), action: &str, resources: Vec<Y>) -> Y {
    let deny = map([
        ("Sid", s("TlsOnly")),
        ("Effect", s("Deny")),
        ("Principal", s("*")),
        ("Action", s(action)),
        ("Resource", Y::List(resources)),
        ("Condition", map([("Bool", map([("aws:SecureTransport", s("false"))]))])),
    ]);
    let document = map([("Version", s("2012-10-17")), ("Statement", list([deny]))]);
    map([("Type", s(kind)), ("Properties", map([target, ("PolicyDocument", document)]))])
}

fn job_queue(functions: &[Function]) -> Y {
    // At least six times the longest consumer's timeout (Lambda's advice for SQS sources).
    let longest = functions.iter().filter(|f| matches!(f.event, Event::Queue { .. })).map(|f| f.timeout_secs).max();
    let visibility = longest.map_or(300, |t| (6 * t).clamp(300, 43_200));
    map([
        ("Type", s("AWS::SQS::Queue")),
        (
            "Properties",
            map([
                ("SqsManagedSseEnabled", Y::Bool(true)),
                ("VisibilityTimeout", int(visibility.into())),
                ("MessageRetentionPeriod", int(4 * 24 * 3600)),
                (
                    "RedrivePolicy",
                    map([
                        ("deadLetterTargetArn", get_att("JobDeadLetterQueue", "Arn")),
                        ("maxReceiveCount", int(MAX_RECEIVES.into())),
                    ]),
                ),
            ]),
        ),
    ])
}

/// Both queues refuse requests that are not over TLS, like the bucket.
fn queue_policy() -> Y {
    tls_only_policy(
        "AWS::SQS::QueuePolicy",
        ("Queues", list([r("JobQueue"), r("JobDeadLetterQueue")])),
        "sqs:*",
        vec![get_att("JobQueue", "Arn"), get_att("JobDeadLetterQueue", "Arn")],
    )
}

fn dead_letter_queue() -> Y {
    map([
        ("Type", s("AWS::SQS::Queue")),
        ("Properties", map([("SqsManagedSseEnabled", Y::Bool(true)), ("MessageRetentionPeriod", int(14 * 24 * 3600))])),
    ])
}

fn signing_key_secret() -> Y {
    map([
        ("Type", s("AWS::SecretsManager::Secret")),
        (
            "Properties",
            map([
                ("Name", sub(&format!("${{SecretsPrefix}}{}", secrets::SIGNING_KEYS))),
                // No SecretString nor GenerateSecretString: the secret is created
                // empty (no value, so reads find none) and CloudFormation never
                // writes it. `whatif-local keys rotate --aws` puts the first keys.
                (
                    "Description",
                    s(
                        "The access-token signing keys. Created empty; `whatif-local keys rotate --aws` puts the first keys (docs/deploy.md).",
                    ),
                ),
            ]),
        ),
    ])
}

fn model_keys_secret() -> Y {
    map([
        ("Type", s("AWS::SecretsManager::Secret")),
        (
            "Properties",
            map([
                ("Name", sub(&format!("${{SecretsPrefix}}{}", secrets::MODEL_KEYS))),
                // Created empty like the signing keys; the operator puts the
                // providers' keys (docs/deploy.md) before naming them in ModelProviders.
                (
                    "Description",
                    s(
                        "The model providers' API keys as a JSON object, e.g. {\"ANTHROPIC_API_KEY\": \"...\"}. Created empty (docs/deploy.md).",
                    ),
                ),
            ]),
        ),
    ])
}

fn stripe_secret() -> Y {
    map([
        ("Type", s("AWS::SecretsManager::Secret")),
        (
            "Properties",
            map([
                ("Name", sub(&format!("${{SecretsPrefix}}{}", secrets::STRIPE))),
                // Created empty: checkout and the webhook answer 503 until the
                // operator puts the keys (docs/billing.md). Only the billing
                // functions may read it.
                (
                    "Description",
                    s(
                        "Stripe's keys as a JSON object {\"secretKey\": \"sk_...\", \"webhookSecrets\": [\"whsec_...\"]}. Created empty (docs/billing.md).",
                    ),
                ),
            ]),
        ),
    ])
}

fn alarm_topic() -> Y {
    map([
        ("Type", s("AWS::SNS::Topic")),
        ("Condition", s("HasAlarmEmail")),
        (
            "Properties",
            map([
                ("DisplayName", sub("What If ${Stage} alarms")),
                ("Subscription", list([map([("Protocol", s("email")), ("Endpoint", r("AlarmEmail"))])])),
            ]),
        ),
    ])
}

/// An alarm's common properties, notifying the topic when there is one.
fn alarm(description: &str, mut props: Vec<(&str, Y)>) -> Y {
    let actions = || fn_if("HasAlarmEmail", list([r("AlarmTopic")]), r("AWS::NoValue"));
    let mut all = vec![("AlarmDescription", s(description))];
    all.append(&mut props);
    all.extend([("TreatMissingData", s("notBreaching")), ("AlarmActions", actions()), ("OKActions", actions())]);
    map([("Type", s("AWS::CloudWatch::Alarm")), ("Properties", map(all))])
}

fn metric(namespace: &str, name: &str, dimensions: Vec<(&str, Y)>) -> Y {
    map([
        ("Namespace", s(namespace)),
        ("MetricName", s(name)),
        ("Dimensions", Y::List(dimensions.into_iter().map(|(k, v)| map([("Name", s(k)), ("Value", v)])).collect())),
    ])
}

fn api_5xx_alarm() -> Y {
    let api = || vec![("ApiId", r("HttpApi")), ("Stage", s("$default"))];
    let stat = |id: &str, name: &str| {
        map([
            ("Id", s(id)),
            ("ReturnData", Y::Bool(false)),
            (
                "MetricStat",
                map([("Metric", metric("AWS/ApiGateway", name, api())), ("Period", int(300)), ("Stat", s("Sum"))]),
            ),
        ])
    };
    alarm(
        "More than 5% of API requests answered 5xx (in 2 of 3 five-minute periods with at least 10 requests)",
        vec![
            ("AlarmName", sub("whatif-${Stage}-api-5xx-rate")),
            (
                "Metrics",
                list([
                    stat("errors", "5xx"),
                    stat("requests", "Count"),
                    map([
                        ("Id", s("rate")),
                        ("Label", s("5xx rate (%)")),
                        ("Expression", s("IF(requests >= 10, 100 * errors / requests, 0)")),
                        ("ReturnData", Y::Bool(true)),
                    ]),
                ]),
            ),
            ("ComparisonOperator", s("GreaterThanThreshold")),
            ("Threshold", int(5)),
            ("EvaluationPeriods", int(3)),
            ("DatapointsToAlarm", int(2)),
        ],
    )
}

/// An alarm on one metric's statistic over five minutes being above zero.
fn above_zero_alarm(name: &str, description: &str, metric_def: Y, stat: &str) -> Y {
    let Y::Map(fields) = metric_def else { unreachable!("metric() returns a map") };
    let mut props = vec![("AlarmName", sub(name))];
    for (key, value) in fields {
        let key = match key.as_str() {
            "Namespace" => "Namespace",
            "MetricName" => "MetricName",
            _ => "Dimensions",
        };
        props.push((key, value));
    }
    props.extend([
        ("Statistic", s(stat)),
        ("Period", int(300)),
        ("EvaluationPeriods", int(1)),
        ("Threshold", int(0)),
        ("ComparisonOperator", s("GreaterThanThreshold")),
    ]);
    alarm(description, props)
}

fn throttles_alarm() -> Y {
    // Lambda's Region-wide metric: concurrency is shared by the account, so a
    // throttle anywhere is worth a look (one alarm, whatever the number of functions).
    above_zero_alarm(
        "whatif-${Stage}-lambda-throttles",
        "A Lambda function was throttled (any function of this account and Region)",
        metric("AWS/Lambda", "Throttles", vec![]),
        "Sum",
    )
}

fn dlq_alarm() -> Y {
    above_zero_alarm(
        "whatif-${Stage}-dead-letter-queue",
        "Jobs are waiting in the dead-letter queue (each failed 5 times)",
        metric(
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            vec![("QueueName", get_att("JobDeadLetterQueue", "QueueName"))],
        ),
        "Maximum",
    )
}

fn worker_errors_alarm(f: &Function) -> Y {
    above_zero_alarm(
        &format!("whatif-${{Stage}}-{}-errors", f.name),
        &format!("The {} worker failed", f.name),
        metric("AWS/Lambda", "Errors", vec![("FunctionName", r(&f.logical_id()))]),
        "Sum",
    )
}

fn outputs() -> Y {
    let output = |description: &str, value: Y| map([("Description", s(description)), ("Value", value)]);
    map([
        (
            "ApiUrl",
            output(
                "The HTTP API's URL ($default stage)",
                sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"),
            ),
        ),
        ("TableName", output("The DynamoDB table", r("Table"))),
        ("BucketName", output("The private media bucket", r("MediaBucket"))),
        ("QueueUrl", output("The job queue", r("JobQueue"))),
        ("DeadLetterQueueUrl", output("The job queue's dead-letter queue", r("JobDeadLetterQueue"))),
        (
            "SigningKeySecretArn",
            output(
                "The signing-key secret (`whatif-local keys rotate --aws` puts its first keys)",
                r("SigningKeySecret"),
            ),
        ),
    ])
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max - 3).collect();
    t.push_str("...");
    t
}

// ---- a small YAML emitter ----------------------------------------------------------

/// A YAML value with ordered maps.
#[derive(Clone, Debug, PartialEq)]
pub enum Y {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

impl Y {
    /// The value under `key` of a map.
    pub fn get(&self, key: &str) -> Option<&Y> {
        match self {
            Y::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Y::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Every string in this value, depth first.
    pub fn strings(&self) -> Vec<&str> {
        match self {
            Y::Str(s) => vec![s.as_str()],
            Y::Int(_) | Y::Bool(_) => vec![],
            Y::List(items) => items.iter().flat_map(Y::strings).collect(),
            Y::Map(pairs) => pairs.iter().flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.strings())).collect(),
        }
    }
}

fn s(text: &str) -> Y {
    Y::Str(text.to_string())
}

fn int(n: i64) -> Y {
    Y::Int(n)
}

fn list(items: impl IntoIterator<Item = Y>) -> Y {
    Y::List(items.into_iter().collect())
}

fn map<'a>(pairs: impl IntoIterator<Item = (&'a str, Y)>) -> Y {
    Y::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn r(name: &str) -> Y {
    map([("Ref", s(name))])
}

fn sub(text: &str) -> Y {
    map([("Fn::Sub", s(text))])
}

fn get_att(resource: &str, attribute: &str) -> Y {
    map([("Fn::GetAtt", list([s(resource), s(attribute)]))])
}

fn fn_if(condition: &str, then: Y, otherwise: Y) -> Y {
    map([("Fn::If", list([s(condition), then, otherwise]))])
}

fn find_in_map(key: &str) -> Y {
    map([("Fn::FindInMap", list([s("StageSettings"), r("Stage"), s(key)]))])
}

/// Writes `value` as block YAML at `indent` spaces (maps and lists only at the top).
fn emit(value: &Y, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Y::Map(pairs) => {
            for (key, v) in pairs {
                let _ = write!(out, "{pad}{}:", scalar(key));
                emit_child(v, indent, out);
            }
        }
        Y::List(items) => {
            for item in items {
                match item {
                    Y::Map(pairs) if !pairs.is_empty() => {
                        // `- key: value` with the rest of the map under it.
                        let mut nested = String::new();
                        emit(item, indent + 2, &mut nested);
                        let _ = write!(out, "{pad}- {}", &nested[indent + 2..]);
                    }
                    Y::List(items) if !items.is_empty() => {
                        let _ = writeln!(out, "{pad}-");
                        emit(item, indent + 2, out);
                    }
                    other => {
                        let _ = writeln!(out, "{pad}- {}", inline(other));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", inline(other));
        }
    }
}

/// After `key:`, a scalar or an empty collection on the same line, or a block below it.
fn emit_child(v: &Y, indent: usize, out: &mut String) {
    match v {
        Y::Map(pairs) if !pairs.is_empty() => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        Y::List(items) if !items.is_empty() => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        other => {
            let _ = writeln!(out, " {}", inline(other));
        }
    }
}

fn inline(v: &Y) -> String {
    match v {
        Y::Str(text) => scalar(text),
        Y::Int(n) => n.to_string(),
        Y::Bool(b) => b.to_string(),
        Y::List(_) => "[]".into(),
        Y::Map(_) => "{}".into(),
    }
}

/// A string as a plain scalar when that cannot be read as anything else,
/// otherwise double-quoted (JSON escapes are valid YAML escapes).
fn scalar(text: &str) -> String {
    const RESERVED: &[&str] = &["true", "false", "yes", "no", "on", "off", "y", "n", "null"];
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "_./:-*".contains(c))
        && !text.ends_with(':')
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str());
    if plain { text.to_string() } else { serde_json::to_string(text).unwrap_or_default() }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use whatif_shared::service::Worker;

    fn workspace_file(path: &str) -> String {
        let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
    }

    fn resources() -> Vec<(String, Y)> {
        let Some(Y::Map(res)) = template().get("Resources").cloned() else { panic!("no Resources") };
        res
    }

    /// The strings of a function's IAM policies: inline, or its own role's.
    fn policy_strings(res: &[(String, Y)], function: &Y) -> Vec<String> {
        let props = function.get("Properties").expect("Properties");
        let policies = match props.get("Role") {
            Some(role) => {
                let name = role.strings().into_iter().find(|s| s.ends_with("Role")).expect("a role name");
                let (_, role) = res.iter().find(|(k, _)| k == name).expect("the function's role");
                role.get("Properties").and_then(|p| p.get("Policies")).expect("Policies")
            }
            None => props.get("Policies").expect("Policies"),
        };
        policies.strings().into_iter().map(str::to_string).collect()
    }

    #[test]
    fn committed_template_is_current() {
        assert!(
            workspace_file("template.yaml") == render(),
            "template.yaml is out of date: run `cargo run -p whatif-local -- template --write`"
        );
    }

    #[test]
    fn committed_cdk_tables_are_current() {
        assert!(
            workspace_file("cdk/routes.json") == format!("{}\n", crate::routes_json())
                && workspace_file("cdk/workers.json") == workers_json()
                && workspace_file("cdk/constants.json") == constants_json(),
            "cdk/routes.json, cdk/workers.json or cdk/constants.json is out of date: \
             run `cargo run -p whatif-local -- cdk --write`"
        );
    }

    #[test]
    fn every_route_and_worker_has_its_function() {
        let res = resources();
        let functions: Vec<&(String, Y)> = res
            .iter()
            .filter(|(_, v)| v.get("Type").and_then(Y::as_str) == Some("AWS::Serverless::Function"))
            .collect();
        let routes = crate::routes();
        assert_eq!(functions.len(), routes.len() + whatif_app::catalog().workers().count());
        for route in &routes {
            let id = format!("{}Function", pascal(route.function));
            let (_, f) = functions.iter().find(|(k, _)| *k == id).unwrap_or_else(|| panic!("no {id}"));
            // The one artifact (Globals' CodeUri); the handler names the row.
            assert_eq!(f.get("Metadata"), None, "{id} would be built on its own");
            let props = f.get("Properties").unwrap();
            assert_eq!(props.get("CodeUri"), None, "{id} has a code location of its own");
            assert_eq!(props.get("Handler"), Some(&s(route.function)));
            assert_eq!(props.get("MemorySize"), Some(&int(route.memory_mb.into())));
            assert_eq!(props.get("Timeout"), Some(&int(route.timeout_secs.into())));
            let event = props.get("Events").and_then(|e| e.get("Api")).and_then(|e| e.get("Properties")).unwrap();
            assert_eq!(event.get("Method"), Some(&s(route.method.as_str())));
            assert_eq!(event.get("Path"), Some(&s(route.path)));
        }
        let ids: BTreeSet<&String> = functions.iter().map(|(k, _)| k).collect();
        assert_eq!(ids.len(), functions.len(), "two functions map to one logical id");
    }

    #[test]
    fn every_function_runs_the_one_artifact_from_globals() {
        let template = render();
        assert_eq!(template.matches("CodeUri:").count(), 1, "one code location");
        assert!(template.contains(&format!("CodeUri: {CODE_URI}")));
        assert!(!template.contains("BuildMethod"), "sam build would compile per function");
        let catalog = whatif_app::catalog();
        for name in catalog.function_names() {
            assert!(template.contains(&format!("Handler: {name}\n")), "{name} has no handler");
        }
    }

    #[test]
    fn only_functions_that_ask_can_read_secrets_or_invoke_models() {
        let res = resources();
        let secret = format!("${{SecretsPrefix}}{}-", secrets::SIGNING_KEYS);
        let catalog = whatif_app::catalog();
        let all_functions = crate::routes()
            .into_iter()
            .map(|r| (r.function, r.access.to_vec()))
            .chain(catalog.workers().map(|w| (w.function, catalog.worker_access(w))));
        for (function, access) in all_functions {
            let id = format!("{}Function", pascal(function));
            let (_, f) = res.iter().find(|(k, _)| *k == id).unwrap();
            let strings = policy_strings(&res, f);
            let reads = strings.iter().any(|s| s.contains(&secret));
            let asks = access
                .iter()
                .any(|a| matches!(a, Access::SecretRead(n) | Access::SecretWrite(n) if *n == secrets::SIGNING_KEYS));
            assert_eq!(reads, asks, "{function}: may touch the signing keys = {reads}, asks = {asks}");
            let any_secret = access.iter().any(|a| matches!(a, Access::SecretRead(_) | Access::SecretWrite(_)));
            if !any_secret {
                assert!(!strings.iter().any(|s| s.starts_with("secretsmanager:")), "{function} may use secrets");
            }
            let models = access.contains(&Access::InvokeModel);
            assert_eq!(strings.iter().any(|s| s == "bedrock:InvokeModel"), models, "{function} may invoke models");
        }
    }

    #[test]
    fn pipeline_writes_are_limited_to_rate_limit_and_idempotency_items() {
        let base = statements(&[]);
        assert_eq!(base.len(), 2, "{base:?}");
        let limits = &base[1];
        assert!(format!("{limits:?}").contains("ForAllValues:StringLike"));
        assert_eq!(
            limits.get("Condition").unwrap().strings(),
            ["ForAllValues:StringLike", "dynamodb:LeadingKeys", "RL#*", "IDEM#*"]
        );
        let health = statements(&[Access::HealthChecks]);
        let actions: Vec<&str> = health.iter().flat_map(|st| st.get("Action").unwrap().strings()).collect();
        assert!(actions.contains(&"dynamodb:DescribeTable") && actions.contains(&"s3:ListBucket"));
        assert!(!actions.contains(&"dynamodb:Query"));
    }

    #[test]
    fn access_maps_to_scoped_statements() {
        let st = statements(&[
            Access::BlobRead("avatars/"),
            Access::BlobWrite("avatars/"),
            Access::SendEmail,
            Access::SecretWrite("signing-keys"),
        ]);
        let all: Vec<String> = st.iter().flat_map(|s| s.strings()).map(str::to_string).collect();
        assert!(all.contains(&"${MediaBucket.Arn}/avatars/*".to_string()));
        assert!(all.contains(&"secretsmanager:PutSecretValue".to_string()));
        assert!(!all.contains(&"secretsmanager:GetSecretValue".to_string()));
        assert!(all.contains(&"ses:FromAddress".to_string()));
    }

    #[test]
    fn blob_read_lists_only_its_prefixes() {
        let st = statements(&[Access::BlobRead("avatars/"), Access::BlobRead("exports/")]);
        let list = st.iter().find(|x| x.get("Sid") == Some(&s("BlobList"))).expect("a BlobList statement");
        assert_eq!(list.get("Action").unwrap().strings(), ["s3:ListBucket"]);
        assert_eq!(
            list.get("Condition").unwrap().strings(),
            ["StringLike", "s3:prefix", "avatars/*", "exports/*"],
            "listing is limited to the prefixes the function reads"
        );
        assert!(!statements(&[Access::BlobWrite("avatars/")]).iter().any(|x| x.get("Sid") == Some(&s("BlobList"))));
    }

    #[test]
    fn every_worker_has_its_event() {
        for worker in whatif_app::catalog().workers() {
            let path = format!("events/{}.json", worker.function);
            let event: serde_json::Value = serde_json::from_str(&workspace_file(&path)).expect("JSON");
            match worker.trigger {
                Trigger::Queue { .. } => {
                    assert_eq!(event["Records"][0]["eventSource"], "aws:sqs", "{path} is an SQS event");
                }
                Trigger::Schedule { .. } => {
                    assert_eq!(event["source"], "aws.events", "{path} is an EventBridge scheduled event");
                    assert_eq!(event["detail-type"], "Scheduled Event", "{path} is an EventBridge scheduled event");
                }
            }
        }
    }

    #[test]
    fn queue_workers_report_partial_batch_failures_and_have_an_error_alarm() {
        let res = resources();
        let queue_workers: Vec<&Worker> =
            whatif_app::catalog().workers().filter(|w| matches!(w.trigger, Trigger::Queue { .. })).collect();
        assert!(!queue_workers.is_empty(), "the job queue has a consumer");
        for worker in queue_workers {
            let id = format!("{}Function", pascal(worker.function));
            let (_, f) = res.iter().find(|(k, _)| *k == id).unwrap_or_else(|| panic!("no {id}"));
            let jobs = f.get("Properties").and_then(|p| p.get("Events")).and_then(|e| e.get("Jobs")).expect("Jobs");
            assert_eq!(jobs.get("Type"), Some(&s("SQS")));
            let props = jobs.get("Properties").unwrap();
            assert_eq!(props.get("Queue"), Some(&get_att("JobQueue", "Arn")));
            assert_eq!(props.get("FunctionResponseTypes"), Some(&list([s("ReportBatchItemFailures")])));
            let alarm = format!("{}ErrorsAlarm", pascal(worker.function));
            assert!(res.iter().any(|(k, _)| *k == alarm), "no {alarm}");
            // Its own role: no managed policy from SAM, the queue it consumes, its log group.
            let role_name = format!("{}Role", pascal(worker.function));
            assert_eq!(f.get("Properties").and_then(|p| p.get("Role")), Some(&get_att(&role_name, "Arn")));
            assert!(f.get("Properties").and_then(|p| p.get("Policies")).is_none(), "SAM must not make a role");
            let (_, role) = res.iter().find(|(k, _)| *k == role_name).expect("the worker's role");
            assert!(role.get("Properties").and_then(|p| p.get("ManagedPolicyArns")).is_none());
            let strings = policy_strings(&res, f);
            for needed in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "JobQueue", "logs:PutLogEvents"] {
                assert!(strings.iter().any(|s| s == needed), "{needed} in {strings:?}");
            }
            assert!(strings.contains(&format!("{}LogGroup", pascal(worker.function))), "only its own log group");
        }
    }

    #[test]
    fn the_purge_may_list_and_delete_exported_files() {
        // functions/history/src/lifecycle.rs removes a purged scenario's files
        // under exports/<owner>/scenarios/<id>/; without these, AWS denies it.
        let res = resources();
        let (_, purge) = res.iter().find(|(k, _)| k == "HistoryPurgeFunction").expect("HistoryPurgeFunction");
        let strings = policy_strings(&res, purge);
        for needed in ["s3:ListBucket", "exports/*", "s3:DeleteObject"] {
            assert!(strings.iter().any(|s| s == needed), "{needed} in {strings:?}");
        }
    }

    #[test]
    fn both_queues_refuse_requests_without_tls() {
        let res = resources();
        let (_, policy) = res.iter().find(|(k, _)| k == "JobQueuePolicy").expect("JobQueuePolicy");
        let props = policy.get("Properties").unwrap();
        assert_eq!(props.get("Queues"), Some(&list([r("JobQueue"), r("JobDeadLetterQueue")])));
        let words = props.get("PolicyDocument").unwrap().strings();
        for word in ["Deny", "sqs:*", "aws:SecureTransport", "false"] {
            assert!(words.contains(&word), "{word} in {words:?}");
        }
    }

    #[test]
    fn scheduled_workers_get_a_schedule() {
        let f = Function {
            name: "cleanup-worker",
            description: "Cleans up".into(),
            memory_mb: 256,
            timeout_secs: 60,
            ephemeral_mb: 512,
            access: vec![Access::TableRead],
            ffmpeg: false,
            event: Event::Schedule { expression: "rate(1 hour)" },
        };
        assert!(f.is_worker());
        let rendered = function(&f);
        let schedule = rendered.get("Properties").and_then(|p| p.get("Events")).and_then(|e| e.get("Schedule"));
        let schedule = schedule.expect("a Schedule event");
        assert_eq!(schedule.get("Type"), Some(&s("Schedule")));
        assert_eq!(schedule.get("Properties").and_then(|p| p.get("Schedule")), Some(&s("rate(1 hour)")));
        let alarm = worker_errors_alarm(&f);
        assert!(alarm.strings().contains(&"whatif-${Stage}-cleanup-worker-errors"));
    }

    #[test]
    fn the_signing_key_secret_is_created_empty() {
        let res = resources();
        let (_, secret) = res.iter().find(|(k, _)| k == "SigningKeySecret").expect("SigningKeySecret");
        let props = secret.get("Properties").unwrap();
        // A value here would be a malformed key set, and rewritten on every update.
        assert!(props.get("SecretString").is_none() && props.get("GenerateSecretString").is_none());
    }

    #[test]
    fn scalars_quote_what_yaml_would_read_otherwise() {
        assert_eq!(scalar("provided.al2023"), "provided.al2023");
        assert_eq!(scalar("/api/jobs"), "/api/jobs");
        assert_eq!(scalar("dynamodb:GetItem"), "dynamodb:GetItem");
        for tricky in ["2012-10-17", "yes", "No", "$default", "/api/jobs/{jobId}", "", "a: b", "5", "RL#*", "x:"] {
            assert!(scalar(tricky).starts_with('"'), "{tricky:?} must be quoted");
        }
        let mut out = String::new();
        emit(&map([("a", list([map([("b", int(1)), ("c", list([s("d")]))]), list([s("e")])]))]), 0, &mut out);
        assert_eq!(out, "a:\n  - b: 1\n    c:\n      - d\n  -\n    - e\n");
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(render(), render());
        assert!(!render().contains('\t'));
    }
}
