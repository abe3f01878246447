//! The four patch flavours and their content types.

use crate::error::{Error, Result};

/// A patch body, tagged with how the server must apply it.
///
/// ```
/// use kubewire::Patch;
/// use serde_json::json;
/// let p = Patch::Strategic(json!({"metadata": {"labels": {"app": "web"}}}));
/// assert_eq!(p.content_type(), "application/strategic-merge-patch+json");
/// assert_eq!(Patch::Apply(json!({})).content_type(), "application/apply-patch+yaml");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Patch {
    /// Strategic merge patch (built-in kinds only; lists merge by key).
    Strategic(serde_json::Value),
    /// JSON merge patch (RFC 7386): `null` deletes a key.
    Merge(serde_json::Value),
    /// JSON patch (RFC 6902): an array of operations.
    Json(serde_json::Value),
    /// Server-side apply: a (partial) manifest owned by a field manager.
    /// Needs `fieldManager`; `force` takes over conflicting fields.
    Apply(serde_json::Value),
}

impl Patch {
    /// The `Content-Type` that selects this patch type on the server.
    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Json(_) => "application/json-patch+json",
            Patch::Apply(_) => "application/apply-patch+yaml",
        }
    }

    /// True for server-side apply.
    pub fn is_apply(&self) -> bool {
        matches!(self, Patch::Apply(_))
    }

    /// The serialized body (JSON, which is also valid YAML for apply).
    pub(crate) fn body(&self) -> Result<Vec<u8>> {
        let value = match self {
            Patch::Json(v) => {
                let ops = v.as_array().ok_or_else(|| {
                    Error::InvalidInput("a JSON patch must be an array of operations".to_string())
                })?;
                if let Some(bad) = ops
                    .iter()
                    .find(|op| !op.get("op").is_some_and(|o| o.is_string()))
                {
                    return Err(Error::InvalidInput(format!(
                        "JSON patch operation without \"op\": {bad}"
                    )));
                }
                v
            }
            Patch::Strategic(v) | Patch::Merge(v) | Patch::Apply(v) => {
                if !v.is_object() {
                    return Err(Error::InvalidInput(format!(
                        "a {} body must be a JSON object",
                        self.content_type()
                    )));
                }
                v
            }
        };
        serde_json::to_vec(value).map_err(|e| Error::InvalidInput(e.to_string()))
    }
}
