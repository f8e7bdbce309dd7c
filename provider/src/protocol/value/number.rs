//! Terraform numbers: arbitrary-precision decimals, held as cheaply as each
//! value allows.

use std::fmt;

/// A Terraform number.
///
/// Terraform numbers are arbitrary-precision decimals. Almost every number a
/// provider sees is a small integer, so integers that fit stay `i64`; numbers
/// that arrived as binary floats stay `f64`; anything else (huge integers,
/// decimals such as `0.1` written in configuration) keeps its decimal text,
/// which is also how cty puts such numbers on the wire.
///
/// Constructors normalise, so one value has one representation where it
/// matters: an integral float that fits `i64` becomes an integer, and decimal
/// text is stored in canonical form. Equality compares values, not
/// representations: `0.1` parsed from text equals the float `0.1` because both
/// print as `0.1`.
#[derive(Debug, Clone)]
pub struct Number(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Int(i64),
    Float(f64),
    /// Canonical decimal text; never an integer that fits `i64`.
    Decimal(String),
}

impl Number {
    /// A number from a float; `None` for NaN and infinities, which Terraform
    /// numbers cannot hold in any encoding we write.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        // `i64::MIN` is exactly representable; `i64::MAX` rounds up to 2^63,
        // which is out of range, hence the half-open interval.
        let in_range = (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&value);
        if value.fract() == 0.0 && in_range {
            // Exact: the value is integral and in range, so `as` cannot round.
            return Some(Self(Repr::Int(value as i64)));
        }
        Some(Self(Repr::Float(value)))
    }

    /// A number from an unsigned integer, which may exceed `i64`.
    pub fn from_u64(value: u64) -> Self {
        match i64::try_from(value) {
            Ok(int) => Self(Repr::Int(int)),
            Err(_) => Self(Repr::Decimal(value.to_string())),
        }
    }

    /// Parses decimal text such as `42`, `-0.5` or `1.5e300`; `None` when the
    /// text is not a number.
    pub fn parse(text: &str) -> Option<Self> {
        let parts = Parts::parse(text)?;
        Some(match parts.to_i64() {
            Some(int) => Self(Repr::Int(int)),
            None => Self(Repr::Decimal(parts.render())),
        })
    }

    /// The value as an integer, when it is one that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            Repr::Int(int) => Some(int),
            // Normalisation keeps integral in-range values out of the other
            // representations, so neither can be an `i64`.
            Repr::Float(_) | Repr::Decimal(_) => None,
        }
    }

    /// The value as the nearest float (lossy for big or very precise numbers).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            Repr::Int(int) => *int as f64,
            Repr::Float(float) => *float,
            Repr::Decimal(text) => text.parse().unwrap_or(f64::NAN),
        }
    }

    /// Whether the value arrived as, and is kept as, a binary float.
    pub(crate) fn as_float(&self) -> Option<f64> {
        match self.0 {
            Repr::Float(float) => Some(float),
            _ => None,
        }
    }

    fn parts(&self) -> Option<Parts> {
        match &self.0 {
            Repr::Int(int) => Parts::parse(&int.to_string()),
            // `{:e}` is the shortest text that reads back as the same float.
            Repr::Float(float) => Parts::parse(&format!("{float:e}")),
            Repr::Decimal(text) => Parts::parse(text),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        if let (Repr::Int(a), Repr::Int(b)) = (&self.0, &other.0) {
            return a == b;
        }
        match (self.parts(), other.parts()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Self(Repr::Int(value))
    }
}

/// Always valid JSON number syntax, and text cty's number parser accepts.
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Int(int) => write!(f, "{int}"),
            Repr::Float(float) => write!(f, "{float}"),
            Repr::Decimal(text) => f.write_str(text),
        }
    }
}

/// A decimal split into sign, significant digits and a power of ten:
/// `-1.50e3` is `{ negative, digits: "15", exponent: 2 }`.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    negative: bool,
    /// No leading or trailing zeros; empty for zero.
    digits: String,
    exponent: i64,
}

