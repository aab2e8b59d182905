//! Table retrieval under a budget: which tables of the schemas in scope go into a prompt.
//!
//! When every table fits `[llm] schema_budget` (tokens, estimated as characters / 4 of
//! the rendered schema text), all of them go. When not, tables are chosen in this order
//! until the budget is spent: tables pinned with `SET dbguru.tables`, tables the
//! session's recent answers used, then tables ranked by BM25 over their names (split at
//! `snake_case` and `camelCase`, plurals folded, common abbreviations expanded), column
//! names, comments and sampled values against the question and the recent questions,
//! each followed by the tables it references (foreign keys) so joins stay possible.
//! Wide tables keep their key columns and the columns that match the question.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::backends::{SchemaInfo, TableInfo};
use crate::engine::prompt::{self, Turn};
use crate::keys::KeyInfo;
use crate::llm::DbSchema;

/// Columns a table keeps at most when the schema does not fit (keys and matching
/// columns first).
const WIDE_TABLE_COLUMNS: usize = 30;

/// Why a table went into the prompt.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Everything fit the budget.
    All,
    /// Pinned with `SET dbguru.tables`.
    Pinned,
    /// Used by one of the session's recent answers.
    History,
    /// Ranked by relevance to the question (1 = best).
    Rank(usize),
    /// Referenced by a foreign key of this chosen table (`db.table`).
    ForeignKey(String),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::All => write!(f, "all tables fit"),
            Reason::Pinned => write!(f, "pinned"),
            Reason::History => write!(f, "used by a recent answer"),
            Reason::Rank(n) => write!(f, "rank {n}"),
            Reason::ForeignKey(from) => write!(f, "foreign key of {from}"),
        }
    }
}

/// One table sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// Connection name.
    pub db: String,
    /// Table name.
    pub table: String,
    /// Why.
    pub reason: Reason,
    /// Columns left out of a wide table.
    pub columns_left_out: usize,
}

/// What went into the prompt, for `EXPLAIN ASK` and the NOTICE.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Tables sent, in the order they were chosen.
    pub chosen: Vec<Chosen>,
    /// Tables in scope.
    pub total: usize,
    /// Estimated tokens of the schema text sent.
    pub tokens: usize,
    /// The budget.
    pub budget: usize,
}

impl Selection {
    /// Whether every table in scope was sent.
    pub fn is_complete(&self) -> bool {
        self.chosen.len() == self.total
    }

    /// One line for a NOTICE: counts, then each table and why.
    pub fn describe(&self) -> String {
        if self.is_complete() {
            return format!(
                "schema: all {} tables sent (~{} of {} tokens)",
                self.total, self.tokens, self.budget
            );
        }
        let list: Vec<String> = self
            .chosen
            .iter()
            .map(|c| {
                let mut s = format!("{}.{} ({})", c.db, c.table, c.reason);
                if c.columns_left_out > 0 {
                    s.push_str(&format!(", {} columns left out", c.columns_left_out));
                }
                s
            })
            .collect();
        format!(
            "schema: {} of {} tables sent (~{} of {} tokens; {} left out): {}",
            self.chosen.len(),
            self.total,
            self.tokens,
            self.budget,
            self.total - self.chosen.len(),
            list.join(", ")
        )
    }
}

/// Estimated tokens of a text (4 characters a token, rounded up).
pub fn tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// What ranking needs of one connection's schema, computed once per schema read (the
/// schema cache keeps it beside the snapshot): each table's weighted terms, the tokens of
/// its prompt text and of the database header, and which tables look like copies.
#[derive(Debug)]
pub struct DbIndex {
    docs: Vec<HashMap<String, f64>>,
    table_tokens: Vec<usize>,
    header_tokens: usize,
    copies: Vec<bool>,
}

impl DbIndex {
    /// Indexes the tables of `db` (connection id `id`).
    pub fn build(id: i64, db: &DbSchema) -> DbIndex {
        let tables = &db.schema.tables;
        DbIndex {
            docs: tables.iter().map(document).collect(),
            table_tokens: tables
                .iter()
                .map(|t| tokens(&prompt::table_text(db, t)))
                .collect(),
            header_tokens: tokens(&prompt::database_header(id, db)),
            copies: copies(tables),
        }
    }
}

