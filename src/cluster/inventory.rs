//! The inventory of what a bundle owns, as a kubectl ApplySet (KEP-3659): a
//! parent ConfigMap labelled with the set's id, and members labelled
//! `applyset.kubernetes.io/part-of=<id>`. kubectl and other ApplySet-aware
//! tools see the same membership mesh prunes by.

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

pub const LABEL_ID: &str = "applyset.kubernetes.io/id";
pub const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
pub const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Digest of what mesh last applied to an object, so a field mesh stopped
/// declaring is noticed without reading managedFields.
pub const ANNOTATION_DIGEST: &str = "mesh.functionmesh.io/applied-digest";

/// The tooling value mesh writes, `mesh/<version>`.
pub fn tooling() -> String {
    format!("mesh/{}", env!("CARGO_PKG_VERSION"))
}

/// The parent object's name for a bundle.
pub fn parent_name(mesh_name: &str) -> String {
    format!("{mesh_name}-applyset")
}

/// `applyset-<base64url(sha256(name.namespace.kind.group))>-v1`, the id
/// kubectl computes for the same parent.
pub fn applyset_id(parent: &str, namespace: &str) -> String {
    // A ConfigMap's group is the empty core group.
    let hash = Sha256::digest(format!("{parent}.{namespace}.ConfigMap.").as_bytes());
    format!("applyset-{}-v1", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash))
}

/// The parent ConfigMap, listing the group-kinds its members may have.
pub fn parent_object(parent: &str, namespace: &str, group_kinds: &BTreeSet<String>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": parent,
            "namespace": namespace,
            "labels": {
                LABEL_ID: applyset_id(parent, namespace),
                "app.kubernetes.io/managed-by": "mesh",
            },
            "annotations": {
                ANNOTATION_TOOLING: tooling(),
                ANNOTATION_GROUP_KINDS: group_kinds.iter().cloned().collect::<Vec<_>>().join(","),
            },
        },
    })
}

/// What a live parent says: `Err` when another tool owns the set.
pub fn read_parent(live: &Value) -> Result<BTreeSet<String>, String> {
    let annotations = live.pointer("/metadata/annotations");
    let tooling = annotations.and_then(|a| a.get(ANNOTATION_TOOLING)).and_then(Value::as_str).unwrap_or("");
    if !tooling.is_empty() && !tooling.starts_with("mesh/") {
        return Err(format!("its applyset is managed by `{tooling}`, not mesh; mesh will not change it"));
    }
    let kinds = annotations.and_then(|a| a.get(ANNOTATION_GROUP_KINDS)).and_then(Value::as_str).unwrap_or("");
    Ok(kinds.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
}

/// Puts the membership label on an object.
pub fn mark_member(obj: &mut Value, id: &str) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert(LABEL_PART_OF.to_string(), Value::String(id.to_string()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_the_kep_3659_hash() {
        // base64url(sha256("shop-applyset.default.ConfigMap.")), computed independently of this code.
        assert_eq!(applyset_id("shop-applyset", "default"), "applyset-W4sDN1yuLSqy24EnaA3Bt2HXlGrw2U-UBi9E9PUFO70-v1");
        // Label values are at most 63 characters.
        assert!(applyset_id("shop-applyset", "default").len() <= 63);
        assert_ne!(applyset_id("shop-applyset", "default"), applyset_id("shop-applyset", "other"));
    }

    #[test]
    fn parents_of_other_tools_are_refused() {
        let mine = parent_object("p", "ns", &BTreeSet::from(["ConfigMap".to_string(), "Function.x".to_string()]));
        assert_eq!(read_parent(&mine).unwrap().len(), 2);
        let theirs = json!({"metadata": {"annotations": {ANNOTATION_TOOLING: "kubectl/v1.30"}}});
        assert!(read_parent(&theirs).unwrap_err().contains("kubectl/v1.30"));
    }
}
