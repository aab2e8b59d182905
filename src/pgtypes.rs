//! PostgreSQL types of Arrow columns: which built-in type a column is announced as,
//! and how one value is written in PostgreSQL's text and binary formats.
//!
//! Shared by the combiner (which unifies column types across databases) and the
//! wire encoder (which writes RowDescription and DataRow).

use arrow::array::{
    Array, AsArray, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int16Array, Int32Array, Int64Array, Int8Array, LargeBinaryArray,
    LargeStringArray, StringArray, StringViewArray, Time64MicrosecondArray,
    TimestampMicrosecondArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow::datatypes::{DataType, Field, TimeUnit};
use bytes::{BufMut, BytesMut};

use crate::backends::types::PG_TYPE_KEY;

/// Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;
/// Days between 1970-01-01 and 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;

/// The built-in PostgreSQL types dbguru puts on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PgType {
    /// bool (16)
    Bool,
    /// int2 (21)
    Int2,
    /// int4 (23)
    Int4,
    /// int8 (20)
    Int8,
    /// float4 (700)
    Float4,
    /// float8 (701)
    Float8,
    /// numeric (1700)
    Numeric,
    /// text (25)
    Text,
    /// bytea (17)
    Bytea,
    /// date (1082)
    Date,
    /// timestamp (1114)
    Timestamp,
    /// timestamptz (1184)
    TimestampTz,
    /// time (1083)
    Time,
    /// json (114)
    Json,
    /// uuid (2950)
    Uuid,
}

impl PgType {
    /// The type's OID.
    pub fn oid(self) -> u32 {
        match self {
            PgType::Bool => 16,
            PgType::Int2 => 21,
            PgType::Int4 => 23,
            PgType::Int8 => 20,
            PgType::Float4 => 700,
            PgType::Float8 => 701,
            PgType::Numeric => 1700,
            PgType::Text => 25,
            PgType::Bytea => 17,
            PgType::Date => 1082,
            PgType::Timestamp => 1114,
            PgType::TimestampTz => 1184,
            PgType::Time => 1083,
            PgType::Json => 114,
            PgType::Uuid => 2950,
        }
    }

    /// The type's SQL name (`integer`, `numeric`, ...), as `format_type` prints it.
    pub fn sql_name(self) -> &'static str {
        match self {
            PgType::Bool => "boolean",
            PgType::Int2 => "smallint",
            PgType::Int4 => "integer",
            PgType::Int8 => "bigint",
            PgType::Float4 => "real",
            PgType::Float8 => "double precision",
            PgType::Numeric => "numeric",
            PgType::Text => "text",
            PgType::Bytea => "bytea",
            PgType::Date => "date",
            PgType::Timestamp => "timestamp without time zone",
            PgType::TimestampTz => "timestamp with time zone",
            PgType::Time => "time without time zone",
            PgType::Json => "json",
            PgType::Uuid => "uuid",
        }
    }

    /// `pg_type.typlen`.
    pub fn typlen(self) -> i16 {
        match self {
            PgType::Bool => 1,
            PgType::Int2 => 2,
            PgType::Int4 | PgType::Float4 | PgType::Date => 4,
            PgType::Int8
            | PgType::Float8
            | PgType::Timestamp
            | PgType::TimestampTz
            | PgType::Time => 8,
            PgType::Uuid => 16,
            _ => -1,
        }
    }

    /// The PostgreSQL type of an Arrow field (field metadata overrides Utf8).
    pub fn of_field(field: &Field) -> PgType {
        if let Some(t) = field.metadata().get(PG_TYPE_KEY) {
            match t.as_str() {
                "numeric" => return PgType::Numeric,
                "json" => return PgType::Json,
                "uuid" => return PgType::Uuid,
                _ => return PgType::Text,
            }
        }
        PgType::of_data_type(field.data_type())
    }

    /// The PostgreSQL type of an Arrow data type.
    pub fn of_data_type(dt: &DataType) -> PgType {
        match dt {
            DataType::Boolean => PgType::Bool,
            DataType::Int8 | DataType::Int16 | DataType::UInt8 => PgType::Int2,
            DataType::Int32 | DataType::UInt16 => PgType::Int4,
            DataType::Int64 | DataType::UInt32 => PgType::Int8,
            DataType::UInt64 | DataType::Decimal128(_, _) => PgType::Numeric,
            DataType::Float16 | DataType::Float32 => PgType::Float4,
            DataType::Float64 => PgType::Float8,
            DataType::Binary | DataType::LargeBinary => PgType::Bytea,
            DataType::Date32 => PgType::Date,
            DataType::Timestamp(TimeUnit::Microsecond, None) => PgType::Timestamp,
            DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => PgType::TimestampTz,
            DataType::Time64(TimeUnit::Microsecond) => PgType::Time,
            _ => PgType::Text,
        }
    }

    /// Whether the type is a number.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            PgType::Int2
                | PgType::Int4
                | PgType::Int8
                | PgType::Float4
                | PgType::Float8
                | PgType::Numeric
        )
    }

    /// Whether the type is an integer.
    pub fn is_integer(self) -> bool {
        matches!(self, PgType::Int2 | PgType::Int4 | PgType::Int8)
    }

    /// The common type of two columns that are combined (DESIGN.md "Combined result"):
    /// equal stays; integers widen; integer with float is float8; numeric with any number
    /// is numeric; anything else is text.
    pub fn unify(self, other: PgType) -> PgType {
        use PgType::*;
        if self == other {
            return self;
        }
        match (self, other) {
            (a, b) if a.is_integer() && b.is_integer() => {
                if a == Int8 || b == Int8 {
                    Int8
                } else {
                    Int4
                }
            }
            (Numeric, b) | (b, Numeric) if b.is_numeric() => Numeric,
            (a, b) if a.is_numeric() && b.is_numeric() => Float8,
            _ => Text,
        }
    }

    /// The Arrow field that represents this type.
    pub fn arrow_field(self, name: &str) -> Field {
        use crate::backends::types::ColType;
        let ct = match self {
            PgType::Bool => ColType::Bool,
            PgType::Int2 => ColType::Int16,
            PgType::Int4 => ColType::Int32,
            PgType::Int8 => ColType::Int64,
            PgType::Float4 => ColType::Float32,
            PgType::Float8 => ColType::Float64,
            PgType::Numeric => ColType::Numeric,
            PgType::Text => ColType::Text,
            PgType::Bytea => ColType::Bytes,
            PgType::Date => ColType::Date,
            PgType::Timestamp => ColType::Timestamp,
            PgType::TimestampTz => ColType::TimestampTz,
            PgType::Time => ColType::Time,
            PgType::Json => ColType::Json,
            PgType::Uuid => ColType::Uuid,
        };
        ct.field(name)
    }
}

