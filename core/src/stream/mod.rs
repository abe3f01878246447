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
