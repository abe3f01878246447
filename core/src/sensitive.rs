//! Values that must never be printed: tokens, passwords, private keys.

use std::fmt;

/// A secret value. `Debug` prints `Sensitive(<redacted>)`; the value is only
/// reachable through [`Sensitive::expose`], so it cannot leak by accident into
/// logs or error messages.
///
/// ```
/// let token = kubewire::config::Sensitive::new("s3cr3t");
/// assert_eq!(format!("{token:?}"), "Sensitive(<redacted>)");
/// assert_eq!(token.expose(), b"s3cr3t");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(Vec<u8>);

impl Sensitive {
    /// Wraps a secret value.
    pub fn new(value: impl Into<Vec<u8>>) -> Sensitive {
        Sensitive(value.into())
    }

    /// The secret bytes. Call this only where the value is sent.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(<redacted>)")
    }
}

impl From<String> for Sensitive {
    fn from(s: String) -> Sensitive {
        Sensitive(s.into_bytes())
    }
}

impl From<&str> for Sensitive {
    fn from(s: &str) -> Sensitive {
        Sensitive(s.as_bytes().to_vec())
    }
}
