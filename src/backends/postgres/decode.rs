//! Reading PostgreSQL's binary format: every type through [`Raw`], decoded by [`PgKind`]
//! into [`Value`]s (the text renderings of the composite types live in [`super::text`]).

use std::error::Error as StdError;

use tokio_postgres::types::{FromSql, Kind, Type};
use tokio_postgres::Row;

use super::text::{
    array_text, inet_text, interval_text, money_text, numeric_text, range_text, record_text,
    time_text, zone_text,
};
use crate::backends::types::{ColType, Value};
use crate::backends::BackendError;

/// Days from 1970-01-01 (Arrow's epoch) to 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// Any value in binary format, or NULL: accepts every type.
struct Raw<'a>(Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// How a column's bytes are decoded.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum PgKind {
    Bool,
    Int2,
    Int4,
    Int8,
    /// oid and the 4-byte unsigned types (reg*, xid, cid)
    Oid,
    Float4,
    Float8,
    Numeric,
    Money,
    Text,
    Bytes,
    Date,
    Timestamp,
    TimestampTz,
    Time,
    TimeTz,
    Json,
    /// jsonb and jsonpath: a version byte, then text
    Jsonb,
    Uuid,
    Interval,
    Inet,
    MacAddr,
    Bits,
    Array(Box<PgKind>),
    Range(Box<PgKind>),
    /// composite values and anonymous records
    Record,
    /// printable UTF-8 as text (enums are), anything else as `\x<hex>`
    Other,
}

pub(super) fn pg_kind(ty: &Type) -> PgKind {
    match *ty {
        Type::BOOL => PgKind::Bool,
        Type::INT2 => PgKind::Int2,
        Type::INT4 => PgKind::Int4,
        Type::INT8 => PgKind::Int8,
        Type::OID
        | Type::XID
        | Type::CID
        | Type::REGPROC
        | Type::REGPROCEDURE
        | Type::REGOPER
        | Type::REGOPERATOR
        | Type::REGCLASS
        | Type::REGTYPE
        | Type::REGCONFIG
        | Type::REGDICTIONARY
        | Type::REGNAMESPACE
        | Type::REGROLE
        | Type::REGCOLLATION => PgKind::Oid,
        Type::FLOAT4 => PgKind::Float4,
        Type::FLOAT8 => PgKind::Float8,
        Type::NUMERIC => PgKind::Numeric,
        Type::MONEY => PgKind::Money,
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::CHAR
        | Type::UNKNOWN
        | Type::XML
        | Type::REFCURSOR => PgKind::Text,
        Type::BYTEA => PgKind::Bytes,
        Type::DATE => PgKind::Date,
        Type::TIMESTAMP => PgKind::Timestamp,
        Type::TIMESTAMPTZ => PgKind::TimestampTz,
        Type::TIME => PgKind::Time,
        Type::TIMETZ => PgKind::TimeTz,
        Type::JSON => PgKind::Json,
        Type::JSONB | Type::JSONPATH => PgKind::Jsonb,
        Type::UUID => PgKind::Uuid,
        Type::INTERVAL => PgKind::Interval,
        Type::INET | Type::CIDR => PgKind::Inet,
        Type::MACADDR | Type::MACADDR8 => PgKind::MacAddr,
        Type::BIT | Type::VARBIT => PgKind::Bits,
        _ => match ty.kind() {
            Kind::Enum(_) => PgKind::Text,
            Kind::Domain(base) => pg_kind(base),
            Kind::Array(elem) => PgKind::Array(Box::new(pg_kind(elem))),
            Kind::Range(elem) => PgKind::Range(Box::new(pg_kind(elem))),
            Kind::Composite(_) => PgKind::Record,
            _ if *ty == Type::RECORD => PgKind::Record,
            _ if ty.name() == "citext" => PgKind::Text,
            _ => PgKind::Other,
        },
    }
}

