//! Introspection by sampling: a MongoDB collection seen as a table.
//!
//! [`SAMPLE_SIZE`] documents per collection (`$sample`) are walked; every field path
//! (nested documents flattened as `address.city`) becomes a column with the majority
//! BSON type of its non-null values, the fraction of sampled documents in which it is
//! present and not null, and, for arrays, the majority type of the elements.

use std::collections::HashMap;

use mongodb::bson::{Bson, Document};

use crate::backends::types::ColType;
use crate::backends::{ColumnInfo, TableInfo};

/// Documents sampled per collection.
pub const SAMPLE_SIZE: usize = 100;

/// The BSON type of a value, named as MongoDB's `$type` aliases name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// `double`
    Double,
    /// `string`
    String,
    /// `object` (embedded document)
    Object,
    /// `array`
    Array,
    /// `binData`
    Binary,
    /// `objectId`
    ObjectId,
    /// `bool`
    Bool,
    /// `date`
    Date,
    /// `null`
    Null,
    /// `int` (32-bit)
    Int,
    /// `long` (64-bit)
    Long,
    /// `decimal` (Decimal128)
    Decimal,
    /// `timestamp` (internal replication timestamp)
    Timestamp,
    /// anything else (regex, javascript, minKey, maxKey, ...)
    Other,
}

impl FieldType {
    /// The type of one value.
    pub fn of(value: &Bson) -> FieldType {
        match value {
            Bson::Double(_) => FieldType::Double,
            Bson::String(_) | Bson::Symbol(_) => FieldType::String,
            Bson::Document(_) => FieldType::Object,
            Bson::Array(_) => FieldType::Array,
            Bson::Binary(_) => FieldType::Binary,
            Bson::ObjectId(_) => FieldType::ObjectId,
            Bson::Boolean(_) => FieldType::Bool,
            Bson::DateTime(_) => FieldType::Date,
            Bson::Null | Bson::Undefined => FieldType::Null,
            Bson::Int32(_) => FieldType::Int,
            Bson::Int64(_) => FieldType::Long,
            Bson::Decimal128(_) => FieldType::Decimal,
            Bson::Timestamp(_) => FieldType::Timestamp,
            _ => FieldType::Other,
        }
    }

    /// MongoDB's name for the type (`string`, `int`, `objectId`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Double => "double",
            FieldType::String => "string",
            FieldType::Object => "object",
            FieldType::Array => "array",
            FieldType::Binary => "binData",
            FieldType::ObjectId => "objectId",
            FieldType::Bool => "bool",
            FieldType::Date => "date",
            FieldType::Null => "null",
            FieldType::Int => "int",
            FieldType::Long => "long (int64)",
            FieldType::Decimal => "decimal",
            FieldType::Timestamp => "timestamp",
            FieldType::Other => "mixed",
        }
    }

    /// Whether values of this type are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Double | FieldType::Int | FieldType::Long | FieldType::Decimal
        )
    }

    /// The Arrow-side column type values of this type are returned as.
    pub fn col_type(self) -> ColType {
        match self {
            FieldType::Double => ColType::Float64,
            FieldType::Int => ColType::Int32,
            FieldType::Long => ColType::Int64,
            FieldType::Decimal => ColType::Numeric,
            FieldType::Bool => ColType::Bool,
            FieldType::Date => ColType::TimestampTz,
            FieldType::Object | FieldType::Array => ColType::Json,
            FieldType::Binary => ColType::Bytes,
            _ => ColType::Text,
        }
    }
}

/// One field path of a sampled collection.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldInfo {
    /// Dotted path from the document root (`address.city`).
    pub path: String,
    /// Majority type of the non-null values ([`FieldType::Null`] when every value was null).
    pub ty: FieldType,
    /// For arrays: the majority type of their elements (`None` when all arrays were empty).
    pub element: Option<FieldType>,
    /// Sampled documents in which the path holds a non-null value.
    pub present: usize,
    /// Documents sampled.
    pub sampled: usize,
}

