//! mesh: a typed pipeline language for Apache Pulsar Functions on Kubernetes,
//! compiled to Function Mesh bundles.
//!
//! Stages, each reading only the previous one's output: `syntax` (text to
//! syntax tree), `check` (names, types and rules to the Pipeline IR in `ir`),
//! `emit` (IR to Kubernetes objects), `render` (objects to text).

pub mod codes;
pub mod diag;
pub mod source;
pub mod stdlib;
pub mod syntax;
