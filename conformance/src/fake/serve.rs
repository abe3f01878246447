//! The fake on a loopback socket: HTTP/1.1 with keep-alive, whole answers
//! with `content-length`, watches chunked one write per batch of events.

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use super::watch::Next;
use super::{AnswerBody, FakeApiserver};
use crate::http1::{self, Framing, ReadError, Wire};
use crate::matching::ActualRequest;

/// Serves one connection until it closes or the fake stops.
pub(crate) fn connection(stream: TcpStream, fake: &FakeApiserver) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let Ok(mut wire) = Wire::new(stream) else {
        return;
    };
    let stop = fake.shared.stop.clone();
    loop {
        let head = match wire.read_request_head(&stop) {
            Ok(h) => h,
            Err(ReadError::Malformed(m)) => return refuse(&mut wire, &m),
            Err(_) => return,
        };
        let body = match http1::framing(&head.headers, Framing::Length(0)) {
            Some(Framing::Close) | None => {
                return refuse(&mut wire, "bad content-length or transfer-encoding");
            }
            Some(framing) => match wire.read_body(framing, &stop) {
                Ok(b) => b,
                Err(ReadError::Malformed(m)) => return refuse(&mut wire, &m),
                Err(_) => return,
            },
        };
        let close = http1::header(&head.headers, "connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let request = ActualRequest::from_target(&head.method, &head.target, head.headers, body);
        let answer = fake.handle(&request);
        if !answer.delay.is_zero() {
            std::thread::sleep(answer.delay);
        }
        let mut headers = answer.headers;
        let kept = match answer.body {
            AnswerBody::Full(bytes) => {
                if answer.status != 204 {
                    headers.push(("content-length".into(), bytes.len().to_string()));
                }
                let s = wire.stream();
                http1::write_head(s, answer.status, &headers)
                    .and_then(|()| s.write_all(&bytes))
                    .and_then(|()| s.flush())
                    .is_ok()
            }
            AnswerBody::Watch(mut stream) => {
                headers.push(("transfer-encoding".into(), "chunked".into()));
                let s = wire.stream();
                let mut ok = http1::write_head(s, answer.status, &headers)
                    .and_then(|()| s.flush())
                    .is_ok();
                while ok {
                    match stream.next_blocking() {
                        Next::Data(d) => ok = http1::write_chunk(wire.stream(), &d).is_ok(),
                        Next::End { cut: false } => {
                            ok = http1::write_last_chunk(wire.stream()).is_ok();
                            break;
                        }
                        Next::End { cut: true } | Next::Wait => ok = false,
                    }
                }
                ok
            }
        };
        if !kept || close {
            let _ = wire.stream().shutdown(Shutdown::Both);
            return;
        }
    }
}

/// A request that cannot be read: `400` and close.
fn refuse(wire: &mut Wire, message: &str) {
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": "BadRequest", "code": 400})
    .to_string();
    let headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("content-length".to_string(), body.len().to_string()),
        ("connection".to_string(), "close".to_string()),
    ];
    let s = wire.stream();
    let _ = http1::write_head(s, 400, &headers).and_then(|()| s.write_all(body.as_bytes()));
    let _ = s.shutdown(Shutdown::Both);
}