impl Parts {
    fn parse(text: &str) -> Option<Self> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
            Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
            None => (unsigned, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part)
        {
            return None;
        }
        let frac_len = i64::try_from(frac_part.len()).ok()?;
        let mut exponent = exponent.checked_sub(frac_len)?;
        let joined = format!("{int_part}{frac_part}");
        let significant = joined.trim_start_matches('0');
        let digits = significant.trim_end_matches('0');
        exponent = exponent.checked_add(i64::try_from(significant.len() - digits.len()).ok()?)?;
        if digits.is_empty() {
            return Some(Self {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        Some(Self {
            negative,
            digits: digits.to_owned(),
            exponent,
        })
    }

    fn to_i64(&self) -> Option<i64> {
        if self.digits.is_empty() {
            return Some(0);
        }
        // 19 digits is the most an `i64` has; the bound also keeps the
        // zero padding below small.
        let zeros = usize::try_from(self.exponent).ok()?;
        if self.digits.len() + zeros > 19 {
            return None;
        }
        let sign = if self.negative { "-" } else { "" };
        format!("{sign}{}{}", self.digits, "0".repeat(zeros))
            .parse()
            .ok()
    }

    /// Plain notation for moderate magnitudes, scientific beyond them (the
    /// same thresholds JavaScript uses), so huge exponents stay short.
    fn render(&self) -> String {
        let sign = if self.negative { "-" } else { "" };
        let len = self.digits.len() as i64;
        let point = len + self.exponent;
        let body = if self.exponent >= 0 && point <= 21 {
            format!("{}{}", self.digits, "0".repeat(self.exponent as usize))
        } else if self.exponent < 0 && point > 0 {
            let (int, frac) = self.digits.split_at(point as usize);
            format!("{int}.{frac}")
        } else if self.exponent < 0 && point > -6 {
            format!("0.{}{}", "0".repeat((-point) as usize), self.digits)
        } else {
            let (first, rest) = self.digits.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            format!("{first}{dot}{rest}e{}", point - 1)
        };
        format!("{sign}{body}")
    }
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_text() {
        let cases = [
            ("42", "42", Some(42)),
            ("-0", "0", Some(0)),
            ("4.20e1", "42", Some(42)),
            ("0.10", "0.1", None),
            ("-1.5", "-1.5", None),
            ("1e30", "1e30", None),
            ("1e20", "100000000000000000000", None),
            ("1.5e300", "1.5e300", None),
            ("0.0000001", "1e-7", None),
            (
                "-9223372036854775808",
                "-9223372036854775808",
                Some(i64::MIN),
            ),
            ("9223372036854775808", "9223372036854775808", None),
            (
                "123456789012345678901234567890.5",
                "123456789012345678901234567890.5",
                None,
            ),
        ];
        for (text, shown, int) in cases {
            let number = Number::parse(text).unwrap_or_else(|| panic!("{text} should parse"));
            assert_eq!(number.to_string(), shown, "display of {text}");
            assert_eq!(number.as_i64(), int, "as_i64 of {text}");
        }
    }

    #[test]
    fn parse_rejects_non_numbers() {
        for text in [
            "", "-", ".", "1e", "e5", "1.2.3", "0x10", "1_000", "NaN", "inf", " 1",
        ] {
            assert!(Number::parse(text).is_none(), "{text:?} should not parse");
        }
    }

    #[test]
    fn equality_compares_values_not_representations() {
        let parse = |t: &str| Number::parse(t).expect("valid number");
        let float = |f: f64| Number::from_f64(f).expect("finite");
        assert_eq!(float(3.0), Number::from(3));
        assert_eq!(float(0.1), parse("0.1"));
        assert_eq!(float(1e20), parse("100000000000000000000"));
        assert_eq!(Number::from_u64(u64::MAX), parse("18446744073709551615"));
        assert_ne!(float(0.1), parse("0.10000000000000001"));
        assert_ne!(Number::from(1), parse("1.0000000000000000000001"));
        assert_ne!(parse("-1.5"), parse("1.5"));
    }

    #[test]
    fn from_f64_rejects_non_finite_and_keeps_fractions() {
        assert!(Number::from_f64(f64::NAN).is_none());
        assert!(Number::from_f64(f64::INFINITY).is_none());
        assert_eq!(Number::from_f64(-0.0).and_then(|n| n.as_i64()), Some(0));
        assert_eq!(Number::from_f64(2.5).map(|n| n.as_f64()), Some(2.5));
        assert_eq!(Number::from_f64(9.3e18).and_then(|n| n.as_i64()), None);
    }
}
