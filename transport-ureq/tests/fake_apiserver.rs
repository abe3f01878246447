//! The README's fake-apiserver snippets on ureq, run as tests (checked
//! line for line by `conformance/tests/readme.rs`).

use kubewire_conformance::fake::{FakeApiserver, Fault};

type Failure = Box<dyn std::error::Error>;

#[test]
#[rustfmt::skip] // the README's lines, as they stand there
fn labels_the_web_pods() -> Result<(), Failure> {
    let fake = FakeApiserver::start()?;                            // 127.0.0.1, a free port, in memory
    fake.seed_yaml("apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: demo, labels: {app: web}}\nspec: {containers: [{name: app, image: nginx}]}\n")?;
    let cluster = kubewire_ureq::Cluster::new(&fake.base_url())?;
    for pod in cluster.pods().namespace("demo")?.filter(Some("app=web"), None)?.list()? {
        pod.labels().set("seen", "yes")?;                           // the code under test
    }
    assert_eq!(fake.get("v1", "Pod", "demo", "web-0").unwrap()["metadata"]["labels"]["seen"], "yes");
    fake.inject(Fault::TooManyRequests { retry_after: 1 }, 1);     // the next request answers 429
    assert!(cluster.pods().fetch("web-0", Some("demo")).is_ok());  // the client waited and retried
    Ok(())
}

#[test]
#[rustfmt::skip] // the README's lines, as they stand there
fn in_process() -> Result<(), Failure> {
    let fake = FakeApiserver::new();                               // no socket: the fake is a transport
    let cluster = kubewire::Cluster::with_transport(kubewire::Config::default(), fake.clone());
    let fixture = kubewire_conformance::Fixture::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/recorded/pod-fetch-running.json"))?;
    let replay = kubewire_conformance::SansIoTransport::new(kubewire_conformance::SansIoDriver::new(vec![fixture], kubewire_conformance::Chunking::Fixed(7)));
    let replayed = kubewire::Cluster::with_transport(kubewire::Config::default(), replay);
    assert_eq!(replayed.pods().fetch("web-0", Some("demo"))?.meta().name(), "web-0");
    assert!(cluster.namespaces().fetch("default", None).is_ok());
    Ok(())
}
