//! The Function Mesh manifest corpus, read from `../shared` next to the crate (the same layout in CI).
//! A fresh clone has no `../shared`: tests that need the corpus say so and skip.
#![allow(dead_code)] // Each integration test binary uses a different part of the support code.

use std::path::{Path, PathBuf};

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/function-mesh")
}

/// The corpus's YAML files, sorted; `None` (after saying so) when the corpus is absent.
pub fn files(what: &str) -> Option<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir()) else {
        println!("note: {} is absent; {what} skipped", dir().display());
        return None;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    Some(files)
}
