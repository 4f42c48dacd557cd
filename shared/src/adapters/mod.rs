//! Adapters of the ports: `aws` (the SDKs) and `local` (the embedded default).

pub mod aws;
pub mod local;
