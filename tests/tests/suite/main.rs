//! One test binary for the whole black-box suite: each module was its own
//! binary once, and linking a dozen copies of the AWS SDK cost minutes and
//! gigabytes on a 2-core CI machine.

mod account_data;
mod accounts;
mod admin;
mod authz_matrix;
mod conformance_aws;
mod conformance_embedded;
mod credits;
mod durability;
mod events;
mod generation;
mod history;
mod jobs;
mod media;
mod oidc;
mod openapi;
mod operations;
mod pipeline;
mod platform_http;
mod profiles;
mod properties;
mod read_checks;
mod s3_access_denied;
mod sharing;
mod social;
mod worker_batch;