impl PgKind {
    pub(super) fn col_type(&self) -> ColType {
        match self {
            PgKind::Bool => ColType::Bool,
            PgKind::Int2 => ColType::Int16,
            PgKind::Int4 => ColType::Int32,
            PgKind::Int8 | PgKind::Oid => ColType::Int64,
            PgKind::Float4 => ColType::Float32,
            PgKind::Float8 => ColType::Float64,
            PgKind::Numeric | PgKind::Money => ColType::Numeric,
            PgKind::Bytes => ColType::Bytes,
            PgKind::Date => ColType::Date,
            PgKind::Timestamp => ColType::Timestamp,
            PgKind::TimestampTz => ColType::TimestampTz,
            PgKind::Time => ColType::Time,
            PgKind::Json | PgKind::Jsonb => ColType::Json,
            PgKind::Uuid => ColType::Uuid,
            PgKind::Interval => ColType::Interval,
            PgKind::Text
            | PgKind::TimeTz
            | PgKind::Inet
            | PgKind::MacAddr
            | PgKind::Bits
            | PgKind::Array(_)
            | PgKind::Range(_)
            | PgKind::Record
            | PgKind::Other => ColType::Text,
        }
    }
}

pub(super) fn decode_row(row: &Row, kinds: &[PgKind]) -> Result<Vec<Value>, BackendError> {
    kinds
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let column = || row.columns().get(i).map(|c| c.name()).unwrap_or("?");
            let raw: Raw<'_> = row
                .try_get(i)
                .map_err(|e| BackendError::Convert(format!("column \"{}\": {e}", column())))?;
            match raw.0 {
                None => Ok(Value::Null),
                Some(bytes) => decode(kind, bytes)
                    .map_err(|m| BackendError::Convert(format!("column \"{}\": {m}", column()))),
            }
        })
        .collect()
}

/// A cursor over big-endian binary data.
pub(super) struct Reader<'a>(pub(super) &'a [u8]);

impl<'a> Reader<'a> {
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!(
                "value truncated: wanted {n} more bytes, have {}",
                self.0.len()
            ));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    pub(super) fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.array()?))
    }
    pub(super) fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    pub(super) fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.array()?))
    }
    pub(super) fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    pub(super) fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.array()?))
    }
    fn f32(&mut self) -> Result<f32, String> {
        Ok(f32::from_be_bytes(self.array()?))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_be_bytes(self.array()?))
    }
}

fn utf8(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

pub(super) fn decode(kind: &PgKind, raw: &[u8]) -> Result<Value, String> {
    let mut r = Reader(raw);
    Ok(match kind {
        PgKind::Bool => Value::Bool(r.u8()? != 0),
        PgKind::Int2 => Value::Int(i64::from(r.i16()?)),
        PgKind::Int4 => Value::Int(i64::from(r.i32()?)),
        PgKind::Int8 => Value::Int(r.i64()?),
        PgKind::Oid => Value::Int(i64::from(r.u32()?)),
        PgKind::Float4 => Value::Float(f64::from(r.f32()?)),
        PgKind::Float8 => Value::Float(r.f64()?),
        PgKind::Numeric => Value::Text(numeric_text(raw)?),
        PgKind::Money => Value::Text(money_text(r.i64()?)),
        PgKind::Text | PgKind::Json => Value::Text(utf8(raw)),
        PgKind::Jsonb => {
            let version = r.u8()?;
            if version != 1 {
                return Err(format!("unsupported jsonb version {version}"));
            }
            Value::Text(utf8(r.0))
        }
        PgKind::Bytes => Value::Bytes(raw.to_vec()),
        PgKind::Date => Value::Date(r.i32()?.saturating_add(PG_EPOCH_DAYS)),
        PgKind::Timestamp | PgKind::TimestampTz => {
            Value::Timestamp(r.i64()?.saturating_add(PG_EPOCH_MICROS))
        }
        PgKind::Time => Value::Time(r.i64()?),
        PgKind::TimeTz => {
            let micros = r.i64()?;
            let zone = r.i32()?;
            Value::Text(format!("{}{}", time_text(micros), zone_text(zone)))
        }
        PgKind::Uuid => Value::Text(
            uuid::Uuid::from_slice(raw)
                .map_err(|e| e.to_string())?
                .hyphenated()
                .to_string(),
        ),
        PgKind::Interval => {
            let micros = r.i64()?;
            let days = r.i32()?;
            let months = r.i32()?;
            Value::Text(interval_text(micros, days, months))
        }
        PgKind::Inet => Value::Text(inet_text(raw)?),
        PgKind::MacAddr => Value::Text(
            raw.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
        ),
        PgKind::Bits => {
            let nbits = usize::try_from(r.i32()?).map_err(|_| "negative bit length".to_string())?;
            let bytes = r.take(nbits.div_ceil(8))?;
            Value::Text(
                (0..nbits)
                    .map(|i| {
                        if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                            '1'
                        } else {
                            '0'
                        }
                    })
                    .collect(),
            )
        }
        PgKind::Array(elem) => Value::Text(array_text(elem, raw)?),
        PgKind::Range(elem) => Value::Text(range_text(elem, raw)?),
        PgKind::Record => Value::Text(record_text(raw)?),
        PgKind::Other => Value::Text(match std::str::from_utf8(raw) {
            Ok(s) if printable(s) => s.to_string(),
            _ => format!("\\x{}", hex::encode(raw)),
        }),
    })
}

