//! Exec and attach through the facade: a command's output captured whole,
//! or an interactive session — written once for every driver.

use std::future::poll_fn;
use std::io::{Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;

use crate::client::driver::{BoxFuture, Driver, now, read_error};
use crate::client::lifecycle::Stop;
use crate::client::link::{Link, random_u64};
use crate::client::polled::{Polled, polled};
use crate::client::view::ClusterView;
use crate::error::{Error, Result, TransportErrorKind};
use crate::items::pod::Pod;
use crate::stream::{
    ChannelProtocol, DEFAULT_MAX_MESSAGE, ExecEvent, ExecSession, Exit, Masks, WebSocket,
};
use crate::stream_params::{AttachParams, ExecParams};

/// The largest stdin message sent at once.
const STDIN_MESSAGE: usize = 32 * 1024;

/// What a command printed and how it ended. Output is bytes: decoding it
/// as text is the caller's choice.
///
/// ```
/// # fn demo(output: kubewire::client::ExecOutput) {
/// let text = String::from_utf8_lossy(&output.stdout);
/// if output.exit_code() != Some(0) { eprintln!("{}", String::from_utf8_lossy(&output.stderr)); }
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExecOutput {
    /// Everything written to stdout (with a terminal: all output).
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
    /// How the command ended.
    pub exit: Exit,
}

impl ExecOutput {
    /// The exit code (`None` when the command could not run).
    pub fn exit_code(&self) -> Option<i32> {
        self.exit.code()
    }
}

/// An exec or attach session: write stdin as you go, read output as it
/// arrives (`next()`: an `Iterator` on a blocking transport, a `Stream` on
/// an async one), resize the terminal, close stdin and still read the
/// rest, then the [`Exit`].
///
/// ```no_run
/// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
/// use kubewire::stream::ExecEvent;
/// let mut params = kubewire::ExecParams::command(["cat"]);
/// params.stdin = true;
/// let mut session = cluster.pods().exec_session("web-0", Some("demo"), &params)?;
/// session.write(b"hello\n")?;
/// session.close_stdin()?;
/// for event in &mut session {
///     match event? {
///         ExecEvent::Stdout(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
///         ExecEvent::Exit(exit) => println!("exit code {:?}", exit.code()),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Attached<D: Driver> {
    link: Link,
    session: ExecSession,
    stop: Arc<Stop>,
    driver: Arc<D>,
    deadline: Option<Instant>,
    timer: Option<BoxFuture<'static, ()>>,
    /// An error that ended the session, handed over after the events
    /// decoded before it.
    error: Option<Error>,
    ended: bool,
}

impl<D: Driver> Unpin for Attached<D> {}