fn fmt_frac(micros: i64, out: &mut String) {
    let frac = micros.rem_euclid(1_000_000);
    if frac != 0 {
        let s = format!(".{frac:06}");
        out.push_str(s.trim_end_matches('0'));
    }
}

fn fmt_time_of_day(micros: i64, out: &mut String) {
    let secs = micros.div_euclid(1_000_000);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    fmt_frac(micros, out);
}

fn fmt_date(days: i32, out: &mut String) {
    match chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|d| d.checked_add_signed(chrono::Duration::days(i64::from(days))))
    {
        Some(d) => out.push_str(&d.format("%Y-%m-%d").to_string()),
        None => out.push_str(&days.to_string()),
    }
}

fn fmt_timestamp(micros: i64, out: &mut String) {
    let days = micros.div_euclid(86_400_000_000);
    fmt_date(days as i32, out);
    out.push(' ');
    fmt_time_of_day(micros.rem_euclid(86_400_000_000), out);
}

fn fmt_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        v.to_string()
    }
}

/// Formats an i128 scaled by 10^scale as exact decimal text.
pub fn decimal_text(v: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = v.to_string();
        for _ in 0..(-i32::from(scale)) {
            s.push('0');
        }
        return s;
    }
    let neg = v < 0;
    let digits = v.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale - digits.len() + 1), digits)
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{}.{}", if neg { "-" } else { "" }, int, frac)
}