/// What `select` needs besides the schemas.
pub struct Query<'a> {
    /// The question.
    pub question: &'a str,
    /// The session's recent turns (their questions weigh less; their SQL marks tables).
    pub history: &'a [Turn],
    /// `SET dbguru.tables` patterns: `db.table`, `db.*`, or `table`.
    pub pinned: &'a [String],
    /// Keys per connection name (lower case).
    pub keys: &'a HashMap<String, Arc<KeyInfo>>,
    /// Text whose words count at half weight (matched glossary definitions, examples).
    pub related: &'a str,
    /// Tokens the schema may take (`[llm] schema_budget` less the knowledge sent).
    pub budget: usize,
    /// Indexes per connection name (lower case) built for these very schemas; one
    /// missing is built now.
    pub indexes: &'a HashMap<String, Arc<DbIndex>>,
}

/// Chooses the tables to send; returns the schemas cut to them and what was chosen.
pub fn select(dbs: &[(i64, DbSchema)], q: &Query<'_>) -> (Vec<(i64, DbSchema)>, Selection) {
    let total: usize = dbs.iter().map(|(_, d)| d.schema.tables.len()).sum();
    let idx: Vec<Arc<DbIndex>> = dbs
        .iter()
        .map(|(id, d)| match q.indexes.get(&d.name.to_lowercase()) {
            Some(i) if i.docs.len() == d.schema.tables.len() => i.clone(),
            _ => Arc::new(DbIndex::build(*id, d)),
        })
        .collect();
    // Rounded up piece by piece: never below the tokens of the rendered text.
    let full_tokens = tokens(&prompt::schema_title(total, dbs.len()))
        + idx
            .iter()
            .map(|i| i.header_tokens + i.table_tokens.iter().sum::<usize>())
            .sum::<usize>();
    if full_tokens <= q.budget {
        let chosen = dbs
            .iter()
            .flat_map(|(_, d)| {
                d.schema.tables.iter().map(|t| Chosen {
                    db: d.name.clone(),
                    table: t.name.clone(),
                    reason: Reason::All,
                    columns_left_out: 0,
                })
            })
            .collect();
        return (
            dbs.to_vec(),
            Selection {
                chosen,
                total,
                tokens: full_tokens,
                budget: q.budget,
            },
        );
    }

    let question_terms = terms(q.question);
    let mut weights: HashMap<String, f64> = HashMap::new();
    for t in &question_terms {
        *weights.entry(t.clone()).or_default() += 1.0;
    }
    for turn in q.history.iter().rev().take(2) {
        for t in terms(&turn.question) {
            *weights.entry(t).or_default() += 0.3;
        }
    }
    for t in terms(q.related) {
        *weights.entry(t).or_default() += 0.5;
    }
    let wanted: HashSet<&str> = question_terms.iter().map(String::as_str).collect();

    // Every table of every database: (db index, table index).
    let all: Vec<(usize, usize)> = dbs
        .iter()
        .enumerate()
        .flat_map(|(i, (_, d))| (0..d.schema.tables.len()).map(move |j| (i, j)))
        .collect();
    let docs: Vec<&HashMap<String, f64>> = all.iter().map(|&(i, j)| &idx[i].docs[j]).collect();
    let mut scores = bm25(&docs, &weights);
    // Archive, staging, backup and yearly copies score like their original; the original
    // is what a question means, so copies go behind it.
    for (k, &(i, j)) in all.iter().enumerate() {
        if idx[i].copies[j] {
            scores[k] *= COPY_WEIGHT;
        }
    }

    let mut order: Vec<(usize, Reason)> = Vec::new();
    for (k, &(i, j)) in all.iter().enumerate() {
        if pinned(q.pinned, &dbs[i].1.name, &dbs[i].1.schema.tables[j].name) {
            order.push((k, Reason::Pinned));
        }
    }
    let recent_sql: Vec<String> = q
        .history
        .iter()
        .rev()
        .take(2)
        .flat_map(|t| t.plan.iter().map(|p| p.sql.to_lowercase()))
        .collect();
    if !recent_sql.is_empty() {
        for (k, &(i, j)) in all.iter().enumerate() {
            let name = dbs[i].1.schema.tables[j].name.to_lowercase();
            if recent_sql.iter().any(|sql| mentions(sql, &name)) {
                order.push((k, Reason::History));
            }
        }
    }
    let mut ranked: Vec<usize> = (0..all.len()).filter(|&k| scores[k] > 0.0).collect();
    ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let index: HashMap<(String, String), usize> = all
        .iter()
        .enumerate()
        .map(|(k, &(i, j))| {
            (
                (
                    dbs[i].1.name.to_lowercase(),
                    dbs[i].1.schema.tables[j].name.to_lowercase(),
                ),
                k,
            )
        })
        .collect();
    for (rank, &k) in ranked.iter().enumerate() {
        order.push((k, Reason::Rank(rank + 1)));
        let (i, j) = all[k];
        let db = &dbs[i].1;
        let table = &db.schema.tables[j];
        if let Some(keys) = q.keys.get(&db.name.to_lowercase()) {
            for fk in keys.foreign_keys.iter().filter(|f| f.table == table.name) {
                if let Some(&p) = index.get(&(db.name.to_lowercase(), fk.ref_table.to_lowercase()))
                {
                    order.push((p, Reason::ForeignKey(format!("{}.{}", db.name, table.name))));
                }
            }
        }
    }

    // Spend the budget in that order; a table that does not fit is skipped.
    let mut used: HashSet<usize> = HashSet::new();
    let mut picked: Vec<(usize, Reason, TableInfo, usize)> = Vec::new();
    // The title line counts too (with the full counts: never fewer digits than sent).
    let mut spent = tokens(&prompt::schema_title(total, dbs.len()));
    let mut headers: HashSet<usize> = HashSet::new();
    for (k, reason) in order {
        if used.contains(&k) {
            continue;
        }
        let (i, j) = all[k];
        let db = &dbs[i].1;
        let (table, left_out) = prune(
            &db.schema.tables[j],
            q.keys.get(&db.name.to_lowercase()).map(|k| k.as_ref()),
            &wanted,
        );
        let mut cost = if left_out == 0 {
            idx[i].table_tokens[j]
        } else {
            tokens(&prompt::table_text(db, &table))
        };
        if !headers.contains(&i) {
            cost += idx[i].header_tokens;
        }
        if spent + cost > q.budget {
            continue;
        }
        spent += cost;
        headers.insert(i);
        used.insert(k);
        picked.push((k, reason, table, left_out));
    }

    let mut out: Vec<(i64, DbSchema)> = Vec::new();
    for (i, (id, db)) in dbs.iter().enumerate() {
        let mut tables: Vec<TableInfo> = picked
            .iter()
            .filter(|(k, ..)| all[*k].0 == i)
            .map(|(_, _, t, _)| t.clone())
            .collect();
        if tables.is_empty() {
            continue;
        }
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        out.push((
            *id,
            DbSchema {
                name: db.name.clone(),
                dialect: db.dialect,
                schema: Arc::new(SchemaInfo {
                    database: db.schema.database.clone(),
                    tables,
                }),
            },
        ));
    }
    let chosen = picked
        .into_iter()
        .map(|(k, reason, t, left_out)| Chosen {
            db: dbs[all[k].0].1.name.clone(),
            table: t.name,
            reason,
            columns_left_out: left_out,
        })
        .collect();
    let sent = tokens(&prompt::schema_text(&out));
    (
        out,
        Selection {
            chosen,
            total,
            tokens: sent,
            budget: q.budget,
        },
    )
}

