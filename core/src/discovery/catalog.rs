//! What discovery learnt: the cache of group versions and their resources.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::discovery::documents::{
    ApiGroupDiscoveryList, ApiGroupList, ApiResourceList, ApiVersions,
};
use crate::discovery::resource::DiscoveredResource;
use crate::error::{Error, Result};

/// The discovery cache of one cluster: which group versions exist and the
/// resources of those fetched so far. Pure data, fed with the bodies of
/// discovery answers; [`crate::discovery::Lookup`] decides what to fetch.
///
/// ```
/// # use kubewire::{discovery::{Discovery, Root}};
/// let mut discovery = Discovery::default();
/// discovery.absorb_root(Root::Groups, br#"{"kind":"APIGroupList","apiVersion":"v1","groups":[
///   {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],
///    "preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}"#)?;
/// assert!(discovery.lists("apps/v1"));
/// assert!(discovery.find("apps/v1", "Deployment").is_none()); // not fetched yet
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Group (`""`: core) → its versions, the preferred one first.
    groups: BTreeMap<String, Vec<String>>,
    /// apiVersion → the resources of that group version, once fetched.
    resources: BTreeMap<String, Vec<DiscoveredResource>>,
}

/// The two discovery roots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    /// `/api`: the core group.
    Core,
    /// `/apis`: the named groups.
    Groups,
}

impl Root {
    /// The root's path.
    pub fn path(self) -> &'static str {
        match self {
            Root::Core => "/api",
            Root::Groups => "/apis",
        }
    }

    /// The root that lists `api_version`.
    pub fn of(api_version: &str) -> Root {
        if api_version.contains('/') {
            Root::Groups
        } else {
            Root::Core
        }
    }
}

/// What a root answer turned out to hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootDocument {
    /// Aggregated discovery: every resource of every version at once.
    Aggregated,
    /// Only the group versions (APIVersions or APIGroupList).
    Versions,
}

#[derive(Deserialize)]
struct KindOnly {
    #[serde(default)]
    kind: String,
}

fn decode<'a, T: Deserialize<'a>>(body: &'a [u8], expected: &'static str) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        expected,
        message: e.to_string(),
    })
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

impl Discovery {
    /// Absorbs the answer of `GET /api` or `GET /apis`: aggregated
    /// discovery (`APIGroupDiscoveryList`) replaces everything it covers;
    /// `APIVersions`/`APIGroupList` replace the list of group versions
    /// (forgetting the resources of versions no longer served).
    pub fn absorb_root(&mut self, root: Root, body: &[u8]) -> Result<RootDocument> {
        let kind = decode::<KindOnly>(body, "a discovery document")?.kind;
        match kind.as_str() {
            "APIGroupDiscoveryList" => {
                let list: ApiGroupDiscoveryList = decode(body, "an APIGroupDiscoveryList")?;
                self.absorb_aggregated(root == Root::Core, list);
                Ok(RootDocument::Aggregated)
            }
            "APIVersions" => {
                let versions: ApiVersions = decode(body, "APIVersions")?;
                self.set_groups(true, [(String::new(), versions.versions)]);
                Ok(RootDocument::Versions)
            }
            "APIGroupList" => {
                let list: ApiGroupList = decode(body, "an APIGroupList")?;
                let groups = list.groups.into_iter().map(|g| {
                    let mut versions: Vec<String> =
                        g.versions.into_iter().map(|v| v.version).collect();
                    if let Some(preferred) = g.preferred_version {
                        versions.retain(|v| *v != preferred.version);
                        versions.insert(0, preferred.version);
                    }
                    (g.name, versions)
                });
                self.set_groups(false, groups);
                Ok(RootDocument::Versions)
            }
            other => Err(Error::Decode {
                expected: "APIVersions, APIGroupList or APIGroupDiscoveryList",
                message: format!("got kind {other:?}"),
            }),
        }
    }

    /// Absorbs a group version's `APIResourceList`.
    pub fn absorb_group_version(&mut self, body: &[u8]) -> Result<()> {
        let list: ApiResourceList = decode(body, "an APIResourceList")?;
        let (group, version) = split_api_version(&list.group_version);
        let mut resources: Vec<DiscoveredResource> = Vec::new();
        let mut subresources: Vec<(String, String)> = Vec::new();
        for entry in list.resources {
            if let Some((parent, sub)) = entry.name.split_once('/') {
                subresources.push((parent.to_string(), sub.to_string()));
                continue;
            }
            resources.push(DiscoveredResource {
                group: group.to_string(),
                version: version.to_string(),
                kind: entry.kind,
                plural: entry.name,
                singular: entry.singular_name,
                namespaced: entry.namespaced,
                verbs: entry.verbs,
                short_names: entry.short_names,
                subresources: Vec::new(),
            });
        }
        for (parent, sub) in subresources {
            if let Some(r) = resources.iter_mut().find(|r| r.plural == parent) {
                r.subresources.push(sub);
            }
        }
        let versions = self.groups.entry(group.to_string()).or_default();
        if !versions.iter().any(|v| v == version) {
            versions.push(version.to_string());
        }
        self.resources.insert(list.group_version.clone(), resources);
        Ok(())
    }

