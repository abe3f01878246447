//! Blocking transport for kubewire on `ureq` — not implemented yet.
//!
//! The transport lands with the transports issue; until then this crate
//! only re-exports the core so the workspace layout is in place.

pub use kubewire;