/// What the score of a table that looks like a copy of another is multiplied by.
const COPY_WEIGHT: f64 = 0.15;

/// Which tables look like a copy of another table of the same database: the name is the
/// other's name with parts added before or after it (`orders_hist`, `stg_orders`,
/// `orders_2019`, `bak_orders_20231231`), and most columns are the other's.
fn copies(tables: &[TableInfo]) -> Vec<bool> {
    let parts = |name: &str| -> Vec<String> { split_identifier(name) };
    let by_name: HashMap<String, usize> = tables
        .iter()
        .enumerate()
        .map(|(j, t)| (parts(&t.name).join("_"), j))
        .collect();
    let columns = |t: &TableInfo| -> HashSet<String> {
        t.columns.iter().map(|c| c.name.to_lowercase()).collect()
    };
    tables
        .iter()
        .map(|t| {
            let p = parts(&t.name);
            let n = p.len();
            let mine = columns(t);
            (0..n)
                .flat_map(|a| (a + 1..=n).map(move |b| (a, b)))
                .filter(|&(a, b)| (a == 0 || b == n) && b - a < n)
                .filter_map(|(a, b)| by_name.get(&p[a..b].join("_")))
                .any(|&o| {
                    let theirs = columns(&tables[o]);
                    let shared = mine.intersection(&theirs).count();
                    let smaller = mine.len().min(theirs.len()).max(1);
                    shared * 10 >= smaller * 6
                })
        })
        .collect()
}

