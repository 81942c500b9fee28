//! The microshop operator: the `Shop` custom resource, rendering a Shop into the objects
//! it owns, and the status it reports.

pub mod crd;
pub mod credentials;
pub mod render;
pub mod status;
