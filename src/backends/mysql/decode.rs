//! MySQL/MariaDB column types and text-protocol values.

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::Row;

use crate::backends::types::{ColType, Value};
use crate::backends::BackendError;

/// Character set id of binary strings (BINARY, VARBINARY, BLOB).
const BINARY_CHARSET: u16 = 63;

/// How a column's text-protocol bytes are decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MyKind {
    /// decimal integer text
    Int,
    /// BIGINT UNSIGNED: kept as exact text
    BigUnsigned,
    /// FLOAT / DOUBLE
    Float,
    /// text, decimal text, JSON text
    Text,
    /// binary strings
    Bytes,
    /// `YYYY-MM-DD` (zero dates become NULL)
    Date,
    /// `YYYY-MM-DD HH:MM:SS[.ffffff]` (zero dates become NULL)
    DateTime,
    /// `[-]HHH:MM:SS[.ffffff]`
    Time,
    /// BIT(1)
    Bit1,
    /// BIT(n), big-endian
    Bits,
}

/// The Arrow type and decoder for a result column.
pub(super) fn classify(
    ty: ColumnType,
    flags: ColumnFlags,
    charset: u16,
    length: u32,
) -> (ColType, MyKind) {
    use ColumnType::*;
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = charset == BINARY_CHARSET;
    match ty {
        MYSQL_TYPE_TINY => (ColType::Int16, MyKind::Int),
        MYSQL_TYPE_SHORT if unsigned => (ColType::Int32, MyKind::Int),
        MYSQL_TYPE_SHORT => (ColType::Int16, MyKind::Int),
        MYSQL_TYPE_INT24 => (ColType::Int32, MyKind::Int),
        MYSQL_TYPE_LONG if unsigned => (ColType::Int64, MyKind::Int),
        MYSQL_TYPE_LONG => (ColType::Int32, MyKind::Int),
        MYSQL_TYPE_LONGLONG if unsigned => (ColType::Numeric, MyKind::BigUnsigned),
        MYSQL_TYPE_LONGLONG => (ColType::Int64, MyKind::Int),
        MYSQL_TYPE_YEAR => (ColType::Int32, MyKind::Int),
        MYSQL_TYPE_FLOAT => (ColType::Float32, MyKind::Float),
        MYSQL_TYPE_DOUBLE => (ColType::Float64, MyKind::Float),
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => (ColType::Numeric, MyKind::Text),
        MYSQL_TYPE_BIT if length <= 1 => (ColType::Bool, MyKind::Bit1),
        MYSQL_TYPE_BIT => (ColType::Int64, MyKind::Bits),
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => (ColType::Date, MyKind::Date),
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => (ColType::Timestamp, MyKind::DateTime),
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => (ColType::Time, MyKind::Time),
        MYSQL_TYPE_JSON => (ColType::Json, MyKind::Text),
        MYSQL_TYPE_GEOMETRY => (ColType::Bytes, MyKind::Bytes),
        MYSQL_TYPE_ENUM | MYSQL_TYPE_SET => (ColType::Text, MyKind::Text),
        _ if flags.intersects(ColumnFlags::ENUM_FLAG | ColumnFlags::SET_FLAG) => {
            (ColType::Text, MyKind::Text)
        }
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB
            if binary =>
        {
            (ColType::Bytes, MyKind::Bytes)
        }
        _ => (ColType::Text, MyKind::Text),
    }
}

pub(super) fn decode_row(
    row: &Row,
    kinds: &[(ColType, MyKind)],
    names: &[(String, ColType)],
) -> Result<Vec<Value>, BackendError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| match row.as_ref(i) {
            None | Some(mysql_async::Value::NULL) => Ok(Value::Null),
            Some(mysql_async::Value::Bytes(bytes)) => decode(*kind, bytes).map_err(|m| {
                let name = names.get(i).map(|n| n.0.as_str()).unwrap_or("?");
                BackendError::Convert(format!("column \"{name}\": {m}"))
            }),
            Some(other) => Err(BackendError::Convert(format!(
                "unexpected binary-protocol value {other:?}"
            ))),
        })
        .collect()
}

fn decode(kind: MyKind, raw: &[u8]) -> Result<Value, String> {
    let text = || std::str::from_utf8(raw).map_err(|e| e.to_string());
    Ok(match kind {
        MyKind::Int => Value::Int(
            text()?
                .trim()
                .parse()
                .map_err(|e| format!("bad integer {:?}: {e}", String::from_utf8_lossy(raw)))?,
        ),
        MyKind::Float => Value::Float(
            text()?
                .trim()
                .parse()
                .map_err(|e| format!("bad float {:?}: {e}", String::from_utf8_lossy(raw)))?,
        ),
        MyKind::BigUnsigned | MyKind::Text => {
            Value::Text(String::from_utf8_lossy(raw).into_owned())
        }
        MyKind::Bytes => Value::Bytes(raw.to_vec()),
        MyKind::Date => parse_date(text()?).map_or(Value::Null, Value::Date),
        MyKind::DateTime => parse_datetime(text()?).map_or(Value::Null, Value::Timestamp),
        MyKind::Time => match parse_time(text()?) {
            Some(us) => Value::Time(us),
            None => {
                tracing::warn!(
                    value = text()?,
                    "MySQL TIME outside 00:00:00..24:00:00 returned as NULL"
                );
                Value::Null
            }
        },
        MyKind::Bit1 => Value::Bool(raw.iter().any(|b| *b != 0)),
        MyKind::Bits => {
            Value::Int(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)) as i64)
        }
    })
}