/// Whether a `SET dbguru.tables` pattern list names `db.table`.
fn pinned(patterns: &[String], db: &str, table: &str) -> bool {
    patterns.iter().any(|p| {
        let p = p.trim().to_lowercase();
        match p.split_once('.') {
            Some((d, "*")) => d == db.to_lowercase(),
            Some((d, t)) if d == db.to_lowercase() => t == table.to_lowercase(),
            _ => p == table.to_lowercase(),
        }
    })
}

/// Whether `sql` (lower case) names `table` (lower case) as a whole word.
fn mentions(sql: &str, table: &str) -> bool {
    let bytes = sql.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    sql.match_indices(table).any(|(at, m)| {
        let before = at == 0 || !word(bytes[at - 1]);
        let end = at + m.len();
        let after = end >= bytes.len() || !word(bytes[end]);
        before && after
    })
}

/// A wide table cut to its keys, the columns the question names, then the first ones.
fn prune(t: &TableInfo, keys: Option<&KeyInfo>, wanted: &HashSet<&str>) -> (TableInfo, usize) {
    if t.columns.len() <= WIDE_TABLE_COLUMNS {
        return (t.clone(), 0);
    }
    let fk_cols: HashSet<&str> = keys
        .map(|k| {
            k.foreign_keys
                .iter()
                .filter(|f| f.table == t.name)
                .flat_map(|f| f.columns.iter().map(String::as_str))
                .collect()
        })
        .unwrap_or_default();
    let mut keep: Vec<bool> = t
        .columns
        .iter()
        .map(|c| {
            c.primary_key
                || fk_cols.contains(c.name.as_str())
                || terms(&c.name).iter().any(|w| wanted.contains(w.as_str()))
        })
        .collect();
    let mut n = keep.iter().filter(|k| **k).count();
    for k in keep.iter_mut() {
        if n >= WIDE_TABLE_COLUMNS {
            break;
        }
        if !*k {
            *k = true;
            n += 1;
        }
    }
    let columns: Vec<_> = t
        .columns
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c.clone())
        .collect();
    let left_out = t.columns.len() - columns.len();
    (
        TableInfo {
            columns,
            ..t.clone()
        },
        left_out,
    )
}

/// The weighted terms of a table: name ×3, comment ×2, columns, their comments and
/// sampled values ×1.
fn document(t: &TableInfo) -> HashMap<String, f64> {
    let mut d: HashMap<String, f64> = HashMap::new();
    let mut add = |text: &str, w: f64| {
        for term in terms(text) {
            *d.entry(term).or_default() += w;
        }
    };
    add(&t.name, 3.0);
    if let Some(c) = &t.comment {
        add(c, 2.0);
    }
    for c in &t.columns {
        add(&c.name, 1.0);
        if let Some(cc) = &c.comment {
            add(cc, 1.0);
        }
        for v in &c.samples {
            add(v, 1.0);
        }
    }
    d
}

