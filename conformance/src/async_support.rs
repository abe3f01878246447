//! Running async transports and the async facade from the suite: a tiny
//! `block_on` (no runtime), the async transport as a scenario driver, and
//! the async facade checks.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use bytes::Bytes;
use futures_core::Stream;
use futures_io::AsyncRead;
use kubewire::{
    ApiResource, AsyncCluster, AsyncConnect, AsyncTransport, Config, RequestKind, View,
    WatchEventType, WatchStart, WatcherOptions,
};

use crate::driver::{Body, Driver, Response};
use crate::server::{ReplayServer, ServeOptions};
use crate::suite::corpus_fixture;
use crate::transport_driver::Pieces;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on this thread (any executor would do:
/// the async transports bring their own IO threads).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// The next item of a stream, blocking.
pub fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    block_on(poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)))
}

/// Drives scenarios through an async transport.
#[derive(Debug)]
pub struct AsyncTransportDriver<T> {
    name: String,
    config: Arc<Config>,
    transport: Arc<T>,
}

impl<T: AsyncTransport> AsyncTransportDriver<T> {
    /// A driver for the replay server at `base_url`.
    pub fn new(
        name: &str,
        base_url: &str,
        make: impl FnOnce(&Config) -> kubewire::Result<T>,
    ) -> AsyncTransportDriver<T> {
        let config = Config::new(base_url).expect("the replay server's URL is valid");
        let transport = make(&config).expect("the transport builds");
        AsyncTransportDriver {
            name: name.to_string(),
            config: Arc::new(config),
            transport: Arc::new(transport),
        }
    }
}

/// An async body read blocking, so the shared piece reader can use it.
struct BlockingRead<B>(B);

impl<B: AsyncRead + Unpin> std::io::Read for BlockingRead<B> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        block_on(poll_fn(|cx| Pin::new(&mut self.0).poll_read(cx, buf)))
    }
}

impl<T: AsyncTransport> Driver for AsyncTransportDriver<T> {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn config(&self) -> Arc<Config> {
        self.config.clone()
    }

    /// Like libcurl's blocking API, isahc's async answer arrives with the
    /// first body byte.
    fn head_before_body(&self) -> bool {
        false
    }

    fn send_detached(&mut self, request: http::Request<Bytes>) -> Result<(), String> {
        let transport = self.transport.clone();
        std::thread::spawn(move || drop(block_on(transport.send(request, RequestKind::Stream))));
        Ok(())
    }

    fn send(&mut self, request: http::Request<Bytes>) -> Result<Response, String> {
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|p| p == "watch=true"));
        let kind = if watch {
            RequestKind::Stream
        } else {
            RequestKind::Normal
        };
        let transport = self.transport.clone();
        let response = block_on(transport.send(request, kind)).map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: Body::new(Pieces::new(BlockingRead(body))),
        })
    }
}

fn async_quickstart<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    let namespaces = block_on(cluster.namespaces().list()).expect("namespaces");
    let names: Vec<&str> = namespaces.iter().map(|n| n.meta().name()).collect();
    assert_eq!(
        names,
        [
            "default",
            "demo",
            "kube-node-lease",
            "kube-public",
            "kube-system"
        ]
    );
    let replicasets = cluster.replicasets();
    let rs = block_on(replicasets.fetch("auth-v3", Some("demo"))).expect("auth-v3");
    assert_eq!(rs.observed_replicas().expect("observed"), 2);
    let rs2 = block_on(replicasets.set_label(&rs, "mylabel", Some("value"))).expect("labelled");
    assert_ne!(rs.meta().version(), rs2.meta().version());
    let web = cluster
        .pods()
        .namespace("demo")
        .expect("ns")
        .filter(Some("app=web"), None)
        .expect("filter");
    let names: Vec<String> = block_on(web.list())
        .expect("web")
        .iter()
        .map(|p| p.meta().name().to_string())
        .collect();
    assert_eq!(names, ["web-0", "web-1"]);
    let mut stream = cluster
        .pods()
        .namespace("demo")
        .expect("ns")
        .watch()
        .expect("watch from now");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let event = next(&mut stream).expect("an event").expect("no error");
        seen.push(format!("{} {}", event.evtype, event.item.meta().version()));
    }
    assert_eq!(seen, ["ADDED 7771", "MODIFIED 7772", "MODIFIED 7773"]);
    stream.close();
}

