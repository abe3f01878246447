//! Fetches start no thread per request (its own test binary, so that no
//! other test's threads are counted).

#[test]
fn fetches_start_no_thread_per_request() {
    if let Some(ids) =
        kubewire_conformance::facade::ids_spent_on_100_fetches::<kubewire_ureq::UreqTransport>()
    {
        // 99 fetches; a thread per request would take at least 99 ids.
        assert!(
            ids < 50,
            "{ids} process/thread ids handed out during 99 fetches"
        );
    }
}
