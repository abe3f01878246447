//! Options of each verb, named as the apiserver names them.
//!
//! Every options struct has an `extra` list of raw query pairs for options
//! kubewire does not model; they are sent as given (percent-encoded).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::query::Query;

/// Options of a `get`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetParams {
    /// `resourceVersion`: `"0"` allows any cached version.
    pub resource_version: Option<String>,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl GetParams {
    pub(crate) fn to_query(&self, q: &mut Query) {
        q.push_opt("resourceVersion", self.resource_version.as_ref());
        q.extend(&self.extra);
    }
}

/// How `resourceVersion` of a list is interpreted (`resourceVersionMatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceVersionMatch {
    /// Exactly the given version (`Exact`).
    Exact,
    /// The given version or newer (`NotOlderThan`).
    NotOlderThan,
}

impl ResourceVersionMatch {
    fn as_str(self) -> &'static str {
        match self {
            ResourceVersionMatch::Exact => "Exact",
            ResourceVersionMatch::NotOlderThan => "NotOlderThan",
        }
    }
}

/// Options of a `list` (and of `delete-collection`'s selection).
///
/// The default page size is [`ListParams::DEFAULT_LIMIT`] (500), as
/// client-go and kube-rs use; `limit: None` asks for everything at once.
///
/// ```
/// let params = kubewire::ListParams::default().limit(Some(100));
/// assert_eq!(params.limit, Some(100));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListParams {
    /// `labelSelector`, e.g. `app=web,tier in (a,b)`.
    pub label_selector: Option<String>,
    /// `fieldSelector`, e.g. `status.phase=Running`.
    pub field_selector: Option<String>,
    /// `limit`: the page size.
    pub limit: Option<u32>,
    /// `continue`: the token of the next page.
    pub continue_token: Option<String>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`.
    pub resource_version_match: Option<ResourceVersionMatch>,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<u32>,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl Default for ListParams {
    fn default() -> ListParams {
        ListParams {
            label_selector: None,
            field_selector: None,
            limit: Some(ListParams::DEFAULT_LIMIT),
            continue_token: None,
            resource_version: None,
            resource_version_match: None,
            timeout_seconds: None,
            extra: Vec::new(),
        }
    }
}

impl ListParams {
    /// The page size used unless told otherwise.
    pub const DEFAULT_LIMIT: u32 = 500;

    /// Sets `labelSelector`.
    pub fn labels(mut self, selector: &str) -> ListParams {
        self.label_selector = Some(selector.to_string());
        self
    }

    /// Sets `fieldSelector`.
    pub fn fields(mut self, selector: &str) -> ListParams {
        self.field_selector = Some(selector.to_string());
        self
    }

    /// Sets the page size (`None`: no `limit`).
    pub fn limit(mut self, limit: Option<u32>) -> ListParams {
        self.limit = limit;
        self
    }

    pub(crate) fn selectors_to_query(&self, q: &mut Query) -> Result<()> {
        if let Some(s) = &self.label_selector {
            q.push("labelSelector", non_empty_selector(s, "label")?);
        }
        if let Some(s) = &self.field_selector {
            q.push("fieldSelector", non_empty_selector(s, "field")?);
        }
        Ok(())
    }

    pub(crate) fn to_query(&self, q: &mut Query) -> Result<()> {
        self.selectors_to_query(q)?;
        if self.limit == Some(0) {
            return Err(Error::InvalidInput(
                "limit 0 is not a page size; use None for no limit".to_string(),
            ));
        }
        q.push_opt("limit", self.limit);
        if let Some(c) = &self.continue_token {
            if c.is_empty() {
                return Err(Error::InvalidInput("continue token is empty".to_string()));
            }
            q.push("continue", c.as_str());
        }
        q.push_opt("resourceVersion", self.resource_version.as_ref());
        q.push_opt(
            "resourceVersionMatch",
            self.resource_version_match
                .map(ResourceVersionMatch::as_str),
        );
        q.push_opt("timeoutSeconds", self.timeout_seconds);
        q.extend(&self.extra);
        Ok(())
    }
}

/// A selector string that is present must select something specific: an
/// empty selector selects everything, which is almost never what was meant.
fn non_empty_selector<'a>(s: &'a str, what: &str) -> Result<&'a str> {
    if s.trim().is_empty() {
        Err(Error::InvalidInput(format!(
            "empty {what} selector: it would select everything; pass None instead"
        )))
    } else {
        Ok(s)
    }
}

/// Options of a `watch`. Bookmarks are requested by default.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WatchParams {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// `resourceVersion` to watch from.
    pub resource_version: Option<String>,
    /// `allowWatchBookmarks` (default true).
    pub allow_bookmarks: bool,
    /// `timeoutSeconds`: the server ends the watch after this long.
    pub timeout_seconds: Option<u32>,
    /// `sendInitialEvents=true` with `resourceVersionMatch=NotOlderThan`:
    /// a streaming list, ending with a bookmark annotated
    /// `k8s.io/initial-events-end`.
    pub send_initial_events: bool,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl Default for WatchParams {
    fn default() -> WatchParams {
        WatchParams {
            label_selector: None,
            field_selector: None,
            resource_version: None,
            allow_bookmarks: true,
            timeout_seconds: None,
            send_initial_events: false,
            extra: Vec::new(),
        }
    }
}

impl WatchParams {
    /// Sets `resourceVersion`.
    pub fn from_version(mut self, version: &str) -> WatchParams {
        self.resource_version = Some(version.to_string());
        self
    }

    pub(crate) fn to_query(&self, q: &mut Query) -> Result<()> {
        q.push("watch", "true");
        if let Some(s) = &self.label_selector {
            q.push("labelSelector", non_empty_selector(s, "label")?);
        }
        if let Some(s) = &self.field_selector {
            q.push("fieldSelector", non_empty_selector(s, "field")?);
        }
        q.push_opt("resourceVersion", self.resource_version.as_ref());
        if self.send_initial_events {
            q.push("sendInitialEvents", "true");
            q.push("resourceVersionMatch", "NotOlderThan");
        }
        q.push_flag("allowWatchBookmarks", self.allow_bookmarks);
        q.push_opt("timeoutSeconds", self.timeout_seconds);
        q.extend(&self.extra);
        Ok(())
    }
}

/// How the server treats unknown or duplicate fields in a write
/// (`fieldValidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    /// Drop them silently.
    Ignore,
    /// Accept, with a warning header.
    Warn,
    /// Reject the request.
    Strict,
}

