//! Namespaces.

use crate::error::Result;
use crate::items::typed::typed_item;

typed_item!(
    /// A Namespace at one resourceVersion.
    Namespace
);

/// `status.phase` of a Namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NamespacePhase {
    /// In use.
    Active,
    /// Being deleted: its content is removed, then the namespace.
    Terminating,
}

impl Namespace {
    /// `status.phase`.
    pub fn phase(&self) -> Result<NamespacePhase> {
        self.fields().choice(
            "status.phase",
            |s| match s {
                "Active" => Some(NamespacePhase::Active),
                "Terminating" => Some(NamespacePhase::Terminating),
                _ => None,
            },
            "Active or Terminating",
        )
    }
}
