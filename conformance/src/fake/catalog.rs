//! The resource types the fake serves: the built-ins of kube-apiserver
//! v1.36.2 (its aggregated discovery, embedded) and the custom resources
//! of the CustomResourceDefinitions created at run time. Discovery answers
//! are written from this catalogue, so a created CRD shows up in them.

use serde_json::{Value, json};

/// The built-in groups, as the recorded server's aggregated discovery
/// listed them (the core group first, named `""`).
const BUILTINS: &str = include_str!("builtins.json");

/// One resource type at one group version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ResourceType {
    /// API group (`""` for the core group).
    pub(crate) group: String,
    /// Version (`v1`).
    pub(crate) version: String,
    /// Plural resource name (`pods`).
    pub(crate) plural: String,
    /// Singular name (`pod`).
    pub(crate) singular: String,
    /// Kind (`Pod`).
    pub(crate) kind: String,
    /// Whether objects live in namespaces.
    pub(crate) namespaced: bool,
    /// The verbs discovery lists (`get`, `list`, `watch`, ...).
    pub(crate) verbs: Vec<String>,
    /// Short names (`po`).
    pub(crate) short_names: Vec<String>,
    /// Discovery categories (`all`).
    pub(crate) categories: Vec<String>,
    /// Subresources (`status`, `scale`, `log`, ...).
    pub(crate) subresources: Vec<Subresource>,
    /// The CRD that made it, if it is a custom resource.
    pub(crate) crd: Option<String>,
}

impl ResourceType {
    /// `apiVersion` of its objects (`v1`, `apps/v1`).
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The name the apiserver uses in messages: `pods`,
    /// `leases.coordination.k8s.io`.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Whether it has the subresource `name`.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }

    /// Whether discovery lists `verb`.
    pub(crate) fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// The storage identity shared by every version of the type.
    pub(crate) fn storage(&self) -> String {
        format!("{}/{}", self.group, self.plural)
    }
}

/// A subresource as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Subresource {
    /// Its name (`status`).
    pub(crate) name: String,
    /// The group, version and kind it answers with (group and version
    /// empty when they are the resource's own).
    pub(crate) group: String,
    pub(crate) version: String,
    pub(crate) kind: String,
    /// Its verbs.
    pub(crate) verbs: Vec<String>,
}

impl Subresource {
    fn read(v: &Value) -> Subresource {
        let kind = &v["responseKind"];
        Subresource {
            name: v["subresource"].as_str().unwrap_or_default().to_string(),
            group: kind["group"].as_str().unwrap_or_default().to_string(),
            version: kind["version"].as_str().unwrap_or_default().to_string(),
            kind: kind["kind"].as_str().unwrap_or_default().to_string(),
            verbs: strings(&v["verbs"]),
        }
    }

    fn of_crd(name: &str, kind: &str, group: &str, version: &str) -> Subresource {
        let scale = name == "scale";
        Subresource {
            name: name.into(),
            group: if scale {
                "autoscaling".into()
            } else {
                group.into()
            },
            version: if scale { "v1".into() } else { version.into() },
            kind: if scale { "Scale".into() } else { kind.into() },
            verbs: ["get", "patch", "update"].map(str::to_string).to_vec(),
        }
    }
}

