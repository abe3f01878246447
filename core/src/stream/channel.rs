//! The Kubernetes channel protocols carried over a WebSocket: every message
//! starts with its stream number (a byte, or an ASCII digit in the base64
//! variants), and the error stream ends an exec with its status.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

use crate::error::{Error, Result};
use crate::status::Status;
use crate::stream::frame::Opcode;

/// A channel subprotocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelProtocol {
    /// `v5.channel.k8s.io`: v4, plus closing a stream (`[255, N]`).
    V5,
    /// `v4.channel.k8s.io`: the error stream carries a JSON `Status`;
    /// resize on stream 4.
    V4,
    /// `v4.base64.channel.k8s.io`: v4 in text frames, payloads in base64.
    V4Base64,
    /// `channel.k8s.io` or no subprotocol at all: the error stream is
    /// plain text.
    Legacy,
}

impl ChannelProtocol {
    /// What kubewire offers for exec and attach, in order of preference.
    pub const EXEC_OFFER: &'static [ChannelProtocol] = &[ChannelProtocol::V5, ChannelProtocol::V4];

    /// What kubewire offers for port-forward.
    pub const PORT_FORWARD_OFFER: &'static [ChannelProtocol] = &[ChannelProtocol::V4];

    /// The subprotocol's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            ChannelProtocol::V5 => "v5.channel.k8s.io",
            ChannelProtocol::V4 => "v4.channel.k8s.io",
            ChannelProtocol::V4Base64 => "v4.base64.channel.k8s.io",
            ChannelProtocol::Legacy => "channel.k8s.io",
        }
    }

    /// The protocol a server's choice names (`None` for a choice of none:
    /// [`ChannelProtocol::Legacy`]).
    ///
    /// ```
    /// use kubewire::stream::ChannelProtocol;
    /// assert_eq!(ChannelProtocol::negotiated(Some("v4.channel.k8s.io"))?, ChannelProtocol::V4);
    /// assert_eq!(ChannelProtocol::negotiated(None)?, ChannelProtocol::Legacy);
    /// assert!(ChannelProtocol::negotiated(Some("SPDY/3.1+portforward.k8s.io")).is_err());
    /// # Ok::<(), kubewire::Error>(())
    /// ```
    pub fn negotiated(chosen: Option<&str>) -> Result<ChannelProtocol> {
        Ok(match chosen {
            None | Some("channel.k8s.io") => ChannelProtocol::Legacy,
            Some("v5.channel.k8s.io") => ChannelProtocol::V5,
            Some("v4.channel.k8s.io") => ChannelProtocol::V4,
            Some("v4.base64.channel.k8s.io") => ChannelProtocol::V4Base64,
            Some(other) => {
                return Err(Error::Protocol(format!(
                    "the server chose subprotocol {other:?}, which kubewire does not speak"
                )));
            }
        })
    }

    /// True when the protocol can say "this stream is finished".
    pub fn can_close_streams(self) -> bool {
        self == ChannelProtocol::V5
    }

    /// Frames `payload` for `stream`.
    pub(crate) fn encode(self, stream: u8, payload: &[u8]) -> (Opcode, Vec<u8>) {
        match self {
            ChannelProtocol::V4Base64 => {
                let mut text = vec![b'0' + stream];
                text.extend_from_slice(STANDARD.encode(payload).as_bytes());
                (Opcode::Text, text)
            }
            _ => {
                let mut out = Vec::with_capacity(payload.len() + 1);
                out.push(stream);
                out.extend_from_slice(payload);
                (Opcode::Binary, out)
            }
        }
    }

    /// The stream and payload of a message.
    pub(crate) fn decode(self, opcode: Opcode, message: Bytes) -> Result<(u8, Bytes)> {
        let Some(&first) = message.first() else {
            return Err(Error::Protocol(
                "an empty channel message (no stream number)".into(),
            ));
        };
        match (self, opcode) {
            (ChannelProtocol::V4Base64, Opcode::Text) => {
                if !first.is_ascii_digit() {
                    return Err(Error::Protocol(format!(
                        "a base64 channel message starts with {first:#x}, not a stream digit"
                    )));
                }
                let payload = STANDARD
                    .decode(&message[1..])
                    .map_err(|e| Error::Protocol(format!("a base64 channel message: {e}")))?;
                Ok((first - b'0', payload.into()))
            }
            (ChannelProtocol::V4Base64, _) => Err(Error::Protocol(
                "a binary message on a base64 channel protocol".into(),
            )),
            (_, Opcode::Binary) => Ok((first, message.slice(1..))),
            (_, _) => Err(Error::Protocol(
                "a text message on a binary channel protocol".into(),
            )),
        }
    }
}

/// How a command ended, from the error stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// It exited with code 0.
    Success,
    /// It exited with a nonzero code.
    Code {
        /// The exit code.
        code: i32,
        /// The server's words.
        message: String,
    },
    /// It could not run or the server failed (a command that does not
    /// exist, a container that stopped): the server's reason and words.
    Failure {
        /// The Status `reason` (e.g. `InternalError`; empty for the legacy
        /// protocol's plain text).
        reason: String,
        /// The server's message.
        message: String,
    },
}

