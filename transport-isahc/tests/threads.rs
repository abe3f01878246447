//! Fetches start no thread per request (its own test binary, so that no
//! other test's threads are counted).

use kubewire_isahc::IsahcTransport;

#[test]
fn fetches_start_no_thread_per_request() {
    for ids in [
        kubewire_conformance::facade::ids_spent_on_100_fetches::<IsahcTransport>(),
        kubewire_conformance::facade::ids_spent_on_100_fetches::<kubewire::Async<IsahcTransport>>(),
    ]
    .into_iter()
    .flatten()
    {
        // 99 fetches; a thread per request would take at least 99 ids.
        assert!(
            ids < 50,
            "{ids} process/thread ids handed out during 99 fetches"
        );
    }
}
