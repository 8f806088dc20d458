//! mesh: a typed pipeline language for Apache Pulsar Functions on Kubernetes,
//! compiled to Function Mesh bundles.
//!
//! Stages, each reading only the previous one's output: `syntax` (text to
//! syntax tree), `check` (names, types and rules to the Pipeline IR in `ir`),
//! `emit` (IR to Kubernetes objects), `render` (objects to text).

// Diagnostics travel as the error value of the parser's results; they are
// built only on failure, so their size costs nothing on the success path.
#![allow(clippy::result_large_err)]

pub mod baseline;
pub mod check;
pub mod cluster;
pub mod codes;
pub mod compile;
pub mod diag;
pub mod emit;
pub mod fmt;
pub mod graph;
pub mod import;
pub mod ir;
pub mod load;
pub mod names;
pub mod policy;
pub mod quantity;
pub mod render;
pub mod report;
pub mod schema;
pub mod source;
pub mod stdlib;
pub mod syntax;