/// The PostgreSQL text form of one value (`None` for NULL).
pub fn text_value(array: &dyn Array, row: usize) -> Option<String> {
    if array.is_null(row) {
        return None;
    }
    let any = array.as_any();
    macro_rules! num {
        ($t:ty) => {
            if let Some(a) = any.downcast_ref::<$t>() {
                return Some(a.value(row).to_string());
            }
        };
    }
    num!(Int8Array);
    num!(Int16Array);
    num!(Int32Array);
    num!(Int64Array);
    num!(UInt8Array);
    num!(UInt16Array);
    num!(UInt32Array);
    num!(UInt64Array);
    if let Some(a) = any.downcast_ref::<BooleanArray>() {
        return Some(if a.value(row) { "t" } else { "f" }.into());
    }
    if let Some(a) = any.downcast_ref::<Float64Array>() {
        return Some(fmt_float(a.value(row)));
    }
    if let Some(a) = any.downcast_ref::<Float32Array>() {
        let v = a.value(row);
        return Some(if v.is_finite() {
            v.to_string()
        } else {
            fmt_float(f64::from(v))
        });
    }
    if let Some(a) = any.downcast_ref::<StringArray>() {
        return Some(a.value(row).to_string());
    }
    if let Some(a) = any.downcast_ref::<LargeStringArray>() {
        return Some(a.value(row).to_string());
    }
    if let Some(a) = any.downcast_ref::<StringViewArray>() {
        return Some(a.value(row).to_string());
    }
    if let Some(a) = any.downcast_ref::<BinaryArray>() {
        return Some(format!("\\x{}", hex::encode(a.value(row))));
    }
    if let Some(a) = any.downcast_ref::<LargeBinaryArray>() {
        return Some(format!("\\x{}", hex::encode(a.value(row))));
    }
    let mut out = String::new();
    if let Some(a) = any.downcast_ref::<Date32Array>() {
        fmt_date(a.value(row), &mut out);
        return Some(out);
    }
    if let Some(a) = any.downcast_ref::<TimestampMicrosecondArray>() {
        fmt_timestamp(a.value(row), &mut out);
        if a.timezone().is_some() {
            out.push_str("+00");
        }
        return Some(out);
    }
    if let Some(a) = any.downcast_ref::<Time64MicrosecondArray>() {
        fmt_time_of_day(a.value(row), &mut out);
        return Some(out);
    }
    if let Some(a) = any.downcast_ref::<Decimal128Array>() {
        return Some(decimal_text(a.value(row), a.scale()));
    }
    if let DataType::Dictionary(_, _) = array.data_type() {
        if let Some(d) = array.as_any_dictionary_opt() {
            let keys = d.normalized_keys();
            return keys
                .get(row)
                .and_then(|k| text_value(d.values().as_ref(), *k));
        }
    }
    let opts = arrow::util::display::FormatOptions::default();
    arrow::util::display::ArrayFormatter::try_new(array, &opts)
        .map(|f| f.value(row).to_string())
        .ok()
}

/// Errors writing a value in binary format.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {value:?} as binary {ty:?}")]
pub struct EncodeError {
    /// The value's text.
    pub value: String,
    /// Target type.
    pub ty: PgType,
}

/// Writes one non-NULL value of `ty` in PostgreSQL's binary format.
pub fn write_binary(
    ty: PgType,
    array: &dyn Array,
    row: usize,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let any = array.as_any();
    let text = || text_value(array, row).unwrap_or_default();
    let err = |v: String| EncodeError { value: v, ty };
    let int = || -> Option<i64> {
        if let Some(a) = any.downcast_ref::<Int64Array>() {
            return Some(a.value(row));
        }
        if let Some(a) = any.downcast_ref::<Int32Array>() {
            return Some(i64::from(a.value(row)));
        }
        if let Some(a) = any.downcast_ref::<Int16Array>() {
            return Some(i64::from(a.value(row)));
        }
        text_value(array, row).and_then(|s| s.parse().ok())
    };
    match ty {
        PgType::Bool => match any.downcast_ref::<BooleanArray>() {
            Some(a) => out.put_u8(u8::from(a.value(row))),
            None => return Err(err(text())),
        },
        PgType::Int2 => out.put_i16(
            int()
                .and_then(|v| i16::try_from(v).ok())
                .ok_or_else(|| err(text()))?,
        ),
        PgType::Int4 => out.put_i32(
            int()
                .and_then(|v| i32::try_from(v).ok())
                .ok_or_else(|| err(text()))?,
        ),
        PgType::Int8 => out.put_i64(int().ok_or_else(|| err(text()))?),
        PgType::Float4 => {
            let v = match any.downcast_ref::<Float32Array>() {
                Some(a) => a.value(row),
                None => text().parse::<f32>().map_err(|_| err(text()))?,
            };
            out.put_f32(v)
        }
        PgType::Float8 => {
            let v = match any.downcast_ref::<Float64Array>() {
                Some(a) => a.value(row),
                None => text().parse::<f64>().map_err(|_| err(text()))?,
            };
            out.put_f64(v)
        }
        PgType::Numeric => {
            let t = text();
            write_numeric(&t, out).ok_or_else(|| err(t))?
        }
        PgType::Text | PgType::Json => out.put_slice(text().as_bytes()),
        PgType::Bytea => {
            if let Some(a) = any.downcast_ref::<BinaryArray>() {
                out.put_slice(a.value(row));
            } else if let Some(a) = any.downcast_ref::<LargeBinaryArray>() {
                out.put_slice(a.value(row));
            } else {
                out.put_slice(text().as_bytes());
            }
        }
        PgType::Date => match any.downcast_ref::<Date32Array>() {
            Some(a) => out.put_i32(a.value(row) - PG_EPOCH_DAYS),
            None => return Err(err(text())),
        },
        PgType::Timestamp | PgType::TimestampTz => {
            match any.downcast_ref::<TimestampMicrosecondArray>() {
                Some(a) => out.put_i64(a.value(row) - PG_EPOCH_MICROS),
                None => return Err(err(text())),
            }
        }
        PgType::Time => match any.downcast_ref::<Time64MicrosecondArray>() {
            Some(a) => out.put_i64(a.value(row)),
            None => return Err(err(text())),
        },
        PgType::Uuid => {
            let t = text();
            let u = uuid::Uuid::parse_str(&t).map_err(|_| err(t))?;
            out.put_slice(u.as_bytes());
        }
    }
    Ok(())
}

