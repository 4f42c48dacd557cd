//! The one list of services. Each crate under `functions/` exports a
//! `SERVICE` manifest (its routes, job kinds, workers, data owners and start
//! hook); this list joins them, and everything that needs "all of them" reads
//! it: the Lambda entry (`lambda`), the local server, the job worker, the
//! account export and deletion, the OpenAPI document and both templates.
//!
//! Adding a service is its crate and one line here (and its dependency in
//! this crate's `Cargo.toml`).

pub mod lambda;

use whatif_shared::service::{Catalog, Service};

pub static SERVICES: &[&Service] = &[
    &whatif_platform::SERVICE,
    &whatif_auth::SERVICE,
    &whatif_users::SERVICE,
    &whatif_jobs::SERVICE,
    &whatif_generation::SERVICE,
    &whatif_history::SERVICE,
    &whatif_sharing::SERVICE,
    &whatif_social::SERVICE,
    &whatif_media::SERVICE,
    &whatif_billing::SERVICE,
    &whatif_profiles::SERVICE,
    &whatif_admin::SERVICE,
    &whatif_operations::SERVICE,
];

/// The catalog of `SERVICES`.
pub fn catalog() -> Catalog {
    Catalog { services: SERVICES }
}

/// Installs `SERVICES` as the process's list (see `whatif_shared::service::install`).
pub fn install() -> Catalog {
    let catalog = catalog();
    whatif_shared::service::install(catalog);
    catalog
}
