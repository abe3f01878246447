//! Kubernetes resource quantities (`500m`, `1.5Gi`, `129e6`), exactly.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A resource quantity held exactly as an integer number of nano-units
/// (`1` is 10⁹ nanos, `500m` is 5·10⁸). Parsing accepts every form the
/// apiserver does: decimal SI suffixes (`n u m k M G T P E`), binary SI
/// suffixes (`Ki Mi Gi Ti Pi Ei`) and decimal exponents (`129e6`). Values
/// finer than a nano-unit are rounded up, as Kubernetes does; values too
/// large for the representation are an error, never a wrap.
///
/// ```
/// use kubewire::Quantity;
/// let cpu: Quantity = "3500m".parse().unwrap();
/// assert_eq!(cpu.millis(), 3500);
/// assert_eq!(cpu.as_f64(), 3.5);
/// let mem: Quantity = "16Gi".parse().unwrap();
/// assert_eq!(mem.whole(), 17_179_869_184);
/// assert_eq!("129e6".parse::<Quantity>().unwrap().whole(), 129_000_000);
/// assert_eq!("1.5".parse::<Quantity>().unwrap(), "1500m".parse().unwrap());
/// assert!("12 Gi".parse::<Quantity>().is_err());
/// ```
///
/// It prints the way Kubernetes does (Go's `Quantity.String()`), keeping
/// the family its text was written in, so a value written back shows no
/// needless diff; equality and order compare values only:
///
/// ```
/// use kubewire::Quantity;
/// let show = |s: &str| s.parse::<Quantity>().unwrap().to_string();
/// assert_eq!(show("1Gi"), "1Gi");
/// assert_eq!(show("1.5Gi"), "1536Mi");
/// assert_eq!(show("3k"), "3k");
/// assert_eq!(show("1.5"), "1500m");
/// assert_eq!(show("1e-3"), "1e-3");
/// assert_eq!("1Gi".parse::<Quantity>().unwrap(), "1073741824".parse().unwrap());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

/// How a quantity was written, which decides how it prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuantityFormat {
    /// Powers of 1024: `Ki`, `Mi`, ... `Ei`.
    BinarySi,
    /// Powers of 1000: `n u m "" k M G T P E`.
    DecimalSi,
    /// A decimal exponent: `129e6`.
    DecimalExponent,
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Quantity) -> bool {
        self.nanos == other.nanos
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Quantity) -> std::cmp::Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

impl std::hash::Hash for Quantity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.nanos.hash(state);
    }
}

const NANO: i128 = 1_000_000_000;

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    /// A quantity of `nanos` nano-units.
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity {
            nanos,
            format: QuantityFormat::DecimalSi,
        }
    }

    /// The exact value in nano-units.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// The same value printed in another family.
    pub fn with_format(self, format: QuantityFormat) -> Quantity {
        Quantity { format, ..self }
    }

    /// The value in nano-units.
    pub fn nanos(&self) -> i128 {
        self.nanos
    }

    /// The value in milli-units, rounded up (CPU in millicores).
    pub fn millis(&self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value in whole units, rounded up (memory in bytes).
    pub fn whole(&self) -> i128 {
        div_ceil(self.nanos, NANO)
    }

    /// The value as a float, for display and arithmetic that tolerates
    /// rounding; the representation stays exact.
    pub fn as_f64(&self) -> f64 {
        let whole = self.nanos.div_euclid(NANO) as f64;
        let frac = self.nanos.rem_euclid(NANO) as f64 / NANO as f64;
        whole + frac
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

fn parse(s: &str) -> std::result::Result<Quantity, String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &s[int_start..i];
    let mut frac_digits = "";
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &s[frac_start..i];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err("no number".into());
    }
    // The value is digits / 10^scale; trailing fraction zeros and leading
    // zeros carry nothing.
    let mut digits = format!("{int_digits}{frac_digits}");
    let mut scale = frac_digits.len() as u32;
    while scale > 0 && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    let digits = digits.trim_start_matches('0');
    if digits.len() > 36 {
        return Err("too large".into());
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| "bad digits".to_string())?
    };
    let suffix = &s[i..];
    // (numerator exponent of 10, binary shift) of the multiplier.
    let format = match suffix {
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => QuantityFormat::BinarySi,
        s if s.len() > 1 && s.starts_with(['e', 'E']) => QuantityFormat::DecimalExponent,
        _ => QuantityFormat::DecimalSi,
    };
    let (exp10, shift): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => match suffix.strip_prefix(['e', 'E']) {
            Some(exp) if !exp.is_empty() => {
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || digits.len() > 4
                {
                    return Err(format!("bad exponent {suffix:?}"));
                }
                (
                    exp.parse::<i32>()
                        .map_err(|_| format!("bad exponent {suffix:?}"))?,
                    0,
                )
            }
            _ => return Err(format!("unknown suffix {suffix:?}")),
        },
    };
    // nanos = mantissa * 2^shift * 10^(exp10 + 9 - scale), rounded up.
    let exp = exp10 + 9 - scale as i32;
    let overflow = || "too large".to_string();
    let scaled = mantissa
        .checked_mul(1i128.checked_shl(shift).ok_or_else(overflow)?)
        .ok_or_else(overflow)?;
    let nanos = if exp >= 0 {
        scaled
            .checked_mul(pow10(exp as u32).ok_or_else(overflow)?)
            .ok_or_else(overflow)?
    } else {
        match pow10(exp.unsigned_abs()) {
            Some(d) => div_ceil(scaled, d),
            // Smaller than any representable fraction: rounds up to one nano
            // unless zero.
            None => i128::from(scaled != 0),
        }
    };
    Ok(Quantity {
        nanos: if negative { -nanos } else { nanos },
        format,
    })
}

