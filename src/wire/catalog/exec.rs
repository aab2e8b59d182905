//! Runs a translated catalog query on the emulated catalog and converts the rows to Arrow.

use rusqlite::types::Value as SqlValue;

use crate::backends::types::{BatchBuilder, ColType, Value};
use crate::pgtypes::PgType;

use super::model::Model;
use super::translate::Plan;
use crate::wire::probes::Table;

/// More rows than any catalog query over dbguru's catalog should return.
const MAX_ROWS: usize = 1_000_000;

/// The PostgreSQL type a catalog column's declared type announces (see the DDL in
/// `model`).
fn decl_type(decl: &str) -> Option<PgType> {
    Some(match decl.to_ascii_uppercase().as_str() {
        "INT8" => PgType::Int8,
        "INT4" => PgType::Int4,
        "INT2" => PgType::Int2,
        "BOOL" => PgType::Bool,
        "FLOAT4" => PgType::Float4,
        "FLOAT8" => PgType::Float8,
        "TEXT" => PgType::Text,
        _ => return None,
    })
}

fn col_type(t: PgType) -> ColType {
    match t {
        PgType::Bool => ColType::Bool,
        PgType::Int2 => ColType::Int16,
        PgType::Int4 => ColType::Int32,
        PgType::Int8 => ColType::Int64,
        PgType::Float4 => ColType::Float32,
        PgType::Float8 => ColType::Float64,
        PgType::Numeric => ColType::Numeric,
        PgType::Bytea => ColType::Bytes,
        PgType::Json => ColType::Json,
        _ => ColType::Text,
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

/// `v` as a value of a `t` column, or `None` when it does not fit.
fn convert(v: &SqlValue, t: PgType) -> Option<Value> {
    let int_range = |i: i64| match t {
        PgType::Int2 => i16::try_from(i).is_ok(),
        PgType::Int4 => i32::try_from(i).is_ok(),
        _ => true,
    };
    Some(match (v, t) {
        (SqlValue::Null, _) => Value::Null,
        (SqlValue::Integer(i), PgType::Bool) => Value::Bool(*i != 0),
        (SqlValue::Integer(i), PgType::Int2 | PgType::Int4 | PgType::Int8) if int_range(*i) => {
            Value::Int(*i)
        }
        (SqlValue::Integer(i), PgType::Float4 | PgType::Float8) => Value::Float(*i as f64),
        (SqlValue::Integer(i), PgType::Numeric | PgType::Text) => Value::Text(i.to_string()),
        (SqlValue::Real(f), PgType::Int2 | PgType::Int4 | PgType::Int8)
            if f.fract() == 0.0 && int_range(*f as i64) =>
        {
            Value::Int(*f as i64)
        }
        (SqlValue::Real(f), PgType::Float4 | PgType::Float8) => Value::Float(*f),
        (SqlValue::Real(f), PgType::Numeric | PgType::Text) => Value::Text(float_text(*f)),
        (SqlValue::Text(s), PgType::Text | PgType::Json) => Value::Text(s.clone()),
        (SqlValue::Text(s), PgType::Bool) => match s.as_str() {
            "t" | "true" | "1" => Value::Bool(true),
            "f" | "false" | "0" => Value::Bool(false),
            _ => return None,
        },
        (SqlValue::Text(s), PgType::Int2 | PgType::Int4 | PgType::Int8) => {
            let i = s.trim().parse::<i64>().ok()?;
            if !int_range(i) {
                return None;
            }
            Value::Int(i)
        }
        (SqlValue::Text(s), PgType::Float4 | PgType::Float8) => {
            Value::Float(s.trim().parse().ok()?)
        }
        (SqlValue::Text(s), PgType::Numeric) if s.trim().parse::<f64>().is_ok() => {
            Value::Text(s.trim().to_string())
        }
        (SqlValue::Blob(b), PgType::Bytea) => Value::Bytes(b.clone()),
        (SqlValue::Blob(b), PgType::Text) => Value::Text(String::from_utf8_lossy(b).into_owned()),
        _ => return None,
    })
}

/// The type of a column nothing declares, from its values.
fn infer(values: impl Iterator<Item = SqlValue>) -> PgType {
    let mut t: Option<PgType> = None;
    for v in values {
        let vt = match v {
            SqlValue::Null => continue,
            SqlValue::Integer(_) => PgType::Int8,
            SqlValue::Real(_) => PgType::Float8,
            _ => return PgType::Text,
        };
        t = Some(match t {
            None => vt,
            Some(prev) if prev == vt => prev,
            Some(_) => PgType::Float8,
        });
    }
    t.unwrap_or(PgType::Text)
}

fn build(columns: Vec<(String, PgType)>, rows: Vec<Vec<Value>>) -> Result<Table, String> {
    let cols: Vec<(String, ColType)> = columns.into_iter().map(|(n, t)| (n, col_type(t))).collect();
    let mut b = BatchBuilder::new(&cols);
    let schema = b.schema();
    for r in rows {
        b.push_row(r).map_err(|e| e.to_string())?;
    }
    let batch = b.finish().map_err(|e| e.to_string())?;
    Ok((schema, vec![batch]))
}

/// Runs `plan` over `model`'s catalog.
pub fn run(model: &Model, plan: &Plan) -> Result<Table, String> {
    let (sql, hints) = match plan {
        Plan::Empty { columns } => return build(columns.clone(), vec![]),
        Plan::Sql { sql, hints } => (sql, hints),
    };
    let conn = model.database()?;
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| format!("the emulated catalog cannot run it ({e})"))?;
    let declared: Vec<(String, Option<PgType>)> = stmt
        .columns()
        .map(|c| (c.name().to_string(), c.decl_type().and_then(decl_type)))
        .collect();
    let n = declared.len();
    let mut rows: Vec<Vec<SqlValue>> = Vec::new();
    let mut q = stmt
        .query([])
        .map_err(|e| format!("the emulated catalog cannot run it ({e})"))?;
    while let Some(row) = q
        .next()
        .map_err(|e| format!("the emulated catalog cannot run it ({e})"))?
    {
        if rows.len() >= MAX_ROWS {
            return Err(format!("it returns more than {MAX_ROWS} rows"));
        }
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(row.get::<_, SqlValue>(i).map_err(|e| e.to_string())?);
        }
        rows.push(values);
    }
    let mut columns: Vec<(String, PgType)> = Vec::with_capacity(n);
    for (i, (name, decl)) in declared.into_iter().enumerate() {
        let wanted = hints
            .get(i)
            .copied()
            .flatten()
            .or(decl)
            .unwrap_or_else(|| infer(rows.iter().map(|r| r[i].clone())));
        // A value that does not fit the announced type demotes the column to text rather
        // than failing or changing the value.
        let fits = rows.iter().all(|r| convert(&r[i], wanted).is_some());
        columns.push((name, if fits { wanted } else { PgType::Text }));
    }
    let values: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&columns)
                .map(|(v, (_, t))| convert(v, *t).unwrap_or(Value::Null))
                .collect()
        })
        .collect();
    build(columns, values)
}
