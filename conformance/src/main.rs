//! `kubewire-conformance serve <fixture-or-dir> [--addr 127.0.0.1:PORT] [--chunking C] [--no-delays]`
//! `kubewire-conformance serve --fake [--addr 127.0.0.1:PORT] [--seed FILE.yaml|FILE.json|FIXTURE.json]...`
//! `kubewire-conformance check-fake [DIR]`
//! `kubewire-conformance record --upstream http://127.0.0.1:8001 --out DIR [--listen 127.0.0.1:PORT] [--name NAME] [--no-redact]`

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kubewire_conformance::fake::{FakeApiserver, check};
use kubewire_conformance::{
    Chunking, Fixture, Recorder, RecorderOptions, ReplayServer, ServeOptions,
};

const USAGE: &str = "usage:
  kubewire-conformance serve <fixture.json | dir> [--addr 127.0.0.1:PORT] [--chunking recorded|whole|N|random:SEED] [--no-delays]
  kubewire-conformance serve --fake [--addr 127.0.0.1:PORT] [--seed objects.yaml | objects.json | fixture.json]...
  kubewire-conformance check-fake [fixtures/recorded]
  kubewire-conformance record --upstream http://127.0.0.1:8001 --out DIR [--listen 127.0.0.1:PORT] [--name NAME] [--no-redact]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") if args.iter().any(|a| a == "--fake") => serve_fake(&args[1..]),
        Some("serve") => serve(&args[1..]),
        Some("check-fake") => check_fake(&args[1..]),
        Some("record") => record(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// Command-line arguments split into positional ones and options.
struct Args<'a> {
    positional: Vec<&'a str>,
    /// `(flag, value)`; switches have an empty value.
    options: Vec<(&'a str, &'a str)>,
}

/// Splits `--flag value` options from positional arguments.
fn options<'a>(args: &'a [String], flags: &[&str], switches: &[&str]) -> Result<Args<'a>, String> {
    let mut positional = Vec::new();
    let mut opts = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if switches.contains(&a.as_str()) {
            opts.push((a.as_str(), ""));
        } else if flags.contains(&a.as_str()) {
            let v = it
                .next()
                .ok_or_else(|| format!("{a} needs a value\n{USAGE}"))?;
            opts.push((a.as_str(), v.as_str()));
        } else if a.starts_with("--") {
            return Err(format!("unknown option {a}\n{USAGE}"));
        } else {
            positional.push(a.as_str());
        }
    }
    Ok(Args {
        positional,
        options: opts,
    })
}

fn addr(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|e| format!("address {value:?}: {e}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let Args {
        positional,
        options: opts,
    } = options(args, &["--addr", "--chunking"], &["--no-delays"])?;
    let [target] = positional.as_slice() else {
        return Err(USAGE.to_string());
    };
    let path = Path::new(target);
    let fixtures = if path.is_dir() {
        Fixture::load_dir(path).map_err(|e| e.to_string())?
    } else {
        vec![Fixture::load(path).map_err(|e| e.to_string())?]
    };
    let mut options = ServeOptions::default();
    for (k, v) in opts {
        match k {
            "--addr" => options.addr = addr(v)?,
            "--chunking" => {
                options.chunking =
                    Chunking::parse(v).ok_or_else(|| format!("bad chunking {v:?}"))?
            }
            _ => options.delays = false,
        }
    }
    let count: usize = fixtures.iter().map(|f| f.exchanges.len()).sum();
    let server = ReplayServer::start_with(fixtures, options).map_err(|e| e.to_string())?;
    println!("{}", server.base_url());
    eprintln!("serving {count} exchange(s); stop with Ctrl-C");
    server.wait();
    Ok(())
}

/// A stateful fake apiserver on loopback, seeded from files.
fn serve_fake(args: &[String]) -> Result<(), String> {
    let Args {
        positional,
        options: opts,
    } = options(args, &["--addr", "--seed"], &["--fake"])?;
    if !positional.is_empty() {
        return Err(USAGE.to_string());
    }
    let fake = FakeApiserver::new();
    let mut address = addr("127.0.0.1:0")?;
    for (k, v) in opts {
        match k {
            "--addr" => address = addr(v)?,
            "--seed" => {
                let text = std::fs::read_to_string(v).map_err(|e| format!("{v}: {e}"))?;
                let as_fixture = Fixture::parse(text.as_bytes(), Path::new(v));
                match as_fixture {
                    // A recording's state, and its other clients' writes
                    // as a client's requests reach them.
                    Ok(f) if text.contains("\"exchanges\"") => {
                        fake.seed_fixture(&f).map(|()| fake.replay_writers(&f))
                    }
                    _ => fake.seed_yaml(&text).map(|()| 0),
                }
                .map_err(|e| format!("{v}: {e}"))?;
            }
            _ => {}
        }
    }
    let fake = fake.listen(address).map_err(|e| e.to_string())?;
    println!("{}", fake.base_url());
    eprintln!("a fake apiserver (kube-apiserver v1.36.2's API, in memory); stop with Ctrl-C");
    loop {
        std::thread::park();
    }
}

/// The differential check of the fake against recordings: prints the table.
fn check_fake(args: &[String]) -> Result<(), String> {
    let dir = args.first().map_or("fixtures/recorded", String::as_str);
    let rows = check::check_dir(Path::new(dir)).map_err(|e| e.to_string())?;
    print!("{}", check::table(&rows));
    if rows.iter().any(|r| !r.differing.is_empty()) {
        return Err("the fake differs from the recordings".into());
    }
    Ok(())
}

fn record(args: &[String]) -> Result<(), String> {
    let Args {
        positional,
        options: opts,
    } = options(
        args,
        &["--upstream", "--out", "--listen", "--name"],
        &["--no-redact"],
    )?;
    if !positional.is_empty() {
        return Err(USAGE.to_string());
    }
    let get = |name: &str| opts.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let upstream = get("--upstream").ok_or_else(|| format!("--upstream is required\n{USAGE}"))?;
    let dir = PathBuf::from(get("--out").ok_or_else(|| format!("--out is required\n{USAGE}"))?);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = get("--name").unwrap_or("recording");
    let mut options = RecorderOptions::new(upstream, dir.join(format!("{name}.json")));
    if let Some(listen) = get("--listen") {
        options.listen = addr(listen)?;
    }
    options.redact = get("--no-redact").is_none();
    let out = options.out.clone();
    let recorder = Recorder::start(options).map_err(|e| e.to_string())?;
    println!("{}", recorder.base_url());
    eprintln!(
        "recording to {} (rewritten after every exchange); stop with Ctrl-C",
        out.display()
    );
    recorder.wait();
    Ok(())
}
