//! The printed table: figure, kubewire, baseline, ratio.

/// One row: what was measured, kubewire's figure, the baseline's, and
/// kubewire / baseline (or baseline / kubewire where lower is better).
pub struct Row {
    pub figure: String,
    pub kubewire: String,
    pub baseline: String,
    pub ratio: String,
}

/// Rows printed as one aligned table per section.
#[derive(Default)]
pub struct Table {
    rows: Vec<Row>,
}

impl Table {
    /// A lower-is-better figure (time, bytes): ratio = baseline / kubewire,
    /// so above 1 is kubewire ahead.
    pub fn lower(&mut self, figure: &str, unit: &str, ours: f64, name: &str, theirs: f64) {
        self.rows.push(Row {
            figure: figure.to_string(),
            kubewire: format!("{} {unit}", num(ours)),
            baseline: format!("{name}: {} {unit}", num(theirs)),
            ratio: if ours > 0.0 {
                format!("{:.2}x", theirs / ours)
            } else {
                "-".into()
            },
        });
    }

    /// A higher-is-better figure from samples: medians compared, each
    /// cell "median (min–max)".
    pub fn higher_spread(
        &mut self,
        figure: &str,
        unit: &str,
        ours: &[f64],
        name: &str,
        theirs: &[f64],
    ) {
        let ratio = median(ours) / median(theirs);
        self.spread_row(figure, unit, ours, name, theirs, ratio);
    }

    /// A lower-is-better figure from samples (ratio: baseline / kubewire).
    pub fn lower_spread(
        &mut self,
        figure: &str,
        unit: &str,
        ours: &[f64],
        name: &str,
        theirs: &[f64],
    ) {
        let ratio = median(theirs) / median(ours);
        self.spread_row(figure, unit, ours, name, theirs, ratio);
    }

    /// A lower-is-better figure compared run by run: each run's cost over
    /// the same run's baseline (adjacent in time, so a noisy moment hits
    /// both), "median (min–max)" of those ratios; the ratio column is
    /// baseline / kubewire, as elsewhere.
    pub fn lower_paired(&mut self, figure: &str, ours: &[f64], name: &str, theirs: &[f64]) {
        let costs: Vec<f64> = ours.iter().zip(theirs).map(|(o, t)| o / t).collect();
        let (min, max) = min_max(&costs);
        let cost = median(&costs);
        self.rows.push(Row {
            figure: figure.to_string(),
            kubewire: format!("{cost:.2}x ({min:.2}–{max:.2}x) {name}'s"),
            baseline: format!("{name}, the same run"),
            ratio: format!("{:.2}x", 1.0 / cost),
        });
    }

    fn spread_row(
        &mut self,
        figure: &str,
        unit: &str,
        ours: &[f64],
        name: &str,
        theirs: &[f64],
        ratio: f64,
    ) {
        self.rows.push(Row {
            figure: figure.to_string(),
            kubewire: format!("{} {unit}", spread(ours)),
            baseline: format!("{name}: {} {unit}", spread(theirs)),
            ratio: format!("{ratio:.2}x"),
        });
    }

    /// A row with text cells (versions, notes).
    pub fn note(&mut self, figure: &str, kubewire: &str, baseline: &str) {
        self.rows.push(Row {
            figure: figure.to_string(),
            kubewire: kubewire.to_string(),
            baseline: baseline.to_string(),
            ratio: String::new(),
        });
    }

    /// Prints the table under `title`.
    pub fn print(&self, title: &str) {
        let w = |f: fn(&Row) -> &String, head: &str| {
            self.rows
                .iter()
                .map(|r| f(r).chars().count())
                .max()
                .unwrap_or(0)
                .max(head.len())
        };
        let (a, b, c) = (
            w(|r| &r.figure, "figure"),
            w(|r| &r.kubewire, "kubewire"),
            w(|r| &r.baseline, "baseline"),
        );
        println!("\n## {title}\n");
        println!(
            "| {:<a$} | {:>b$} | {:<c$} | ratio |",
            "figure", "kubewire", "baseline"
        );
        println!(
            "|{}|{}|{}|------:|",
            "-".repeat(a + 2),
            "-".repeat(b + 2),
            "-".repeat(c + 2)
        );
        for r in &self.rows {
            println!(
                "| {:<a$} | {:>b$} | {:<c$} | {:>5} |",
                r.figure, r.kubewire, r.baseline, r.ratio
            );
        }
    }
}

/// A number with sensible precision.
pub fn num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// The median of samples.
pub fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// The smallest and the largest of samples.
fn min_max(samples: &[f64]) -> (f64, f64) {
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// "median (min–max)".
pub fn spread(samples: &[f64]) -> String {
    let (min, max) = min_max(samples);
    format!("{} ({}–{})", num(median(samples)), num(min), num(max))
}

/// Runs every contender once per round, `runs` rounds, so that a noisy
/// moment hits them all alike; each contender's results, in order.
pub fn interleaved<T>(runs: usize, contenders: &mut [&mut dyn FnMut() -> T]) -> Vec<Vec<T>> {
    let mut samples: Vec<Vec<T>> = contenders.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (i, run) in contenders.iter_mut().enumerate() {
            samples[i].push(run());
        }
    }
    samples
}
