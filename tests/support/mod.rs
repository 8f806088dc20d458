pub mod apiserver;
pub mod crd;