impl<D: Driver> std::fmt::Debug for Attached<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("protocol", &self.session.protocol())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<D: Driver> ClusterView<D, Pod> {
    /// Runs a command in a pod and captures its output (lightkube's
    /// `exec`). With `params.raise_on_error`, a nonzero exit (or a command
    /// that could not run) is an [`Error::Exec`].
    pub fn exec<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a ExecParams,
    ) -> D::Call<'a, Result<ExecOutput>> {
        D::call(self.run_exec(name, namespace, params.clone(), None))
    }

    /// Runs a command with `stdin` as its input (closed after it, on
    /// `v5.channel.k8s.io`), and captures its output.
    pub fn exec_with_input<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a ExecParams,
        stdin: &'a [u8],
    ) -> D::Call<'a, Result<ExecOutput>> {
        let mut params = params.clone();
        params.stdin = true;
        D::call(self.run_exec(name, namespace, params, Some(stdin)))
    }

    /// Runs a command to its end: `stdin` written then closed (an open
    /// stdin with no input is closed at once).
    async fn run_exec(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: ExecParams,
        stdin: Option<&[u8]>,
    ) -> Result<ExecOutput> {
        let mut session = self.open_exec(name, namespace, &params).await?;
        session.send_stdin(stdin.unwrap_or_default()).await?;
        session.end_stdin(params.stdin).await?;
        session.collect(params.raise_on_error).await
    }

    /// Runs a command with its stdin read from `stdin` (then closed) and
    /// its output written to `stdout` and `stderr` as it arrives; returns
    /// how it ended. Output keeps flowing while stdin is being sent, so a
    /// command that answers as it reads never stalls.
    ///
    /// ```no_run
    /// # fn demo(cluster: kubewire::Cluster<impl kubewire::Transport + std::fmt::Debug>) -> kubewire::Result<()> {
    /// let mut params = kubewire::ExecParams::command(["gzip", "-c"]);
    /// let mut input = std::fs::File::open("data.txt").expect("input");
    /// let mut output = std::fs::File::create("data.txt.gz").expect("output");
    /// let exit = cluster.pods().exec_streaming("web-0", Some("demo"), &params,
    ///     Some(&mut input), &mut output, &mut std::io::stderr())?;
    /// # Ok(()) }
    /// ```
    pub fn exec_streaming<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a ExecParams,
        stdin: Option<&'a mut (dyn Read + Send)>,
        stdout: &'a mut (dyn Write + Send),
        stderr: &'a mut (dyn Write + Send),
    ) -> D::Call<'a, Result<Exit>> {
        D::call(async move {
            let mut params = params.clone();
            params.stdin |= stdin.is_some();
            let mut session = self.open_exec(name, namespace, &params).await?;
            let mut sink = Sink {
                stdout,
                stderr,
                exit: None,
            };
            if let Some(input) = stdin {
                let mut buf = vec![0u8; STDIN_MESSAGE];
                loop {
                    let n = input.read(&mut buf).map_err(|e| read_error("stdin", &e))?;
                    if n == 0 {
                        break;
                    }
                    session.session.write_stdin(&buf[..n])?;
                    poll_fn(|cx| session.poll_send_draining(cx, &mut sink)).await?;
                }
                session.end_stdin(true).await?;
            }
            session.drain_into(&mut sink, params.raise_on_error).await
        })
    }

    /// Starts a command and hands over the session.
    pub fn exec_session<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a ExecParams,
    ) -> D::Call<'a, Result<Attached<D>>> {
        D::call(self.open_exec(name, namespace, params))
    }

    /// Attaches to a running container's process.
    pub fn attach<'a>(
        &'a self,
        name: &'a str,
        namespace: Option<&'a str>,
        params: &'a AttachParams,
    ) -> D::Call<'a, Result<Attached<D>>> {
        D::call(async move {
            let request = self
                .view()
                .object_endpoint(namespace)?
                .attach(name, params)?;
            self.open_session(request, None).await
        })
    }

    async fn open_exec(
        &self,
        name: &str,
        namespace: Option<&str>,
        params: &ExecParams,
    ) -> Result<Attached<D>> {
        let request = self.view().object_endpoint(namespace)?.exec(name, params)?;
        self.open_session(request, params.timeout.map(|t| now().0 + t))
            .await
    }

    async fn open_session(
        &self,
        request: http::Request<Bytes>,
        deadline: Option<Instant>,
    ) -> Result<Attached<D>> {
        let offer: Vec<&str> = ChannelProtocol::EXEC_OFFER
            .iter()
            .map(|p| p.name())
            .collect();
        let cluster = self.cluster();
        let (link, upgraded) = cluster.upgrade(request, &offer).await?;
        let protocol = ChannelProtocol::negotiated(upgraded.protocol.as_deref())?;
        let ws = WebSocket::new(Masks::new(random_u64()), DEFAULT_MAX_MESSAGE);
        let mut session = ExecSession::new(ws, protocol);
        let error = Link::feed_leftover(&mut session, &upgraded).err();
        Ok(Attached {
            link,
            session,
            stop: cluster.life().stream(),
            driver: cluster.driver().clone(),
            deadline,
            timer: None,
            error,
            ended: false,
        })
    }
}

impl<D: Driver> Attached<D> {
    /// The channel protocol the server chose.
    pub fn protocol(&self) -> ChannelProtocol {
        self.session.protocol()
    }

    /// Writes to the command's stdin (the request must have asked for
    /// stdin).
    pub fn write<'a>(&'a mut self, data: &'a [u8]) -> D::Call<'a, Result<()>> {
        D::call(self.send_stdin(data))
    }

