//! PostgreSQL's text form of the values that have no Arrow counterpart: numeric,
//! money, times with zones, intervals, inet, arrays, ranges and records.

use std::fmt::Write as _;

use tokio_postgres::types::Type;

use super::decode::{decode, pg_kind, PgKind, Reader};
use crate::backends::types::Value;

/// NUMERIC binary format → exact decimal text (`ndigits, weight, sign, dscale`, then
/// base-10000 digits), the way PostgreSQL prints it.
pub(super) fn numeric_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let ndigits =
        usize::try_from(r.i16()?).map_err(|_| "negative numeric digit count".to_string())?;
    let weight = i32::from(r.i16()?);
    let sign = r.u16()?;
    let dscale = usize::from(r.u16()?);
    let digits = (0..ndigits)
        .map(|_| r.i16())
        .collect::<Result<Vec<i16>, String>>()?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        other => return Err(format!("invalid numeric sign {other:#x}")),
    }
    let digit = |i: i32| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0)
    };
    let mut out = String::new();
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for d in 0..=weight {
            if d == 0 {
                let _ = write!(out, "{}", digit(d));
            } else {
                let _ = write!(out, "{:04}", digit(d));
            }
        }
    }
    if dscale > 0 {
        let mut frac = String::with_capacity(dscale + 4);
        let mut d = weight + 1;
        while frac.len() < dscale {
            let _ = write!(frac, "{:04}", digit(d));
            d += 1;
        }
        frac.truncate(dscale);
        out.push('.');
        out.push_str(&frac);
    }
    Ok(out)
}

/// money is an int64 of cents; printed without currency symbol or grouping.
pub(super) fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// `.123` for 123000 µs; empty for 0 (trailing zeros trimmed, like PostgreSQL).
fn frac_text(micros: u64) -> String {
    if micros == 0 {
        return String::new();
    }
    let s = format!(".{micros:06}");
    s.trim_end_matches('0').to_string()
}

pub(super) fn time_text(micros: i64) -> String {
    let abs = micros.unsigned_abs();
    format!(
        "{:02}:{:02}:{:02}{}",
        abs / 3_600_000_000,
        (abs / 60_000_000) % 60,
        (abs / 1_000_000) % 60,
        frac_text(abs % 1_000_000)
    )
}

/// timetz stores seconds WEST of UTC; PostgreSQL prints the offset east: `+02`, `-03:30`.
pub(super) fn zone_text(zone_west: i32) -> String {
    let east = -i64::from(zone_west);
    let sign = if east < 0 { '-' } else { '+' };
    let abs = east.unsigned_abs();
    let (h, m, s) = (abs / 3600, (abs / 60) % 60, abs % 60);
    let mut out = format!("{sign}{h:02}");
    if m != 0 || s != 0 {
        let _ = write!(out, ":{m:02}");
    }
    if s != 0 {
        let _ = write!(out, ":{s:02}");
    }
    out
}

/// An interval the way PostgreSQL prints it with `IntervalStyle = postgres`:
/// `1 year 2 mons 3 days 04:05:06.5`, `-1 days +02:00:00`, `00:00:00`.
pub(super) fn interval_text(micros: i64, days: i32, months: i32) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let parts = [
        (i64::from(months / 12), "year"),
        (i64::from(months % 12), "mon"),
        (i64::from(days), "day"),
    ];
    for (value, unit) in parts {
        if value == 0 {
            continue;
        }
        if !is_zero {
            out.push(' ');
        }
        if is_before && value > 0 {
            out.push('+');
        }
        let plural = if value != 1 { "s" } else { "" };
        let _ = write!(out, "{value} {unit}{plural}");
        is_before = value < 0;
        is_zero = false;
    }
    if is_zero || micros != 0 {
        if !is_zero {
            out.push(' ');
        }
        if micros < 0 {
            out.push('-');
        } else if is_before {
            out.push('+');
        }
        out.push_str(&time_text(micros));
    }
    out
}

/// inet/cidr: family (2 = IPv4, 3 = IPv6), prefix bits, is_cidr, address length, address.
pub(super) fn inet_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let family = r.u8()?;
    let bits = r.u8()?;
    let is_cidr = r.u8()? != 0;
    let len = usize::from(r.u8()?);
    let addr = r.take(len)?;
    let (text, max_bits) = match (family, addr.len()) {
        (2, 4) => (
            std::net::Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string(),
            32,
        ),
        (3, 16) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(addr);
            (std::net::Ipv6Addr::from(octets).to_string(), 128)
        }
        _ => return Err(format!("unsupported inet family {family}")),
    };
    Ok(if is_cidr || bits != max_bits {
        format!("{text}/{bits}")
    } else {
        text
    })
}

