//! The writing verbs: create, replace, patch (merge, JSON, strategic,
//! server-side apply), the `status`, `scale` and `finalize`
//! subresources, delete (finalizers, propagation, namespaces) and
//! delete-collection.

use std::sync::Arc;

use serde_json::{Value, json};

use super::catalog::ResourceType;
use super::fields::{self, Writer};
use super::patch::{self, JsonPatchError};
use super::reads::{current, scale_of};
use super::route::Target;
use super::status::Failure;
use super::store::Key;
use super::verbs::{Ctx, finalize_namespaces, key, namespace_key, ok, output, suffix, text};
use super::{Answer, Controllers};

/// A lowercase RFC 1123 subdomain, the apiserver's rule for most names.
fn subdomain_error(name: &str) -> Option<String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let valid = name.len() <= 253 && name.split('.').all(label_ok);
    (!valid).then(|| format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"))
}

/// Who writes, for managed fields.
fn writer<'a>(ctx: &'a Ctx<'_>, api_version: &'a str, sub: Option<&'a str>) -> Writer<'a> {
    Writer {
        manager: &ctx.manager,
        api_version,
        time: &ctx.now,
        subresource: sub,
    }
}

/// Kinds whose objects would change how the server answers, which the fake
/// does not do: storing them and carrying on would be a silent success.
fn not_modelled(t: &ResourceType) -> Option<&'static str> {
    match t.kind.as_str() {
        "ValidatingWebhookConfiguration" | "MutatingWebhookConfiguration" => {
            Some("admission webhooks (their configurations are refused, not ignored)")
        }
        "ValidatingAdmissionPolicy"
        | "ValidatingAdmissionPolicyBinding"
        | "MutatingAdmissionPolicy"
        | "MutatingAdmissionPolicyBinding" => Some("admission policies (CEL is not evaluated)"),
        "APIService" => Some("aggregated API servers (APIService)"),
        _ => None,
    }
}

/// A Lease's MicroTime fields must be written with exactly six fraction
/// digits; the apiserver's refusal names where parsing stopped, as Go's
/// time parser words it. Accepted times with an offset are stored in UTC.
fn micro_time_error(t: &ResourceType, body: &mut Value) -> Option<Failure> {
    if t.kind != "Lease" || t.group != "coordination.k8s.io" {
        return None;
    }
    const LAYOUT: &str = "2006-01-02T15:04:05.000000Z07:00";
    for field in ["acquireTime", "renewTime"] {
        let Some(value) = body["spec"][field].as_str().map(str::to_string) else {
            continue;
        };
        let value = value.as_str();
        let rest = value.get(19..).unwrap_or("");
        let digits = rest
            .get(1..)
            .map_or(0, |r| r.bytes().take_while(u8::is_ascii_digit).count());
        let stuck = if value.len() < 19 {
            Some((value, "2006"))
        } else if !rest.starts_with('.') || digits < 6 {
            Some((rest, ".000000"))
        } else {
            let zone = &rest[7..];
            let offset = zone.len() == 6
                && (zone.starts_with('+') || zone.starts_with('-'))
                && zone.as_bytes()[3] == b':';
            if offset && let Some(utc) = super::in_utc(value) {
                body["spec"][field] = json!(utc);
            }
            (zone != "Z" && !offset).then_some((zone, "Z07:00"))
        };
        if let Some((text, element)) = stuck {
            return Some(Failure::bad_request(format!(
                "Lease in version \"{}\" cannot be handled as a Lease: parsing time \"{value}\" as \"{LAYOUT}\": cannot parse \"{text}\" as \"{element}\"",
                t.version
            )));
        }
    }
    None
}

