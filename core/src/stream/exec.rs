//! An exec or attach session over a channel protocol, sans IO: stdin,
//! resize and close go in; stdout, stderr and the exit come out.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::stream::channel::{ChannelProtocol, Exit};
use crate::stream::websocket::{Received, WebSocket};

/// Stream numbers of the exec channel protocols.
const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const ERROR: u8 = 3;
const RESIZE: u8 = 4;
const CLOSE: u8 = 255;

/// What a session hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExecEvent {
    /// Output on stdout (never empty).
    Stdout(Bytes),
    /// Output on stderr (never empty).
    Stderr(Bytes),
    /// How the command ended.
    Exit(Exit),
    /// The connection is closed: nothing more comes.
    Closed,
}

/// One exec or attach session after the handshake.
///
/// ```
/// use kubewire::stream::{ChannelProtocol, ExecEvent, ExecSession, Exit, Masks, WebSocket};
/// let mut session = ExecSession::new(WebSocket::new(Masks::new(9), 1 << 20), ChannelProtocol::V5);
/// session.write_stdin(b"hi\n")?;
/// session.close_stdin()?;
/// assert_eq!(session.poll_transmit().map(|f| f.len()), Some(2 + 4 + 4)); // masked [0]hi\n
/// // The server: "[1]hi\n", then Success on stream 3, then close 1000.
/// let mut wire = vec![0x82, 4, 1, b'h', b'i', b'\n'];
/// let status = br#"{"metadata":{},"status":"Success"}"#;
/// wire.extend([0x82, status.len() as u8 + 1, 3]);
/// wire.extend(status);
/// wire.extend([0x88, 2, 0x03, 0xE8]);
/// session.handle_data(&wire)?;
/// assert_eq!(session.poll_event(), Some(ExecEvent::Stdout(bytes::Bytes::from_static(b"hi\n"))));
/// assert_eq!(session.poll_event(), Some(ExecEvent::Exit(Exit::Success)));
/// assert_eq!(session.poll_event(), Some(ExecEvent::Closed));
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Debug)]
pub struct ExecSession {
    ws: WebSocket,
    protocol: ChannelProtocol,
    stdin_closed: bool,
    error_stream: Vec<u8>,
    exited: bool,
    events: VecDeque<ExecEvent>,
}

impl ExecSession {
    /// A session on an upgraded connection that negotiated `protocol`.
    pub fn new(ws: WebSocket, protocol: ChannelProtocol) -> ExecSession {
        ExecSession {
            ws,
            protocol,
            stdin_closed: false,
            error_stream: Vec::new(),
            exited: false,
            events: VecDeque::new(),
        }
    }

    /// The negotiated protocol.
    pub fn protocol(&self) -> ChannelProtocol {
        self.protocol
    }

    /// Takes bytes read from the server. An error is a protocol violation
    /// or a close without an exit status; events decoded before it are
    /// still handed over.
    pub fn handle_data(&mut self, data: &[u8]) -> Result<()> {
        let fed = self.ws.handle_data(data);
        let drained = self.drain();
        fed.and(drained)
    }

    /// The server ended the connection.
    pub fn handle_eof(&mut self) -> Result<()> {
        let was_closed = self.ws.is_closed();
        let eof = self.ws.handle_eof();
        if !was_closed {
            self.events.push_back(ExecEvent::Closed);
        }
        eof
    }

    /// Queues bytes for the command's stdin.
    pub fn write_stdin(&mut self, data: &[u8]) -> Result<()> {
        if self.stdin_closed {
            return Err(Error::InvalidInput("stdin is already closed".into()));
        }
        self.send(STDIN, data)
    }

    /// Tells the command its stdin ended (`v5.channel.k8s.io` only; the
    /// older protocols have no way to say it).
    pub fn close_stdin(&mut self) -> Result<()> {
        if !self.protocol.can_close_streams() {
            return Err(Error::InvalidInput(format!(
                "the server chose {}, which cannot close stdin (v5.channel.k8s.io can)",
                self.protocol.name()
            )));
        }
        if !std::mem::replace(&mut self.stdin_closed, true) {
            self.send(CLOSE, &[STDIN])?;
        }
        Ok(())
    }

