//! The shared crate of What If Generator: the platform layer every function
//! runs on (configuration, errors → HTTP, request pipeline, logging), the
//! ports with their AWS and embedded adapters, and the domain.

pub mod access;
pub mod accounts;
pub mod adapters;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod context;
pub mod credits;
pub mod error;
pub mod fonts;
pub mod http;
pub mod iam;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod keys;
pub mod logging;
pub mod metering;
pub mod metrics;
pub mod oidc;
pub mod openapi;
pub mod pagination;
pub mod pipeline;
pub mod ports;
pub mod ratelimit;
pub mod routes;
pub mod scenarios;
pub mod service;
pub mod social;
pub mod stats;
pub mod text;
pub mod tokens;

#[cfg(any(test, feature = "test-util"))]
pub mod conformance;

#[cfg(test)]
mod properties;

pub use error::{ApiError, ApiResult};
pub use http::{ApiRequest, Reply};
pub use ids::{ScenarioId, UserId};
pub use routes::{Route, RouteDoc};
