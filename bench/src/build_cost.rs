//! Build cost: clean release build time and stripped binary size of small
//! programs that list pods — on each kubewire transport and on kube-rs —
//! and of kubewire's quickstart (which embeds the demo apiserver).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::table::{Table, interleaved, median};

/// A program: its manifest's dependencies and its `main.rs`.
struct Program {
    name: &'static str,
    dependencies: String,
    main: String,
}

/// The program that lists pods on a kubewire transport crate; `features`
/// replace the transport's default features when given.
fn kubewire_program(
    name: &'static str,
    transport: &str,
    path: &str,
    features: Option<&str>,
) -> Program {
    let core = Path::new(path).with_file_name("core").display().to_string();
    let module = transport.replace('-', "_");
    let features = features.map_or(String::new(), |f| {
        format!(", default-features = false, features = [{f:?}]")
    });
    Program {
        name,
        dependencies: format!(
            "kubewire = {{ path = {core:?} }}\n{transport} = {{ path = {path:?}{features} }}\n"
        ),
        main: format!(
            r#"fn main() -> Result<(), kubewire::Error> {{
    let cluster = {module}::Cluster::from_env()?;
    for pod in cluster.pods().iter()? {{
        let pod = pod?;
        println!("{{}}/{{}}", pod.meta().namespace().unwrap_or(""), pod.meta().name());
    }}
    Ok(())
}}
"#
        ),
    }
}

fn programs(root: &Path) -> Vec<Program> {
    let ureq = root.join("transport-ureq").display().to_string();
    let isahc = root.join("transport-isahc").display().to_string();
    vec![
        kubewire_program("list-kubewire-ureq", "kubewire-ureq", &ureq, None),
        kubewire_program(
            "list-kubewire-ureq-native-tls",
            "kubewire-ureq",
            &ureq,
            Some("native-tls"),
        ),
        kubewire_program("list-kubewire-isahc", "kubewire-isahc", &isahc, None),
        Program {
            name: "list-kube-rs",
            dependencies: "kube = { version = \"5.0\", default-features = false, features = [\"client\", \"rustls-tls\", \"ring\"] }\n\
                           k8s-openapi = { version = \"0.29\", features = [\"v1_36\"] }\n\
                           tokio = { version = \"1\", features = [\"rt\", \"macros\"] }\n"
                .to_string(),
            main: r#"use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client, api::ListParams};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), kube::Error> {
    let pods: Api<Pod> = Api::all(Client::try_default().await?);
    for pod in pods.list(&ListParams::default()).await? {
        let meta = pod.metadata;
        println!("{}/{}", meta.namespace.unwrap_or_default(), meta.name.unwrap_or_default());
    }
    Ok(())
}
"#
            .to_string(),
        },
    ]
}

/// Build times (one per round) and stripped size of one binary.
struct Built {
    times: Vec<f64>,
    size: u64,
}

/// Clean builds of each program, interleaved: every round builds every
/// program once, so a busy moment on the machine hits them all alike.
pub const ROUNDS: usize = 5;

/// One program's clean build: where cargo runs, with which arguments,
/// into which target directory, and the binary it makes.
struct Build {
    name: &'static str,
    dir: PathBuf,
    args: Vec<&'static str>,
    target: PathBuf,
    binary: PathBuf,
}

fn stripped_size(binary: &Path) -> u64 {
    let out = binary.with_extension("stripped");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&out)
        .arg(binary)
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "strip {}",
        binary.display()
    );
    std::fs::metadata(&out).expect("stripped binary").len()
}

/// Cargo with the toolchain this benchmark was built with (a dependency's
/// own `rust-toolchain` file must not pick another one).
fn cargo() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.env("RUSTC", Path::new(env!("CARGO")).with_file_name("rustc"));
    cargo
}

fn cargo_release(dir: &Path, args: &[&str], target: &Path) -> Duration {
    let _ = std::fs::remove_dir_all(target);
    let started = Instant::now();
    let status = cargo()
        .current_dir(dir)
        .args(["build", "--release", "--quiet"])
        .args(args)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .expect("cargo");
    assert!(status.success(), "cargo build in {}", dir.display());
    started.elapsed()
}

