//! kubewire against its baselines and its peer, side by side, as ratios
//! from one run:
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml            # everything
//! cargo run --release --manifest-path bench/Cargo.toml -- decode  # or: decode, loopback, cache, floor, instructions, fake, streams, threads, build
//! cargo run --release --manifest-path bench/Cargo.toml -- soak [SECONDS]  # 1,000 watches, hostile server
//! ```
//!
//! Watch and list decoding (no IO), end to end over loopback against the
//! replay server, and the build cost of a program that lists pods. The
//! data are the pods recorded from a real apiserver.

use std::path::{Path, PathBuf};

mod alloc;
mod build_cost;
mod cache;
mod child;
mod data;
mod decoding;
mod fake;
mod idle_watches;
mod instructions;
mod loopback;
mod soak;
mod streams;
mod table;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [serve, fixture] = args.as_slice()
        && serve == "serve"
    {
        return loopback::serve(Path::new(fixture));
    }
    if args.first().is_some_and(|a| a == "fetch-loop") {
        return instructions::fetch_loop(&args[1..]);
    }
    if args.first().is_some_and(|a| a == "serve-idle") {
        return idle_watches::serve_idle();
    }
    if args.first().is_some_and(|a| a == "serve-hostile") {
        return soak::serve_hostile();
    }
    if let [soak, rest @ ..] = args.as_slice()
        && soak == "soak"
    {
        // `soak [SECONDS]`: 600 by default; not part of the default run.
        let secs = rest.first().and_then(|s| s.parse().ok()).unwrap_or(600);
        return soak::run(1_000, std::time::Duration::from_secs(secs));
    }
    let all = args.is_empty();
    let wants = |s: &str| all || args.iter().any(|a| a == s);
    println!("# kubewire benchmarks (ratio: above 1 means kubewire is ahead)");
    let mut transports: Vec<(String, f64, f64)> = Vec::new();
    if wants("decode") {
        decoding::watch(40_000, 5).print("Watch decoding (no IO)");
        decoding::list(10_000, 5).print("List decoding (no IO)");
    }
    if wants("loopback") {
        let dir = root().join("bench/target/fixtures");
        let (table, summary) = loopback::run(&dir, 2_000, 10_000, 10_000, 5);
        table.print(
            "End to end over loopback (replay server in a child process; 5 interleaved runs)",
        );
        transports = summary;
    }
    if wants("cache") {
        cache::run(&[10_000, 100_000], 5)
            .print("Reflector cache (no IO): kubewire Store against kube-runtime's Store<Pod>");
    }
    if wants("floor") {
        let dir = root().join("bench/target/fixtures");
        loopback::floor(&dir, 2_000, 21).print(
            "Each client's floor: client CPU per fetch of a plain GET, beside the fetch on it (21 interleaved runs)",
        );
    }
    if wants("instructions") {
        let dir = root().join("bench/target/fixtures/instructions");
        match instructions::run(&dir, 200, 5) {
            Some(t) => t.print(
                "What each fetch adds to its client's plain GET, in instructions (callgrind, 200 fetches, 5 interleaved runs)",
            ),
            None => println!("\n(instructions: valgrind is not installed; skipped)"),
        }
    }
    if wants("fake") {
        fake::run(9).print("The testing kit's fake apiserver (9 interleaved runs)");
    }
    if wants("streams") {
        streams::run(5).print("Exec and port-forward");
    }
    if wants("threads") {
        idle_watches::run(1_000, std::time::Duration::from_secs(10));
    }
    if wants("build") {
        let work = build_cost::work_dir(&root());
        let (table, summary) = build_cost::run(&root(), &work);
        table.print("Build cost (clean release builds, stripped binaries)");
        println!("\n## Choosing a transport\n");
        println!(
            "| client | program built | clean release build | stripped binary | fetches/s | watch MB/s |"
        );
        println!("|---|---|---:|---:|---:|---:|");
        // Which program stands for each client's build cost.
        let program = |client: &str| {
            if client.starts_with("kubewire-ureq") {
                "list-kubewire-ureq"
            } else if client.starts_with("kubewire-isahc") {
                "list-kubewire-isahc"
            } else {
                "list-kube-rs"
            }
        };
        for (client, fetches, watch) in &transports {
            let built = summary.iter().find(|(p, _, _)| p == program(client));
            let (build, size) = built.map_or(("-".into(), "-".into()), |(_, b, s)| {
                (format!("{b:.0} s"), format!("{s:.1} MiB"))
            });
            println!(
                "| {client} | {} | {build} | {size} | {fetches:.0} | {watch:.0} |",
                program(client)
            );
        }
    }
}
