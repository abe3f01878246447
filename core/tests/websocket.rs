//! The WebSocket frame decoder and the exec session on arbitrary bytes and
//! arbitrary chunkings: never a panic, never more held than the message
//! bound, and the same messages whatever the chunking and fragmentation.

use bytes::Bytes;
use kubewire::stream::{
    ChannelProtocol, ExecEvent, ExecSession, FrameDecoder, Incoming, Masks, Opcode, WebSocket,
    encode_frame,
};
use proptest::prelude::*;

/// An unmasked server frame.
fn server_frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let opcode = Opcode::from_bits(opcode).expect("a defined opcode");
    encode_frame(opcode, fin, payload, None, &mut out);
    out
}

/// Feeds `bytes` in pieces of the given sizes (cycled), checking the bound
/// after each; returns what was decoded and the first error.
fn feed(bytes: &[u8], sizes: &[usize], max: usize) -> (Vec<Incoming>, Option<String>) {
    let mut decoder = FrameDecoder::new(max);
    let mut found = Vec::new();
    let (mut pos, mut i) = (0, 0);
    while pos < bytes.len() {
        let n = sizes[i % sizes.len()].max(1).min(bytes.len() - pos);
        let fed = decoder.feed(&bytes[pos..pos + n], &mut |m| found.push(m));
        assert!(
            decoder.buffered() <= max + 14,
            "{} bytes held, bound {max}",
            decoder.buffered()
        );
        if let Err(e) = fed {
            return (found, Some(e.to_string()));
        }
        pos += n;
        i += 1;
    }
    (found, None)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_nor_exceed_the_bound(
        bytes in proptest::collection::vec(any::<u8>(), 0..4096),
        sizes in proptest::collection::vec(1usize..300, 1..8),
        max in 1usize..2048,
    ) {
        let _ = feed(&bytes, &sizes, max);
    }

    #[test]
    fn messages_survive_any_fragmentation_and_chunking(
        messages in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..700), 1usize..5), 1..12),
        pings in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..4),
        sizes in proptest::collection::vec(1usize..200, 1..8),
    ) {
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        for (k, (binary, payload, pieces)) in messages.iter().enumerate() {
            // Text messages carry UTF-8, as the protocol requires.
            let payload: Vec<u8> = if *binary {
                payload.clone()
            } else {
                String::from_utf8_lossy(payload).into_owned().into_bytes()
            };
            let opcode = if *binary { 2 } else { 1 };
            let step = payload.len().div_ceil(*pieces).max(1);
            let parts: Vec<&[u8]> = if payload.is_empty() {
                vec![&[]]
            } else {
                payload.chunks(step).collect()
            };
            for (j, part) in parts.iter().enumerate() {
                let op = if j == 0 { opcode } else { 0 };
                wire.extend(server_frame(op, j + 1 == parts.len(), part));
                // A ping may come between the fragments of a message.
                if let Some(ping) = pings.get(k + j)
                    && j + 1 < parts.len()
                {
                    wire.extend(server_frame(9, true, ping));
                }
            }
            let op = if *binary { Opcode::Binary } else { Opcode::Text };
            expected.push(Incoming::Message(op, Bytes::from(payload)));
        }
        let (found, error) = feed(&wire, &sizes, 1 << 16);
        prop_assert!(error.is_none(), "{error:?}");
        let messages: Vec<Incoming> =
            found.into_iter().filter(|m| matches!(m, Incoming::Message(..))).collect();
        prop_assert_eq!(messages, expected);
    }

    #[test]
    fn an_exec_session_reads_output_the_same_at_any_chunking(
        outputs in proptest::collection::vec((1u8..3, proptest::collection::vec(any::<u8>(), 0..300)), 0..10),
        sizes in proptest::collection::vec(1usize..100, 1..6),
    ) {
        let mut wire = Vec::new();
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        for (stream, bytes) in &outputs {
            let mut payload = vec![*stream];
            payload.extend_from_slice(bytes);
            wire.extend(server_frame(2, true, &payload));
            if *stream == 1 { stdout.extend_from_slice(bytes) } else { stderr.extend_from_slice(bytes) }
        }
        let status = br#"{"metadata":{},"status":"Success"}"#;
        wire.extend(server_frame(2, true, &[&[3u8][..], status].concat()));
        wire.extend(server_frame(8, true, &1000u16.to_be_bytes()));
        let mut session = ExecSession::new(WebSocket::new(Masks::new(1), 1 << 16), ChannelProtocol::V5);
        let (mut pos, mut i) = (0, 0);
        while pos < wire.len() {
            let n = sizes[i % sizes.len()].min(wire.len() - pos);
            session.handle_data(&wire[pos..pos + n]).unwrap();
            pos += n;
            i += 1;
        }
        let (mut out, mut err, mut exit, mut closed) = (Vec::new(), Vec::new(), None, false);
        while let Some(event) = session.poll_event() {
            match event {
                ExecEvent::Stdout(b) => out.extend_from_slice(&b),
                ExecEvent::Stderr(b) => err.extend_from_slice(&b),
                ExecEvent::Exit(e) => exit = Some(e),
                ExecEvent::Closed => closed = true,
                _ => {}
            }
        }
        prop_assert_eq!(out, stdout);
        prop_assert_eq!(err, stderr);
        prop_assert_eq!(exit.and_then(|e| e.code()), Some(0));
        prop_assert!(closed);
        // The close is echoed.
        prop_assert!(session.poll_transmit().is_some_and(|f| f[0] == 0x88));
    }
}

#[test]
fn a_frame_announcing_more_than_the_bound_is_refused_before_its_payload() {
    let mut header = vec![0x82, 127];
    header.extend_from_slice(&(64u64 << 20).to_be_bytes());
    let (found, error) = feed(&header, &[3], 1 << 20);
    assert!(found.is_empty());
    assert!(error.unwrap().contains("the bound is 1048576"));
}
