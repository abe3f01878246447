//! Iterating a view page by page: a `Stream` on every driver, an
//! `Iterator` on a blocking one.

use std::collections::{HashSet, VecDeque};
use std::task::{Context, Poll};

use crate::client::bound::Bound;
use crate::client::driver::{BoxFuture, Driver};
use crate::client::polled::{Polled, polled};
use crate::client::view::ClusterView;
use crate::error::Result;
use crate::item::Item;
use crate::pager::{PageOutcome, Pager};
use crate::view::{View, ViewItem};

/// One page fetched: the view at the path that served it, the pager, and
/// what the page meant.
type Step<I> = Result<(View<I>, Pager, PageOutcome)>;

/// The items of a view, fetched page by page as iteration goes (see
/// [`ClusterView::iter`]).
pub struct Pages<D: Driver, I> {
    view: ClusterView<D, I>,
    at: Option<(View<I>, Pager)>,
    buffer: VecDeque<Result<Item>>,
    seen: HashSet<(String, String)>,
    done: bool,
    fetching: Option<BoxFuture<'static, Step<I>>>,
}

// No field is structurally pinned: the fetch in flight is boxed.
impl<D: Driver, I> Unpin for Pages<D, I> {}

impl<D: Driver, I> std::fmt::Debug for Pages<D, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<D: Driver, I: ViewItem> Pages<D, I> {
    pub(crate) fn new(view: ClusterView<D, I>) -> Pages<D, I> {
        Pages {
            view,
            at: None,
            buffer: VecDeque::new(),
            seen: HashSet::new(),
            done: false,
            fetching: None,
        }
    }

    /// The fetch of the next page: the first finds the API path that
    /// serves the view, the others follow the pager's continue tokens
    /// (a `410` answer restarts the listing).
    fn next_fetch(&mut self) -> Option<BoxFuture<'static, Step<I>>> {
        let cluster = self.view.cluster().clone();
        let size = self.view.current_page_size();
        match self.at.take() {
            None => {
                let view = self.view.view().clone();
                Some(Box::pin(async move {
                    let (at, answer) = cluster
                        .with_fallback(&view, |v| v.list_request(size, None))
                        .await?;
                    let mut pager = at.pager(size)?;
                    let _ = pager.next_request();
                    let (parts, body) = answer.into_parts();
                    let outcome =
                        pager.handle_response(parts.status.as_u16(), &parts.headers, body)?;
                    Ok((at, pager, outcome))
                }))
            }
            Some((at, mut pager)) => match pager.next_request() {
                None => {
                    self.at = Some((at, pager));
                    None
                }
                Some(request) => Some(Box::pin(async move {
                    let answer = cluster.execute_raw(request?).await?;
                    let (parts, body) = answer.into_parts();
                    let outcome =
                        pager.handle_response(parts.status.as_u16(), &parts.headers, body)?;
                    Ok((at, pager, outcome))
                })),
            },
        }
    }

    fn absorb(&mut self, outcome: PageOutcome) {
        if let PageOutcome::Page(page) = outcome {
            // An object that does not decode is reported where the page
            // ends; iteration goes on with the next page.
            let skipped: Vec<_> = page.skipped().iter().map(|s| s.to_error()).collect();
            for item in page.into_items() {
                let id = (
                    item.meta().uid().to_string(),
                    item.meta().version().to_string(),
                );
                if self.seen.insert(id) {
                    self.buffer.push_back(Ok(item));
                }
            }
            self.buffer.extend(skipped.into_iter().map(Err));
        }
    }

    /// The next item, fetching pages as needed.
    pub(crate) fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bound<D, I>>>> {
        loop {
            if let Some(item) = self.buffer.pop_front() {
                let view = self
                    .at
                    .as_ref()
                    .map_or_else(|| self.view.view().clone(), |(v, _)| v.clone());
                let cluster = self.view.cluster().clone();
                return Poll::Ready(Some(
                    item.and_then(I::from_view_item)
                        .map(|i| Bound::new(cluster, view, i)),
                ));
            }
            if self.done {
                return Poll::Ready(None);
            }
            if self.fetching.is_none() {
                if self.at.as_ref().is_some_and(|(_, p)| p.is_done()) {
                    self.done = true;
                    continue;
                }
                match self.next_fetch() {
                    Some(fetch) => self.fetching = Some(fetch),
                    None => {
                        self.done = true;
                        continue;
                    }
                }
            }
            let Some(fetch) = self.fetching.as_mut() else {
                continue;
            };
            let step = match fetch.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(step) => step,
            };
            self.fetching = None;
            match step {
                Ok((at, pager, outcome)) => {
                    self.at = Some((at, pager));
                    self.absorb(outcome);
                }
                Err(e) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
    }

    /// Every item, stopping at the first error (an object that does not
    /// decode included: iterate to skip past it).
    pub(crate) async fn collect_all(mut self) -> Result<Vec<Bound<D, I>>> {
        let mut items = Vec::new();
        while let Some(item) = std::future::poll_fn(|cx| self.poll_item(cx)).await {
            items.push(item?);
        }
        Ok(items)
    }
}

/// What iterating a view yields.
type PageItem<D, I> = Result<Bound<D, I>>;

impl<D: Driver, I: ViewItem> Polled for Pages<D, I> {
    type Item = PageItem<D, I>;

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pages::poll_item(self, cx)
    }
}

polled!(Pages[I: ViewItem] => PageItem);
