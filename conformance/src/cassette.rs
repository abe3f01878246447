//! Cassettes: a fixture file that records itself the first time and
//! replays from then on (VCR's "once" record mode).
//!
//! ```no_run
//! use kubewire_conformance::Cassette;
//! // First run: forwards to the apiserver (kubectl proxy) and writes the
//! // file. Every later run: replays it, and fails on any other request.
//! let cassette = Cassette::new("tests/fixtures/my-case.json")?;
//! let url = cassette.base_url();
//! // ... point the code under test at `url` ...
//! cassette.finish()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fixture::Fixture;
use crate::recorder::{Recorder, RecorderOptions};
use crate::relaxed::Matching;
use crate::server::ReplayServer;

/// The variable naming the apiserver a cassette records from (plain
/// `http`, e.g. `kubectl proxy`'s address).
pub const UPSTREAM_VARIABLE: &str = "KUBEWIRE_CASSETTE_UPSTREAM";

/// Where a cassette records from when [`UPSTREAM_VARIABLE`] is not set:
/// `kubectl proxy`'s default address.
pub const DEFAULT_UPSTREAM: &str = "http://127.0.0.1:8001";

/// A fixture file that is recorded when missing and replayed when present.
#[derive(Debug)]
pub struct Cassette {
    path: PathBuf,
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    Replay(ReplayServer),
    Record(Recorder),
}

/// Why a cassette could not start or did not end clean.
#[derive(Debug)]
pub enum CassetteError {
    /// The file exists but is not a valid fixture.
    Fixture(crate::fixture::FixtureError),
    /// The server or recorder could not start, or the file not be written.
    Io(std::io::Error),
    /// The replay differed from the recording: the exact difference (each
    /// unexpected request was answered `599`).
    Mismatch(String),
}

impl fmt::Display for CassetteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CassetteError::Fixture(e) => write!(f, "cassette: {e}"),
            CassetteError::Io(e) => write!(f, "cassette: {e}"),
            CassetteError::Mismatch(m) => write!(f, "cassette replay differed: {m}"),
        }
    }
}

impl std::error::Error for CassetteError {}

impl Cassette {
    /// Replays `path` when it exists; otherwise records into it, from the
    /// apiserver at [`UPSTREAM_VARIABLE`] (or [`DEFAULT_UPSTREAM`]).
    pub fn new(path: impl AsRef<Path>) -> Result<Cassette, CassetteError> {
        let upstream =
            std::env::var(UPSTREAM_VARIABLE).unwrap_or_else(|_| DEFAULT_UPSTREAM.to_string());
        Cassette::with_upstream(path, &upstream)
    }

    /// Like [`Cassette::new`], replaying with relaxed matching: `matching`
    /// applies to every exchange that does not set its own in the file
    /// (say, any order and `limit` not compared, for code that lists
    /// concurrently).
    ///
    /// ```no_run
    /// use kubewire_conformance::{Cassette, Matching};
    /// let relaxed = Matching { any_order: true, ignore_query: vec!["limit".into()], body_subset: true };
    /// let cassette = Cassette::with_matching("tests/fixtures/my-case.json", relaxed)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_matching(
        path: impl AsRef<Path>,
        matching: Matching,
    ) -> Result<Cassette, CassetteError> {
        let upstream =
            std::env::var(UPSTREAM_VARIABLE).unwrap_or_else(|_| DEFAULT_UPSTREAM.to_string());
        Cassette::start(path.as_ref(), &upstream, Some(matching))
    }

    /// Replays `path` when it exists; otherwise records into it from
    /// `upstream` (`http://host:port`), Secret data redacted.
    pub fn with_upstream(
        path: impl AsRef<Path>,
        upstream: &str,
    ) -> Result<Cassette, CassetteError> {
        Cassette::start(path.as_ref(), upstream, None)
    }

    fn start(
        path: &Path,
        upstream: &str,
        matching: Option<Matching>,
    ) -> Result<Cassette, CassetteError> {
        let path = path.to_path_buf();
        let mode = if path.exists() {
            let mut fixture = Fixture::load(&path).map_err(CassetteError::Fixture)?;
            if let Some(m) = matching {
                for e in &mut fixture.exchanges {
                    if e.matching == fixture.matching {
                        e.matching = m.clone();
                    }
                }
                fixture.matching = m;
            }
            Mode::Replay(ReplayServer::start(vec![fixture]).map_err(CassetteError::Io)?)
        } else {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(CassetteError::Io)?;
            }
            let options = RecorderOptions::new(upstream, &path);
            Mode::Record(Recorder::start(options).map_err(CassetteError::Io)?)
        };
        Ok(Cassette { path, mode })
    }

    /// Where the code under test connects: `http://127.0.0.1:PORT/`.
    pub fn base_url(&self) -> String {
        match &self.mode {
            Mode::Replay(server) => server.base_url(),
            Mode::Record(recorder) => recorder.base_url(),
        }
    }

    /// True on the run that records (the file did not exist).
    pub fn is_recording(&self) -> bool {
        matches!(self.mode, Mode::Record(_))
    }

    /// The cassette's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ends the cassette. A recording is written whole; a replay must have
    /// seen exactly the recorded requests, every one of them.
    pub fn finish(self) -> Result<(), CassetteError> {
        match self.mode {
            Mode::Replay(server) => server.finish().map(drop).map_err(CassetteError::Mismatch),
            Mode::Record(recorder) => recorder.stop().map(drop).map_err(CassetteError::Io),
        }
    }
}
