//! A port-forward session over `v4.channel.k8s.io`, sans IO: for the i-th
//! port, stream `2i` carries data both ways and `2i+1` the server's errors;
//! the server's first message on each names the port (2 bytes, little
//! endian), the client sends its data without one.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::stream::channel::ChannelProtocol;
use crate::stream::websocket::{Received, WebSocket};

/// What a port-forward session hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortEvent {
    /// Bytes from the pod on the port at `index` in the requested ports.
    Data {
        /// The index of the port in the requested list.
        index: usize,
        /// The bytes (never empty).
        bytes: Bytes,
    },
    /// The server reported an error on that port (e.g. nothing listens).
    Error {
        /// The index of the port in the requested list.
        index: usize,
        /// The server's words.
        message: String,
    },
    /// The connection is closed: nothing more comes.
    Closed,
}

#[derive(Debug, Default)]
struct Stream {
    /// Prefix bytes read so far (the server's first two bytes).
    prefix: Vec<u8>,
}

/// One port-forward session after the handshake.
///
/// ```
/// use kubewire::stream::{ChannelProtocol, Masks, PortEvent, PortForwardSession, WebSocket};
/// let ws = WebSocket::new(Masks::new(5), 1 << 20);
/// let mut session = PortForwardSession::new(ws, ChannelProtocol::V4, &[18080])?;
/// // Port 18080 (0x46A0) named on the data and error streams, then "pong".
/// session.handle_data(&[0x82, 3, 0, 0xA0, 0x46, 0x82, 3, 1, 0xA0, 0x46, 0x82, 5, 0, b'p', b'o', b'n', b'g'])?;
/// assert_eq!(session.poll_event(), Some(PortEvent::Data { index: 0, bytes: "pong".into() }));
/// session.send(0, b"ping")?;
/// assert!(session.poll_transmit().is_some());
/// # Ok::<(), kubewire::Error>(())
/// ```
#[derive(Debug)]
pub struct PortForwardSession {
    ws: WebSocket,
    protocol: ChannelProtocol,
    ports: Vec<u16>,
    streams: Vec<Stream>,
    events: VecDeque<PortEvent>,
}

impl PortForwardSession {
    /// A session forwarding `ports` (in the order of the request's `ports`
    /// query) on a connection that negotiated `protocol`.
    pub fn new(
        ws: WebSocket,
        protocol: ChannelProtocol,
        ports: &[u16],
    ) -> Result<PortForwardSession> {
        if ports.is_empty() || ports.len() > 127 {
            return Err(Error::InvalidInput(format!(
                "port-forward takes 1 to 127 ports, not {}",
                ports.len()
            )));
        }
        if !matches!(protocol, ChannelProtocol::V4 | ChannelProtocol::V4Base64) {
            return Err(Error::Protocol(format!(
                "port-forward needs v4.channel.k8s.io, the server chose {}",
                protocol.name()
            )));
        }
        Ok(PortForwardSession {
            ws,
            protocol,
            ports: ports.to_vec(),
            streams: (0..ports.len() * 2).map(|_| Stream::default()).collect(),
            events: VecDeque::new(),
        })
    }

    /// The forwarded ports.
    pub fn ports(&self) -> &[u16] {
        &self.ports
    }

    /// Takes bytes read from the server.
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
            self.events.push_back(PortEvent::Closed);
        }
        eof
    }

    /// Queues bytes for the port at `index`.
    pub fn send(&mut self, index: usize, data: &[u8]) -> Result<()> {
        if index >= self.ports.len() {
            return Err(Error::InvalidInput(format!("no port at index {index}")));
        }
        let (opcode, message) = self.protocol.encode((index * 2) as u8, data);
        self.ws.send(opcode, &message)
    }

    /// Starts the close handshake: the client ends a port-forward.
    pub fn close(&mut self) {
        self.ws.close(1000);
    }

    /// The next frame to write to the server.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.ws.poll_transmit()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<PortEvent> {
        self.events.pop_front()
    }

    /// True once the server closed the connection.
    pub fn is_closed(&self) -> bool {
        self.ws.is_closed()
    }

    fn drain(&mut self) -> Result<()> {
        while let Some(received) = self.ws.poll_received() {
            let (opcode, message) = match received {
                Received::Message(opcode, message) => (opcode, message),
                Received::Closed(_) => {
                    self.events.push_back(PortEvent::Closed);
                    continue;
                }
            };
            let (stream, mut payload) = self.protocol.decode(opcode, message)?;
            let Some(state) = self.streams.get_mut(usize::from(stream)) else {
                return Err(Error::Protocol(format!(
                    "the server wrote on stream {stream}, beyond the {} forwarded ports",
                    self.ports.len()
                )));
            };
            let index = usize::from(stream) / 2;
            if state.prefix.len() < 2 {
                let take = (2 - state.prefix.len()).min(payload.len());
                state.prefix.extend_from_slice(&payload.split_to(take));
                if state.prefix.len() == 2 {
                    let named = u16::from_le_bytes([state.prefix[0], state.prefix[1]]);
                    if named != self.ports[index] {
                        return Err(Error::Protocol(format!(
                            "the server named port {named} on the stream of port {}",
                            self.ports[index]
                        )));
                    }
                }
            }
            if payload.is_empty() {
                continue;
            }
            self.events.push_back(if stream % 2 == 0 {
                PortEvent::Data {
                    index,
                    bytes: payload,
                }
            } else {
                PortEvent::Error {
                    index,
                    message: String::from_utf8_lossy(&payload).into_owned(),
                }
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::websocket::Masks;

    fn session(ports: &[u16]) -> PortForwardSession {
        PortForwardSession::new(
            WebSocket::new(Masks::new(1), 1 << 16),
            ChannelProtocol::V4,
            ports,
        )
        .unwrap()
    }

    #[test]
    fn errors_name_their_port_and_others_keep_working() {
        let mut s = session(&[1, 80]);
        let mut wire = Vec::new();
        for (stream, port) in [(0u8, 1u16), (1, 1), (2, 80), (3, 80)] {
            let [lo, hi] = port.to_le_bytes();
            wire.extend([0x82, 3, stream, lo, hi]);
        }
        wire.extend([0x82, 5, 1, b'n', b'o', b'p', b'e']);
        wire.extend([0x82, 3, 2, b'o', b'k']);
        s.handle_data(&wire).unwrap();
        assert_eq!(
            s.poll_event(),
            Some(PortEvent::Error {
                index: 0,
                message: "nope".into()
            })
        );
        assert_eq!(
            s.poll_event(),
            Some(PortEvent::Data {
                index: 1,
                bytes: Bytes::from_static(b"ok")
            })
        );
    }

    #[test]
    fn a_wrong_port_prefix_and_a_stray_stream_are_refused() {
        let mut s = session(&[80]);
        assert!(s.handle_data(&[0x82, 3, 0, 81, 0]).is_err());
        let mut s = session(&[80]);
        assert!(s.handle_data(&[0x82, 3, 2, 80, 0]).is_err());
        assert!(
            PortForwardSession::new(WebSocket::new(Masks::new(1), 16), ChannelProtocol::V4, &[])
                .is_err()
        );
    }

    #[test]
    fn a_prefix_split_over_messages_is_joined() {
        let mut s = session(&[0x1234]);
        s.handle_data(&[0x82, 2, 0, 0x34, 0x82, 4, 0, 0x12, b'h', b'i'])
            .unwrap();
        assert_eq!(
            s.poll_event(),
            Some(PortEvent::Data {
                index: 0,
                bytes: Bytes::from_static(b"hi")
            })
        );
    }
}