/// Writes a decimal string (`-12.345`, `NaN`) in PostgreSQL's binary NUMERIC format.
pub fn write_numeric(text: &str, out: &mut BytesMut) -> Option<()> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("nan") {
        out.put_i16(0);
        out.put_i16(0);
        out.put_u16(0xC000);
        out.put_i16(0);
        return Some(());
    }
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    // Expand exponent notation (from floats) into plain digits.
    let plain;
    let t = if let Some(pos) = t.find(['e', 'E']) {
        let exp: i32 = t[pos + 1..].parse().ok()?;
        let mantissa = &t[..pos];
        let (i, f) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{i}{f}");
        let point = i.len() as i32 + exp;
        plain = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if point as usize >= digits.len() {
            format!("{}{}", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        };
        plain.as_str()
    } else {
        t
    };
    let (int_part, frac_part) = t.split_once('.').unwrap_or((t, ""));
    if !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let dscale = frac_part.len() as i16;
    let int_trim = int_part.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to groups of 4.
    let int_pad = (4 - int_trim.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let all = format!(
        "{}{}{}{}",
        "0".repeat(int_pad),
        int_trim,
        frac_part,
        "0".repeat(frac_pad)
    );
    let int_groups = (int_trim.len() + int_pad) / 4;
    let mut digits: Vec<i16> = all
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = int_groups as i16 - 1;
    // Strip leading zero groups (adjusting weight) and trailing zero groups.
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if neg && !digits.is_empty() { 0x4000 } else { 0 });
    out.put_i16(dscale);
    for d in digits {
        out.put_i16(d);
    }
    Some(())
}

/// Convenience for tests and the combiner: is this array's logical type a string?
pub fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Vec<u8> {
        let mut b = BytesMut::new();
        write_numeric(s, &mut b).expect("valid numeric");
        b.to_vec()
    }

    #[test]
    fn numeric_binary_matches_postgres() {
        // 12.50 -> ndigits 2, weight 0, sign 0, dscale 2, digits [12, 5000]
        assert_eq!(
            num("12.50"),
            vec![0, 2, 0, 0, 0, 0, 0, 2, 0, 12, 0x13, 0x88]
        );
        // 0 -> ndigits 0, weight 0, dscale 0
        assert_eq!(num("0"), vec![0, 0, 0, 0, 0, 0, 0, 0]);
        // -10000.1 -> digits [1, 0, 1000], weight 1, negative, dscale 1
        assert_eq!(
            num("-10000.1"),
            vec![0, 3, 0, 1, 0x40, 0, 0, 1, 0, 1, 0, 0, 0x03, 0xE8]
        );
        // 0.0001 -> digits [1], weight -1, dscale 4
        assert_eq!(num("0.0001"), vec![0, 1, 0xFF, 0xFF, 0, 0, 0, 4, 0, 1]);
        assert!(write_numeric("abc", &mut BytesMut::new()).is_none());
    }

    #[test]
    fn decimals_format_exactly() {
        assert_eq!(decimal_text(1250, 2), "12.50");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(7, 0), "7");
    }

    #[test]
    fn unify_follows_design() {
        assert_eq!(PgType::Int8.unify(PgType::Float8), PgType::Float8);
        assert_eq!(PgType::Int4.unify(PgType::Int8), PgType::Int8);
        assert_eq!(PgType::Numeric.unify(PgType::Int8), PgType::Numeric);
        assert_eq!(PgType::Float8.unify(PgType::Numeric), PgType::Numeric);
        assert_eq!(PgType::Date.unify(PgType::Text), PgType::Text);
        assert_eq!(PgType::Int8.unify(PgType::Text), PgType::Text);
        assert_eq!(PgType::Date.unify(PgType::Date), PgType::Date);
    }

    #[test]
    fn timestamps_format_like_postgres() {
        let a = TimestampMicrosecondArray::from(vec![1_700_000_000_500_000]);
        assert_eq!(text_value(&a, 0).as_deref(), Some("2023-11-14 22:13:20.5"));
        let d = Date32Array::from(vec![19_723]);
        assert_eq!(text_value(&d, 0).as_deref(), Some("2024-01-01"));
    }
}