/// BM25 (k1 = 1.2, b = 0.75) of every document against the weighted query terms.
fn bm25(docs: &[&HashMap<String, f64>], query: &HashMap<String, f64>) -> Vec<f64> {
    let n = docs.len() as f64;
    let lens: Vec<f64> = docs.iter().map(|d| d.values().sum()).collect();
    let avg = (lens.iter().sum::<f64>() / n.max(1.0)).max(1.0);
    let idf: HashMap<&str, f64> = query
        .keys()
        .map(|t| {
            let df = docs.iter().filter(|d| d.contains_key(t)).count() as f64;
            (t.as_str(), ((n - df + 0.5) / (df + 0.5) + 1.0).ln())
        })
        .collect();
    docs.iter()
        .zip(&lens)
        .map(|(d, len)| {
            query
                .iter()
                .map(|(t, w)| {
                    let tf = d.get(t).copied().unwrap_or(0.0);
                    if tf == 0.0 {
                        return 0.0;
                    }
                    let norm = tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / avg));
                    w * idf.get(t.as_str()).copied().unwrap_or(0.0) * norm
                })
                .sum()
        })
        .collect()
}

/// Words that say nothing about which table is meant.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "of", "in", "on", "for", "to", "by", "per", "and", "or", "with", "from",
    "at", "as", "is", "are", "was", "were", "be", "been", "what", "which", "who", "whom", "how",
    "many", "much", "show", "list", "give", "me", "all", "each", "every", "there", "that", "this",
    "these", "those", "than", "more", "most", "less", "least", "top", "do", "does", "did", "have",
    "has", "had", "their", "its", "it", "they", "we", "our", "my", "i", "number", "count", "total",
    "sum", "average", "avg", "get", "find", "tell", "about", "between", "into", "over", "under",
    "not", "no", "any", "some", "did", "id", "ids", "when", "where", "why", "will", "would", "can",
    "could", "should", "last", "first", "highest", "lowest", "biggest", "largest", "smallest",
    "best", "worst", "ever", "still", "table", "tables", "data", "record", "records", "row",
    "rows", "value", "values",
];

/// Common abbreviations in schema names, and the word they stand for.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("qty", "quantity"),
    ("amt", "amount"),
    ("emp", "employee"),
    ("empl", "employee"),
    ("cust", "customer"),
    ("acct", "account"),
    ("addr", "address"),
    ("txn", "transaction"),
    ("trx", "transaction"),
    ("dept", "department"),
    ("mgr", "manager"),
    ("prod", "product"),
    ("cat", "category"),
    ("desc", "description"),
    ("org", "organization"),
    ("inv", "invoice"),
    ("pmt", "payment"),
    ("pymt", "payment"),
    ("ord", "order"),
    ("req", "request"),
    ("sched", "schedule"),
    ("whs", "warehouse"),
    ("wh", "warehouse"),
    ("loc", "location"),
    ("hr", "human"),
    ("gl", "ledger"),
    ("ap", "payable"),
    ("ar", "receivable"),
    ("po", "purchase"),
    ("cnt", "count"),
    ("dt", "date"),
    ("ts", "timestamp"),
    ("pct", "percent"),
    ("num", "number"),
    ("sup", "supplier"),
    ("supp", "supplier"),
    ("vend", "vendor"),
    ("mfg", "manufacturing"),
    ("uom", "unit"),
    ("sku", "product"),
];

/// Lower-case terms of a text: split at non-alphanumerics, `snake_case` and `camelCase`
/// boundaries; plurals folded; stopwords dropped; abbreviations also give their word.
pub fn terms(text: &str) -> Vec<String> {
    let words = split_identifier(text);
    let mut out = Vec::new();
    for w in words {
        if w.chars().all(|c| c.is_ascii_digit()) || STOPWORDS.contains(&w.as_str()) {
            continue;
        }
        let s = stem(&w);
        if let Some((_, full)) = ABBREVIATIONS.iter().find(|(a, _)| *a == s) {
            out.push((*full).to_string());
        }
        out.push(s);
    }
    out
}

/// Lower-case words of a text, split at non-alphanumerics and `camelCase` boundaries.
fn split_identifier(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase() || c.is_ascii_digit();
            cur.extend(c.to_lowercase());
        } else {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Folds plurals and a few endings: `categories` → `category`, `boxes` → `box`,
/// `orders` → `order`, `shipped`/`shipping`/`shipment` stay apart.
fn stem(w: &str) -> String {
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    if n > 4
        && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes"))
    {
        return w[..n - 2].to_string();
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..n - 1].to_string();
    }
    w.to_string()
}

#[cfg(test)]
mod tests;