/// Every served resource type.
#[derive(Clone, Debug)]
pub(crate) struct Catalog {
    types: Vec<ResourceType>,
    /// Group names in discovery order (core first).
    groups: Vec<String>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Catalog {
    /// The built-in types of kube-apiserver v1.36.2.
    pub(crate) fn builtins() -> Catalog {
        let doc: Value = serde_json::from_str(BUILTINS).expect("the embedded catalogue is JSON");
        let mut catalog = Catalog {
            types: Vec::new(),
            groups: Vec::new(),
        };
        for group in doc["groups"].as_array().into_iter().flatten() {
            let name = group["metadata"]["name"].as_str().unwrap_or_default();
            catalog.groups.push(name.to_string());
            for version in group["versions"].as_array().into_iter().flatten() {
                let v = version["version"].as_str().unwrap_or_default();
                for r in version["resources"].as_array().into_iter().flatten() {
                    catalog.types.push(ResourceType {
                        group: name.to_string(),
                        version: v.to_string(),
                        plural: r["resource"].as_str().unwrap_or_default().to_string(),
                        singular: r["singularResource"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        kind: r["responseKind"]["kind"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        namespaced: r["scope"] == "Namespaced",
                        verbs: strings(&r["verbs"]),
                        short_names: strings(&r["shortNames"]),
                        categories: strings(&r["categories"]),
                        subresources: r["subresources"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(Subresource::read)
                            .collect(),
                        crd: None,
                    });
                }
            }
        }
        catalog
    }

    /// The type served at `group`/`version` as `plural`.
    pub(crate) fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// The type of `apiVersion` and `kind`.
    pub(crate) fn by_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.kind == kind && t.api_version() == api_version)
    }

    /// Whether any type is served in `group` at `version`.
    pub(crate) fn serves(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Whether `group` is served at all.
    pub(crate) fn serves_group(&self, group: &str) -> bool {
        self.types.iter().any(|t| t.group == group)
    }

    /// Every served type.
    pub(crate) fn types(&self) -> impl Iterator<Item = &ResourceType> {
        self.types.iter()
    }

    /// Serves the versions a CustomResourceDefinition declares (replacing
    /// what an earlier state of the same CRD declared).
    pub(crate) fn add_crd(&mut self, crd: &Value) {
        let name = crd["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        self.remove_crd(&name);
        let spec = &crd["spec"];
        let group = spec["group"].as_str().unwrap_or_default().to_string();
        let names = &spec["names"];
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"] == false {
                continue;
            }
            let kind = names["kind"].as_str().unwrap_or_default();
            let subresources: Vec<Subresource> = ["scale", "status"]
                .into_iter()
                .filter(|s| version["subresources"][s].is_object())
                .map(|s| {
                    let v = version["name"].as_str().unwrap_or_default();
                    Subresource::of_crd(s, kind, &group, v)
                })
                .collect();
            let plural = names["plural"].as_str().unwrap_or_default().to_string();
            self.types.push(ResourceType {
                group: group.clone(),
                version: version["name"].as_str().unwrap_or_default().to_string(),
                singular: names["singular"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| plural.trim_end_matches('s').to_string()),
                plural,
                kind: names["kind"].as_str().unwrap_or_default().to_string(),
                namespaced: spec["scope"] == "Namespaced",
                verbs: [
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "create",
                    "update",
                    "watch",
                ]
                .map(str::to_string)
                .to_vec(),
                short_names: strings(&names["shortNames"]),
                categories: strings(&names["categories"]),
                subresources,
                crd: Some(name.clone()),
            });
        }
        if !self.groups.contains(&group) {
            self.groups.push(group);
        }
    }

    /// Stops serving what the CRD `name` declared.
    pub(crate) fn remove_crd(&mut self, name: &str) {
        self.types.retain(|t| t.crd.as_deref() != Some(name));
        let types = &self.types;
        self.groups
            .retain(|g| g.is_empty() || types.iter().any(|t| &t.group == g));
    }

    /// The versions of `group`, in order of preference.
    fn versions(&self, group: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.types.iter().filter(|t| t.group == group) {
            if !out.contains(&t.version) {
                out.push(t.version.clone());
            }
        }
        out
    }

    /// `GET /api`: the core group's versions.
    pub(crate) fn api_versions(&self) -> Value {
        json!({"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]})
    }

    /// `GET /apis`: every named group.
    pub(crate) fn group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(|g| {
                let mut entry = self.group(g);
                if let Some(m) = entry.as_object_mut() {
                    m.remove("kind");
                    m.remove("apiVersion");
                }
                entry
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `GET /apis/GROUP`.
    pub(crate) fn group(&self, group: &str) -> Value {
        let versions: Vec<Value> = self
            .versions(group)
            .iter()
            .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
            .collect();
        let preferred = versions.first().cloned().unwrap_or(Value::Null);
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": group,
            "versions": versions, "preferredVersion": preferred})
    }

    /// `GET /api/v1` or `GET /apis/GROUP/VERSION`.
    pub(crate) fn resource_list(&self, group: &str, version: &str) -> Value {
        let mut resources = Vec::new();
        for t in self
            .types
            .iter()
            .filter(|t| t.group == group && t.version == version)
        {
            let mut r = json!({"name": t.plural, "singularName": t.singular,
                "namespaced": t.namespaced, "kind": t.kind, "verbs": t.verbs});
            if !t.short_names.is_empty() {
                r["shortNames"] = json!(t.short_names);
            }
            if !t.categories.is_empty() {
                r["categories"] = json!(t.categories);
            }
            resources.push(r);
            let mut subs: Vec<&Subresource> = t.subresources.iter().collect();
            subs.sort_by(|a, b| a.name.cmp(&b.name));
            for s in subs {
                let mut r = json!({"name": format!("{}/{}", t.plural, s.name), "singularName": "",
                    "namespaced": t.namespaced});
                if !s.group.is_empty() && s.group != t.group {
                    r["group"] = json!(s.group);
                    r["version"] = json!(s.version);
                }
                r["kind"] = json!(s.kind);
                r["verbs"] = json!(s.verbs);
                resources.push(r);
            }
        }
        if group.is_empty() {
            return json!({"kind": "APIResourceList", "groupVersion": version, "resources": resources});
        }
        json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": format!("{group}/{version}"), "resources": resources})
    }

    /// `GET /api` or `/apis` asking for aggregated discovery
    /// (`apidiscovery.k8s.io/v2`): the core group or every named group.
    pub(crate) fn aggregated(&self, core: bool) -> Value {
        let resource = |t: &ResourceType| {
            // Built-ins leave their own group and version out; custom
            // resources name them.
            let (g, v) = if t.crd.is_some() {
                (t.group.as_str(), t.version.as_str())
            } else {
                ("", "")
            };
            let mut r = json!({"resource": t.plural,
                "responseKind": {"group": g, "version": v, "kind": t.kind},
                "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
                "singularResource": t.singular, "verbs": t.verbs});
            if !t.short_names.is_empty() {
                r["shortNames"] = json!(t.short_names);
            }
            if !t.categories.is_empty() {
                r["categories"] = json!(t.categories);
            }
            if !t.subresources.is_empty() {
                r["subresources"] = t
                    .subresources
                    .iter()
                    .map(|s| {
                        json!({"subresource": s.name,
                        "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                        "verbs": s.verbs})
                    })
                    .collect();
            }
            r
        };
        let items: Vec<Value> = self
            .groups
            .iter()
            .filter(|g| g.is_empty() == core)
            .map(|g| {
                let versions: Vec<Value> = self
                    .versions(g)
                    .iter()
                    .map(|v| {
                        let resources: Vec<Value> = self
                            .types
                            .iter()
                            .filter(|t| &t.group == g && &t.version == v)
                            .map(resource)
                            .collect();
                        json!({"version": v, "resources": resources, "freshness": "Current"})
                    })
                    .collect();
                let metadata = if g.is_empty() {
                    json!({})
                } else {
                    json!({"name": g})
                };
                json!({"metadata": metadata, "versions": versions})
            })
            .collect();
        json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtins_hold_the_common_kinds_with_their_scope_and_subresources() {
        let c = Catalog::builtins();
        let pods = c.find("", "v1", "pods").unwrap();
        assert!(pods.namespaced && pods.has("status") && pods.has("log"));
        let deployments = c.find("apps", "v1", "deployments").unwrap();
        assert!(deployments.has("scale") && deployments.kind == "Deployment");
        assert!(!c.find("", "v1", "namespaces").unwrap().namespaced);
        assert!(c.find("ops.example.com", "v1", "backups").is_none());
        assert_eq!(
            c.by_kind("coordination.k8s.io/v1", "Lease")
                .unwrap()
                .qualified(),
            "leases.coordination.k8s.io"
        );
    }

    #[test]
    fn a_crd_is_served_and_discovered_until_removed() {
        let mut c = Catalog::builtins();
        let crd = json!({"metadata": {"name": "backups.ops.example.com"}, "spec": {
            "group": "ops.example.com", "scope": "Namespaced",
            "names": {"plural": "backups", "singular": "backup", "kind": "Backup"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}}}]}});
        c.add_crd(&crd);
        assert!(
            c.find("ops.example.com", "v1", "backups")
                .unwrap()
                .has("status")
        );
        let groups = c.group_list().to_string();
        assert!(groups.contains("ops.example.com/v1"));
        assert!(
            c.resource_list("ops.example.com", "v1")
                .to_string()
                .contains("backups/status")
        );
        c.remove_crd("backups.ops.example.com");
        assert!(!c.serves_group("ops.example.com"));
        assert!(!c.group_list().to_string().contains("ops.example.com"));
    }
}