impl FieldValidation {
    fn as_str(self) -> &'static str {
        match self {
            FieldValidation::Ignore => "Ignore",
            FieldValidation::Warn => "Warn",
            FieldValidation::Strict => "Strict",
        }
    }
}

/// Options of create, replace and patch.
///
/// ```
/// let mut params = kubewire::WriteParams::default().field_manager("my-controller");
/// params.dry_run = true;
/// params.force = true; // server-side apply: take over conflicting fields
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteParams {
    /// `dryRun=All`: validate and answer without persisting.
    pub dry_run: bool,
    /// `fieldManager`; the cluster's default applies when `None`.
    pub field_manager: Option<String>,
    /// `fieldValidation`.
    pub field_validation: Option<FieldValidation>,
    /// `force` (server-side apply only): take over conflicting fields.
    pub force: bool,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl WriteParams {
    /// The defaults, as a constant (a `'static` reference where one is
    /// needed).
    pub const DEFAULT: WriteParams = WriteParams {
        dry_run: false,
        field_manager: None,
        field_validation: None,
        force: false,
        extra: Vec::new(),
    };

    /// Options with `fieldManager` set.
    pub fn field_manager(mut self, manager: &str) -> WriteParams {
        self.field_manager = Some(manager.to_string());
        self
    }

    pub(crate) fn to_query(&self, q: &mut Query, apply: bool) -> Result<()> {
        if self.dry_run {
            q.push("dryRun", "All");
        }
        if let Some(m) = &self.field_manager {
            if m.is_empty() || m.len() > 128 {
                return Err(Error::InvalidInput(format!(
                    "fieldManager {m:?} must be 1 to 128 characters"
                )));
            }
            q.push("fieldManager", m.as_str());
        } else if apply {
            return Err(Error::InvalidInput(
                "server-side apply needs a fieldManager".to_string(),
            ));
        }
        if self.force {
            if !apply {
                return Err(Error::InvalidInput(
                    "force is only valid with server-side apply".to_string(),
                ));
            }
            q.push("force", "true");
        }
        q.push_opt(
            "fieldValidation",
            self.field_validation.map(FieldValidation::as_str),
        );
        q.extend(&self.extra);
        Ok(())
    }
}

/// What happens to the dependents of a deleted object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PropagationPolicy {
    /// Leave dependents alone.
    Orphan,
    /// Delete the object now, dependents in the background.
    Background,
    /// Delete dependents first; the object goes last.
    Foreground,
}

