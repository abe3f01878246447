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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity {
    nanos: i128,
}

const NANO: i128 = 1_000_000_000;

fn pow10(e: u32) -> Option<i128> {
    10i128.checked_pow(e)
}

impl Quantity {
    /// A quantity of `nanos` nano-units.
    pub fn from_nanos(nanos: i128) -> Quantity {
        Quantity { nanos }
    }

    /// The exact value in nano-units.
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

impl fmt::Display for Quantity {
    /// The shortest exact form: `2`, `3500m`, `1500u`, `7n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.nanos;
        if n % NANO == 0 {
            write!(f, "{}", n / NANO)
        } else if n % 1_000_000 == 0 {
            write!(f, "{}m", n / 1_000_000)
        } else if n % 1_000 == 0 {
            write!(f, "{}u", n / 1_000)
        } else {
            write!(f, "{n}n")
        }
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
        fn round_trips(nanos in proptest::prelude::any::<i64>()) {
            let q = Quantity::from_nanos(i128::from(nanos));
            proptest::prop_assert_eq!(q.to_string().parse::<Quantity>().unwrap(), q);
        }
    }
}
