//! Every Rust snippet of the README compiles: each stands, line for line,
//! in an example that the build compiles (or, for the tokio timer, in the
//! benchmark workspace's `runtimes` example), or in a test that runs it.

use std::path::Path;

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_readme_snippet_stands_in_a_compiled_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    let homes: Vec<(&str, Vec<String>)> = [
        "transport-ureq/examples/readme.rs",
        "transport-isahc/examples/readme_async.rs",
        "conformance/examples/std_transport.rs",
        "bench/examples/runtimes.rs",
        "transport-ureq/tests/fake_apiserver.rs",
        "transport-isahc/tests/fake_apiserver.rs",
    ]
    .iter()
    .map(|f| {
        (
            *f,
            lines(&std::fs::read_to_string(root.join(f)).expect("example")),
        )
    })
    .collect();
    let mut snippets = 0;
    for block in readme.split("```rust\n").skip(1) {
        let snippet = lines(block.split("```").next().expect("a closed block"));
        snippets += 1;
        let home = homes
            .iter()
            .find(|(_, text)| text.windows(snippet.len()).any(|w| w == snippet.as_slice()));
        assert!(
            home.is_some(),
            "this README snippet is in no compiled example:\n{}",
            snippet.join("\n")
        );
    }
    assert!(
        snippets >= 15,
        "the README's snippets were found ({snippets})"
    );
}
