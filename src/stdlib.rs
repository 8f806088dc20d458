//! The standard library: `.mesh` files under `stdlib/`, embedded in the binary
//! so `use std::io::kafka` needs no files beside the user's.

/// Module path (without the `std::` prefix) and source text of every stdlib file.
pub static MODULES: &[(&str, &str)] = &[("io::kafka", include_str!("../stdlib/io/kafka.mesh"))];

pub fn module(path: &str) -> Option<&'static str> {
    MODULES.iter().find(|(p, _)| *p == path).map(|(_, text)| *text)
}

/// Display name of a stdlib module in diagnostics.
pub fn file_name(path: &str) -> String {
    format!("<std>/{}.mesh", path.replace("::", "/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    #[test]
    fn every_module_parses() {
        for (path, text) in MODULES {
            let (_, diags) = crate::syntax::parse_file(FileId(0), text);
            assert!(diags.is_empty(), "std::{path}: {diags:?}");
        }
    }

    #[test]
    fn every_file_is_embedded() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "mesh") {
                    let rel = path.strip_prefix(&root).unwrap().with_extension("");
                    let module = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "::");
                    assert!(super::module(&module).is_some(), "stdlib/{} is not listed in src/stdlib.rs", rel.display());
                }
            }
        }
    }
}
