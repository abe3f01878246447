//! The async transport trait: runtime-agnostic (`std::future` and the
//! `futures-io` `AsyncRead`), no tokio required.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

use crate::client::transport::{RequestKind, TransportOptions};
use crate::config::Config;
use crate::error::Result;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An async HTTP transport: like [`crate::Transport`], with a future for
/// the answer and an `AsyncRead` body.
pub trait AsyncTransport: Send + Sync + 'static {
    /// The body of an answer, read as it arrives.
    type Body: futures_io::AsyncRead + Send + Unpin + 'static;

    /// Sends one request.
    fn send(
        &self,
        request: http::Request<Bytes>,
        kind: RequestKind,
    ) -> BoxFuture<'_, Result<http::Response<Self::Body>>>;
}

/// An async transport built from a [`Config`] and [`TransportOptions`].
pub trait AsyncConnect: AsyncTransport + Sized {
    /// A transport for `config`'s server, TLS and credentials.
    fn connect(config: &Config, options: &TransportOptions) -> Result<Self>;
}
