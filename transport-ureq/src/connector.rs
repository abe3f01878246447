//! ureq's connection chain with this transport's own TLS step: TCP (or an
//! HTTP proxy's `CONNECT` tunnel), then TLS with [`crate::tls`]'s
//! configuration. ureq's built-in TLS names the server by the URL's host;
//! this step names it by kubeconfig's `tls-server-name` when there is one,
//! as kubectl does (the connection still goes to the URL's host).
//!
//! The step's errors reach ureq as I/O errors that carry the TLS
//! library's refusal, in the handshake and after it (under TLS 1.3 a
//! server refuses a client certificate with an alert on the first read);
//! [`crate::tls::is_refusal`] reads them as TLS errors.

use std::fmt;
use std::io::{Read, Write};

use crate::coarse_timeouts::CoarseTimeouts;
use crate::tls::{Tls, TlsStream};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    TcpConnector, Transport, TransportAdapter,
};

/// The connector chain: proxy `CONNECT` when configured, TCP (its timeouts
/// rounded: [`crate::coarse_timeouts`]), then TLS for `https`.
/// `server` is the API server's authority: kubeconfig's `tls-server-name`
/// names it and no other host (not an `https` proxy on the way).
pub(crate) fn chain(tls: Tls, server: Option<http::uri::Authority>) -> impl Connector<()> {
    ().chain(ConnectProxyConnector::default())
        .chain(TcpConnector::default())
        .chain(CoarseTimeouts)
        .chain(TlsConnector { tls, server })
}

/// Wraps the chained transport in TLS when the URL is `https`.
struct TlsConnector {
    tls: Tls,
    server: Option<http::uri::Authority>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("tls", &self.tls)
            .field("server", &self.server)
            .finish()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            // Nothing before us connected: nothing to wrap.
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        let host = details.uri.host().unwrap_or_default();
        let to_server = details.uri.authority() == self.server.as_ref();
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        let stream = self.tls.connect(host, to_server, sock)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TlsTransport { buffers, stream })))
    }
}

/// A TLS connection as ureq's transport.
pub(crate) struct TlsTransport {
    buffers: LazyBuffers,
    stream: TlsStream,
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport")
            .field("chained", &self.stream.socket_ref().inner())
            .finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.socket().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output).map_err(ureq::Error::Io)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.socket().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input).map_err(ureq::Error::Io)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.socket().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}
