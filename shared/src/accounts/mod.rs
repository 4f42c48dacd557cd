//! Accounts: the domain behind the auth and users services.

pub mod emails;
pub mod ott;
pub mod passwords;
pub mod roles;
pub mod sessions;
pub mod signing;
pub mod store;
pub mod types;
pub mod user;