impl FromStr for Quantity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Quantity> {
        parse(s).map_err(|why| Error::FieldValue {
            field: "quantity".into(),
            value: s.to_string(),
            expected: format!("a Kubernetes quantity such as 500m, 2, 1.5Gi or 129e6 ({why})"),
        })
    }
}

/// `amount` with every factor `base` removed, and how many were.
fn remove_factors(mut amount: i128, base: i128) -> (i128, i32) {
    let mut times = 0;
    while amount != 0 && amount % base == 0 {
        amount /= base;
        times += 1;
    }
    (amount, times)
}

impl fmt::Display for Quantity {
    /// Kubernetes' canonical form (Go's `Quantity.String()`): binary SI
    /// for whole values of 1024 or more written that way, else decimal SI
    /// or a decimal exponent as written, with an exponent that is a
    /// multiple of 3.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        if n == 0 {
            return f.write_str("0");
        }
        let mut format = self.format;
        if format == QuantityFormat::BinarySi && (n.abs() < 1024 * NANO || n % NANO != 0) {
            // Small or fractional: shown in decimal so nothing is rounded.
            format = QuantityFormat::DecimalSi;
        }
        if format == QuantityFormat::BinarySi {
            let (mut amount, mut exponent) = remove_factors(n / NANO, 1024);
            while exponent > 6 {
                amount *= 1024;
                exponent -= 1;
            }
            let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][exponent as usize];
            return write!(f, "{amount}{suffix}");
        }
        let (mut amount, times) = remove_factors(n, 10);
        let mut exponent = times - 9;
        match exponent.rem_euclid(3) {
            1 => {
                amount *= 10;
                exponent -= 1;
            }
            2 => {
                amount *= 100;
                exponent -= 2;
            }
            _ => {}
        }
        if format == QuantityFormat::DecimalExponent {
            return match exponent {
                0 => write!(f, "{amount}"),
                e => write!(f, "{amount}e{e}"),
            };
        }
        while exponent > 18 {
            amount *= 10;
            exponent -= 1;
        }
        let suffix = match exponent {
            -9 => "n",
            -6 => "u",
            -3 => "m",
            3 => "k",
            6 => "M",
            9 => "G",
            12 => "T",
            15 => "P",
            18 => "E",
            _ => "",
        };
        write!(f, "{amount}{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> i128 {
        s.parse::<Quantity>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .nanos()
    }

    /// apimachinery's `decQuantity(unscaled, scale, format)`.
    fn dec(unscaled: i128, scale: i32, format: QuantityFormat) -> Quantity {
        let nanos = if scale + 9 >= 0 {
            unscaled * 10i128.pow((scale + 9) as u32)
        } else {
            unscaled / 10i128.pow((-scale - 9) as u32)
        };
        Quantity::from_nanos(nanos).with_format(format)
    }

    /// The rows of apimachinery's `TestQuantityString` (every one within
    /// nano precision) and `TestQuantityParseEmit`.
    #[test]
    fn prints_like_kubernetes() {
        use QuantityFormat::{BinarySi as B, DecimalExponent as X, DecimalSi as D};
        let string_table = [
            (dec(1024 * 1024 * 1024, 0, B), "1Gi"),
            (dec(300 * 1024 * 1024, 0, B), "300Mi"),
            (dec(6 * 1024, 0, B), "6Ki"),
            (dec(1001 * 1024 * 1024 * 1024, 0, B), "1001Gi"),
            (dec(1024 * 1024 * 1024 * 1024, 0, B), "1Ti"),
            (dec(5, 0, B), "5"),
            (dec(500, -3, B), "500m"),
            (dec(1, 9, D), "1G"),
            (dec(1000, 6, D), "1G"),
            (dec(1000000, 3, D), "1G"),
            (dec(1000000000, 0, D), "1G"),
            (dec(1, -3, D), "1m"),
            (dec(80, -3, D), "80m"),
            (dec(1080, -3, D), "1080m"),
            (dec(108, -2, D), "1080m"),
            (dec(10800, -4, D), "1080m"),
            (dec(300, 6, D), "300M"),
            (dec(1, 12, D), "1T"),
            (dec(1234567, 6, D), "1234567M"),
            (dec(1234567, -3, B), "1234567m"),
            (dec(3, 3, D), "3k"),
            (dec(1025, 0, B), "1025"),
            (dec(0, 0, D), "0"),
            (dec(0, 0, B), "0"),
            (dec(1, 9, X), "1e9"),
            (dec(1, -3, X), "1e-3"),
            (dec(1, -9, X), "1e-9"),
            (dec(80, -3, X), "80e-3"),
            (dec(300, 6, X), "300e6"),
            (dec(1, 12, X), "1e12"),
            (dec(1, 3, X), "1e3"),
            (dec(3, 3, X), "3e3"),
            (dec(0, 0, X), "0"),
            (dec(1, -9, D), "1n"),
            (dec(80, -9, D), "80n"),
            (dec(1080, -9, D), "1080n"),
            (dec(108, -8, D), "1080n"),
            (dec(1, -6, D), "1u"),
            (dec(80, -6, D), "80u"),
            (dec(1080, -6, D), "1080u"),
        ];
        for (q, expect) in string_table {
            assert_eq!(q.to_string(), expect, "{q:?}");
            let parsed: Quantity = expect.parse().unwrap();
            assert_eq!(
                parsed.to_string(),
                expect,
                "the canonical text parses back to itself"
            );
            if q.nanos() != 0 {
                let negative = Quantity::from_nanos(-q.nanos()).with_format(q.format());
                assert_eq!(negative.to_string(), format!("-{expect}"));
            }
        }
        for (text, expect) in [
            ("1Ki", "1Ki"),
            ("1Mi", "1Mi"),
            ("1Gi", "1Gi"),
            ("1024Mi", "1Gi"),
            ("1000M", "1G"),
            (".001Ki", "1024m"),
            (".000001Ki", "1024u"),
            (".000000001Ki", "1024n"),
            (".000000000001Ki", "2n"),
        ] {
            assert_eq!(
                text.parse::<Quantity>().unwrap().to_string(),
                expect,
                "{text}"
            );
            let negative = format!("-{text}").parse::<Quantity>().unwrap();
            assert_eq!(negative.to_string(), format!("-{expect}"), "-{text}");
        }
        // The forms of the issue that reported the old, flattened output.
        for (text, expect) in [
            ("1Gi", "1Gi"),
            ("3k", "3k"),
            ("1e-3", "1e-3"),
            ("1.5Gi", "1536Mi"),
        ] {
            assert_eq!(
                text.parse::<Quantity>().unwrap().to_string(),
                expect,
                "{text}"
            );
        }
    }

    #[test]
    fn every_form() {
        let g = 1_000_000_000i128;
        for (text, nanos) in [
            ("500m", 500_000_000),
            ("2", 2 * g),
            ("1.5", 1_500_000_000),
            ("0.1", 100_000_000),
            (".5", 500_000_000),
            ("128974848", 128_974_848 * g),
            ("129e6", 129_000_000 * g),
            ("129E6", 129_000_000 * g),
            ("1e-3", 1_000_000),
            ("123Mi", 123 * (1 << 20) * g),
            ("1Gi", (1 << 30) * g),
            ("1.5Gi", 1_610_612_736 * g),
            ("1k", 1000 * g),
            ("1Ki", 1024 * g),
            ("1E", 1_000_000_000_000_000_000 * g),
            ("1Ei", (1i128 << 60) * g),
            ("16Gi", 17_179_869_184 * g),
            ("3500m", 3_500_000_000),
            ("1n", 1),
            ("1u", 1000),
            ("-2", -2 * g),
            ("+3", 3 * g),
            ("0", 0),
            ("00010.500", 10_500_000_000),
            ("0.0000000001", 1),
        ] {
            assert_eq!(q(text), nanos, "{text}");
        }
        for bad in [
            "",
            "m",
            "1.2.3",
            "12 Gi",
            "1Kb",
            "e3",
            "1e",
            "1e+",
            "Gi",
            "--1",
            "1e99999",
            "99999999999999999999999999999999999999999",
        ] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad:?}");
        }
        assert!(
            "200000000000000000000Ei".parse::<Quantity>().is_err(),
            "overflow is an error"
        );
        let err = "12 Gi".parse::<Quantity>().unwrap_err().to_string();
        assert!(err.contains("\"12 Gi\""), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = s.parse::<Quantity>();
        }

        #[test]
        fn never_panics_on_quantity_like_text(s in "[+-]?[0-9]{0,40}(\\.[0-9]{0,40})?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e-?[0-9]{1,4})?") {
            let _ = s.parse::<Quantity>();
        }

        #[test]
        fn round_trips(nanos in proptest::prelude::any::<i64>(), family in 0..3u8) {
            let format = [QuantityFormat::BinarySi, QuantityFormat::DecimalSi, QuantityFormat::DecimalExponent][family as usize];
            let q = Quantity::from_nanos(i128::from(nanos)).with_format(format);
            let back = q.to_string().parse::<Quantity>().unwrap();
            proptest::prop_assert_eq!(back, q);
            proptest::prop_assert_eq!(back.to_string(), q.to_string(), "canonical text is stable");
        }
    }
}
