//! What an exec, attach or port-forward request asks for.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::query::Query;

/// Options of a pod `exec`: the command, the container, which streams to
/// open, and whether to allocate a terminal.
///
/// ```
/// let mut params = kubewire::ExecParams::command(["sh", "-c", "echo hi"]);
/// params.container = Some("app".into());
/// params.raise_on_error = true; // a nonzero exit is an Error::Exec
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecParams {
    /// The command and its arguments (not run through a shell).
    pub command: Vec<String>,
    /// The container; required when the pod has several.
    pub container: Option<String>,
    /// Open stdin.
    pub stdin: bool,
    /// Open stdout (default on).
    pub stdout: bool,
    /// Open stderr (default on; never with `tty`, whose output is one stream).
    pub stderr: bool,
    /// Allocate a terminal.
    pub tty: bool,
    /// Make a nonzero exit (or a command that could not run) an error
    /// ([`crate::Error::Exec`]) rather than an [`crate::stream::Exit`] to read.
    pub raise_on_error: bool,
    /// Give up (and close the session) after this long.
    pub timeout: Option<Duration>,
}

impl ExecParams {
    /// Runs `command` with stdout and stderr open.
    pub fn command<S: Into<String>>(command: impl IntoIterator<Item = S>) -> ExecParams {
        ExecParams {
            command: command.into_iter().map(Into::into).collect(),
            container: None,
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
            raise_on_error: false,
            timeout: None,
        }
    }

    pub(crate) fn to_query(&self, q: &mut Query) -> Result<()> {
        if self.command.is_empty() {
            return Err(Error::InvalidInput("exec needs a command".into()));
        }
        for arg in &self.command {
            q.push("command", arg.as_str());
        }
        streams_to_query(
            q,
            self.container.as_deref(),
            [self.stdin, self.stdout, self.stderr && !self.tty, self.tty],
        )
    }
}

/// Options of a pod `attach`: the container and which streams to open.
///
/// ```
/// let mut params = kubewire::AttachParams::default();
/// params.container = Some("main".into());
/// params.stdin = true;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AttachParams {
    /// The container; required when the pod has several.
    pub container: Option<String>,
    /// Open stdin.
    pub stdin: bool,
    /// Open stdout (default on).
    pub stdout: bool,
    /// Open stderr (default on; never with `tty`).
    pub stderr: bool,
    /// The container runs with a terminal.
    pub tty: bool,
}

impl Default for AttachParams {
    fn default() -> AttachParams {
        AttachParams {
            container: None,
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
        }
    }
}

impl AttachParams {
    pub(crate) fn to_query(&self, q: &mut Query) -> Result<()> {
        streams_to_query(
            q,
            self.container.as_deref(),
            [self.stdin, self.stdout, self.stderr && !self.tty, self.tty],
        )
    }
}

fn streams_to_query(q: &mut Query, container: Option<&str>, flags: [bool; 4]) -> Result<()> {
    if let Some(c) = container {
        crate::segment::check_name(c)?;
        q.push("container", c);
    }
    for (name, on) in ["stdin", "stdout", "stderr", "tty"].into_iter().zip(flags) {
        q.push_flag(name, on);
    }
    Ok(())
}

/// The `ports` of a port-forward request, one pair per port, in order.
pub(crate) fn ports_to_query(q: &mut Query, ports: &[u16]) -> Result<()> {
    if let Some(zero) = ports.iter().find(|p| **p == 0) {
        return Err(Error::InvalidInput(format!(
            "port {zero} cannot be forwarded"
        )));
    }
    for port in ports {
        q.push("ports", port.to_string());
    }
    Ok(())
}