fn async_watch<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    let mut options = WatcherOptions::default();
    options.start = WatchStart::Version("7800".into());
    let mut stream = cluster
        .pods()
        .namespace("demo")
        .expect("ns")
        .watch_with(options)
        .expect("watch");
    let mut types = Vec::new();
    while types.len() < 3 {
        let event = next(&mut stream).expect("an event").expect("no error");
        types.push((event.evtype, event.item.meta().version().to_string()));
    }
    assert_eq!(
        types,
        [
            (WatchEventType::Added, "7801".into()),
            (WatchEventType::Modified, "7802".into()),
            (WatchEventType::Modified, "7803".into())
        ]
    );
    stream.close();
    assert!(next(&mut stream).is_none(), "the stream ends once closed");
}

fn async_fallback<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    let resource =
        ApiResource::new("apps", "v2", "Deployment", "deployments", true).expect("valid");
    let view = View::dynamic(cluster.config().clone(), resource)
        .with_api_paths(vec!["apis/apps/v2".into(), "apis/apps/v1".into()])
        .expect("paths")
        .namespace("demo")
        .expect("ns");
    let items = block_on(cluster.view_of(view).list()).expect("apps/v1 answers");
    assert!(!items.is_empty() && items.iter().all(|d| d.api_version() == "apps/v1"));
}

fn async_writes<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    use kubewire::{Patch, WriteParams};
    let pods = cluster.pods().namespace("demo").expect("ns");
    let label = serde_json::json!({"metadata": {"labels": {"mylabel": "value"}}});
    let labelled = block_on(pods.patch(
        "web-1",
        None,
        &Patch::Strategic(label),
        &WriteParams::default(),
    ))
    .expect("patched");
    let plain = block_on(pods.set_metadata(
        &labelled,
        kubewire::MetadataMap::Labels,
        "mylabel",
        None,
        &WriteParams::default(),
    ))
    .expect("removed");
    assert_eq!(plain.meta().labels().get("mylabel"), None);
    let annotated = block_on(pods.patch(
        "web-1",
        None,
        &Patch::Json(serde_json::json!([{"op": "add", "path": "/metadata/annotations", "value": {"note": "hi"}}])),
        &WriteParams::default(),
    ))
    .expect("json patch");
    assert_eq!(
        annotated
            .meta()
            .annotations()
            .get("note")
            .map(String::as_str),
        Some("hi")
    );
    let err = block_on(pods.patch(
        "web-1",
        None,
        &Patch::Json(
            serde_json::json!([{"op": "test", "path": "/metadata/name", "value": "other"}]),
        ),
        &WriteParams::default(),
    ))
    .unwrap_err();
    assert_eq!(err.http_status(), Some(422));
    // Server-side apply through a view, with a conflicting manager.
    let cms = cluster
        .resource_at(ApiResource::new("", "v1", "ConfigMap", "configmaps", true).expect("valid"))
        .namespace("demo")
        .expect("ns");
    let applied = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v1"}});
    block_on(cms.apply(
        applied.clone(),
        &WriteParams::default().field_manager("kubewire"),
    ))
    .expect("applied");
    let mut theirs = applied;
    theirs["data"]["k"] = "v2".into();
    let mut other = WriteParams::default().field_manager("other-tool");
    let err = block_on(cms.apply(theirs.clone(), &other)).unwrap_err();
    assert_eq!(err.http_status(), Some(409));
    other.force = true;
    block_on(cms.apply(theirs, &other)).expect("forced");
}

