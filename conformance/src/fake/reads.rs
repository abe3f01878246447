//! The reading verbs: discovery, get (with the `scale` and `log`
//! subresources), list (selectors, pagination, `resourceVersion`) and
//! watch.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::route::{Route, Target};
use super::selector::{FieldSelector, LabelSelector};
use super::status::Failure;
use super::verbs::{Ctx, empty, key, ok, output};
use super::watch::{Filter, WatchStream, expired_line};
use super::{Answer, AnswerBody, version_document};

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// `/version`, `/api`, `/apis`, `/apis/GROUP`, `/api/v1`, `/apis/GROUP/VERSION`.
pub(crate) fn discovery(ctx: &Ctx<'_>, route: Route) -> Answer {
    let catalog = &ctx.state.catalog;
    let aggregated = ctx
        .req
        .header("accept")
        .is_some_and(|a| a.contains("as=APIGroupDiscoveryList") && a.contains("v=v2"));
    let mut answer = match route {
        Route::Version => return ok(200, &version_document()),
        Route::Api if aggregated => ok(200, &catalog.aggregated(true)),
        Route::Apis if aggregated => ok(200, &catalog.aggregated(false)),
        Route::Api => return ok(200, &catalog.api_versions()),
        Route::Apis => return ok(200, &catalog.group_list()),
        Route::Group(g) => return ok(200, &catalog.group(&g)),
        Route::GroupVersion(g, v) => return ok(200, &catalog.resource_list(&g, &v)),
        Route::Resource(_) => return Answer::failure(Failure::page_not_found()),
    };
    answer.headers = vec![("content-type".into(), AGGREGATED.into())];
    answer
}

/// The object the target names, or its `404`.
pub(crate) fn current(ctx: &Ctx<'_>, target: &Target) -> Result<Value, Failure> {
    let name = target.name.as_deref().unwrap_or_default();
    let ns = target.namespace.as_deref().unwrap_or_default();
    ctx.state
        .store
        .get(&key(&target.t, ns, name))
        .map(|o| (**o).clone())
        .ok_or_else(|| Failure::not_found(&target.t, name))
}

/// The `Scale` view of an object (`autoscaling/v1`).
pub(crate) fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let selector = &object["spec"]["selector"];
    let labels = selector.get("matchLabels").unwrap_or(selector);
    let selector: Vec<String> = labels
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    let mut m = json!({"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
        "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]});
    if meta["namespace"].is_null() {
        m.as_object_mut().map(|m| m.remove("namespace"));
    }
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": m,
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": {"replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector.join(",")}})
}

/// `GET` of an object or one of its subresources.
pub(crate) fn get(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    let object = current(ctx, target)?;
    match target.sub.as_deref() {
        None | Some("status") => Ok(ok(200, &output(&target.t, &object))),
        Some("scale") => Ok(ok(200, &scale_of(&object))),
        // A pod no node runs has no logs yet: the recorded answer is 204.
        Some("log") if object["spec"]["nodeName"].is_null() => Ok(empty(204)),
        Some(sub) => Err(Failure::not_implemented(&format!(
            "the {}/{sub} subresource (there is no kubelet or controller behind it)",
            target.t.plural
        ))),
    }
}

/// The selectors of a list or watch, or the apiserver's `400`.
fn selectors(ctx: &Ctx<'_>, target: &Target) -> Result<(LabelSelector, FieldSelector), Failure> {
    let labels = LabelSelector::parse(ctx.query("labelSelector").unwrap_or_default())
        .map_err(Failure::bad_request)?;
    let fields = FieldSelector::parse(
        ctx.query("fieldSelector").unwrap_or_default(),
        &target.t.kind,
    )
    .map_err(Failure::bad_request)?;
    Ok((labels, fields))
}

fn number(ctx: &Ctx<'_>, name: &str) -> Result<Option<u64>, Failure> {
    match ctx.query(name) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Failure::bad_request(format!("invalid value for {name}: {v:?}"))),
    }
}

/// A continue token: the version the list is read at and the key after
/// which it resumes, in the apiserver's shape.
fn token(rv: i64, start: &str) -> String {
    let start = Value::String(format!("{start}\u{0}"));
    URL_SAFE_NO_PAD.encode(format!(
        r#"{{"v":"meta.k8s.io/v1","rv":{rv},"start":{start}}}"#
    ))
}

