//! Parsing: text to syntax tree.

pub mod ast;
pub mod parser;

pub use parser::{parse_file, parse_value};