/// The `kind`/`apiVersion` check every body gets.
fn check_type(t: &ResourceType, body: &mut Value) -> Result<(), Failure> {
    // JSON that is not an object (an array, a number) has no kind to read,
    // as the apiserver's decoder says.
    if !body.is_object() {
        return Err(Failure::bad_request(
            "couldn't get version/kind; json parse error: the body is not a JSON object".into(),
        ));
    }
    let av = t.api_version();
    match body["apiVersion"].as_str() {
        None => body["apiVersion"] = json!(av),
        Some(v) if v == av => {}
        Some(v) => {
            return Err(Failure::bad_request(format!(
                "the API version in the data ({v}) does not match the expected API version ({av})"
            )));
        }
    }
    match body["kind"].as_str() {
        None => body["kind"] = json!(t.kind),
        Some(k) if k == t.kind => {}
        Some(k) => {
            return Err(Failure::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                t.kind
            )));
        }
    }
    if !body["metadata"].is_object() {
        body["metadata"] = json!({});
    }
    Ok(())
}

/// `POST` to a collection.
pub(crate) fn create(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    if target.sub.is_some() {
        return Err(Failure::not_implemented(&format!(
            "creating through {}/{}",
            target.t.plural,
            target.sub.as_deref().unwrap_or_default()
        )));
    }
    let t = &target.t;
    if let Some(what) = not_modelled(t) {
        return Err(Failure::not_implemented(what));
    }
    let mut body = ctx.body()?;
    check_type(t, &mut body)?;
    if let Some(refused) = micro_time_error(t, &mut body) {
        return Err(refused);
    }
    let namespace = target.namespace.clone().unwrap_or_default();
    if t.namespaced {
        match body["metadata"]["namespace"].as_str() {
            Some(ns) if ns != namespace => {
                return Err(Failure::bad_request("the namespace of the provided object does not match the namespace sent on the request".into()));
            }
            _ => body["metadata"]["namespace"] = json!(namespace),
        }
    }
    let mut name = body["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if name.is_empty()
        && let Some(prefix) = body["metadata"]["generateName"].as_str()
    {
        name = format!("{prefix}{}", suffix(ctx.state, &ctx.shared.hasher));
        body["metadata"]["name"] = json!(name);
    }
    if name.is_empty() {
        return Err(Failure::invalid(
            &t.kind,
            "",
            "metadata.name",
            "Required value: name or generateName is required".into(),
        ));
    }
    if let Some(e) = subdomain_error(&name) {
        return Err(Failure::invalid(&t.kind, &name, "metadata.name", e));
    }
    if t.namespaced {
        let ns_type = ctx
            .state
            .catalog
            .find("", "v1", "namespaces")
            .cloned()
            .expect("namespaces are built in");
        match ctx.state.store.get(&namespace_key(&namespace)) {
            None => return Err(Failure::not_found(&ns_type, &namespace)),
            Some(ns) if ns["status"]["phase"] == "Terminating" => {
                return Err(Failure::namespace_terminating(t, &name, &namespace));
            }
            _ => {}
        }
    }
    let k = key(t, &namespace, &name);
    if ctx.state.store.get(&k).is_some() {
        return Err(Failure::already_exists(t, &name));
    }
    let uid = ctx.uid();
    let meta = &mut body["metadata"];
    for server_owned in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    ] {
        meta.as_object_mut().map(|m| m.remove(server_owned));
    }
    meta["uid"] = json!(uid);
    meta["creationTimestamp"] = json!(ctx.now);
    if has_generation(t) {
        body["metadata"]["generation"] = json!(1);
    }
    if t.has("status") {
        body.as_object_mut().map(|m| m.remove("status"));
        if t.kind == "Pod" {
            body["status"] = json!({"phase": "Pending"});
        }
    }
    match (t.group.as_str(), t.kind.as_str()) {
        ("", "Namespace") => {
            body["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            body["spec"] = json!({"finalizers": ["kubernetes"]});
            body["status"] = json!({"phase": "Active"});
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            if body["spec"]["conversion"].is_null() {
                body["spec"]["conversion"] = json!({"strategy": "None"});
            }
            let kind = body["spec"]["names"]["kind"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if body["spec"]["names"]["listKind"].is_null() {
                body["spec"]["names"]["listKind"] = json!(format!("{kind}List"));
            }
            if body["spec"]["names"]["singular"].is_null() {
                body["spec"]["names"]["singular"] = json!(kind.to_lowercase());
            }
            let stored: Vec<Value> = body["spec"]["versions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|v| v["storage"] == true)
                .map(|v| v["name"].clone())
                .collect();
            // As created; the establishing controller's update follows.
            body["status"] = json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""},
                "storedVersions": stored});
        }
        _ => {}
    }
    let av = t.api_version();
    let w = writer(ctx, &av, None);
    fields::record_update(None, &mut body, &w);
    if ctx.dry_run() {
        return Ok(ok(201, &body));
    }
    let stored = ctx.state.store.put(k.clone(), body);
    if t.kind == "CustomResourceDefinition" {
        establish(ctx, k, &stored);
    }
    Ok(ok(201, &output(t, &stored)))
}

