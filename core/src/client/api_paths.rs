//! Which API path serves each resource: found once by the exchange's
//! fallback, remembered per cluster.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::view::{View, ViewItem};

/// Per kind and resource, the index in `api_paths` found to be served.
/// Keyed in two steps so a lookup borrows the view's names instead of
/// building a key.
#[derive(Debug, Default)]
pub(crate) struct ApiPathMemory(Mutex<HashMap<String, HashMap<String, usize>>>);

impl ApiPathMemory {
    fn get<I: ViewItem>(&self, view: &View<I>) -> Option<usize> {
        let memory = self.0.lock().unwrap_or_else(|e| e.into_inner());
        memory
            .get(view.api_resource().kind())?
            .get(view.resource())
            .copied()
    }

    /// The indexes to try, in order: the remembered one, else all.
    pub(crate) fn candidates<I: ViewItem>(&self, view: &View<I>) -> Vec<usize> {
        match self.get(view) {
            Some(i) => vec![i],
            None => (0..view.api_paths().len()).collect(),
        }
    }

    /// Remembers that `index` serves `view`'s resource.
    pub(crate) fn remember<I: ViewItem>(&self, view: &View<I>, index: usize) {
        if self.get(view) == Some(index) {
            return;
        }
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(view.api_resource().kind().to_string())
            .or_default()
            .insert(view.resource().to_string(), index);
    }

    /// The view at the path already found to serve it (or the newest).
    pub(crate) fn resolved<I: ViewItem>(&self, view: &View<I>) -> Result<View<I>> {
        match self.get(view) {
            Some(i) if i > 0 => view.clone().at_api_path(i),
            _ => Ok(view.clone()),
        }
    }
}
