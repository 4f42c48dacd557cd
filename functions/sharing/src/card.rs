//! The 1200x630 preview card of a share.
