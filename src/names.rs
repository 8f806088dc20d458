//! Name rules shared by the checker and the emitters: Kubernetes object
//! names and Pulsar topic names.

/// RFC 1123 label: lower-case alphanumerics and `-`, alphanumeric at both ends, at most 63.
pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// The Kubernetes spelling of a mesh identifier: `to_es` becomes `to-es`.
pub fn kube_name(ident: &str) -> String {
    ident.replace('_', "-").to_ascii_lowercase()
}

/// `bootstrap_servers` becomes `bootstrapServers`.
pub fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters Pulsar accepts in a tenant or namespace name.
pub fn is_pulsar_segment(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '=' | ':' | '.' | '_'))
}

/// Why a topic name would be refused by the operator, or `None` when it is
/// valid. Accepts `name`, `tenant/namespace/name` and
/// `persistent://tenant/namespace/name` (or `non-persistent://`).
pub fn topic_name_error(name: &str) -> Option<String> {
    if let Some((domain, rest)) = name.split_once("://") {
        if domain != "persistent" && domain != "non-persistent" {
            return Some(format!("`{domain}://` is not a topic domain: use `persistent://` or `non-persistent://`"));
        }
        let parts: Vec<&str> = rest.splitn(3, '/').collect();
        if parts.len() < 3 {
            return Some("a full topic name has the form `persistent://tenant/namespace/topic`".into());
        }
        return segments_error(parts[0], parts[1], parts[2]);
    }
    let parts: Vec<&str> = name.split('/').collect();
    match parts.len() {
        1 if !name.is_empty() => None,
        1 => Some("a topic name cannot be empty".into()),
        3 => segments_error(parts[0], parts[1], parts[2]),
        _ => Some("write a short name, `tenant/namespace/topic`, or `persistent://tenant/namespace/topic`".into()),
    }
}

fn segments_error(tenant: &str, namespace: &str, topic: &str) -> Option<String> {
    if !is_pulsar_segment(tenant) {
        return Some(format!("`{tenant}` is not a valid tenant name"));
    }
    if !is_pulsar_segment(namespace) {
        return Some(format!("`{namespace}` is not a valid namespace name"));
    }
    if topic.is_empty() {
        return Some("the topic part of the name is empty".into());
    }
    None
}

/// The fully qualified form of a valid topic name, with `tenant` and
/// `namespace` filling in what a short name leaves out.
pub fn qualify_topic(name: &str, tenant: &str, namespace: &str) -> String {
    if name.contains("://") {
        return name.to_string();
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() == 3 {
        format!("persistent://{name}")
    } else {
        format!("persistent://{tenant}/{namespace}/{name}")
    }
}

/// Why a package location would be refused by the operator's webhook, or `None`.
pub fn package_location_error(location: &str) -> Option<String> {
    let lower = location.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return None;
    }
    for scheme in ["function://", "source://", "sink://"] {
        if let Some(rest) = lower.strip_prefix(scheme) {
            if rest.contains("://") || rest.matches('@').count() > 1 {
                return Some("a package name has the form `function://tenant/namespace/name[@version]`".into());
            }
            let path = rest.split('@').next().unwrap_or("");
            if path.split('/').count() != 3 || path.split('/').any(str::is_empty) {
                return Some("a package name has the form `function://tenant/namespace/name[@version]`".into());
            }
            return None;
        }
    }
    Some("a package location is a `function://`, `source://` or `sink://` package name or an http(s) URL".into())
}

pub fn is_package_location(s: &str) -> bool {
    ["function://", "source://", "sink://", "http://", "https://"].iter().any(|p| s.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert!(topic_name_error("orders").is_none());
        assert!(topic_name_error("public/default/orders").is_none());
        assert!(topic_name_error("persistent://public/default/in-.*").is_none());
        assert!(topic_name_error("non-persistent://a/b/c/d").is_none());
        assert!(topic_name_error("ns/topic").is_some());
        assert!(topic_name_error("kafka://a/b/c").is_some());
        assert!(topic_name_error("persistent://a b/ns/t").is_some());
        assert_eq!(qualify_topic("orders", "shop", "eu"), "persistent://shop/eu/orders");
        assert_eq!(qualify_topic("a/b/c", "shop", "eu"), "persistent://a/b/c");
    }

    #[test]
    fn package_locations() {
        assert!(package_location_error("function://public/default/fn@1.0").is_none());
        assert!(package_location_error("https://example.com/x.jar").is_none());
        assert!(package_location_error("public/default/fn").is_some());
        assert!(package_location_error("function://public/fn").is_some());
        assert!(package_location_error("file:///x.jar").is_some());
    }

    #[test]
    fn cases() {
        assert_eq!(camel_case("bootstrap_servers"), "bootstrapServers");
        assert_eq!(camel_case("elastic_search_url"), "elasticSearchUrl");
        assert_eq!(kube_name("to_es"), "to-es");
        assert!(is_dns_label("to-es"));
        assert!(!is_dns_label("To-es"));
        assert!(!is_dns_label("-a"));
    }
}
