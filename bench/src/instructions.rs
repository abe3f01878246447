//! Instructions per fetch, counted by valgrind's callgrind: the same
//! count for the same binary and inputs however busy the machine is, so
//! what kubewire adds to each client's plain GET shows without the CPU
//! rows' swing. User-space instructions of the whole client process (every
//! thread), not time: the kernel's socket work is not in them.

use std::path::Path;
use std::process::Command;

use crate::loopback::{Fixtures, Server};
use crate::table::Table;

/// The clients counted, as `fetch_loop` names them: each kubewire fetch
/// beside the plain GET on the same client.
const PAIRS: [(&str, &str); 2] = [
    ("kubewire-ureq", "plain-ureq"),
    ("kubewire-isahc", "plain-isahc"),
];

/// Instructions of one child process making `fetches` fetches as
/// `client`, served from `fixtures` (which hold that many).
fn count(fixtures: &Fixtures, client: &str, fetches: usize) -> Option<f64> {
    let server = Server::start(fixtures.fetch());
    let out = Command::new("valgrind")
        .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(std::env::current_exe().ok()?)
        .args(["fetch-loop", client, &server.url, &fetches.to_string()])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let collected = stderr
        .lines()
        .find_map(|l| l.split("Collected : ").nth(1))?;
    out.status.success().then_some(())?;
    collected.trim().parse().ok()
}

/// Per pair, `runs` interleaved counts of `fetches` fetches less one
/// fetch (start-up and the first connection cancel out), per fetch.
/// `None` when valgrind is not installed.
pub fn run(dir: &Path, fetches: usize, runs: usize) -> Option<Table> {
    Command::new("valgrind").arg("--version").output().ok()?;
    let fixtures = |n: usize| Fixtures::write(&dir.join(n.to_string()), n, 1, 1);
    let (many, one) = (fixtures(fetches + 1), fixtures(1));
    let per_fetch = |client: &str| {
        Some((count(&many, client, fetches + 1)? - count(&one, client, 1)?) / fetches as f64 / 1e3)
    };
    let mut t = Table::default();
    for (ours, plain) in PAIRS {
        let (mut a, mut b) = (|| per_fetch(ours), || per_fetch(plain));
        let samples = crate::table::interleaved(runs, &mut [&mut a, &mut b]);
        let collect = |s: &Vec<Option<f64>>| s.iter().copied().collect::<Option<Vec<f64>>>();
        let (ours_k, plain_k) = (collect(&samples[0])?, collect(&samples[1])?);
        t.lower_spread(
            &format!("instructions per fetch, {ours}"),
            "k",
            &ours_k,
            &format!("{plain} GET"),
            &plain_k,
        );
    }
    Some(t)
}

/// Child side: `fetch-loop CLIENT URL N` makes the fetches and exits.
pub fn fetch_loop(args: &[String]) {
    let [client, url, n] = args else {
        panic!("usage: fetch-loop CLIENT URL N");
    };
    let n: usize = n.parse().expect("a count");
    assert_eq!(
        crate::loopback::fetch_loop(client, url, n),
        n,
        "every fetch answered"
    );
}
