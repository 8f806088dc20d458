pub mod apiserver;
pub mod crd;
pub mod k8s_schema;
pub mod programs;
