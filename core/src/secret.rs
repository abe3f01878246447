//! Values that must never be printed: tokens, passwords, private keys.

use std::fmt;

/// A secret value. `Debug` prints `Secret(<redacted>)`; the value is only
/// reachable through [`Secret::expose`], so it cannot leak by accident into
/// logs or error messages.
///
/// ```
/// let token = kubewire::Secret::new("s3cr3t");
/// assert_eq!(format!("{token:?}"), "Secret(<redacted>)");
/// assert_eq!(token.expose(), b"s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Vec<u8>>) -> Secret {
        Secret(value.into())
    }

    /// The secret bytes. Call this only where the value is sent.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s.into_bytes())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.as_bytes().to_vec())
    }
}