/// Whether the apiserver keeps `metadata.generation` for the type: custom
/// resources, CRDs and the built-ins whose spec a controller acts on.
fn has_generation(t: &ResourceType) -> bool {
    t.crd.is_some()
        || matches!(
            t.kind.as_str(),
            "Pod"
                | "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicationController"
                | "Job"
                | "CronJob"
                | "PodDisruptionBudget"
                | "NetworkPolicy"
                | "Ingress"
                | "CustomResourceDefinition"
                | "HorizontalPodAutoscaler"
                | "FlowSchema"
                | "PriorityLevelConfiguration"
                | "ValidatingAdmissionPolicy"
                | "MutatingAdmissionPolicy"
                | "ServiceCIDR"
                | "IPAddress"
        )
}

/// What the apiextensions controller does to a new CRD at once: its names
/// are accepted, it is `Established`, and its resource is served.
fn establish(ctx: &mut Ctx<'_>, k: Key, created: &Value) {
    let mut crd = created.clone();
    let names = &created["spec"]["names"];
    let mut accepted = json!({"plural": names["plural"], "singular": names["singular"]});
    if names["shortNames"].is_array() {
        accepted["shortNames"] = names["shortNames"].clone();
    }
    accepted["kind"] = names["kind"].clone();
    accepted["listKind"] = names["listKind"].clone();
    crd["status"]["acceptedNames"] = accepted;
    crd["status"]["conditions"] = json!([
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": ctx.now,
            "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "lastTransitionTime": ctx.now,
            "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}]);
    ctx.state.catalog.add_crd(&crd);
    ctx.state.store.put(k, crd);
}

/// Spec changed: the generation moves.
fn bump_generation(old: &Value, new: &mut Value) {
    if let Some(g) = old["metadata"]["generation"].as_i64() {
        let g = if old.get("spec") != new.get("spec") {
            g + 1
        } else {
            g
        };
        new["metadata"]["generation"] = json!(g);
    }
}

/// What a write may not change, and what a subresource write may change.
fn carry_over(t: &ResourceType, sub: Option<&str>, old: &Value, mut new: Value) -> Value {
    match sub {
        Some("status") => {
            let mut kept = old.clone();
            match new.get_mut("status").map(Value::take) {
                Some(s) => kept["status"] = s,
                None => {
                    kept.as_object_mut().map(|m| m.remove("status"));
                }
            }
            kept["metadata"]["managedFields"] = new["metadata"]["managedFields"].take();
            return kept;
        }
        Some("finalize") => {
            let mut kept = old.clone();
            kept["spec"]["finalizers"] = new["spec"]["finalizers"].take();
            return kept;
        }
        _ => {}
    }
    if t.has("status") {
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                new.as_object_mut().map(|m| m.remove("status"));
            }
        }
    }
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match old["metadata"].get(field) {
            Some(v) => new["metadata"][field] = v.clone(),
            None => {
                new["metadata"].as_object_mut().map(|m| m.remove(field));
            }
        }
    }
    bump_generation(old, &mut new);
    new
}