/// An array in PostgreSQL's text form: `{1,2,NULL}`, `{{a,b},{c,d}}`, `{"x y"}`.
pub(super) fn array_text(elem: &PgKind, raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let ndim =
        usize::try_from(r.i32()?).map_err(|_| "negative array dimension count".to_string())?;
    let _has_nulls = r.i32()?;
    let _elem_oid = r.u32()?;
    if ndim == 0 {
        return Ok("{}".into());
    }
    if ndim > 6 {
        return Err(format!("array has {ndim} dimensions"));
    }
    let mut dims = Vec::with_capacity(ndim);
    let mut lower = Vec::with_capacity(ndim);
    for _ in 0..ndim {
        dims.push(usize::try_from(r.i32()?).map_err(|_| "negative array dimension".to_string())?);
        lower.push(r.i32()?);
    }
    let total = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .ok_or_else(|| "array too large".to_string())?;
    let mut elems = Vec::with_capacity(total.min(1 << 16));
    for _ in 0..total {
        let len = r.i32()?;
        elems.push(match usize::try_from(len) {
            Ok(len) => Some(element_text(elem, r.take(len)?)?),
            Err(_) => None,
        });
    }
    let mut out = String::new();
    if lower.iter().any(|l| *l != 1) {
        for (d, l) in dims.iter().zip(&lower) {
            let upper = i64::from(*l) + i64::try_from(*d).unwrap_or(0) - 1;
            let _ = write!(out, "[{l}:{upper}]");
        }
        out.push('=');
    }
    let mut it = elems.into_iter();
    write_dimension(&mut out, &dims, &mut it);
    Ok(out)
}

fn write_dimension(
    out: &mut String,
    dims: &[usize],
    elems: &mut impl Iterator<Item = Option<String>>,
) {
    out.push('{');
    let (n, inner) = match dims.split_first() {
        Some((n, inner)) => (*n, inner),
        None => (0, &[][..]),
    };
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        if inner.is_empty() {
            match elems.next().flatten() {
                Some(s) => out.push_str(&quote_element(&s)),
                None => out.push_str("NULL"),
            }
        } else {
            write_dimension(out, inner, elems);
        }
    }
    out.push('}');
}

fn quote_element(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.eq_ignore_ascii_case("null")
        && !s
            .chars()
            .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// A range: flags (1 empty, 2 lower inclusive, 4 upper inclusive, 8 no lower,
/// 16 no upper), then the present bounds as length + value: `[1,5)`, `empty`.
pub(super) fn range_text(elem: &PgKind, raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let flags = r.u8()?;
    if flags & 0x01 != 0 {
        return Ok("empty".into());
    }
    let mut bound = |absent: bool| -> Result<String, String> {
        if absent {
            return Ok(String::new());
        }
        let len =
            usize::try_from(r.i32()?).map_err(|_| "negative range bound length".to_string())?;
        Ok(quote_composite(&element_text(elem, r.take(len)?)?))
    };
    let lower = bound(flags & 0x08 != 0)?;
    let upper = bound(flags & 0x10 != 0)?;
    let open = if flags & 0x02 != 0 { '[' } else { '(' };
    let close = if flags & 0x04 != 0 { ']' } else { ')' };
    Ok(format!("{open}{lower},{upper}{close}"))
}

/// A composite value or record: field count, then per field its type oid and
/// length + value; printed like PostgreSQL: `(1,abc,)`.
pub(super) fn record_text(raw: &[u8]) -> Result<String, String> {
    let mut r = Reader(raw);
    let fields = r.i32()?;
    let mut out = String::from("(");
    for i in 0..fields {
        if i > 0 {
            out.push(',');
        }
        let kind = Type::from_oid(r.u32()?).map_or(PgKind::Other, |t| pg_kind(&t));
        if let Ok(len) = usize::try_from(r.i32()?) {
            out.push_str(&quote_composite(&element_text(&kind, r.take(len)?)?));
        }
    }
    out.push(')');
    Ok(out)
}

/// Quotes a record field or range bound the way PostgreSQL does.
fn quote_composite(s: &str) -> String {
    let plain = !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '(' | ')' | '[' | ']' | ',' | '"' | '\\') || c.is_whitespace());
    if plain {
        return s.to_string();
    }
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            q.push(c);
        }
        q.push(c);
    }
    q.push('"');
    q
}

/// One array element in PostgreSQL's text form.
fn element_text(kind: &PgKind, raw: &[u8]) -> Result<String, String> {
    Ok(match decode(kind, raw)? {
        Value::Null => "NULL".into(),
        Value::Bool(b) => (if b { "t" } else { "f" }).into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => float_text(f),
        Value::Text(s) => s,
        Value::Bytes(b) => format!("\\x{}", hex::encode(b)),
        Value::Date(d) => date_text(d),
        Value::Timestamp(us) => {
            let ts = timestamp_text(us);
            if *kind == PgKind::TimestampTz {
                format!("{ts}+00")
            } else {
                ts
            }
        }
        Value::Time(us) => time_text(us),
    })
}

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        (if f > 0.0 { "Infinity" } else { "-Infinity" }).into()
    } else {
        f.to_string()
    }
}

/// Days since 1970-01-01 → `YYYY-MM-DD` (`infinity` for PostgreSQL's infinite dates).
pub(super) fn date_text(days: i32) -> String {
    match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => chrono::NaiveDate::from_num_days_from_ce_opt(days.saturating_add(719_163))
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|| days.to_string()),
    }
}