impl Exit {
    /// The exit code: 0 for success, the code for a nonzero exit, `None`
    /// when the command did not run to an exit.
    pub fn code(&self) -> Option<i32> {
        match self {
            Exit::Success => Some(0),
            Exit::Code { code, .. } => Some(*code),
            Exit::Failure { .. } => None,
        }
    }

    /// Reads the error stream's content as `protocol` words it.
    ///
    /// ```
    /// use kubewire::stream::{ChannelProtocol, Exit};
    /// let v5 = br#"{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: command terminated with exit code 3","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"3"}]}}"#;
    /// assert_eq!(Exit::from_error_stream(ChannelProtocol::V5, v5).code(), Some(3));
    /// assert_eq!(Exit::from_error_stream(ChannelProtocol::V4, br#"{"status":"Success"}"#), Exit::Success);
    /// let legacy = b"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3";
    /// assert_eq!(Exit::from_error_stream(ChannelProtocol::Legacy, legacy).code(), Some(3));
    /// ```
    pub fn from_error_stream(protocol: ChannelProtocol, content: &[u8]) -> Exit {
        if protocol != ChannelProtocol::Legacy
            && let Ok(status) = serde_json::from_slice::<Status>(content)
        {
            return Exit::from_status(status);
        }
        let text = String::from_utf8_lossy(content).trim().to_string();
        if text.is_empty() {
            return Exit::Success;
        }
        match trailing_exit_code(&text) {
            Some(code) => Exit::Code {
                code,
                message: text,
            },
            None => Exit::Failure {
                reason: String::new(),
                message: text,
            },
        }
    }

    fn from_status(status: Status) -> Exit {
        if status.status == "Success" {
            return Exit::Success;
        }
        if status.reason == "NonZeroExitCode" {
            let code = status
                .details
                .iter()
                .flat_map(|d| &d.causes)
                .find(|c| c.reason == "ExitCode")
                .and_then(|c| c.message.trim().parse().ok())
                .or_else(|| trailing_exit_code(&status.message));
            if let Some(code) = code {
                return Exit::Code {
                    code,
                    message: status.message,
                };
            }
        }
        Exit::Failure {
            reason: status.reason,
            message: status.message,
        }
    }

    /// `Ok` for success, otherwise the [`Error::Exec`] naming the code or
    /// the server's words.
    pub fn into_result(self) -> Result<()> {
        match self {
            Exit::Success => Ok(()),
            Exit::Code { code, message } => Err(Error::Exec {
                code: Some(code),
                reason: "NonZeroExitCode".into(),
                message,
            }),
            Exit::Failure { reason, message } => Err(Error::Exec {
                code: None,
                reason,
                message,
            }),
        }
    }
}

/// `N` from text ending in `exit code N`.
fn trailing_exit_code(text: &str) -> Option<i32> {
    let at = text.rfind("exit code ")?;
    text[at + "exit code ".len()..].trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_garbage() {
        let (opcode, frame) = ChannelProtocol::V4Base64.encode(0, b"hi");
        assert_eq!((opcode, &frame[..]), (Opcode::Text, &b"0aGk="[..]));
        let (stream, payload) = ChannelProtocol::V4Base64
            .decode(Opcode::Text, Bytes::from_static(b"1b3V0Cg=="))
            .unwrap();
        assert_eq!((stream, &payload[..]), (1, &b"out\n"[..]));
        assert!(
            ChannelProtocol::V4Base64
                .decode(Opcode::Text, Bytes::from_static(b"x"))
                .is_err()
        );
        assert!(
            ChannelProtocol::V4Base64
                .decode(Opcode::Text, Bytes::from_static(b"1!!"))
                .is_err()
        );
        assert!(
            ChannelProtocol::V5
                .decode(Opcode::Binary, Bytes::new())
                .is_err()
        );
        assert!(
            ChannelProtocol::V5
                .decode(Opcode::Text, Bytes::from_static(b"1"))
                .is_err()
        );
    }

    #[test]
    fn failures_keep_the_servers_words() {
        let body = br#"{"metadata":{},"status":"Failure","message":"Internal error occurred: Internal error occurred: error executing command in container: not found","reason":"InternalError","code":500}"#;
        let exit = Exit::from_error_stream(ChannelProtocol::V5, body);
        assert_eq!(exit.code(), None);
        let err = exit.into_result().unwrap_err().to_string();
        assert!(
            err.contains("InternalError") && err.contains("not found"),
            "{err}"
        );
        let v4 = br#"{"status":"Failure","message":"error executing command [sh -c exit 2], exit code 2","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"2"}]}}"#;
        let err = Exit::from_error_stream(ChannelProtocol::V4, v4)
            .into_result()
            .unwrap_err();
        assert!(err.to_string().contains("code 2"), "{err}");
        assert_eq!(
            Exit::from_error_stream(ChannelProtocol::Legacy, b""),
            Exit::Success
        );
    }
}
