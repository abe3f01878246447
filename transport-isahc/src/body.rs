//! The body of an answer on the blocking transport.

use std::io::{self, Read};

use futures_lite::io::BlockOn;

/// The body of an answer on the blocking transport: isahc's async body,
/// each read waiting on the calling thread while libcurl's thread fills it
/// (what isahc's own blocking `Body` does for an answer).
#[derive(Debug)]
pub struct ResponseBody(BlockOn<isahc::AsyncBody>);

impl ResponseBody {
    pub(crate) fn new(body: isahc::AsyncBody) -> ResponseBody {
        ResponseBody(BlockOn::new(body))
    }
}

impl Read for ResponseBody {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}