/// Microseconds since 1970-01-01 → `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub(super) fn timestamp_text(micros: i64) -> String {
    match micros {
        i64::MAX => "infinity".into(),
        i64::MIN => "-infinity".into(),
        _ => match chrono::DateTime::from_timestamp_micros(micros) {
            Some(dt) => {
                let sub = micros.rem_euclid(1_000_000).unsigned_abs();
                format!("{}{}", dt.format("%Y-%m-%d %H:%M:%S"), frac_text(sub))
            }
            None => micros.to_string(),
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn numeric(weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(digits.len() as i16).to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_decoding() {
        assert_eq!(
            numeric_text(&numeric(0, 0, 2, &[123, 4500])).unwrap(),
            "123.45"
        );
        assert_eq!(numeric_text(&numeric(-1, 0, 3, &[10])).unwrap(), "0.001");
        assert_eq!(numeric_text(&numeric(0, 0x4000, 0, &[7])).unwrap(), "-7");
        assert_eq!(numeric_text(&numeric(1, 0, 0, &[1, 0])).unwrap(), "10000");
        assert_eq!(numeric_text(&numeric(1, 0, 2, &[1])).unwrap(), "10000.00");
        assert_eq!(numeric_text(&numeric(0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric_text(&numeric(0, 0, 5, &[])).unwrap(), "0.00000");
        assert_eq!(
            numeric_text(&numeric(2, 0, 6, &[12, 3456, 7890, 1234, 5600])).unwrap(),
            "1234567890.123456"
        );
        assert_eq!(numeric_text(&numeric(0, 0xC000, 0, &[])).unwrap(), "NaN");
        assert_eq!(
            numeric_text(&numeric(0, 0xD000, 0, &[])).unwrap(),
            "Infinity"
        );
        assert!(numeric_text(&[0, 1]).is_err());
    }

    #[test]
    fn interval_formatting() {
        let h = 3_600_000_000i64;
        assert_eq!(
            interval_text(2 * h + 3 * 60_000_000 + 4_000_000, 1, 0),
            "1 day 02:03:04"
        );
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(0, 3, 14), "1 year 2 mons 3 days");
        assert_eq!(interval_text(-2 * h, -1, 0), "-1 days -02:00:00");
        assert_eq!(interval_text(2 * h, -1, 0), "-1 days +02:00:00");
        assert_eq!(interval_text(-2 * h, 1, 0), "1 day -02:00:00");
        assert_eq!(interval_text(25 * h + 500_000, 0, 0), "25:00:00.5");
        assert_eq!(interval_text(0, 0, -1), "-1 mons");
    }

    #[test]
    fn arrays_and_elements() {
        // int4[] {1,NULL,3}
        let mut v = Vec::new();
        for x in [1i32, 1, 23, 3, 1] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        for e in [Some(1i32), None, Some(3)] {
            match e {
                Some(x) => {
                    v.extend_from_slice(&4i32.to_be_bytes());
                    v.extend_from_slice(&x.to_be_bytes());
                }
                None => v.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        assert_eq!(array_text(&PgKind::Int4, &v).unwrap(), "{1,NULL,3}");
        assert_eq!(quote_element("a b"), "\"a b\"");
        assert_eq!(quote_element("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(quote_element("null"), "\"null\"");
        assert_eq!(quote_element("x"), "x");
        let mut empty = Vec::new();
        for x in [0i32, 0, 25] {
            empty.extend_from_slice(&x.to_be_bytes());
        }
        assert_eq!(array_text(&PgKind::Text, &empty).unwrap(), "{}");
    }

    #[test]
    fn ranges_and_records() {
        let mut range = vec![0x02u8];
        for x in [1i32, 5] {
            range.extend_from_slice(&4i32.to_be_bytes());
            range.extend_from_slice(&x.to_be_bytes());
        }
        assert_eq!(range_text(&PgKind::Int4, &range).unwrap(), "[1,5)");
        assert_eq!(range_text(&PgKind::Int4, &[0x01]).unwrap(), "empty");
        let mut unbounded = vec![0x08u8 | 0x04];
        unbounded.extend_from_slice(&4i32.to_be_bytes());
        unbounded.extend_from_slice(&9i32.to_be_bytes());
        assert_eq!(range_text(&PgKind::Int4, &unbounded).unwrap(), "(,9]");
        let mut record = Vec::new();
        record.extend_from_slice(&3i32.to_be_bytes());
        record.extend_from_slice(&23u32.to_be_bytes());
        record.extend_from_slice(&4i32.to_be_bytes());
        record.extend_from_slice(&1i32.to_be_bytes());
        record.extend_from_slice(&25u32.to_be_bytes());
        record.extend_from_slice(&3i32.to_be_bytes());
        record.extend_from_slice(b"a b");
        record.extend_from_slice(&25u32.to_be_bytes());
        record.extend_from_slice(&(-1i32).to_be_bytes());
        assert_eq!(record_text(&record).unwrap(), "(1,\"a b\",)");
        assert_eq!(
            decode(&PgKind::Other, &[2, 0, 0, 0, 4]).unwrap(),
            Value::Text("\\x0200000004".into())
        );
    }
}
