//! The microshop operator: the `Shop` custom resource, rendering a Shop into the objects
//! it owns, and the controller that applies them and reports back.

mod apply;
pub mod caches;
pub mod controller;
pub mod crd;
pub mod credentials;
pub mod leader;
pub mod metrics;
pub mod owned;
pub mod rbac;
pub mod render;
pub mod status;
