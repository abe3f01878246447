//! Damaged copies of test inputs, for property tests that hold two
//! decoders to the same answers on text that is almost right.

use proptest::prelude::*;

/// `text` with one byte changed, removed or inserted (the byte one of
/// `bytes`), or left as it is.
pub(crate) fn damaged(
    text: impl Strategy<Value = Vec<u8>>,
    bytes: &'static [u8],
) -> impl Strategy<Value = Vec<u8>> {
    (
        text,
        any::<prop::sample::Index>(),
        prop::sample::select(bytes),
        0..4u8,
    )
        .prop_map(|(mut text, at, byte, how)| {
            if !text.is_empty() {
                let i = at.index(text.len());
                match how {
                    0 => text[i] = byte,
                    1 => {
                        text.remove(i);
                    }
                    2 => text.insert(i, byte),
                    _ => {}
                }
            }
            text
        })
}
