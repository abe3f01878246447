//! The fake as a transport, with no socket: a blocking
//! [`kubewire::Transport`] and an async [`kubewire::AsyncTransport`]
//! whose watch bodies wake their task when an event arrives.

use std::io::{self, Cursor, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use kubewire::{BoxFuture, RequestKind};

use super::watch::{Next, WatchStream};
use super::{Answer, AnswerBody, FakeApiserver};
use crate::matching::ActualRequest;

/// The body of an in-process answer: whole, or a watch read as its
/// events arrive.
#[derive(Debug)]
pub struct FakeBody(Body);

#[derive(Debug)]
enum Body {
    Full(Cursor<Vec<u8>>),
    Watch {
        stream: Box<WatchStream>,
        /// Bytes produced and not yet read.
        buffer: Cursor<Vec<u8>>,
    },
}

fn cut() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the fake apiserver cut the watch (an injected fault)",
    )
}

impl Read for FakeBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.0 {
            Body::Full(c) => c.read(buf),
            Body::Watch { stream, buffer } => loop {
                let n = buffer.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Ok(n);
                }
                match stream.next_blocking() {
                    Next::Data(d) => *buffer = Cursor::new(d),
                    Next::End { cut: false } => return Ok(0),
                    Next::End { cut: true } => return Err(cut()),
                    Next::Wait => {}
                }
            },
        }
    }
}

impl futures_io::AsyncRead for FakeBody {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().0 {
            Body::Full(c) => Poll::Ready(c.read(buf)),
            Body::Watch { stream, buffer } => loop {
                let n = buffer.read(buf)?;
                if n > 0 || buf.is_empty() {
                    return Poll::Ready(Ok(n));
                }
                match stream.poll_next(cx) {
                    Next::Data(d) => *buffer = Cursor::new(d),
                    Next::End { cut: false } => return Poll::Ready(Ok(0)),
                    Next::End { cut: true } => return Poll::Ready(Err(cut())),
                    Next::Wait => return Poll::Pending,
                }
            },
        }
    }
}

fn actual(request: Request<Bytes>) -> ActualRequest {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    ActualRequest::from_target(parts.method.as_str(), &target, headers, body.to_vec())
}

fn response(answer: Answer) -> kubewire::Result<Response<FakeBody>> {
    let mut builder = Response::builder().status(answer.status);
    for (k, v) in &answer.headers {
        builder = builder.header(k, v);
    }
    let body = match answer.body {
        AnswerBody::Full(b) => FakeBody(Body::Full(Cursor::new(b))),
        AnswerBody::Watch(stream) => FakeBody(Body::Watch {
            stream,
            buffer: Cursor::new(Vec::new()),
        }),
    };
    builder
        .body(body)
        .map_err(|e| kubewire::Error::Protocol(format!("the fake built a bad response: {e}")))
}

impl kubewire::Transport for FakeApiserver {
    type Body = FakeBody;

    fn send(
        &self,
        request: Request<Bytes>,
        _kind: RequestKind,
    ) -> kubewire::Result<Response<FakeBody>> {
        let answer = self.handle(&actual(request));
        if !answer.delay.is_zero() {
            std::thread::sleep(answer.delay);
        }
        response(answer)
    }
}

impl kubewire::AsyncTransport for FakeApiserver {
    type Body = FakeBody;

    fn send(
        &self,
        request: Request<Bytes>,
        _kind: RequestKind,
    ) -> BoxFuture<'_, kubewire::Result<Response<FakeBody>>> {
        let answer = self.handle(&actual(request));
        Box::pin(async move {
            if !answer.delay.is_zero() {
                super::timer::Timer::at(std::time::Instant::now() + answer.delay).await;
            }
            response(answer)
        })
    }
}