fn async_scale<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    use kubewire::WriteParams;
    let rs = block_on(cluster.replicasets().scale("auth-v3", Some("demo"))).expect("rs");
    let rc = block_on(
        cluster
            .replicationcontrollers()
            .scale("legacy", Some("demo")),
    )
    .expect("rc");
    let shop = block_on(cluster.deployments().scale("shop", Some("demo"))).expect("shop");
    assert_eq!((rs.replicas(), rc.replicas(), shop.replicas()), (2, 1, 1));
    let shop = block_on(
        cluster
            .deployments()
            .replace_scale(&shop.with_replicas(2), &WriteParams::default()),
    )
    .expect("replaced");
    let rc = block_on(cluster.replicationcontrollers().set_scale(
        "legacy",
        Some("demo"),
        2,
        &WriteParams::default(),
    ))
    .expect("set");
    assert_eq!((shop.replicas(), rc.replicas()), (2, 2));
}

fn async_manifests<T: AsyncConnect + std::fmt::Debug>(cluster: &AsyncCluster<T>) {
    use kubewire::WriteParams;
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n---\n\
                apiVersion: ops.example.com/v1\nkind: Backup\n\
                metadata: {name: nightly, labels: {tier: db}}\nspec: {schedule: \"0 3 * * *\", retain: 7}\n";
    let created =
        block_on(cluster.create_all(yaml, Some("demo"), &WriteParams::default())).expect("created");
    assert_eq!(created.len(), 2);
    let applied = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\ndata: {k: v1}\n---\n\
                   apiVersion: ops.example.com/v1\nkind: Backup\n\
                   metadata: {name: nightly, labels: {tier: db}}\nspec: {schedule: \"0 3 * * *\", retain: 7}\n";
    let applied = block_on(cluster.apply_all(
        applied,
        Some("demo"),
        &WriteParams::default().field_manager("kubewire"),
    ))
    .expect("applied");
    assert_eq!(applied[1].item().kind(), "Backup");
    let backups = block_on(cluster.discover("ops.example.com/v1", "Backup")).expect("cached");
    assert_eq!(backups.plural(), "backups");
}

/// Async facade checks over transport `T`; returns the failures.
pub fn run_async_facade<T: AsyncConnect + std::fmt::Debug>(name: &str) -> Vec<String> {
    type AsyncCheck<T> = (
        &'static str,
        &'static [&'static str],
        fn(&AsyncCluster<T>),
        bool,
    );
    let checks: Vec<AsyncCheck<T>> = vec![
        (
            "async-quickstart",
            &["seed-quickstart"],
            async_quickstart::<T>,
            true,
        ),
        ("async-watch", &["pods-watch"], async_watch::<T>, true),
        (
            "async-fallback",
            &["api-fallback"],
            async_fallback::<T>,
            true,
        ),
        ("async-writes", &["patch-types"], async_writes::<T>, true),
        (
            "async-scale",
            &["scale-subresource"],
            async_scale::<T>,
            true,
        ),
        (
            "async-manifests",
            &["manifests-multi-document"],
            async_manifests::<T>,
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (check, fixtures, run, all_consumed) in checks {
        let server = ReplayServer::start_with(
            fixtures.iter().map(|f| corpus_fixture(f)).collect(),
            ServeOptions::default(),
        )
        .expect("server");
        let cluster = AsyncCluster::<T>::new(&server.base_url()).expect("cluster");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&cluster)));
        drop(cluster);
        let report = server.stop();
        let clean = report.failures.is_empty() && (!all_consumed || report.unconsumed.is_empty());
        match outcome {
            Ok(()) if clean => {}
            Ok(()) => failures.push(format!(
                "async {check} [{name}]: replay not clean\n{report}"
            )),
            Err(p) => failures.push(format!(
                "async {check} [{name}]: {}\n{report}",
                crate::suite::panic_text(p.as_ref())
            )),
        }
    }
    failures
}
