pub mod apiserver;
pub mod corpus;
pub mod crd;
pub mod k8s_schema;
pub mod programs;