/// Text without control characters other than tab and line breaks (binary formats
/// of unknown types may happen to be valid UTF-8, but not printable).
fn printable(s: &str) -> bool {
    !s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Decoders and (name, type) pairs of a result's columns.
pub(super) fn columns_of(cols: &[tokio_postgres::Column]) -> (Vec<PgKind>, Vec<(String, ColType)>) {
    let kinds: Vec<PgKind> = cols.iter().map(|c| pg_kind(c.type_())).collect();
    let columns = cols
        .iter()
        .zip(&kinds)
        .map(|(c, k)| (c.name().to_string(), k.col_type()))
        .collect();
    (kinds, columns)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::text::{date_text, timestamp_text};
    use super::*;

    #[test]
    fn scalar_decoding() {
        assert_eq!(
            decode(&PgKind::Int2, &7i16.to_be_bytes()).unwrap(),
            Value::Int(7)
        );
        assert_eq!(
            decode(&PgKind::Date, &0i32.to_be_bytes()).unwrap(),
            Value::Date(10_957)
        );
        assert_eq!(
            decode(&PgKind::Jsonb, b"\x01{\"a\": 1}").unwrap(),
            Value::Text("{\"a\": 1}".into())
        );
        assert_eq!(
            decode(&PgKind::Other, &[0xff, 0x00]).unwrap(),
            Value::Text("\\xff00".into())
        );
        assert_eq!(
            decode(&PgKind::Other, b"happy").unwrap(),
            Value::Text("happy".into())
        );
        assert_eq!(
            decode(&PgKind::Inet, &[2, 24, 1, 4, 10, 0, 0, 0]).unwrap(),
            Value::Text("10.0.0.0/24".into())
        );
        assert_eq!(
            decode(&PgKind::Inet, &[2, 32, 0, 4, 10, 0, 0, 1]).unwrap(),
            Value::Text("10.0.0.1".into())
        );
        assert_eq!(money_text(-12345), "-123.45");
        assert_eq!(zone_text(-7200), "+02");
        assert_eq!(zone_text(12600), "-03:30");
        assert_eq!(date_text(0), "1970-01-01");
        assert_eq!(timestamp_text(1_500_000), "1970-01-01 00:00:01.5");
        assert!(decode(&PgKind::Int4, &[0, 1]).is_err());
    }

    #[test]
    fn kinds() {
        assert_eq!(pg_kind(&Type::INT4).col_type(), ColType::Int32);
        assert_eq!(pg_kind(&Type::OID).col_type(), ColType::Int64);
        assert_eq!(pg_kind(&Type::JSONB).col_type(), ColType::Json);
        assert_eq!(
            pg_kind(&Type::INT4_ARRAY),
            PgKind::Array(Box::new(PgKind::Int4))
        );
        assert_eq!(pg_kind(&Type::NUMERIC).col_type(), ColType::Numeric);
    }
}
