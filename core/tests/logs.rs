//! The log line decoder is split-invariant.

use kubewire::request::LineDecoder;
use proptest::prelude::*;

fn lines(stream: &[u8], cuts: &[usize], timestamps: bool) -> Vec<kubewire::model::LogLine> {
    let mut d = LineDecoder::new(timestamps);
    let mut out = Vec::new();
    let mut pos = 0;
    for (i, cut) in cuts.iter().cycle().enumerate() {
        if pos >= stream.len() || i > stream.len() {
            break;
        }
        let end = (pos + cut.max(&1)).min(stream.len());
        out.extend(d.feed(&stream[pos..end]));
        pos = end;
    }
    out.extend(d.feed(&stream[pos.min(stream.len())..]));
    out.extend(d.finish());
    out
}

#[test]
fn every_byte_boundary_gives_the_same_lines() {
    let stream = "2026-11-21T05:00:02.5Z ready ✓ ünïcödé\r\n2026-11-21T05:00:03Z second\nno timestamp here\n\nlast without newline ✓".as_bytes();
    let whole = lines(stream, &[usize::MAX], true);
    assert_eq!(whole.len(), 5);
    assert_eq!(whole[0].text, "ready ✓ ünïcödé");
    assert_eq!(whole[2].timestamp, None);
    assert_eq!(whole[3].text, "");
    for split in 1..stream.len() {
        let mut d = LineDecoder::new(true);
        let mut got = d.feed(&stream[..split]);
        got.extend(d.feed(&stream[split..]));
        got.extend(d.finish());
        assert_eq!(got, whole, "split at {split}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn any_chunking_gives_the_same_lines(text in "(\\PC{0,20}\\n){0,8}\\PC{0,10}", cuts in prop::collection::vec(1usize..9, 1..10)) {
        let bytes = text.as_bytes();
        prop_assert_eq!(lines(bytes, &cuts, false), lines(bytes, &[usize::MAX], false));
    }
}

fn bounded(stream: &[u8], cuts: &[usize], max: usize) -> Vec<kubewire::model::LogLine> {
    let mut d = LineDecoder::with_max_line(true, max);
    let mut out = Vec::new();
    let mut pos = 0;
    for cut in cuts.iter().cycle().take(stream.len() + 1) {
        if pos >= stream.len() {
            break;
        }
        let end = (pos + cut.max(&1)).min(stream.len());
        out.extend(d.feed(&stream[pos..end]));
        pos = end;
    }
    out.extend(d.finish());
    out
}

#[test]
fn a_line_without_end_is_delivered_in_bounded_pieces() {
    // 3 MiB of one line, fed in 64 KiB chunks: pieces of at most 1 MiB,
    // nothing lost, the timestamp on the first piece only.
    let mut stream = b"2026-11-21T05:00:02Z ".to_vec();
    stream.extend(std::iter::repeat_n(b'x', 3 << 20));
    stream.extend(b"\nnext\n");
    let mut d = LineDecoder::new(true);
    let mut got = Vec::new();
    for chunk in stream.chunks(64 << 10) {
        got.extend(d.feed(chunk));
    }
    got.extend(d.finish());
    assert!(
        got.iter()
            .all(|l| l.text.len() <= LineDecoder::DEFAULT_MAX_LINE)
    );
    assert!(got[0].timestamp.is_some() && got[1..].iter().all(|l| l.timestamp.is_none()));
    let total: usize = got[..got.len() - 1].iter().map(|l| l.text.len()).sum();
    assert_eq!(total, (3 << 20) + "2026-11-21T05:00:02Z ".len() - 21);
    assert_eq!(got.last().map(|l| l.text.as_str()), Some("next"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn bounded_pieces_do_not_depend_on_chunking(
        text in "[a-zé✓\n\r ]{0,200}",
        cuts in proptest::collection::vec(1usize..40, 1..8),
        max in 4usize..24,
    ) {
        let whole = bounded(text.as_bytes(), &[usize::MAX], max);
        let split = bounded(text.as_bytes(), &cuts, max);
        prop_assert_eq!(&split, &whole);
        for line in &whole {
            prop_assert!(line.text.len() <= max, "{:?} longer than {}", line.text, max);
        }
        let joined: String = whole.iter().map(|l| l.text.as_str()).collect();
        let expected: String = text.chars().filter(|c| *c != '\n').collect();
        // Nothing lost but the newlines and the CR before them.
        prop_assert_eq!(joined.replace('\r', ""), expected.replace('\r', ""));
    }
}
