//! Re-chunking bodies: the same bytes split at other boundaries.

use crate::fixture::Chunk;

/// How a body is split into pieces before it reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunking {
    /// The boundaries recorded in the fixture.
    Recorded,
    /// The whole body in one piece.
    Whole,
    /// Pieces of exactly this many bytes (the last may be shorter).
    Fixed(usize),
    /// Pieces of 1 to `max` bytes, sizes drawn from a generator seeded
    /// with `seed` (the same seed always gives the same split).
    Random {
        /// The generator's seed.
        seed: u64,
        /// The largest piece.
        max: usize,
    },
}

impl Chunking {
    /// The chunkings every scenario runs with in the sans-IO runner.
    pub const SANS_IO: [Chunking; 6] = [
        Chunking::Recorded,
        Chunking::Whole,
        Chunking::Fixed(1),
        Chunking::Fixed(2),
        Chunking::Fixed(7),
        Chunking::Random {
            seed: 0x6b75_6265,
            max: 97,
        },
    ];

    /// Parses `recorded`, `whole`, `N` (fixed) or `random:SEED`.
    pub fn parse(s: &str) -> Option<Chunking> {
        match s {
            "recorded" => Some(Chunking::Recorded),
            "whole" => Some(Chunking::Whole),
            _ => match s.strip_prefix("random:") {
                Some(seed) => seed
                    .parse()
                    .ok()
                    .map(|seed| Chunking::Random { seed, max: 97 }),
                None => s.parse().ok().filter(|n| *n > 0).map(Chunking::Fixed),
            },
        }
    }

    /// Splits `recorded` chunks anew. A recorded chunk's delay goes with the
    /// first new piece that starts inside it.
    pub fn split(&self, recorded: &[Chunk]) -> Vec<Chunk> {
        if *self == Chunking::Recorded {
            return recorded.to_vec();
        }
        let total: usize = recorded.iter().map(|c| c.bytes.len()).sum();
        if total == 0 {
            return recorded.to_vec();
        }
        let all: Vec<u8> = recorded
            .iter()
            .flat_map(|c| c.bytes.iter().copied())
            .collect();
        // (start offset, delay) of each recorded chunk, in order.
        let mut starts = Vec::with_capacity(recorded.len());
        let mut offset = 0;
        for c in recorded {
            starts.push((offset, c.delay_ms));
            offset += c.bytes.len();
        }
        let mut starts = starts.into_iter().peekable();
        let mut rng = SplitMix64(match self {
            Chunking::Random { seed, .. } => *seed,
            _ => 0,
        });
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < total {
            let size = match *self {
                Chunking::Fixed(n) => n.max(1),
                Chunking::Random { max, .. } => 1 + (rng.next_u64() % max.max(1) as u64) as usize,
                Chunking::Whole | Chunking::Recorded => total,
            };
            let end = (pos + size).min(total);
            let mut delay_ms = 0;
            while let Some((_, d)) = starts.next_if(|(start, _)| *start < end || end == total) {
                delay_ms += d;
            }
            out.push(Chunk {
                bytes: all[pos..end].to_vec(),
                delay_ms,
            });
            pos = end;
        }
        out
    }
}

/// A tiny deterministic generator (SplitMix64): reproducible splits
/// without a dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[(&str, u64)]) -> Vec<Chunk> {
        parts
            .iter()
            .map(|(t, d)| Chunk {
                bytes: t.as_bytes().to_vec(),
                delay_ms: *d,
            })
            .collect()
    }

    #[test]
    fn every_chunking_keeps_the_bytes_and_the_delays() {
        let rec = chunks(&[("hello ", 0), ("wor", 20), ("ld\n", 5)]);
        for c in Chunking::SANS_IO {
            let split = c.split(&rec);
            let bytes: Vec<u8> = split.iter().flat_map(|c| c.bytes.clone()).collect();
            assert_eq!(bytes, b"hello world\n", "{c:?}");
            assert_eq!(split.iter().map(|c| c.delay_ms).sum::<u64>(), 25, "{c:?}");
            assert!(split.iter().all(|c| !c.bytes.is_empty()), "{c:?}");
        }
        assert_eq!(Chunking::Fixed(7).split(&rec).len(), 2);
        assert_eq!(Chunking::Fixed(1).split(&rec)[6].delay_ms, 20);
        assert_eq!(
            Chunking::Random { seed: 1, max: 5 }.split(&rec),
            Chunking::Random { seed: 1, max: 5 }.split(&rec)
        );
    }

    #[test]
    fn parses_names() {
        assert_eq!(Chunking::parse("7"), Some(Chunking::Fixed(7)));
        assert_eq!(
            Chunking::parse("random:3"),
            Some(Chunking::Random { seed: 3, max: 97 })
        );
        assert_eq!(Chunking::parse("0"), None);
    }
}
