//! The README's async fake-apiserver snippet on isahc, run as a test
//! (checked line for line by `conformance/tests/readme.rs`).

use kubewire::Driver;
use kubewire_conformance::fake::FakeApiserver;

type Failure = Box<dyn std::error::Error + Send + Sync>;

#[rustfmt::skip] // the README's lines, as they stand there
async fn scales_the_shop() -> Result<(), Failure> {
    let fake = FakeApiserver::start()?;
    fake.seed_yaml("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop, namespace: demo}\nspec: {replicas: 1, selector: {matchLabels: {app: shop}}}\n")?;
    let cluster = kubewire_isahc::AsyncCluster::new(&fake.base_url())?;
    let shop = cluster.resource("apps/v1", "Deployment").await?.fetch("shop", Some("demo")).await?;
    shop.set_scale(3, &kubewire::WriteParams::default()).await?;       // the code under test
    assert_eq!(fake.get("apps/v1", "Deployment", "demo", "shop").unwrap()["spec"]["replicas"], 3);
    let scale = cluster.resource("apps/v1", "Deployment").await?.scale("shop", Some("demo")).await?;
    assert_eq!(scale.replicas(), 3);                                       // read back through /scale
    cluster.close();
    Ok(())
}

#[test]
fn async_on_the_clients_own_executor() {
    let outcome =
        <kubewire::Async<kubewire_isahc::IsahcTransport> as Driver>::wait(Box::pin(async {
            scales_the_shop().await.map_err(|e| e.to_string())
        }));
    assert_eq!(outcome, Ok(()));
}
