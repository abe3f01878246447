//! What the simulators share: a small seeded random source (SplitMix64),
//! so every session replays from its seed, and the watched collection.

/// The pods of namespace `demo`, on the default configuration.
pub(crate) fn demo_pods() -> kubewire::request::Endpoint {
    kubewire::request::Endpoint::new(
        std::sync::Arc::new(kubewire::Config::default()),
        kubewire::Kind::Pod
            .api_resource(0)
            .expect("pods are served"),
        kubewire::request::Scope::Namespace("demo".into()),
    )
    .expect("a valid endpoint")
}

/// A reproducible random source.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}
