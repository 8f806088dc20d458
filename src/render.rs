//! Objects to text. The same objects always give the same bytes: object order
//! is the emitter's, map keys are in the order the types declare or sorted.

use crate::emit::Object;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

/// A multi-document YAML stream.
pub fn yaml(objects: &[Object]) -> String {
    let mut out = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&yaml_one(&o.value));
    }
    out
}

fn yaml_one(v: &serde_json::Value) -> String {
    // A serde_json value always serialises; an error here would be a bug in serde_yaml.
    serde_yaml::to_string(v).unwrap_or_default()
}

/// A `v1` List holding every object, as kubectl prints several objects.
pub fn json(objects: &[Object]) -> String {
    let list = serde_json::json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": objects.iter().map(|o| o.value.clone()).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&list).unwrap_or_default();
    s.push('\n');
    s
}

/// Reads a bundle back: multi-document YAML or JSON, a `v1 List` unwrapped,
/// empty documents skipped.
pub fn parse_bundle(text: &str) -> Result<Vec<serde_json::Value>, String> {
    use serde::Deserialize as _;
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let v = serde_json::Value::deserialize(doc).map_err(|e| format!("not a YAML or JSON bundle: {e}"))?;
        match v.get("items").and_then(|i| i.as_array()) {
            Some(items) if v.get("kind").and_then(|k| k.as_str()) == Some("List") => docs.extend(items.iter().cloned()),
            _ if v.is_null() => {}
            _ => docs.push(v),
        }
    }
    Ok(docs)
}

pub fn render(objects: &[Object], format: Format) -> String {
    match format {
        Format::Yaml => yaml(objects),
        Format::Json => json(objects),
    }
}

/// The file an object is written to under `-o DIR`.
pub fn file_name(o: &Object, format: Format) -> String {
    let ext = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    format!("{}-{}.{ext}", o.kind.to_ascii_lowercase(), o.name)
}

/// Writes one file per object plus a kustomization.yaml listing them, so
/// `kubectl apply -k DIR` applies the bundle. Every file is written to a
/// temporary name first and renamed into place, so a failure leaves no
/// partial file behind.
pub fn write_dir(objects: &[Object], dir: &Path, format: Format) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut files: Vec<(String, String)> = objects
        .iter()
        .map(|o| {
            let text = match format {
                Format::Yaml => yaml_one(&o.value),
                Format::Json => serde_json::to_string_pretty(&o.value).unwrap_or_default() + "\n",
            };
            (file_name(o, format), text)
        })
        .collect();
    let kustomization = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": files.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
    });
    files.push(("kustomization.yaml".to_string(), yaml_one(&kustomization)));
    let mut temps = Vec::new();
    let result = (|| {
        for (name, text) in &files {
            let tmp = dir.join(format!(".{name}.mesh-tmp"));
            temps.push((tmp.clone(), dir.join(name)));
            std::fs::write(&tmp, text)?;
        }
        for (tmp, dest) in &temps {
            std::fs::rename(tmp, dest)?;
        }
        Ok(temps.iter().map(|(_, d)| d.clone()).collect())
    })();
    if result.is_err() {
        for (tmp, _) in &temps {
            let _ = std::fs::remove_file(tmp);
        }
    }
    result
}