/// Writes `p`'s package and fetches its dependencies, so that a timed
/// build is only the build; its directory.
fn prepare(work: &Path, p: &Program) -> PathBuf {
    let dir = work.join(p.name);
    std::fs::create_dir_all(dir.join("src")).expect("program dir");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = {:?}\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\n{}\n[profile.release]\ndebug = false\n",
            p.name, p.dependencies
        ),
    )
    .expect("manifest");
    std::fs::write(dir.join("src/main.rs"), &p.main).expect("main.rs");
    let status = cargo()
        .current_dir(&dir)
        .args(["fetch", "--quiet"])
        .status()
        .expect("cargo fetch");
    assert!(status.success(), "cargo fetch for {}", p.name);
    dir
}

/// The version of `package` in a lock file.
fn locked(lock: &Path, package: &str) -> String {
    let text = std::fs::read_to_string(lock).unwrap_or_default();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return v.trim_matches('"').to_string();
        }
    }
    "?".into()
}

/// Builds everything from clean, [`ROUNDS`] times interleaved; returns
/// the table and, per program, (name, median build seconds, stripped MiB).
pub fn run(root: &Path, work: &Path) -> (Table, Vec<(String, f64, f64)>) {
    let mut builds: Vec<Build> = programs(root)
        .iter()
        .map(|p| {
            let dir = prepare(work, p);
            let target = dir.join("target");
            Build {
                name: p.name,
                binary: target.join("release").join(p.name),
                dir,
                args: Vec::new(),
                target,
            }
        })
        .collect();
    let target = work.join("quickstart-target");
    builds.push(Build {
        name: "quickstart (kubewire-ureq on native-tls, embeds the demo server)",
        dir: root.to_path_buf(),
        args: vec!["--bin", "quickstart"],
        binary: target.join("release/quickstart"),
        target,
    });
    let mut runs: Vec<Box<dyn FnMut() -> f64 + '_>> = builds
        .iter()
        .map(|b| {
            Box::new(move || {
                println!("building {} from clean (release)...", b.name);
                cargo_release(&b.dir, &b.args, &b.target).as_secs_f64()
            }) as Box<dyn FnMut() -> f64>
        })
        .collect();
    let mut contenders: Vec<&mut dyn FnMut() -> f64> =
        runs.iter_mut().map(|run| &mut **run as _).collect();
    let times = interleaved(ROUNDS, &mut contenders);
    let built: Vec<(&str, Built)> = builds
        .iter()
        .zip(times)
        .map(|(b, times)| {
            let size = stripped_size(&b.binary);
            (b.name, Built { times, size })
        })
        .collect();
    let (_, kube) = built
        .iter()
        .find(|(name, _)| *name == "list-kube-rs")
        .expect("kube-rs's program");
    let mut t = Table::default();
    let mib = |b: &Built| b.size as f64 / (1024.0 * 1024.0);
    let mut summary = vec![("list-kube-rs".to_string(), median(&kube.times), mib(kube))];
    for (name, b) in built.iter().filter(|(name, _)| *name != "list-kube-rs") {
        t.lower_spread(
            &format!("{name}: clean release build"),
            "s",
            &b.times,
            "list-kube-rs",
            &kube.times,
        );
        t.lower(
            &format!("{name}: stripped binary"),
            "MiB",
            mib(b),
            "list-kube-rs",
            mib(kube),
        );
        summary.push((name.to_string(), median(&b.times), mib(b)));
    }
    let kube_lock = work.join("list-kube-rs/Cargo.lock");
    let ureq_lock = work.join("list-kubewire-ureq/Cargo.lock");
    let isahc_lock = work.join("list-kubewire-isahc/Cargo.lock");
    t.note(
        "versions",
        &format!(
            "ureq {}, isahc {}, serde_json {}",
            locked(&ureq_lock, "ureq"),
            locked(&isahc_lock, "isahc"),
            locked(&ureq_lock, "serde_json")
        ),
        &format!(
            "kube {}, k8s-openapi {}, tokio {}, hyper {}",
            locked(&kube_lock, "kube"),
            locked(&kube_lock, "k8s-openapi"),
            locked(&kube_lock, "tokio"),
            locked(&kube_lock, "hyper")
        ),
    );
    (t, summary)
}

/// Where clean builds happen.
pub fn work_dir(root: &Path) -> PathBuf {
    root.join("bench/target/build-cost")
}
