//! Exec, attach and port-forward without IO: the WebSocket handshake and
//! frames (RFC 6455), the Kubernetes channel protocols on top, and a
//! session state machine for each use. Bytes from the server go in with
//! `handle_data`, frames to send come out of `poll_transmit`, and what
//! happened comes out of `poll_event`. Randomness (the handshake key, the
//! masking keys) is the caller's to give.
//!
//! The whole exchange, with the server's bytes written by hand:
//!
//! ```
//! use kubewire::stream::*;
//! let request = http::Request::get("https://10.0.0.1:6443/api/v1/namespaces/demo/pods/web-0/exec?command=date&stdout=true")
//!     .body(bytes::Bytes::new())?;
//! let (mut handshake, request) = Handshake::new(request, [3; 16], &["v5.channel.k8s.io"])?;
//! let _to_send = http1_request(&request);
//! let head = format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//!     Sec-WebSocket-Protocol: v5.channel.k8s.io\r\nSec-WebSocket-Accept: {}\r\n\r\n", accept_for(handshake.key()));
//! let upgraded = handshake.handle_data(head.as_bytes())?.expect("101");
//! let protocol = ChannelProtocol::negotiated(upgraded.protocol.as_deref())?;
//! let mut session = ExecSession::new(WebSocket::new(Masks::new(11), DEFAULT_MAX_MESSAGE), protocol);
//! session.handle_data(&upgraded.leftover)?;
//! session.handle_data(&[0x82, 6, 1, b'T', b'u', b'e', b'\n', b'!'])?;
//! assert_eq!(session.poll_event(), Some(ExecEvent::Stdout("Tue\n!".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod channel;
mod exec;
mod frame;
mod handshake;
mod port_forward;
mod sha1;
mod websocket;

pub use channel::{ChannelProtocol, Exit};
pub use exec::{ExecEvent, ExecSession};
pub use frame::{FrameDecoder, Incoming, Opcode, encode_frame};
pub use handshake::{Handshake, Upgraded, accept_for, http1_request};
pub use port_forward::{PortEvent, PortForwardSession};
pub use websocket::{DEFAULT_MAX_MESSAGE, Masks, Received, WebSocket};

/// What every session on an upgraded connection does with bytes: the
/// server's go in, frames to send come out. [`ExecSession`] and
/// [`PortForwardSession`] are sessions; a driver moves the bytes of any.
pub trait Session {
    /// Takes bytes read from the server.
    fn handle_data(&mut self, data: &[u8]) -> crate::Result<()>;
    /// The server ended the connection.
    fn handle_eof(&mut self) -> crate::Result<()>;
    /// The next frame to write to the server.
    fn poll_transmit(&mut self) -> Option<bytes::Bytes>;
    /// True once the server closed the connection.
    fn is_closed(&self) -> bool;
}

macro_rules! session {
    ($($t:ty),*) => {$(
        impl Session for $t {
            fn handle_data(&mut self, data: &[u8]) -> crate::Result<()> {
                <$t>::handle_data(self, data)
            }
            fn handle_eof(&mut self) -> crate::Result<()> {
                <$t>::handle_eof(self)
            }
            fn poll_transmit(&mut self) -> Option<bytes::Bytes> {
                <$t>::poll_transmit(self)
            }
            fn is_closed(&self) -> bool {
                <$t>::is_closed(self)
            }
        }
    )*};
}
session!(ExecSession, PortForwardSession);
