//! Error answers shaped and worded as kube-apiserver v1.36.2 words them
//! (each wording is taken from a recording in `fixtures/recorded/`).

use serde_json::{Value, json};

use super::catalog::ResourceType;
use super::route::Target;

/// An answer the fake gives instead of an object.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Failure {
    /// HTTP status.
    pub(crate) code: u16,
    /// The body: a `Status` object, or `None` for the plain-text
    /// `404 page not found` of an unknown path.
    pub(crate) body: Option<Value>,
}

impl Failure {
    fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> Failure {
        let mut body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason, "code": code});
        if let Some(d) = details {
            body["details"] = d;
        }
        Failure {
            code,
            body: Some(body),
        }
    }

    fn details(t: &ResourceType, name: &str) -> Value {
        let mut d = json!({"kind": t.plural});
        if !name.is_empty() {
            d["name"] = json!(name);
        }
        if !t.group.is_empty() {
            d["group"] = json!(t.group);
        }
        d
    }

    /// A path no handler serves: a plain-text 404, as the real server's mux.
    pub(crate) fn page_not_found() -> Failure {
        Failure {
            code: 404,
            body: None,
        }
    }

    /// An unknown version of a served group (`api-fallback`).
    pub(crate) fn resource_not_found() -> Failure {
        Failure::status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Some(json!({})),
        )
    }

    /// `pods "x" not found`.
    pub(crate) fn not_found(t: &ResourceType, name: &str) -> Failure {
        Failure::status(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", t.qualified()),
            Some(Failure::details(t, name)),
        )
    }

    /// `configmaps "x" already exists`.
    pub(crate) fn already_exists(t: &ResourceType, name: &str) -> Failure {
        Failure::status(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", t.qualified()),
            Some(Failure::details(t, name)),
        )
    }

    /// The `resourceVersion` precondition failed.
    pub(crate) fn conflict(t: &ResourceType, name: &str) -> Failure {
        Failure::status(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                t.qualified()
            ),
            Some(Failure::details(t, name)),
        )
    }

    /// A server-side apply that touches fields other managers own.
    pub(crate) fn apply_conflicts(conflicts: &[(String, String)]) -> Failure {
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(manager, field)| {
                json!({"reason": "FieldManagerConflict",
                    "message": format!("conflict with \"{manager}\""), "field": field})
            })
            .collect();
        let list: Vec<String> = conflicts
            .iter()
            .map(|(m, f)| format!("conflict with \"{m}\": {f}"))
            .collect();
        let message = if conflicts.len() == 1 {
            format!("Apply failed with 1 conflict: {}", list[0])
        } else {
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                list.join("\n")
            )
        };
        Failure::status(409, "Conflict", message, Some(json!({"causes": causes})))
    }

    /// `Kind "name" is invalid: field: Invalid value: ...`, one cause.
    pub(crate) fn invalid(kind: &str, name: &str, field: &str, detail: String) -> Failure {
        Failure::status(
            422,
            "Invalid",
            format!("{kind} \"{name}\" is invalid: {field}: {detail}"),
            Some(json!({"name": name, "kind": kind, "causes": [
                {"reason": "FieldValueInvalid", "message": detail, "field": field}]})),
        )
    }

    /// A well-formed patch that cannot apply (a failed JSON-patch `test`).
    pub(crate) fn patch_rejected() -> Failure {
        Failure::status(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request".into(),
            Some(json!({})),
        )
    }

    /// A request the server cannot read.
    pub(crate) fn bad_request(message: String) -> Failure {
        Failure::status(400, "BadRequest", message, None)
    }

    /// A write into a namespace being deleted.
    pub(crate) fn namespace_terminating(t: &ResourceType, name: &str, namespace: &str) -> Failure {
        let mut details = Failure::details(t, name);
        details["causes"] = json!([{"reason": "NamespaceTerminating",
            "message": format!("namespace {namespace} is being terminated"),
            "field": "metadata.namespace"}]);
        Failure::status(
            403,
            "Forbidden",
            format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                t.qualified()
            ),
            Some(details),
        )
    }

    /// A verb the type does not allow (`405 MethodNotAllowed`).
    pub(crate) fn method_not_allowed(t: &ResourceType, verb: &str) -> Failure {
        Failure::status(
            405,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({verb} {})",
                t.qualified()
            ),
            Some(Failure::details(t, "")),
        )
    }

    /// A patch type the resource does not take.
    pub(crate) fn unsupported_media_type(content_type: &str) -> Failure {
        Failure::status(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})"
            ),
            None,
        )
    }

    /// What the fake does not model: a clear 501 naming it.
    pub(crate) fn not_implemented(what: &str) -> Failure {
        Failure::status(
            501,
            "NotImplemented",
            format!("the kubewire fake apiserver does not implement {what}"),
            None,
        )
    }

    /// A watch or continue token older than the compacted history.
    pub(crate) fn expired(message: String) -> Failure {
        Failure::status(410, "Expired", message, None)
    }

    /// An injected `429` with its `Retry-After` seconds in the details.
    pub(crate) fn too_many_requests(retry_after: u64) -> Failure {
        Failure::status(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.".into(),
            Some(json!({"retryAfterSeconds": retry_after})),
        )
    }

    /// An injected `401`, as an unknown token is answered.
    pub(crate) fn unauthorized() -> Failure {
        Failure::status(401, "Unauthorized", "Unauthorized".into(), None)
    }

    /// An injected RBAC refusal of `verb` for `user`, worded as the
    /// authorizer words it (`auth-errors`): the resource, its group and
    /// its namespace (or the cluster scope); a path no resource serves is
    /// named as a path.
    pub(crate) fn forbidden(
        user: &str,
        verb: &str,
        target: Option<&Target>,
        path: &str,
    ) -> Failure {
        let Some(target) = target else {
            return Failure::status(
                403,
                "Forbidden",
                format!("forbidden: User {user:?} cannot {verb} path {path:?}"),
                Some(json!({})),
            );
        };
        let t = &target.t;
        let name = target.name.as_deref().unwrap_or_default();
        let subject = if name.is_empty() {
            t.plural.clone()
        } else {
            format!("{} {name:?}", t.plural)
        };
        let resource = match &target.sub {
            Some(sub) => format!("{}/{sub}", t.plural),
            None => t.plural.clone(),
        };
        let scope = match &target.namespace {
            Some(ns) => format!("in the namespace {ns:?}"),
            None => "at the cluster scope".into(),
        };
        Failure::status(
            403,
            "Forbidden",
            format!(
                "{subject} is forbidden: User {user:?} cannot {verb} resource {resource:?} in API group {:?} {scope}",
                t.group
            ),
            Some(Failure::details(t, name)),
        )
    }

    /// An injected `503`.
    pub(crate) fn unavailable() -> Failure {
        Failure::status(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request".into(),
            None,
        )
    }
}
