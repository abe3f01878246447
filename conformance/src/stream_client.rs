//! The client side of exec, attach and port-forward scenarios, at the
//! sans-IO level: the core's handshake and sessions driven over a
//! [`kubewire::Tunnel`] the scenario's driver opened, one thread, reading
//! only when the session has nothing to hand over.

use bytes::Bytes;
use kubewire::stream::{
    ChannelProtocol, ExecEvent, ExecSession, Exit, Handshake, Masks, PortEvent, PortForwardSession,
    Session, Upgraded, WebSocket, http1_request,
};
use kubewire::{Error, Result, Tunnel};

use crate::scenario::Ctx;

/// An upgraded connection.
pub struct Upgrade {
    tunnel: Box<dyn Tunnel>,
    /// What the handshake ended with.
    pub upgraded: Upgraded,
}

impl std::fmt::Debug for Upgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upgrade")
            .field("upgraded", &self.upgraded)
            .finish()
    }
}

/// Sends `request` as an upgrade offering `protocols`; the refused answer's
/// decoded error otherwise.
pub fn upgrade(
    cx: &mut Ctx<'_>,
    request: Result<http::Request<Bytes>>,
    protocols: &[&str],
) -> Result<Upgrade> {
    let (mut handshake, request) = Handshake::new(request?, *b"kubewire-confrmc", protocols)?;
    let tunnel = cx.open_tunnel(request.uri());
    tunnel
        .write_all(&http1_request(&request))
        .map_err(|e| Error::Protocol(format!("write the upgrade request: {e}")))?;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tunnel
            .read(&mut buf)
            .map_err(|e| Error::Protocol(format!("read the upgrade answer: {e}")))?;
        if n == 0 {
            return Err(handshake.handle_eof());
        }
        if let Some(upgraded) = handshake.handle_data(&buf[..n])? {
            return Ok(Upgrade { tunnel, upgraded });
        }
    }
}

/// What a client does during an exec, in order, before reading.
#[derive(Clone, Debug)]
pub enum Action {
    /// Write to stdin.
    Stdin(&'static [u8]),
    /// Close stdin.
    CloseStdin,
    /// Resize the terminal.
    Resize(u16, u16),
}

/// What an exec observed.
#[derive(Debug, Default)]
pub struct ExecRun {
    /// Every stdout byte.
    pub stdout: Vec<u8>,
    /// Every stderr byte.
    pub stderr: Vec<u8>,
    /// How many stdout messages came.
    pub stdout_messages: usize,
    /// The exit.
    pub exit: Option<Exit>,
    /// The error that ended the session, if one did.
    pub error: Option<Error>,
}

/// Runs an exec or attach session: the actions, then everything the
/// server says until it closes.
pub fn run_exec(up: Upgrade, actions: &[Action], max_message: usize) -> ExecRun {
    let mut run = ExecRun::default();
    let outcome = (|| {
        let protocol = ChannelProtocol::negotiated(up.upgraded.protocol.as_deref())?;
        let ws = WebSocket::new(Masks::new(0x5eed), max_message);
        let mut session = ExecSession::new(ws, protocol);
        for action in actions {
            match action {
                Action::Stdin(bytes) => session.write_stdin(bytes)?,
                Action::CloseStdin => session.close_stdin()?,
                Action::Resize(w, h) => session.resize(*w, *h)?,
            }
        }
        pump(&up, &mut session, &mut |session| {
            while let Some(event) = session.poll_event() {
                match event {
                    ExecEvent::Stdout(b) => {
                        run.stdout.extend_from_slice(&b);
                        run.stdout_messages += 1;
                    }
                    ExecEvent::Stderr(b) => run.stderr.extend_from_slice(&b),
                    ExecEvent::Exit(exit) => run.exit = Some(exit),
                    ExecEvent::Closed => return Ok(true),
                    _ => {}
                }
            }
            Ok(false)
        })
    })();
    run.error = outcome.err();
    up.tunnel.shutdown();
    run
}

/// What a port-forward observed.
#[derive(Debug, Default)]
pub struct ForwardRun {
    /// Bytes received per port index.
    pub data: Vec<Vec<u8>>,
    /// Error messages per port index.
    pub errors: Vec<String>,
    /// The error that ended the session, if one did.
    pub error: Option<Error>,
}

/// Runs a port-forward: sends each of `send` on port 0 once the echo of
/// the one before is in, then closes (when it sent anything).
pub fn run_port_forward(up: Upgrade, ports: &[u16], send: &[&[u8]]) -> ForwardRun {
    let mut run = ForwardRun {
        data: vec![Vec::new(); ports.len()],
        errors: vec![String::new(); ports.len()],
        error: None,
    };
    let outcome = (|| {
        let protocol = ChannelProtocol::negotiated(up.upgraded.protocol.as_deref())?;
        let ws = WebSocket::new(Masks::new(0xf0f0), 1 << 20);
        let mut session = PortForwardSession::new(ws, protocol, ports)?;
        let (mut sent, mut expected) = (0, 0);
        pump(&up, &mut session, &mut |session| {
            while let Some(event) = session.poll_event() {
                match event {
                    PortEvent::Data { index, bytes } => run.data[index].extend_from_slice(&bytes),
                    PortEvent::Error { index, message } => run.errors[index].push_str(&message),
                    PortEvent::Closed => return Ok(true),
                    _ => {}
                }
            }
            if run.data[0].len() >= expected && sent <= send.len() && !send.is_empty() {
                match send.get(sent) {
                    Some(message) => {
                        session.send(0, message)?;
                        expected += message.len();
                    }
                    None => session.close(),
                }
                sent += 1;
            }
            Ok(false)
        })
    })();
    run.error = outcome.err();
    up.tunnel.shutdown();
    run
}

/// Feeds the leftover, then reads and writes until `events` sees the close
/// (or the stream ends).
fn pump<S: Session>(
    up: &Upgrade,
    session: &mut S,
    events: &mut dyn FnMut(&mut S) -> Result<bool>,
) -> Result<()> {
    let io = |e: std::io::Error| Error::Protocol(format!("tunnel: {e}"));
    let mut buf = vec![0u8; 16 * 1024];
    let mut fed = session.handle_data(&up.upgraded.leftover);
    loop {
        let closed = events(session)?;
        while let Some(frame) = session.poll_transmit() {
            up.tunnel.write_all(&frame).map_err(io)?;
        }
        fed?;
        if closed {
            return Ok(());
        }
        let n = up.tunnel.read(&mut buf).map_err(io)?;
        if n == 0 {
            let eof = session.handle_eof();
            events(session)?;
            return eof;
        }
        fed = session.handle_data(&buf[..n]);
    }
}

/// Closes an upgraded connection whose protocol the client does not speak:
/// sends close 1000 and reads to the server's close.
pub fn close_raw(up: Upgrade) -> Result<()> {
    let mut ws = WebSocket::new(Masks::new(0xc105e), 1 << 16);
    ws.close(1000);
    let io = |e: std::io::Error| Error::Protocol(format!("tunnel: {e}"));
    let mut buf = vec![0u8; 4096];
    let mut fed = ws.handle_data(&up.upgraded.leftover);
    let result = loop {
        while let Some(frame) = ws.poll_transmit() {
            up.tunnel.write_all(&frame).map_err(io)?;
        }
        if let Err(e) = fed {
            break Err(e);
        }
        if ws.is_closed() {
            break Ok(());
        }
        let n = up.tunnel.read(&mut buf).map_err(io)?;
        fed = if n == 0 {
            ws.handle_eof()
        } else {
            ws.handle_data(&buf[..n])
        };
    };
    up.tunnel.shutdown();
    result
}