    /// Ends the command's stdin; its output can still be read
    /// (`v5.channel.k8s.io` only, which kubewire offers first).
    pub fn close_stdin(&mut self) -> D::Call<'_, Result<()>> {
        D::call(self.send_close_stdin())
    }

    /// Tells a terminal session its size.
    pub fn resize(&mut self, width: u16, height: u16) -> D::Call<'_, Result<()>> {
        D::call(async move {
            self.session.resize(width, height)?;
            self.flush().await
        })
    }

    /// Reads the rest of the session: all output and the exit (with
    /// `raise_on_error`, a failure is an [`Error::Exec`]).
    pub fn finish(mut self, raise_on_error: bool) -> D::Call<'static, Result<ExecOutput>> {
        D::call(async move { self.collect(raise_on_error).await })
    }

    /// Closes the session (the command keeps running if it does not read
    /// stdin's end; the server decides).
    pub fn close(&mut self) -> D::Call<'_, Result<()>> {
        D::call(async move {
            self.session.close();
            self.flush().await
        })
    }

    async fn send_stdin(&mut self, data: &[u8]) -> Result<()> {
        for chunk in data.chunks(STDIN_MESSAGE) {
            self.session.write_stdin(chunk)?;
            self.flush().await?;
        }
        Ok(())
    }

    /// Closes an open stdin where the protocol can say so; on older
    /// servers (`v4.channel.k8s.io`) the command sees no end of input, as
    /// with kubectl against them (`params.timeout` bounds such a run).
    async fn end_stdin(&mut self, open: bool) -> Result<()> {
        if open && self.session.protocol().can_close_streams() {
            self.send_close_stdin().await?;
        }
        Ok(())
    }

    async fn send_close_stdin(&mut self) -> Result<()> {
        self.session.close_stdin()?;
        self.flush().await
    }

    async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.link.poll_send(&mut self.session, cx)).await
    }

    async fn collect(&mut self, raise_on_error: bool) -> Result<ExecOutput> {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut sink = Sink {
            stdout: &mut stdout,
            stderr: &mut stderr,
            exit: None,
        };
        let exit = self.drain_into(&mut sink, raise_on_error).await?;
        Ok(ExecOutput {
            stdout,
            stderr,
            exit,
        })
    }

    /// Hands every event to `sink` until the session ends; the exit (with
    /// `raise_on_error`, a failure is an [`Error::Exec`]).
    async fn drain_into(&mut self, sink: &mut Sink<'_>, raise_on_error: bool) -> Result<Exit> {
        while let Some(event) = poll_fn(|cx| self.poll_item(cx)).await {
            sink.take(event?)?;
        }
        let exit = sink.exit.take().ok_or_else(|| {
            Error::Protocol("the session ended without the command's exit".into())
        })?;
        if raise_on_error {
            exit.clone().into_result()?;
        }
        Ok(exit)
    }

    /// Sends what the session queued, handing output to `sink` while the
    /// connection has no room.
    fn poll_send_draining(
        &mut self,
        cx: &mut Context<'_>,
        sink: &mut Sink<'_>,
    ) -> Poll<Result<()>> {
        loop {
            if let Poll::Ready(sent) = self.link.poll_send(&mut self.session, cx) {
                return Poll::Ready(sent);
            }
            match self.poll_item(cx) {
                Poll::Ready(Some(event)) => sink.take(event?)?,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// True once the deadline passed (then the session is closed).
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        let driver = &self.driver;
        let timer = self
            .timer
            .get_or_insert_with(|| driver.sleep_until(deadline));
        timer.as_mut().poll(cx).is_ready()
    }
}

/// A session dropped before its end says goodbye: a close frame (1000),
/// sent by the writer before it lets the connection go.
impl<D: Driver> Drop for Attached<D> {
    fn drop(&mut self) {
        if !self.ended && !self.session.is_closed() {
            self.session.close();
            let _ = self.link.poll_send(
                &mut self.session,
                &mut Context::from_waker(std::task::Waker::noop()),
            );
        }
    }
}

/// Where a session's output goes: the caller's writers
/// ([`ClusterView::exec_streaming`]) or buffers ([`Attached::finish`]).
struct Sink<'a> {
    stdout: &'a mut (dyn Write + Send),
    stderr: &'a mut (dyn Write + Send),
    exit: Option<Exit>,
}

impl Sink<'_> {
    fn take(&mut self, event: ExecEvent) -> Result<()> {
        let written = match event {
            ExecEvent::Stdout(b) => self.stdout.write_all(&b).and_then(|()| self.stdout.flush()),
            ExecEvent::Stderr(b) => self.stderr.write_all(&b).and_then(|()| self.stderr.flush()),
            ExecEvent::Exit(exit) => {
                self.exit = Some(exit);
                Ok(())
            }
            ExecEvent::Closed => Ok(()),
        };
        written.map_err(|e| read_error("writing the command's output", &e))
    }
}

impl<D: Driver> Polled for Attached<D> {
    type Item = Result<ExecEvent>;

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<ExecEvent>>> {
        loop {
            if let Poll::Ready(Err(e)) = self.link.poll_send(&mut self.session, cx) {
                self.error.get_or_insert(e);
            }
            match self.session.poll_event() {
                Some(ExecEvent::Closed) => self.ended = true,
                Some(event) => return Poll::Ready(Some(Ok(event))),
                None => {}
            }
            if let Some(e) = self.error.take() {
                self.ended = true;
                return Poll::Ready(Some(Err(e)));
            }
            if self.ended || self.link.is_ended() {
                self.ended = true;
                return Poll::Ready(None);
            }
            if self.stop.is_stopped() {
                self.ended = true;
                return Poll::Ready(Some(Err(Error::Closed)));
            }
            if self.poll_deadline(cx) {
                self.session.close();
                let _ = self.link.poll_send(&mut self.session, cx);
                self.ended = true;
                return Poll::Ready(Some(Err(Error::Transport {
                    kind: TransportErrorKind::Timeout,
                    message: "the exec session ran past its timeout".into(),
                })));
            }
            self.stop.park(cx.waker());
            match self.link.poll_receive(&mut self.session, cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => self.error = Some(e),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

polled!(Attached => Result<ExecEvent>);