fn read_token(text: &str) -> Result<(i64, String), Failure> {
    let bad = || Failure::bad_request(format!("continue key is not valid: {text:?}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| bad())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let rv = doc["rv"].as_i64().ok_or_else(bad)?;
    let start = doc["start"].as_str().ok_or_else(bad)?;
    Ok((rv, start.trim_end_matches('\u{0}').to_string()))
}

fn position(object: &Value) -> String {
    format!(
        "{}/{}",
        object["metadata"]["namespace"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// `GET` of a collection.
pub(crate) fn list(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    Ok(ok(200, &listing(ctx, target)?))
}

/// The list a collection `GET` answers (selectors, `limit`/`continue`,
/// `resourceVersion`), also what a delete-collection deletes.
pub(crate) fn listing(ctx: &Ctx<'_>, target: &Target) -> Result<Value, Failure> {
    let (labels, fields) = selectors(ctx, target)?;
    let limit = number(ctx, "limit")?.filter(|&l| l > 0);
    let requested = number(ctx, "resourceVersion")?.filter(|&rv| rv > 0);
    let exact = ctx.query("resourceVersionMatch") == Some("Exact")
        || (limit.is_some() && ctx.query("resourceVersionMatch").is_none());
    let (mut at, start) = match ctx.query("continue").filter(|c| !c.is_empty()) {
        Some(c) => {
            let (rv, start) = read_token(c)?;
            (u64::try_from(rv).ok(), Some(start))
        }
        None => (requested.filter(|_| exact), None),
    };
    let store = &ctx.state.store;
    if at.is_some_and(|rv| rv < store.oldest()) && start.is_some() {
        let mut body = Failure::expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.".into());
        if let Some(b) = body.body.as_mut() {
            b["metadata"] = json!({"continue": token(-1, start.as_deref().unwrap_or_default())});
        }
        return Err(body);
    }
    let snapshot = store
        .list(&target.t.storage(), target.namespace.as_deref(), at)
        .map_err(|c| {
            Failure::expired(format!(
                "too old resource version: {} ({})",
                at.unwrap_or_default(),
                c.oldest
            ))
        })?;
    let rv = *at.get_or_insert(store.rv());
    let mut matching = snapshot
        .iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .filter(|o| start.as_ref().is_none_or(|s| position(o) > *s));
    let custom = target.t.crd.is_some();
    let mut items = Vec::new();
    for o in matching
        .by_ref()
        .take(limit.map_or(usize::MAX, |l| l as usize))
    {
        let mut item = (**o).clone();
        if custom {
            item = output(&target.t, &item);
        } else if let Some(m) = item.as_object_mut() {
            m.remove("kind");
            m.remove("apiVersion");
        }
        items.push(item);
    }
    let remaining = matching.count();
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if remaining > 0 {
        let last = items.last().map(position).unwrap_or_default();
        metadata["continue"] = json!(token(rv as i64, &last));
        if ctx.query("labelSelector").is_none_or(str::is_empty)
            && ctx.query("fieldSelector").is_none_or(str::is_empty)
        {
            metadata["remainingItemCount"] = json!(remaining);
        }
    } else if custom {
        metadata["continue"] = json!("");
    }
    Ok(
        json!({"kind": format!("{}List", target.t.kind), "apiVersion": target.t.api_version(),
            "metadata": metadata, "items": items}),
    )
}

/// `GET ?watch=true`.
pub(crate) fn watch(ctx: &mut Ctx<'_>, target: &Target) -> Result<Answer, Failure> {
    let (labels, fields) = selectors(ctx, target)?;
    // 0, like no value, leaves the watch open (the apiserver then picks its
    // own limit; the fake has none).
    let timeout = number(ctx, "timeoutSeconds")?
        .filter(|&t| t > 0)
        .map(std::time::Duration::from_secs);
    let bookmarks = ctx.query("allowWatchBookmarks") == Some("true");
    let initial_events = ctx.query("sendInitialEvents") == Some("true");
    let requested = number(ctx, "resourceVersion")?.filter(|&rv| rv > 0);
    let filter = Filter {
        storage: target.t.storage(),
        namespace: target.namespace.clone(),
        labels,
        fields,
        api_version: target.t.api_version(),
        kind: target.t.kind.clone(),
        bookmarks,
    };
    let store = &ctx.state.store;
    let mut initial = Vec::new();
    let cursor = match requested {
        Some(rv) if !initial_events => {
            if rv < store.oldest() {
                initial.push(expired_line(rv, store.oldest()));
                let filter = Filter {
                    bookmarks: false,
                    ..filter
                };
                let stream = WatchStream::new(
                    ctx.shared.clone(),
                    filter,
                    rv,
                    initial,
                    Some(Default::default()),
                    false,
                );
                return Ok(watch_answer(stream));
            }
            rv
        }
        _ => {
            let objects = store
                .list(&filter.storage, filter.namespace.as_deref(), None)
                .unwrap_or_default();
            for o in objects.iter().filter(|o| filter.matches(o)) {
                initial.push(filter.line("ADDED", o));
            }
            if initial_events && bookmarks {
                initial.push(filter.bookmark(store.rv(), true));
            }
            store.rv()
        }
    };
    let stream = WatchStream::new(
        ctx.shared.clone(),
        filter,
        cursor,
        initial,
        timeout,
        ctx.cut,
    );
    Ok(watch_answer(stream))
}

fn watch_answer(stream: WatchStream) -> Answer {
    Answer {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: AnswerBody::Watch(Box::new(stream)),
        delay: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_read_back_and_look_like_the_apiservers() {
        let t = token(7774, "demo/auth-v3-2ll8m");
        assert!(
            t.starts_with("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Nzc3NC"),
            "{t}"
        );
        assert_eq!(
            read_token(&t).unwrap(),
            (7774, "demo/auth-v3-2ll8m".to_string())
        );
        assert!(read_token("not a token").is_err());
    }
}