/// `YYYY-MM-DD` → days since 1970-01-01; `None` for zero or invalid dates.
fn parse_date(s: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(chrono::Datelike::num_days_from_ce(&d) - 719_163)
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` → microseconds since 1970-01-01; `None` for zero dates.
fn parse_datetime(s: &str) -> Option<i64> {
    let dt = chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Some(dt.and_utc().timestamp_micros())
}

/// `HH:MM:SS[.ffffff]` → microseconds since midnight; `None` when negative, 24 hours or
/// more, or malformed (MySQL TIME spans -838:59:59..838:59:59).
fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.starts_with('-') {
        return None;
    }
    let (hms, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (parts.next()??, parts.next()??, parts.next()??);
    if parts.next().is_some()
        || !(0..24).contains(&h)
        || !(0..60).contains(&m)
        || !(0..60).contains(&sec)
    {
        return None;
    }
    let mut micros = 0i64;
    if !frac.is_empty() {
        if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        micros = format!("{frac:0<6}").parse().ok()?;
    }
    Some(((h * 60 + m) * 60 + sec) * 1_000_000 + micros)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn type_mapping() {
        use ColumnType::*;
        let none = ColumnFlags::empty();
        let unsigned = ColumnFlags::UNSIGNED_FLAG;
        assert_eq!(classify(MYSQL_TYPE_TINY, none, 63, 4).0, ColType::Int16);
        assert_eq!(
            classify(MYSQL_TYPE_SHORT, unsigned, 63, 5).0,
            ColType::Int32
        );
        assert_eq!(classify(MYSQL_TYPE_LONG, none, 63, 11).0, ColType::Int32);
        assert_eq!(
            classify(MYSQL_TYPE_LONG, unsigned, 63, 10).0,
            ColType::Int64
        );
        assert_eq!(
            classify(MYSQL_TYPE_LONGLONG, none, 63, 20).0,
            ColType::Int64
        );
        assert_eq!(
            classify(MYSQL_TYPE_LONGLONG, unsigned, 63, 20),
            (ColType::Numeric, MyKind::BigUnsigned)
        );
        assert_eq!(classify(MYSQL_TYPE_FLOAT, none, 63, 12).0, ColType::Float32);
        assert_eq!(
            classify(MYSQL_TYPE_DOUBLE, none, 63, 22).0,
            ColType::Float64
        );
        assert_eq!(
            classify(MYSQL_TYPE_NEWDECIMAL, none, 63, 12).0,
            ColType::Numeric
        );
        assert_eq!(
            classify(MYSQL_TYPE_VAR_STRING, none, 45, 400).0,
            ColType::Text
        );
        assert_eq!(
            classify(MYSQL_TYPE_VAR_STRING, none, 63, 10).0,
            ColType::Bytes
        );
        assert_eq!(classify(MYSQL_TYPE_BLOB, none, 63, 65535).0, ColType::Bytes);
        // MariaDB JSON: a utf8mb4 LONGTEXT/BLOB
        assert_eq!(
            classify(MYSQL_TYPE_BLOB, none, 45, u32::MAX).0,
            ColType::Text
        );
        assert_eq!(
            classify(MYSQL_TYPE_JSON, none, 63, u32::MAX).0,
            ColType::Json
        );
        assert_eq!(
            classify(MYSQL_TYPE_STRING, ColumnFlags::ENUM_FLAG, 45, 4).0,
            ColType::Text
        );
        assert_eq!(classify(MYSQL_TYPE_DATE, none, 63, 10).0, ColType::Date);
        assert_eq!(
            classify(MYSQL_TYPE_DATETIME, none, 63, 19).0,
            ColType::Timestamp
        );
        assert_eq!(
            classify(MYSQL_TYPE_TIMESTAMP, none, 63, 19).0,
            ColType::Timestamp
        );
        assert_eq!(classify(MYSQL_TYPE_TIME, none, 63, 10).0, ColType::Time);
        assert_eq!(classify(MYSQL_TYPE_YEAR, unsigned, 63, 4).0, ColType::Int32);
        assert_eq!(classify(MYSQL_TYPE_BIT, unsigned, 63, 1).0, ColType::Bool);
        assert_eq!(classify(MYSQL_TYPE_BIT, unsigned, 63, 8).0, ColType::Int64);
        assert_eq!(classify(MYSQL_TYPE_NULL, none, 63, 0).0, ColType::Text);
    }

    #[test]
    fn value_decoding() {
        assert_eq!(decode(MyKind::Int, b"-42").unwrap(), Value::Int(-42));
        assert_eq!(decode(MyKind::Float, b"1.5").unwrap(), Value::Float(1.5));
        assert_eq!(
            decode(MyKind::BigUnsigned, b"18446744073709551615").unwrap(),
            Value::Text("18446744073709551615".into())
        );
        assert_eq!(decode(MyKind::Date, b"1970-01-02").unwrap(), Value::Date(1));
        assert_eq!(decode(MyKind::Date, b"0000-00-00").unwrap(), Value::Null);
        assert_eq!(
            decode(MyKind::DateTime, b"1970-01-01 00:00:01.25").unwrap(),
            Value::Timestamp(1_250_000)
        );
        assert_eq!(
            decode(MyKind::DateTime, b"0000-00-00 00:00:00").unwrap(),
            Value::Null
        );
        assert_eq!(
            decode(MyKind::Time, b"01:02:03.5").unwrap(),
            Value::Time(3_723_500_000)
        );
        assert_eq!(decode(MyKind::Time, b"-01:00:00").unwrap(), Value::Null);
        assert_eq!(decode(MyKind::Time, b"25:00:00").unwrap(), Value::Null);
        assert_eq!(decode(MyKind::Bit1, &[1]).unwrap(), Value::Bool(true));
        assert_eq!(decode(MyKind::Bits, &[1, 0]).unwrap(), Value::Int(256));
        assert!(decode(MyKind::Int, b"x").is_err());
    }
}
