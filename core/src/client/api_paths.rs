//! Which API path serves each resource: found once by the exchange's
//! fallback, remembered per cluster.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::Result;
use crate::view::{View, ViewItem};

/// Per resource, the index in `api_paths` found to be served.
#[derive(Debug, Default)]
pub(crate) struct ApiPathMemory(Mutex<HashMap<String, usize>>);

fn key<I: ViewItem>(view: &View<I>) -> String {
    format!("{}/{}", view.api_resource().kind(), view.resource())
}

impl ApiPathMemory {
    /// The indexes to try, in order: the remembered one, else all.
    pub(crate) fn candidates<I: ViewItem>(&self, view: &View<I>) -> Vec<usize> {
        match self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key(view))
        {
            Some(&i) => vec![i],
            None => (0..view.api_paths().len()).collect(),
        }
    }

    /// Remembers that `index` serves `view`'s resource.
    pub(crate) fn remember<I: ViewItem>(&self, view: &View<I>, index: usize) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key(view), index);
    }

    /// The view at the path already found to serve it (or the newest).
    pub(crate) fn resolved<I: ViewItem>(&self, view: &View<I>) -> Result<View<I>> {
        match self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key(view))
        {
            Some(&i) if i > 0 => view.clone().at_api_path(i),
            _ => Ok(view.clone()),
        }
    }
}