impl FieldInfo {
    /// Fraction of the sampled documents in which the path holds a non-null value (0..=1).
    pub fn presence(&self) -> f64 {
        if self.sampled == 0 {
            0.0
        } else {
            self.present as f64 / self.sampled as f64
        }
    }

    /// Whether the majority of values are arrays.
    pub fn is_array(&self) -> bool {
        self.ty == FieldType::Array
    }

    /// The type as shown to the LLM: `string`, `array<string>`, `objectId`...
    pub fn type_text(&self) -> String {
        match (self.ty, self.element) {
            (FieldType::Array, Some(e)) => format!("array<{}>", e.name()),
            (t, _) => t.name().to_string(),
        }
    }

    /// The presence as a whole percentage for the prompt (`<1` for rare fields; never
    /// `100` unless every sampled document has it).
    pub fn presence_text(&self) -> String {
        if self.sampled == 0 {
            return "0".into();
        }
        if self.present == self.sampled {
            return "100".into();
        }
        let pct = self.presence() * 100.0;
        if self.present > 0 && pct < 1.0 {
            "<1".into()
        } else {
            format!("{}", (pct.round() as u64).min(99))
        }
    }
}

/// A collection as a table: its field paths in first-seen order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CollectionSchema {
    /// Collection name.
    pub name: String,
    /// Documents sampled.
    pub sampled: usize,
    /// Field paths (leaves: scalars, arrays, empty documents), nested paths next to
    /// their siblings.
    pub fields: Vec<FieldInfo>,
}

#[derive(Default)]
struct Tally {
    types: HashMap<FieldType, usize>,
    elements: HashMap<FieldType, usize>,
    present: usize,
    /// Seen as a non-empty document (its children are listed instead of it).
    branch: bool,
    /// Seen as something other than a non-empty document.
    leaf: bool,
}

fn majority(counts: &HashMap<FieldType, usize>) -> Option<FieldType> {
    counts
        .iter()
        .filter(|(t, _)| **t != FieldType::Null)
        .max_by(|a, b| {
            a.1.cmp(b.1)
                // ties: the wider numeric type, then a stable order by name
                .then_with(|| rank(*a.0).cmp(&rank(*b.0)))
                .then_with(|| b.0.name().cmp(a.0.name()))
        })
        .map(|(t, _)| *t)
}

fn rank(t: FieldType) -> u8 {
    match t {
        FieldType::Decimal => 4,
        FieldType::Double => 3,
        FieldType::Long => 2,
        FieldType::Int => 1,
        _ => 0,
    }
}

impl CollectionSchema {
    /// Builds the table view of `name` from sampled documents.
    pub fn from_documents(name: &str, docs: &[Document]) -> CollectionSchema {
        let mut order: Vec<String> = Vec::new();
        let mut tallies: HashMap<String, Tally> = HashMap::new();
        for doc in docs {
            walk(doc, "", &mut order, &mut tallies);
        }
        let fields = order
            .into_iter()
            .filter_map(|path| {
                let t = tallies.remove(&path)?;
                if t.branch && !t.leaf {
                    return None;
                }
                let ty = majority(&t.types).unwrap_or(if t.branch {
                    FieldType::Object
                } else {
                    FieldType::Null
                });
                Some(FieldInfo {
                    path,
                    ty,
                    element: majority(&t.elements),
                    present: t.present,
                    sampled: docs.len(),
                })
            })
            .collect();
        CollectionSchema {
            name: name.to_string(),
            sampled: docs.len(),
            fields,
        }
    }

    /// The field at `path`, when it was sampled.
    pub fn field(&self, path: &str) -> Option<&FieldInfo> {
        self.fields.iter().find(|f| f.path == path)
    }

    /// The majority type of `path`, when it was sampled.
    pub fn type_of(&self, path: &str) -> Option<FieldType> {
        self.field(path).map(|f| f.ty)
    }

    /// The columns `SELECT *` returns: every sampled path except `_id`, in order.
    pub fn star_columns(&self) -> Vec<&FieldInfo> {
        self.fields.iter().filter(|f| f.path != "_id").collect()
    }