    fn absorb_aggregated(&mut self, core: bool, list: ApiGroupDiscoveryList) {
        let mut groups = Vec::new();
        for group in list.items {
            let name = group.metadata.name;
            let mut versions = Vec::new();
            for v in group.versions {
                let resources = v
                    .resources
                    .into_iter()
                    .filter_map(|r| {
                        Some(DiscoveredResource {
                            group: name.clone(),
                            version: v.version.clone(),
                            kind: r.response_kind.filter(|k| !k.kind.is_empty())?.kind,
                            plural: r.resource,
                            singular: r.singular_resource,
                            namespaced: r.scope == "Namespaced",
                            verbs: r.verbs,
                            short_names: r.short_names,
                            subresources: r
                                .subresources
                                .into_iter()
                                .map(|s| s.subresource)
                                .collect(),
                        })
                    })
                    .collect();
                versions.push((v.version, resources));
            }
            groups.push((name, versions));
        }
        let versions_only = groups
            .iter()
            .map(|(name, versions)| {
                (
                    name.clone(),
                    versions.iter().map(|(v, _)| v.clone()).collect(),
                )
            })
            .collect::<Vec<_>>();
        self.set_groups(core, versions_only);
        for (name, versions) in groups {
            for (version, resources) in versions {
                let api_version = if name.is_empty() {
                    version
                } else {
                    format!("{name}/{version}")
                };
                self.resources.insert(api_version, resources);
            }
        }
    }

    /// Replaces the core group's versions (`core`) or the named groups'.
    fn set_groups(&mut self, core: bool, groups: impl IntoIterator<Item = (String, Vec<String>)>) {
        self.groups.retain(|name, _| name.is_empty() != core);
        self.groups.extend(groups);
        let groups = &self.groups;
        self.resources.retain(|api_version, _| {
            let (group, version) = split_api_version(api_version);
            if group.is_empty() != core {
                return true;
            }
            groups
                .get(group)
                .is_some_and(|v| v.iter().any(|v| v == version))
        });
    }

    /// Whether the server lists `api_version` (as far as known).
    pub fn lists(&self, api_version: &str) -> bool {
        let (group, version) = split_api_version(api_version);
        self.groups
            .get(group)
            .is_some_and(|versions| versions.iter().any(|v| v == version))
    }

    /// The preferred version of `group` (`""`: core), if listed.
    pub fn preferred_version(&self, group: &str) -> Option<&str> {
        self.groups.get(group)?.first().map(String::as_str)
    }

    /// The resource of `kind` in `api_version`, if fetched: the kind
    /// exactly, else the one resource answering to it as kubectl reads
    /// names (plural, singular, short name, any case).
    pub fn find(&self, api_version: &str, kind: &str) -> Option<&DiscoveredResource> {
        let resources = self.resources.get(api_version)?;
        if let Some(exact) = resources.iter().find(|r| r.kind == kind) {
            return Some(exact);
        }
        let mut loose = resources.iter().filter(|r| r.answers_to(kind));
        match (loose.next(), loose.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    }

    /// Every resource fetched so far.
    pub fn resources(&self) -> impl Iterator<Item = &DiscoveredResource> {
        self.resources.values().flatten()
    }

    /// Up to five `apiVersion Kind` names close to what was asked: the same
    /// name in another version, a different case, a near spelling.
    pub fn near_matches(&self, api_version: &str, kind: &str) -> Vec<String> {
        let wanted = kind.to_ascii_lowercase();
        let asked = format!("{api_version} {kind}");
        let mut scored: Vec<(usize, String)> = self
            .resources()
            .filter_map(|r| {
                let name = r.kind.to_ascii_lowercase();
                let score = if r.answers_to(kind) {
                    0
                } else {
                    let d = edit_distance(&name, &wanted);
                    if d <= 2 {
                        d
                    } else if wanted.len() >= 3
                        && (name.contains(&wanted) || wanted.contains(&name))
                    {
                        3
                    } else {
                        return None;
                    }
                };
                let named = format!("{} {}", r.api_version(), r.kind);
                (named != asked).then_some((score, named))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(5).map(|(_, n)| n).collect()
    }
}

/// Levenshtein distance, for near-match suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("deployment", "deployment"), 0);
        assert_eq!(edit_distance("deploymnet", "deployment"), 2);
        assert_eq!(edit_distance("pod", "pods"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