/// Conditions the object must meet for a delete to proceed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The object's uid must be this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The object's resourceVersion must be this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// Options of a delete and a delete-collection.
///
/// `gracePeriodSeconds` and `dryRun` travel in the query; propagation policy
/// and preconditions in a `DeleteOptions` body, as kubectl sends them.
///
/// ```
/// use kubewire::{DeleteParams, request::PropagationPolicy};
/// let mut params = DeleteParams::default();
/// params.grace_period_seconds = Some(0);
/// params.propagation_policy = Some(PropagationPolicy::Foreground);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeleteParams {
    /// `gracePeriodSeconds` (0: immediately).
    pub grace_period_seconds: Option<u32>,
    /// `propagationPolicy`.
    pub propagation_policy: Option<PropagationPolicy>,
    /// `preconditions`.
    pub preconditions: Option<Preconditions>,
    /// `dryRun=All`.
    pub dry_run: bool,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl DeleteParams {
    pub(crate) fn to_query(&self, q: &mut Query) {
        q.push_opt("gracePeriodSeconds", self.grace_period_seconds);
        if self.dry_run {
            q.push("dryRun", "All");
        }
        q.extend(&self.extra);
    }

    /// The `DeleteOptions` body, when anything needs one.
    pub(crate) fn body(&self) -> Option<serde_json::Value> {
        if self.propagation_policy.is_none() && self.preconditions.is_none() {
            return None;
        }
        let mut body = serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1"});
        if let Some(p) = self.propagation_policy {
            body["propagationPolicy"] = serde_json::json!(p);
        }
        if let Some(p) = &self.preconditions {
            body["preconditions"] = serde_json::json!(p);
        }
        Some(body)
    }
}

/// Options of a pod's `log` subresource.
///
/// ```
/// let mut params = kubewire::LogParams::default();
/// params.container = Some("nginx".into());
/// params.tail_lines = Some(100);
/// params.timestamps = true;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogParams {
    /// `container`: required when the pod has several.
    pub container: Option<String>,
    /// `follow`: stream as the log grows.
    pub follow: bool,
    /// `previous`: the log of the previous (terminated) instance.
    pub previous: bool,
    /// `sinceSeconds`.
    pub since_seconds: Option<u64>,
    /// `sinceTime` (RFC 3339).
    pub since_time: Option<String>,
    /// `tailLines`.
    pub tail_lines: Option<u64>,
    /// `timestamps`: prefix each line with its time.
    pub timestamps: bool,
    /// `limitBytes`.
    pub limit_bytes: Option<u64>,
    /// Raw query pairs not modelled here.
    pub extra: Vec<(String, String)>,
}

impl LogParams {
    pub(crate) fn to_query(&self, q: &mut Query) -> Result<()> {
        if let Some(c) = &self.container {
            crate::segment::check_name(c)?;
            q.push("container", c.as_str());
        }
        q.push_flag("follow", self.follow);
        q.push_flag("previous", self.previous);
        q.push_opt("sinceSeconds", self.since_seconds);
        q.push_opt("sinceTime", self.since_time.as_ref());
        q.push_opt("tailLines", self.tail_lines);
        q.push_flag("timestamps", self.timestamps);
        q.push_opt("limitBytes", self.limit_bytes);
        q.extend(&self.extra);
        Ok(())
    }
}