    /// The collection as a [`TableInfo`]: one column per path; `data_type` carries the
    /// type and the presence (`string, 75% present`, `array<int>, 100% present`).
    pub fn table_info(&self) -> TableInfo {
        TableInfo {
            name: self.name.clone(),
            columns: self
                .fields
                .iter()
                .map(|f| ColumnInfo {
                    name: f.path.clone(),
                    data_type: format!("{}, {}% present", f.type_text(), f.presence_text()),
                    primary_key: f.path == "_id",
                    nullable: f.present < f.sampled,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }
}

fn walk(
    doc: &Document,
    prefix: &str,
    order: &mut Vec<String>,
    tallies: &mut HashMap<String, Tally>,
) {
    for (key, value) in doc {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        if !tallies.contains_key(&path) {
            // Keep nested paths next to their siblings: after the last path sharing the prefix.
            let pos = if prefix.is_empty() {
                order.len()
            } else {
                let dotted = format!("{prefix}.");
                order
                    .iter()
                    .rposition(|p| p.starts_with(&dotted) || p == prefix)
                    .map_or(order.len(), |i| i + 1)
            };
            order.insert(pos, path.clone());
            tallies.insert(path.clone(), Tally::default());
        }
        let ty = FieldType::of(value);
        if let Some(t) = tallies.get_mut(&path) {
            if ty != FieldType::Null {
                t.present += 1;
            }
            match value {
                Bson::Document(d) if !d.is_empty() => t.branch = true,
                Bson::Array(items) => {
                    t.leaf = true;
                    *t.types.entry(ty).or_default() += 1;
                    for item in items {
                        let et = FieldType::of(item);
                        if et != FieldType::Null {
                            *t.elements.entry(et).or_default() += 1;
                        }
                    }
                }
                _ => {
                    t.leaf = true;
                    *t.types.entry(ty).or_default() += 1;
                }
            }
        }
        if let Bson::Document(d) = value {
            if !d.is_empty() {
                walk(d, &path, order, tallies);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn nested_paths_types_presence_and_arrays() {
        let docs = vec![
            doc! {"_id": 1, "name": "a", "address": {"city": "Berlin", "zip": "10115"}, "tags": ["x", "y"], "n": 1},
            doc! {"_id": 2, "name": "b", "address": {"city": "Paris"}, "tags": [], "n": 2.5},
            doc! {"_id": 3, "name": null, "n": 3, "extra": true},
            doc! {"_id": 4, "name": "d", "address": {"city": "Rome", "geo": {"lat": 1.0}}, "n": 4},
        ];
        let s = CollectionSchema::from_documents("people", &docs);
        let paths: Vec<&str> = s.fields.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "_id",
                "name",
                "address.city",
                "address.zip",
                "address.geo.lat",
                "tags",
                "n",
                "extra"
            ]
        );
        let city = s.field("address.city").expect("city");
        assert_eq!(city.ty, FieldType::String);
        assert_eq!(city.present, 3);
        assert_eq!(city.presence_text(), "75");
        let name = s.field("name").expect("name");
        assert_eq!(name.present, 3, "null is not present");
        let tags = s.field("tags").expect("tags");
        assert!(tags.is_array());
        assert_eq!(tags.type_text(), "array<string>");
        assert_eq!(s.field("n").expect("n").ty, FieldType::Int);
        assert_eq!(s.field("extra").expect("extra").presence_text(), "25");
        assert!(
            s.field("address").is_none(),
            "documents are listed by their leaves"
        );
        let t = s.table_info();
        assert_eq!(t.columns[0].name, "_id");
        assert!(t.columns[0].primary_key);
        assert_eq!(t.columns[2].data_type, "string, 75% present");
        assert_eq!(s.star_columns().len(), paths.len() - 1);
    }

    #[test]
    fn presence_text_edges() {
        let f = |present, sampled| FieldInfo {
            path: "x".into(),
            ty: FieldType::Int,
            element: None,
            present,
            sampled,
        };
        assert_eq!(f(1, 1000).presence_text(), "<1");
        assert_eq!(f(999, 1000).presence_text(), "99");
        assert_eq!(f(1000, 1000).presence_text(), "100");
        assert_eq!(f(0, 10).presence_text(), "0");
    }
}
