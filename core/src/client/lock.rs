//! Locking state shared between the facade and its helper threads or
//! tasks: every update leaves it whole, so a panic elsewhere while it was
//! held does not make it unusable.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// `m`'s guard, poisoned or not.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
