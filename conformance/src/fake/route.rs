//! Request paths, resolved against the catalogue as the apiserver's mux
//! resolves them.

use super::catalog::{Catalog, ResourceType};
use super::status::Failure;

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `/version`.
    Version,
    /// `/api`.
    Api,
    /// `/apis`.
    Apis,
    /// `/apis/GROUP`.
    Group(String),
    /// `/api/v1`, `/apis/GROUP/VERSION`.
    GroupVersion(String, String),
    /// A collection, an object or an object's subresource.
    Resource(Box<Target>),
}

/// A resource path resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    /// The type.
    pub(crate) t: ResourceType,
    /// The namespace in the path, if any.
    pub(crate) namespace: Option<String>,
    /// The object's name, if the path names one.
    pub(crate) name: Option<String>,
    /// The subresource, if any.
    pub(crate) sub: Option<String>,
}

/// Resolves `path`, or the failure the apiserver answers.
pub(crate) fn resolve(catalog: &Catalog, path: &str) -> Result<Route, Failure> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match parts.as_slice() {
        ["version"] => return Ok(Route::Version),
        ["api"] => return Ok(Route::Api),
        ["apis"] => return Ok(Route::Apis),
        ["apis", g] if catalog.serves_group(g) => return Ok(Route::Group(g.to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(Failure::page_not_found()),
    };
    if !catalog.serves(group, version) {
        // A served group answers an unknown version with a Status; a group
        // not served at all falls through to the mux's plain 404.
        return Err(if catalog.serves_group(group) && !group.is_empty() {
            Failure::resource_not_found()
        } else {
            Failure::page_not_found()
        });
    }
    if rest.is_empty() || rest == [""] {
        return Ok(Route::GroupVersion(group.into(), version.into()));
    }
    let namespaced = |plural: &str| {
        catalog
            .find(group, version, plural)
            .is_some_and(|t| t.namespaced)
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] if namespaced(plural) => (
            Some(ns.to_string()),
            std::iter::once(*plural)
                .chain(more.iter().copied())
                .collect(),
        ),
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(Failure::page_not_found()),
    };
    let t = catalog
        .find(group, version, plural)
        .ok_or_else(Failure::page_not_found)?;
    if t.namespaced && namespace.is_none() && name.is_some() {
        return Err(Failure::page_not_found());
    }
    if let Some(s) = sub
        && !t.has(s)
    {
        return Err(Failure::page_not_found());
    }
    if name.is_some_and(str::is_empty) {
        return Err(Failure::page_not_found());
    }
    Ok(Route::Resource(Box::new(Target {
        t: t.clone(),
        namespace,
        name: name.map(str::to_string),
        sub: sub.map(str::to_string),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(path: &str) -> Target {
        match resolve(&Catalog::builtins(), path).unwrap() {
            Route::Resource(t) => *t,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn paths_resolve_as_the_apiserver_mux_resolves_them() {
        let t = target("/api/v1/namespaces/demo/pods/web-0/log");
        assert_eq!(
            (
                t.t.plural.as_str(),
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.sub.as_deref()
            ),
            ("pods", Some("demo"), Some("web-0"), Some("log"))
        );
        let ns = target("/api/v1/namespaces/demo");
        assert_eq!(
            (ns.t.plural.as_str(), ns.name.as_deref()),
            ("namespaces", Some("demo"))
        );
        let ns_status = target("/api/v1/namespaces/demo/status");
        assert_eq!(ns_status.sub.as_deref(), Some("status"));
        assert_eq!(target("/apis/apps/v1/deployments").namespace, None);
        let c = Catalog::builtins();
        assert_eq!(
            resolve(&c, "/apis/apps/v2/namespaces/demo/deployments").unwrap_err(),
            Failure::resource_not_found()
        );
        assert_eq!(
            resolve(&c, "/apis/extensions/v1beta1/deployments").unwrap_err(),
            Failure::page_not_found()
        );
        assert_eq!(
            resolve(&c, "/api/v1/namespaces/demo/widgets").unwrap_err(),
            Failure::page_not_found()
        );
        assert_eq!(
            resolve(&c, "/apis/apps/v1").unwrap(),
            Route::GroupVersion("apps".into(), "v1".into())
        );
        assert_eq!(
            resolve(&c, "/api/v1/pods/web-0").unwrap_err(),
            Failure::page_not_found()
        );
    }
}