/// Commits an update of the object at `k` from `old` to `new` (already
/// carried over): no-op detection, managed fields, dry run, finalization.
fn commit(
    ctx: &mut Ctx<'_>,
    t: &ResourceType,
    sub: Option<&str>,
    k: Key,
    old: &Value,
    mut new: Value,
) -> Answer {
    let av = t.api_version();
    let w = writer(ctx, &av, sub);
    let same = |a: &Value, b: &Value| {
        let strip = |v: &Value| {
            let mut v = v.clone();
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("managedFields");
                m.remove("resourceVersion");
            }
            if let Some(m) = v.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            v
        };
        strip(a) == strip(b)
    };
    if same(old, &new) {
        return ok(200, &output(t, old));
    }
    fields::record_update(Some(old), &mut new, &w);
    new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
    if ctx.dry_run() {
        return ok(200, &output(t, &new));
    }
    let finalized = !new["metadata"]["deletionTimestamp"].is_null()
        && new["metadata"]["finalizers"]
            .as_array()
            .is_none_or(Vec::is_empty);
    if finalized {
        ctx.state.store.put(k.clone(), new);
        let gone = ctx.state.store.remove(&k).expect("just stored");
        after_removal(ctx, &gone);
        return ok(200, &output(t, &gone));
    }
    if t.kind == "CustomResourceDefinition" {
        ctx.state.catalog.add_crd(&new);
    }
    let stored = ctx.state.store.put(k, new);
    ok(200, &output(t, &stored))
}

/// The `resourceVersion` precondition of a body.
fn precondition(t: &ResourceType, name: &str, body: &Value, old: &Value) -> Result<(), Failure> {
    match body["metadata"]["resourceVersion"].as_str() {
        Some(rv) if !rv.is_empty() && Some(rv) != old["metadata"]["resourceVersion"].as_str() => {
            Err(Failure::conflict(t, name))
        }
        _ => Ok(()),
    }
}

fn writable_sub(target: &Target) -> Result<Option<&str>, Failure> {
    match target.sub.as_deref() {
        None | Some("status") | Some("scale") | Some("finalize") => Ok(target.sub.as_deref()),
        Some(other) => Err(Failure::not_implemented(&format!(
            "writes to the {}/{other} subresource",
            target.t.plural
        ))),
    }
}

