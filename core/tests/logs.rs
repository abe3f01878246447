//! The log line decoder is split-invariant.

use kubewire::LineDecoder;
use proptest::prelude::*;

fn lines(stream: &[u8], cuts: &[usize], timestamps: bool) -> Vec<kubewire::LogLine> {
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