    /// Tells a tty session its terminal size.
    pub fn resize(&mut self, width: u16, height: u16) -> Result<()> {
        let size = format!(r#"{{"Width":{width},"Height":{height}}}"#);
        self.send(RESIZE, size.as_bytes())
    }

    /// Starts the close handshake (the server normally closes first, once
    /// the command exits).
    pub fn close(&mut self) {
        self.ws.close(1000);
    }

    /// The next frame to write to the server.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.ws.poll_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ExecEvent> {
        self.events.pop_front()
    }

    /// True once the server closed the connection.
    pub fn is_closed(&self) -> bool {
        self.ws.is_closed()
    }

    fn send(&mut self, stream: u8, data: &[u8]) -> Result<()> {
        let (opcode, message) = self.protocol.encode(stream, data);
        self.ws.send(opcode, &message)
    }

    fn drain(&mut self) -> Result<()> {
        while let Some(received) = self.ws.poll_received() {
            match received {
                Received::Message(opcode, message) => {
                    let (stream, payload) = self.protocol.decode(opcode, message)?;
                    match stream {
                        _ if payload.is_empty() && stream != ERROR => {}
                        STDOUT => self.events.push_back(ExecEvent::Stdout(payload)),
                        STDERR => self.events.push_back(ExecEvent::Stderr(payload)),
                        ERROR => self.error_stream.extend_from_slice(&payload),
                        CLOSE => {}
                        other => {
                            return Err(Error::Protocol(format!(
                                "the server wrote on stream {other}, which exec does not have"
                            )));
                        }
                    }
                }
                Received::Closed(_) => {
                    let exit = self.finish();
                    self.events.push_back(ExecEvent::Closed);
                    exit?;
                }
            }
        }
        Ok(())
    }

    /// The exit, once the server closed.
    fn finish(&mut self) -> Result<()> {
        if std::mem::replace(&mut self.exited, true) {
            return Ok(());
        }
        if self.error_stream.is_empty() && self.protocol != ChannelProtocol::Legacy {
            return Err(Error::Protocol(format!(
                "the server closed the {} session without an exit status",
                self.protocol.name()
            )));
        }
        let exit = Exit::from_error_stream(self.protocol, &self.error_stream);
        self.events.push_back(ExecEvent::Exit(exit));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::websocket::Masks;

    fn session(protocol: ChannelProtocol) -> ExecSession {
        ExecSession::new(WebSocket::new(Masks::new(3), 1 << 16), protocol)
    }

    #[test]
    fn a_close_without_status_is_an_error_after_the_output() {
        let mut s = session(ChannelProtocol::V5);
        let err = s
            .handle_data(&[0x82, 2, 1, b'x', 0x88, 2, 0x03, 0xE8])
            .unwrap_err();
        assert!(err.to_string().contains("without an exit status"), "{err}");
        assert_eq!(
            s.poll_event(),
            Some(ExecEvent::Stdout(Bytes::from_static(b"x")))
        );
        assert_eq!(s.poll_event(), Some(ExecEvent::Closed));
    }

    #[test]
    fn v4_cannot_close_stdin_and_unknown_streams_are_refused() {
        let mut s = session(ChannelProtocol::V4);
        assert!(
            s.close_stdin()
                .unwrap_err()
                .to_string()
                .contains("cannot close stdin")
        );
        assert!(s.handle_data(&[0x82, 2, 9, b'x']).is_err());
    }

    #[test]
    fn resize_is_the_servers_json() {
        let mut s = session(ChannelProtocol::V5);
        s.resize(80, 24).unwrap();
        let frame = s.poll_transmit().unwrap();
        let mut payload = frame[6..].to_vec();
        crate::stream::frame::apply_mask(&mut payload, frame[2..6].try_into().unwrap());
        assert_eq!(payload, b"\x04{\"Width\":80,\"Height\":24}");
    }
}