/// `PUT` of an object or its `status`, `scale` or `finalize`.
pub(crate) fn replace(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    let sub = writable_sub(target)?;
    let t = &target.t;
    let name = target.name.clone().unwrap_or_default();
    let mut body = ctx.body()?;
    let old = current(ctx, target)?;
    let k = key(t, target.namespace.as_deref().unwrap_or_default(), &name);
    if sub == Some("scale") {
        return write_scale(ctx, target, k, &old, &body);
    }
    check_type(t, &mut body)?;
    if body["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(Failure::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            body["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    if let Some(refused) = micro_time_error(t, &mut body) {
        return Err(refused);
    }
    precondition(t, &name, &body, &old)?;
    body["metadata"]["name"] = json!(name);
    if let Some(ns) = &target.namespace {
        body["metadata"]["namespace"] = json!(ns);
    }
    let new = carry_over(t, sub, &old, body);
    Ok(commit(ctx, t, sub, k, &old, new))
}

/// A write through `/scale`: `spec.replicas` of the object.
fn write_scale(
    ctx: &mut Ctx<'_>,
    target: &Target,
    k: Key,
    old: &Value,
    scale: &Value,
) -> Result<Answer, Failure> {
    let name = target.name.as_deref().unwrap_or_default();
    precondition(&target.t, name, scale, old)?;
    let replicas = scale["spec"]["replicas"]
        .as_i64()
        .ok_or_else(|| Failure::invalid("Scale", name, "spec.replicas", "Required value".into()))?;
    let mut new = old.clone();
    new["spec"]["replicas"] = json!(replicas);
    bump_generation(old, &mut new);
    let answer = commit(ctx, &target.t, Some("scale"), k.clone(), old, new);
    let now = ctx.state.store.get(&k).map(|o| (**o).clone());
    Ok(match now {
        Some(object) if answer.status == 200 && !ctx.dry_run() => ok(200, &scale_of(&object)),
        _ => answer,
    })
}

/// `PATCH` of an object or a subresource.
pub(crate) fn patch(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    let sub = writable_sub(target)?;
    let t = &target.t;
    let name = target.name.clone().unwrap_or_default();
    let content_type = ctx
        .req
        .header("content-type")
        .unwrap_or_default()
        .to_string();
    let kind = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let ns = target.namespace.clone().unwrap_or_default();
    let k = key(t, &ns, &name);
    if kind == "application/apply-patch+yaml" {
        return apply(ctx, target, sub, k);
    }
    let body = ctx.body()?;
    let old = current(ctx, target)?;
    let view = if sub == Some("scale") {
        scale_of(&old)
    } else {
        output(t, &old)
    };
    let mut patched = view.clone();
    match kind.as_str() {
        "application/merge-patch+json" => patch::merge(&mut patched, &body),
        "application/json-patch+json" => {
            patch::json_patch(&mut patched, &body).map_err(|e| match e {
                JsonPatchError::Malformed(m) => Failure::bad_request(m),
                JsonPatchError::Failed(_) => Failure::patch_rejected(),
            })?
        }
        "application/strategic-merge-patch+json" if t.crd.is_none() => {
            patch::strategic(&mut patched, &body)
        }
        other => return Err(Failure::unsupported_media_type(other)),
    }
    if sub == Some("scale") {
        return write_scale(ctx, target, k, &old, &patched);
    }
    if patched["metadata"]["name"] != old["metadata"]["name"] {
        return Err(Failure::bad_request(
            "metadata.name: the name cannot be changed by a patch".into(),
        ));
    }
    precondition(t, &name, &patched, &old)?;
    let new = carry_over(t, sub, &old, patched);
    Ok(commit(ctx, t, sub, k, &old, new))
}

/// Server-side apply (`application/apply-patch+yaml`).
fn apply(ctx: &mut Ctx<'_>, target: &Target, sub: Option<&str>, k: Key) -> Result<Answer, Failure> {
    let t = &target.t;
    let name = target.name.clone().unwrap_or_default();
    if !ctx.req.query.iter().any(|(q, _)| q == "fieldManager") {
        return Err(Failure::bad_request(
            "PATCH, application/apply-patch+yaml requires fieldManager to be set".into(),
        ));
    }
    let text = String::from_utf8_lossy(&ctx.req.body).into_owned();
    let mut config = match kubewire::Manifest::from_yaml(&text) {
        Ok(mut docs) if docs.len() == 1 => docs.remove(0).value().clone(),
        Ok(_) => {
            return Err(Failure::bad_request(
                "an apply patch holds exactly one object".into(),
            ));
        }
        Err(e) => return Err(Failure::bad_request(format!("error decoding YAML: {e}"))),
    };
    check_type(t, &mut config)?;
    if config["metadata"]["name"].as_str() != Some(name.as_str()) {
        return Err(Failure::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            config["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    let force = ctx.query("force") == Some("true");
    let old = ctx.state.store.get(&k).map(|o| (**o).clone());
    let av = t.api_version();
    let w = writer(ctx, &av, sub);
    let Some(old) = old else {
        if sub.is_some() {
            return Err(Failure::not_found(t, &name));
        }
        // Apply creates: the create path, with the applier's ownership.
        let applied =
            fields::apply(None, &config, &w, force).map_err(|c| Failure::apply_conflicts(&c))?;
        let mut applied = applied;
        let managed = applied["metadata"]["managedFields"].take();
        let body = serde_json::to_vec(&applied).unwrap_or_default();
        let req = crate::matching::ActualRequest {
            body,
            ..ctx.req.clone()
        };
        let mut inner = Ctx {
            state: &mut *ctx.state,
            shared: ctx.shared,
            req: &req,
            now: ctx.now.clone(),
            manager: ctx.manager.clone(),
            cut: false,
        };
        let answer = create(&mut inner, target)?;
        if let Some(mut stored) = inner.state.store.get(&k).map(|o| (**o).clone())
            && !inner.dry_run()
        {
            stored["metadata"]["managedFields"] = managed;
            let stored = inner.state.store.put(k, stored);
            return Ok(ok(201, &output(t, &stored)));
        }
        return Ok(answer);
    };
    let mut new =
        fields::apply(Some(&old), &config, &w, force).map_err(|c| Failure::apply_conflicts(&c))?;
    let managed = new["metadata"]["managedFields"].take();
    new = carry_over(t, sub, &old, new);
    new["metadata"]["managedFields"] = managed;
    if ctx.dry_run() {
        return Ok(ok(200, &output(t, &new)));
    }
    let stored = ctx.state.store.put(k, new);
    Ok(ok(200, &output(t, &stored)))
}

/// Delete options from the query and the body.
struct DeleteOptions {
    grace: Option<i64>,
    policy: String,
    uid: Option<String>,
    rv: Option<String>,
}

fn delete_options(ctx: &Ctx<'_>) -> Result<DeleteOptions, Failure> {
    let body: Value = if ctx.req.body.is_empty() {
        json!({})
    } else {
        ctx.body()?
    };
    let grace = match ctx.query("gracePeriodSeconds") {
        Some(g) => Some(
            g.parse()
                .map_err(|_| Failure::bad_request(format!("invalid gracePeriodSeconds {g:?}")))?,
        ),
        None => body["gracePeriodSeconds"].as_i64(),
    };
    let policy = ctx
        .query("propagationPolicy")
        .or(body["propagationPolicy"].as_str())
        .unwrap_or("Background")
        .to_string();
    if !["Background", "Foreground", "Orphan"].contains(&policy.as_str()) {
        return Err(Failure::bad_request(format!(
            "propagationPolicy {policy:?} is not one of Orphan, Foreground, Background"
        )));
    }
    Ok(DeleteOptions {
        grace,
        policy,
        uid: body["preconditions"]["uid"].as_str().map(str::to_string),
        rv: body["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_string),
    })
}

/// The objects whose `ownerReferences` name `uid`.
fn dependents(ctx: &Ctx<'_>, uid: &str) -> Vec<Key> {
    ctx.state
        .store
        .all()
        .filter(|(_, o)| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// After an object is gone: its dependents go too (background
/// propagation), and emptied terminating namespaces are finalized.
fn after_removal(ctx: &mut Ctx<'_>, gone: &Value) {
    if gone["kind"] == "CustomResourceDefinition"
        && let Some(name) = gone["metadata"]["name"].as_str()
    {
        // Its resource stops being served, and its objects go with it.
        let storage: Vec<String> = ctx
            .state
            .catalog
            .types()
            .filter(|t| t.crd.as_deref() == Some(name))
            .map(ResourceType::storage)
            .collect();
        ctx.state.catalog.remove_crd(name);
        let objects: Vec<Key> = ctx
            .state
            .store
            .all()
            .filter(|(k, _)| storage.contains(&k.0))
            .map(|(k, _)| k.clone())
            .collect();
        for k in objects {
            ctx.state.store.remove(&k);
        }
    }
    if let Some(uid) = gone["metadata"]["uid"].as_str() {
        for k in dependents(ctx, uid) {
            remove(ctx, &k, None);
        }
    }
    if ctx.state.controllers == Controllers::Immediate {
        finalize_namespaces(ctx.state);
    }
}

/// Removes the object at `k` as another client's deletion (the last
/// finalizer gone) would: what depends on it follows.
pub(crate) fn removed_by_another(ctx: &mut Ctx<'_>, k: &Key) {
    if let Some(gone) = ctx.state.store.remove(k) {
        after_removal(ctx, &gone);
    }
}

/// The garbage collector's part of a foreground deletion of the object at
/// `k`: its dependents are deleted, then its `foregroundDeletion`
/// finalizer is lifted (and it goes, if that was the last).
fn collect_in_foreground(ctx: &mut Ctx<'_>, t: &ResourceType, k: &Key) {
    let Some(uid) = ctx.state.store.get(k).map(|o| text(&o["metadata"]["uid"])) else {
        return;
    };
    for dk in dependents(ctx, &uid) {
        remove(ctx, &dk, None);
    }
    let Some(before) = ctx.state.store.get(k).map(|o| (**o).clone()) else {
        return;
    };
    let mut lifted = before.clone();
    if let Some(f) = lifted["metadata"]["finalizers"].as_array_mut() {
        f.retain(|f| f != "foregroundDeletion");
    }
    commit(ctx, t, None, k.clone(), &before, lifted);
}

/// Runs the garbage collector over every object being deleted in the
/// foreground (see [`Controllers::Manual`]).
pub(crate) fn collect_garbage(ctx: &mut Ctx<'_>) {
    let state = &ctx.state;
    let waiting: Vec<(Key, ResourceType)> = state
        .store
        .all()
        .filter(|(_, o)| {
            !o["metadata"]["deletionTimestamp"].is_null()
                && o["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|f| f == "foregroundDeletion"))
        })
        .filter_map(|(k, o)| {
            let t = state
                .catalog
                .by_kind(&text(&o["apiVersion"]), &text(&o["kind"]))?;
            Some((k.clone(), t.clone()))
        })
        .collect();
    for (k, t) in waiting {
        collect_in_foreground(ctx, &t, &k);
    }
}

/// Deletes the object at `k` as the apiserver does: with finalizers it is
/// marked (`deletionTimestamp`) and kept; else it goes. The object as the
/// answer shows it.
fn remove(ctx: &mut Ctx<'_>, k: &Key, grace: Option<i64>) -> Option<Arc<Value>> {
    remove_marked(ctx, k, grace, None)
}

/// [`remove`], adding `finalizer` in the same write (a foreground
/// deletion's `foregroundDeletion`).
fn remove_marked(
    ctx: &mut Ctx<'_>,
    k: &Key,
    grace: Option<i64>,
    finalizer: Option<&str>,
) -> Option<Arc<Value>> {
    let stored = (**ctx.state.store.get(k)?).clone();
    let mut object = stored.clone();
    if let Some(f) = finalizer {
        let list = &mut object["metadata"]["finalizers"];
        if !list.is_array() {
            *list = json!([]);
        }
        let list = list.as_array_mut().expect("an array");
        if !list.iter().any(|x| x == f) {
            list.push(json!(f));
        }
    }
    let has_finalizers = object["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    let mut marked = object.clone();
    if marked["metadata"]["deletionTimestamp"].is_null() {
        marked["metadata"]["deletionTimestamp"] = json!(ctx.now);
        // A kept object, or a deletion given a grace period, records it and
        // moves the generation on (as recorded); an immediate deletion
        // without one does not.
        let grace = if has_finalizers {
            Some(grace.unwrap_or(0))
        } else {
            grace
        };
        if let Some(grace) = grace {
            marked["metadata"]["deletionGracePeriodSeconds"] = json!(grace);
            if let Some(g) = marked["metadata"]["generation"].as_i64() {
                marked["metadata"]["generation"] = json!(g + 1);
            }
        }
    }
    if has_finalizers {
        if marked == stored {
            return ctx.state.store.get(k).cloned();
        }
        return Some(ctx.state.store.put(k.clone(), marked));
    }
    let graceful = k.0 == "/pods";
    if graceful {
        ctx.state.store.put(k.clone(), marked);
    }
    let gone = ctx.state.store.remove(k)?;
    after_removal(ctx, &gone);
    Some(gone)
}

/// `DELETE` of an object.
pub(crate) fn delete(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    if target.sub.is_some() {
        return Err(Failure::not_implemented("deleting a subresource"));
    }
    let t = &target.t;
    let name = target.name.clone().unwrap_or_default();
    let old = current(ctx, target)?;
    let options = delete_options(ctx)?;
    if options
        .uid
        .as_ref()
        .is_some_and(|u| Some(u.as_str()) != old["metadata"]["uid"].as_str())
    {
        return Err(Failure::conflict(t, &name));
    }
    if options
        .rv
        .as_ref()
        .is_some_and(|r| Some(r.as_str()) != old["metadata"]["resourceVersion"].as_str())
    {
        return Err(Failure::conflict(t, &name));
    }
    let k = key(t, target.namespace.as_deref().unwrap_or_default(), &name);
    let success = || {
        let mut details = json!({"name": name, "kind": t.plural, "uid": old["metadata"]["uid"]});
        if !t.group.is_empty() {
            details["group"] = json!(t.group);
        }
        ok(
            200,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
        )
    };
    let keeps = |o: &Value| {
        o["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    };
    if ctx.dry_run() {
        return Ok(if keeps(&old) || t.kind == "Pod" || t.kind == "Namespace" {
            ok(200, &output(t, &old))
        } else {
            success()
        });
    }
    if t.kind == "Namespace" && t.group.is_empty() {
        return Ok(delete_namespace(ctx, t, k, old));
    }
    let uid = old["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match options.policy.as_str() {
        "Orphan" => {
            for dk in dependents(ctx, &uid) {
                if let Some(d) = ctx.state.store.get(&dk) {
                    let mut d = (**d).clone();
                    if let Some(refs) = d["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|r| r["uid"] != uid.as_str());
                    }
                    ctx.state.store.put(dk, d);
                }
            }
        }
        "Foreground" => {
            let shown = remove_marked(ctx, &k, options.grace, Some("foregroundDeletion"))
                .map(|o| (*o).clone());
            if ctx.state.controllers == Controllers::Immediate {
                collect_in_foreground(ctx, t, &k);
            }
            return Ok(ok(200, &output(t, &shown.unwrap_or(old))));
        }
        _ => {}
    }
    let shown = remove(ctx, &k, options.grace)
        .map(|o| (*o).clone())
        .unwrap_or_else(|| old.clone());
    Ok(if keeps(&shown) || t.kind == "Pod" {
        ok(200, &output(t, &shown))
    } else {
        success()
    })
}

/// Deleting a namespace: it turns `Terminating`, what is in it is
/// deleted, and it goes once empty (when the controllers run).
fn delete_namespace(ctx: &mut Ctx<'_>, t: &ResourceType, k: Key, old: Value) -> Answer {
    if old["status"]["phase"] == "Terminating" {
        return ok(200, &output(t, &old));
    }
    let mut marked = old.clone();
    marked["metadata"]["deletionTimestamp"] = json!(ctx.now);
    marked["status"]["phase"] = json!("Terminating");
    let shown = ctx.state.store.put(k.clone(), marked);
    let inside: Vec<Key> = ctx
        .state
        .store
        .all()
        .filter(|(ok, _)| ok.1 == k.2 && ok.0 != "/namespaces")
        .map(|(k, _)| k.clone())
        .collect();
    for ik in inside {
        remove(ctx, &ik, None);
    }
    if ctx.state.controllers == Controllers::Immediate {
        finalize_namespaces(ctx.state);
    }
    ok(200, &output(t, &shown))
}

/// `DELETE` of a collection: every selected object, answered as a list.
pub(crate) fn delete_collection(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    let list = super::reads::listing(ctx, target)?;
    let dry = ctx.dry_run();
    let options = delete_options(ctx)?;
    let mut items = Vec::new();
    for item in list["items"].as_array().into_iter().flatten() {
        let k = key(
            &target.t,
            item["metadata"]["namespace"].as_str().unwrap_or_default(),
            item["metadata"]["name"].as_str().unwrap_or_default(),
        );
        // The answer lists the objects as they were before the deletion.
        if dry || remove(ctx, &k, options.grace).is_some() {
            items.push(item.clone());
        }
    }
    Ok(ok(
        200,
        &json!({"kind": format!("{}List", target.t.kind), "apiVersion": target.t.api_version(),
        "metadata": {"resourceVersion": ctx.state.store.rv().to_string()}, "items": items}),
    ))
}
