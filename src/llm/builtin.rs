//! The builtin planner: an offline, schema-aware stand-in for a language model.
//!
//! It lets the proxy answer the common questions with no API key. A question goes
//! through two steps:
//!
//! 1. **Intent** ([`Intent`]): the words are read once, without looking at any schema
//!    (apart from a vocabulary of table-name words), into an aggregate (count, sum,
//!    average, min, max, top-N, list), the noun phrase it applies to, an optional
//!    "per/by X" grouping, simple filters and a row limit.
//! 2. **Rendering**, per database: every table is tried as the base of the query; the
//!    best-scoring table whose columns explain every word of the question wins, and one
//!    `DATABASE:` block is written in the database's dialect. Databases where nothing
//!    fits are left out.
//!
//! Shapes understood (case-insensitive, filler words such as "please", "show me",
//! "what is", "the" ignored):
//!
//! | question | SQL (shape) |
//! |---|---|
//! | how many customers / number of orders / count products | `SELECT count(*) AS customers FROM t` |
//! | total revenue / sum of order amounts / revenue by category | `SELECT sum(m) AS total_revenue FROM t` |
//! | average order value / average price of products | `SELECT avg(m) AS avg_price FROM t` |
//! | highest price / maximum order amount / latest order | `SELECT max(m) AS max_price FROM t` |
//! | most expensive product / cheapest product / 5 most recent orders | top-N rows of the entity |
//! | top 5 products by price / top 3 customers by revenue | top-N, aggregated through a foreign key when needed |
//! | list customers / show 10 orders | `SELECT * FROM t LIMIT n` (20 by default) |
//! | orders per status / customers by country / sales per month | `GROUP BY` (count, or sum for money words) |
//! | customers in Germany / orders with status shipped / products where category = 'Books' / orders in 2024 | `WHERE` |
//!
//! Rules worth knowing:
//!
//! - **Subjects** match table names by words: names are split on `_`, `.` and camelCase,
//!   singularised, and stripped of `dim_`/`fact_`/`tbl_`-style prefixes, so "customers"
//!   matches `customers`, `dim_customer` and `tblCustomer`.
//! - **Synonyms** (orders ~ sales, customers ~ clients, products ~ items...) are used only
//!   when no database in scope matches the question's own words: "how many orders" asks
//!   `shop.orders` and leaves the warehouse's `fact_sales` out, but goes to `fact_sales`
//!   when no database has an orders table.
//! - **Money words** (revenue, sales, amount, value...) resolve to the first of `revenue`,
//!   `total_amount`, `amount`, `sales_amount`, `total` (then any revenue/amount-like
//!   column, then `quantity * price`); prices are never summed as revenue.
//! - **Foreign keys** are columns named `<x>_id` / `<x>_key` pointing at the table that
//!   matches `<x>`; one hop is followed for groupings ("revenue by category" from a sales
//!   table joined to products), filters ("orders in Germany") and top-N entities.
//! - **Aliases** come from the question's words, never from column names, so every
//!   database returns the same column names for the same question and the proxy can
//!   union them: `customers`, `total_revenue`, `avg_price`, `country`, `month`.
//! - **Periods** ("per month", "by year", "in 2024") format the date column as text
//!   (`'2024-03'`, `'2024'`) in every dialect — `to_char` (PostgreSQL), `strftime`
//!   (DuckDB, SQLite), `DATE_FORMAT` (MySQL) — rather than `date_trunc`, so that the
//!   grouped column has the same type in every database of the combined result.
//! - Identifiers are quoted only when needed, in the dialect's style; `schema.table`
//!   names are written qualified; string literals double their quotes.
//! - A follow-up made only of a filter, grouping or limit ("and only in Germany?",
//!   "what about France?", "per month?") is applied to the previous question.

use std::collections::{BTreeSet, HashSet};

use async_trait::async_trait;

use crate::backends::{ColumnInfo, Dialect, TableInfo};
use crate::llm::{DbSchema, Llm, LlmError, LlmRequest};

/// Rows a list question returns when it names no number.
const DEFAULT_LIST_LIMIT: u64 = 20;
/// Rows a "top" question returns when it names no number.
const DEFAULT_TOP_LIMIT: u64 = 10;
/// Largest row limit written into SQL (the proxy's own max_rows applies on top).
const MAX_LIMIT: u64 = 1_000_000;
/// What the planner tells the user it can do.
const CAPABILITIES: &str = "it understands counts, totals, averages, min/max, top-N, lists, \
\"per/by X\" groupings and simple filters; configure [llm] provider = \"openai\" for anything else";

/// The offline planner (`[llm] provider = "builtin"`, the default): answers counts,
/// totals, averages, min/max, top-N, lists, groupings and simple filters from the
/// schemas alone, in the same `DATABASE:` block format a language model must produce.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinPlanner;

impl BuiltinPlanner {
    /// Creates the planner (it has no state).
    pub fn new() -> Self {
        BuiltinPlanner
    }

    /// Plans `question` over `databases`, reading `previous` questions (oldest first) for
    /// follow-ups. Returns the reply text (`DATABASE:` blocks), or
    /// [`LlmError::Unsupported`] when the question is beyond the shapes above or no
    /// database holds a matching table.
    pub fn plan(
        &self,
        question: &str,
        previous: &[String],
        databases: &[DbSchema],
    ) -> Result<String, LlmError> {
        let views: Vec<DbView<'_>> = databases.iter().map(DbView::new).collect();
        let vocab = Vocab::new(&views);
        let intent = understand(question, previous, &vocab).ok_or_else(|| {
            LlmError::Unsupported(format!(
                "the builtin planner cannot answer \"{}\" — {CAPABILITIES}",
                shorten(question)
            ))
        })?;
        let mut found: Vec<(&str, String, bool)> = views
            .iter()
            .filter(|v| {
                intent
                    .only_db
                    .as_ref()
                    .is_none_or(|d| v.name.eq_ignore_ascii_case(d))
            })
            .filter_map(|v| plan_database(&intent, v).map(|(sql, syn)| (v.name, sql, syn)))
            .collect();
        if found.iter().any(|(_, _, syn)| !syn) {
            found.retain(|(_, _, syn)| !syn);
        }
        if found.is_empty() {
            let names: Vec<&str> = views.iter().map(|v| v.name).collect();
            let scope = if names.is_empty() {
                "no database is in scope".to_string()
            } else {
                format!("no table in {} fits it", names.join(", "))
            };
            return Err(LlmError::Unsupported(format!(
                "the builtin planner cannot answer \"{}\": {scope} — {CAPABILITIES}",
                shorten(question)
            )));
        }
        Ok(found
            .iter()
            .map(|(name, sql, _)| format!("DATABASE: {name}\n{sql};"))
            .collect::<Vec<_>>()
            .join("\n\n"))
    }
}

#[async_trait]
impl Llm for BuiltinPlanner {
    async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError> {
        self.plan(&req.question, &req.previous_questions, &req.databases)
    }

    fn name(&self) -> String {
        "builtin".to_string()
    }
}

/// The question for an error message, cut to a readable length.
fn shorten(q: &str) -> String {
    let q = q.trim();
    if q.chars().count() > 120 {
        format!("{}…", q.chars().take(120).collect::<String>())
    } else {
        q.to_string()
    }
}

// ───────────────────────────── words ─────────────────────────────

/// Singular form of one lowercase English word (good enough for table and column names).
fn singular(w: &str) -> String {
    const SAME: &[&str] = &[
        "status", "address", "series", "species", "news", "bonus", "campus", "alias", "analysis",
        "basis", "canvas", "gas", "data", "sms", "bus", "virus", "axis", "process", "access",
    ];
    const IRREGULAR: &[(&str, &str)] = &[
        ("people", "person"),
        ("children", "child"),
        ("men", "man"),
        ("women", "woman"),
        ("mice", "mouse"),
        ("statuses", "status"),
        ("aliases", "alias"),
        ("analyses", "analysis"),
        ("buses", "bus"),
        ("processes", "process"),
    ];
    if SAME.contains(&w) {
        return w.to_string();
    }
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == w) {
        return (*s).to_string();
    }
    let n = w.len();
    if n > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..n - 3]);
    }
    for suffix in ["sses", "xes", "ches", "shes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..n - 2].to_string();
        }
    }
    if n > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        return w[..n - 1].to_string();
    }
    w.to_string()
}

/// Splits an identifier or word into lowercase singular tokens: `_`, `.`, `-`, spaces and
/// camelCase boundaries separate tokens (`dim_customers` → dim, customer;
/// `OrderItems` → order, item; `customerID` → customer, id).
fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut tokens = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                tokens.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                tokens.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        tokens.push(cur);
    }
    tokens.iter().map(|t| singular(t)).collect()
}

/// The words of a table name that say what it holds: the last `.` part, without
/// warehouse prefixes (`dim_customer` → `[customer]`, `sales.fact_orders` → `[order]`).
fn table_core(name: &str) -> Vec<String> {
    const PREFIXES: &[&str] = &[
        "dim", "fact", "fct", "tbl", "tb", "t", "vw", "v", "view", "stg", "raw", "src", "d", "f",
    ];
    const SUFFIXES: &[&str] = &["tbl", "table", "view", "vw", "dim", "fact"];
    let last = name.rsplit('.').next().unwrap_or(name);
    let mut toks = name_tokens(last);
    while toks.len() > 1 && PREFIXES.contains(&toks[0].as_str()) {
        toks.remove(0);
    }
    while toks.len() > 1 && toks.last().is_some_and(|t| SUFFIXES.contains(&t.as_str())) {
        toks.pop();
    }
    toks
}

/// How well the question's words name a table (by its core words): 4 exact, 3 head noun
/// (`online_order` for "order"), 2 contiguous part (`order_item` for "order"), 1 all
/// present, 0 no match. Subjects need 3 or more.
fn match_subject(words: &[String], core: &[String]) -> u8 {
    if words.is_empty() || core.is_empty() {
        return 0;
    }
    if core == words {
        4
    } else if core.ends_with(words) {
        3
    } else if core.windows(words.len()).any(|w| w == words) {
        2
    } else if words.iter().all(|w| core.contains(w)) {
        1
    } else {
        0
    }
}

/// Other names for the same thing, tried only when no database matches the words used.
fn synonyms(w: &str) -> &'static [&'static str] {
    match w {
        "order" => &["sale", "purchase", "transaction"],
        "sale" => &["order", "transaction"],
        "purchase" | "transaction" => &["order", "sale"],
        "customer" => &["client", "buyer", "user"],
        "client" | "buyer" => &["customer"],
        "product" => &["item", "article"],
        "item" | "article" => &["product"],
        "employee" => &["staff", "worker"],
        "staff" | "worker" => &["employee"],
        _ => &[],
    }
}

/// Words that name money, in measures ("total sales", "average order value").
const MONEY_WORDS: &[&str] = &[
    "revenue", "sale", "amount", "value", "turnover", "income", "earning", "taking", "spend",
    "spending", "money", "gmv", "total",
];
/// Words that alone make a question a sum ("revenue by category").
const SUM_TRIGGERS: &[&str] = &[
    "revenue", "revenues", "turnover", "income", "earnings", "gmv",
];
/// Amount-like column names, best first.
const MONEY_COLUMNS: &[&str] = &[
    "revenue",
    "total_amount",
    "amount",
    "sales_amount",
    "total",
    "sales",
    "total_revenue",
    "net_amount",
    "gross_amount",
    "total_sales",
    "total_price",
    "subtotal",
];

/// A calendar period a date column can be grouped or filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Year,
    Month,
    Day,
}

impl Period {
    fn from_word(w: &str) -> Option<Period> {
        match w {
            "year" | "yearly" | "annual" | "annually" => Some(Period::Year),
            "month" | "monthly" => Some(Period::Month),
            "day" | "daily" | "date" => Some(Period::Day),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Period::Year => "year",
            Period::Month => "month",
            Period::Day => "day",
        }
    }

    /// `strftime`-style format (SQLite, DuckDB, MySQL).
    fn strftime(self) -> &'static str {
        match self {
            Period::Year => "%Y",
            Period::Month => "%Y-%m",
            Period::Day => "%Y-%m-%d",
        }
    }

    /// `to_char` format (PostgreSQL).
    fn to_char(self) -> &'static str {
        match self {
            Period::Year => "YYYY",
            Period::Month => "YYYY-MM",
            Period::Day => "YYYY-MM-DD",
        }
    }
}

// ───────────────────────────── tokens ─────────────────────────────

/// One token of a question.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A word: lowercase, and as typed (for values such as place names).
    Word { lower: String, orig: String },
    /// A quoted literal, unquoted.
    Quoted(String),
    /// A number as typed (digits, optional sign and decimal point).
    Number(String),
    /// A comparison operator.
    Op(&'static str),
}

fn tokenize(q: &str) -> Vec<Tok> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let is_word_char = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if matches!(c, '\'' | '"' | '‘' | '“' | '’' | '”') {
            let close: &[char] = match c {
                '\'' => &['\''],
                '"' => &['"'],
                _ => &['’', '”', '\'', '"'],
            };
            let mut j = i + 1;
            let mut s = String::new();
            let mut closed = false;
            while j < chars.len() {
                if close.contains(&chars[j]) {
                    if chars[j] == '\'' && chars.get(j + 1) == Some(&'\'') {
                        s.push('\'');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                s.push(chars[j]);
                j += 1;
            }
            if closed {
                out.push(Tok::Quoted(s));
                i = j + 1;
            } else {
                i += 1;
            }
            continue;
        }
        let op2: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let op = match op2.as_str() {
            "<=" => Some(("<=", 2)),
            ">=" => Some((">=", 2)),
            "!=" | "<>" => Some(("<>", 2)),
            "==" => Some(("=", 2)),
            _ => match c {
                '=' => Some(("=", 1)),
                '<' => Some(("<", 1)),
                '>' => Some((">", 1)),
                _ => None,
            },
        };
        if let Some((op, len)) = op {
            out.push(Tok::Op(op));
            i += len;
            continue;
        }
        let negative = c == '-'
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
            && matches!(out.last(), Some(Tok::Op(_)) | None);
        if c.is_ascii_digit() || negative {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())))
            {
                i += 1;
            }
            if i < chars.len() && is_word_char(chars[i]) {
                // "3rd", "2024q1": a word, not a number.
                while i < chars.len() && is_word_char(chars[i]) {
                    i += 1;
                }
                let orig: String = chars[start..i].iter().collect();
                out.push(Tok::Word {
                    lower: orig.to_lowercase(),
                    orig,
                });
            } else {
                out.push(Tok::Number(chars[start..i].iter().collect()));
            }
            continue;
        }
        if is_word_char(c) {
            let start = i;
            while i < chars.len() {
                let d = chars[i];
                let inner = (d == '-' || d == '\'' || d == '’')
                    && i > start
                    && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric());
                if is_word_char(d) || inner {
                    i += 1;
                } else {
                    break;
                }
            }
            let mut orig: String = chars[start..i].iter().collect();
            for poss in ["'s", "'S", "’s", "’S"] {
                if orig.len() > poss.len() + 1 && orig.ends_with(poss) {
                    orig.truncate(orig.len() - poss.len());
                }
            }
            out.push(Tok::Word {
                lower: orig.to_lowercase(),
                orig,
            });
            continue;
        }
        i += 1; // punctuation
    }
    out
}

// ───────────────────────────── intent ─────────────────────────────

/// What is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Agg {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    List,
    Top,
}

/// The measure a keyword implies when the question names none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implied {
    None,
    Date,
    Money,
    Price,
}

/// A word of the question: lowercase and as typed.
#[derive(Debug, Clone, PartialEq)]
struct Word {
    lower: String,
    orig: String,
}

/// A literal value of a filter.
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Text(String),
    Number(String),
}

/// What a filter constrains.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A column named by these words ("status", "category").
    Column(Vec<String>),
    /// A place ("in Germany", "from Spain"): the country-like column.
    Place,
    /// A year ("in 2024"): the date column.
    Year,
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    target: Target,
    op: &'static str,
    value: Lit,
}

/// A question, understood: `agg` over the noun phrase `words`, optionally grouped,
/// filtered and limited.
#[derive(Debug, Clone, PartialEq)]
struct Intent {
    agg: Agg,
    /// Whether the question said which aggregate (false: implied by its words).
    explicit: bool,
    /// Alias prefix of aggregates: total, avg, max, min, latest, earliest.
    prefix: &'static str,
    /// Content words of the noun phrase (subject and, for aggregates, measure).
    words: Vec<Word>,
    /// The words the aggregate's alias is made of (the part before "of" if any).
    alias_words: Vec<String>,
    /// The measure of a top-N question ("by price"), lowercase words.
    measure: Vec<String>,
    implied: Implied,
    desc: bool,
    /// Words after "per"/"by" (empty: no grouping).
    group: Vec<String>,
    filters: Vec<Filter>,
    limit: Option<u64>,
    /// Whether a verb such as "list"/"show" was used.
    list_hint: bool,
    /// Whole rows rather than entity and measure ("orders sorted by date").
    rows: bool,
    /// Whether the top-N measure words name tables ("customers with the most orders"):
    /// their alias is kept as typed ("orders").
    measure_counts: bool,
    /// The one connection the question named ("customers in shop").
    only_db: Option<String>,
}

impl Intent {
    /// Singular name tokens of the noun phrase.
    fn tokens(&self) -> Vec<String> {
        self.words
            .iter()
            .flat_map(|w| name_tokens(&w.lower))
            .collect()
    }

    /// Alias of a count: the subject as typed ("customers", "order_items").
    fn count_alias(&self) -> String {
        alias(self.words.iter().map(|w| w.lower.as_str()))
    }

    /// Alias of sum/avg/min/max: prefix and the measure words ("total_revenue", "avg_price").
    fn agg_alias(&self) -> String {
        let words: Vec<String> = self.alias_words.iter().map(|w| alias_word(w)).collect();
        alias(std::iter::once(self.prefix).chain(words.iter().map(String::as_str)))
    }

    /// Alias of the entity of a top-N question ("product").
    fn entity_alias(&self) -> String {
        let toks = self.tokens();
        alias(toks.iter().map(String::as_str))
    }

    /// Alias of the measure of a top-N question ("price", "revenue").
    fn measure_alias(&self) -> String {
        let words: Vec<String> = self
            .measure
            .iter()
            .filter(|w| !matches!(w.as_str(), "total" | "sum"))
            .map(|w| {
                if self.measure_counts {
                    w.clone()
                } else {
                    alias_word(w)
                }
            })
            .collect();
        if words.is_empty() {
            match self.implied {
                Implied::Date => "date".to_string(),
                Implied::Price => "price".to_string(),
                Implied::Money | Implied::None => "revenue".to_string(),
            }
        } else {
            alias(words.iter().map(String::as_str))
        }
    }

    /// Alias of the grouping column ("country", "month", "product_category").
    fn group_alias(&self) -> String {
        let toks: Vec<String> = self.group.iter().flat_map(|w| name_tokens(w)).collect();
        match toks.as_slice() {
            [one] => match Period::from_word(one) {
                Some(p) => p.name().to_string(),
                None => one.clone(),
            },
            _ => alias(toks.iter().map(String::as_str)),
        }
    }
}

/// A word as it appears in an alias: singular, except mass nouns ("sales").
fn alias_word(w: &str) -> String {
    if w == "sales" {
        w.to_string()
    } else {
        name_tokens(w).join("_")
    }
}

/// A column alias: lowercase letters, digits and underscores.
fn alias<'s>(words: impl Iterator<Item = &'s str>) -> String {
    let joined = words
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_");
    let mut out = String::new();
    for c in joined.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && (out.is_empty() || out.ends_with('_')) {
            continue;
        }
        out.push(c);
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        return "value".to_string();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'n');
    }
    out
}

/// Words that carry no meaning for the planner.
const FILLER: &[&str] = &[
    "please",
    "pls",
    "kindly",
    "me",
    "us",
    "i",
    "we",
    "you",
    "they",
    "want",
    "need",
    "would",
    "like",
    "to",
    "know",
    "can",
    "could",
    "do",
    "does",
    "did",
    "have",
    "has",
    "had",
    "what",
    "whats",
    "what's",
    "which",
    "who",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "the",
    "a",
    "an",
    "there",
    "our",
    "my",
    "your",
    "their",
    "its",
    "it",
    "all",
    "every",
    "current",
    "currently",
    "exist",
    "exists",
    "existing",
    "stored",
    "recorded",
    "registered",
    "available",
    "database",
    "databases",
    "db",
    "table",
    "tables",
    "record",
    "records",
    "row",
    "rows",
    "entry",
    "entries",
    "some",
    "any",
    "so",
    "far",
    "altogether",
    "overall",
    "just",
    "only",
    "also",
    "about",
    "hey",
    "hi",
    "now",
    "then",
    "that",
    "this",
    "these",
    "those",
    "how",
    "placed",
    "made",
    "make",
    "generate",
    "generated",
    "earn",
    "earned",
    "when",
    "and",
    "or",
    "on",
    "at",
    "ever",
    "we've",
    "i'd",
    "let",
    "lets",
    "let's",
    "ok",
    "okay",
    "thanks",
    "thank",
    "return",
    "returns",
];
/// Verbs that ask for rows.
const LIST_VERBS: &[&str] = &[
    "list", "show", "display", "give", "get", "find", "fetch", "see", "view", "print",
];
/// Words that end a phrase (a clause starts).
const CLAUSE_WORDS: &[&str] = &[
    "per",
    "by",
    "each",
    "where",
    "whose",
    "with",
    "having",
    "in",
    "from",
    "for",
    "of",
    "and",
    "or",
    "during",
    "sorted",
    "ordered",
    "grouped",
    "top",
    "limit",
    "desc",
    "descending",
    "asc",
    "ascending",
];
/// Words that start a superlative after "with" ("products with the highest price").
const SUPERLATIVE_UP: &[&str] = &[
    "highest", "largest", "biggest", "greatest", "most", "max", "maximum",
];
const SUPERLATIVE_DOWN: &[&str] = &["lowest", "smallest", "least", "fewest", "min", "minimum"];

fn is_filler(w: &str) -> bool {
    FILLER.contains(&w) || LIST_VERBS.contains(&w)
}

/// Words the parser needs from the schemas in scope.
struct Vocab {
    /// Singular words of table names (`customer`, `order`, `item`).
    tables: HashSet<String>,
    /// Last word of non-key column names (`country`, `category`, `status`).
    columns: HashSet<String>,
    /// Connection names, lowercase.
    databases: HashSet<String>,
}

impl Vocab {
    fn new(views: &[DbView<'_>]) -> Self {
        let tables = views.iter().flat_map(|v| v.tables.iter());
        Vocab {
            tables: tables
                .clone()
                .flat_map(|t| t.core.iter().cloned())
                .collect(),
            columns: tables
                .flat_map(|t| t.info.columns.iter())
                .filter(|c| !is_key(c))
                .filter_map(|c| name_tokens(&c.name).pop())
                .collect(),
            databases: views.iter().map(|v| v.name.to_lowercase()).collect(),
        }
    }
}

/// Reads a question into an [`Intent`] (not yet checked: the noun phrase may be empty).
struct Parser<'v> {
    toks: Vec<Tok>,
    i: usize,
    vocab: &'v Vocab,
    agg: Option<Agg>,
    prefix: &'static str,
    implied: Implied,
    desc: bool,
    limit: Option<u64>,
    pending_number: Option<u64>,
    pre: Vec<Word>,
    post: Vec<Word>,
    in_of: bool,
    measure: Vec<String>,
    group: Vec<String>,
    filters: Vec<Filter>,
    list_hint: bool,
    rows: bool,
    only_db: Option<String>,
}

impl<'v> Parser<'v> {
    fn new(q: &str, vocab: &'v Vocab) -> Self {
        Parser {
            toks: tokenize(q),
            i: 0,
            vocab,
            agg: None,
            prefix: "",
            implied: Implied::None,
            desc: true,
            limit: None,
            pending_number: None,
            pre: Vec::new(),
            post: Vec::new(),
            in_of: false,
            measure: Vec::new(),
            group: Vec::new(),
            filters: Vec::new(),
            list_hint: false,
            rows: false,
            only_db: None,
        }
    }

    fn word(&self, i: usize) -> Option<&str> {
        match self.toks.get(i) {
            Some(Tok::Word { lower, .. }) => Some(lower.as_str()),
            _ => None,
        }
    }

    /// Whether the words at the cursor are `phrase`.
    fn at(&self, phrase: &[&str]) -> bool {
        phrase
            .iter()
            .enumerate()
            .all(|(k, p)| self.word(self.i + k) == Some(*p))
    }

    /// Consumes the first of `phrases` found at the cursor.
    fn eat_any(&mut self, phrases: &[&[&str]]) -> bool {
        for p in phrases {
            if self.at(p) {
                self.i += p.len();
                return true;
            }
        }
        false
    }

    fn number_at(&self, i: usize) -> Option<u64> {
        match self.toks.get(i) {
            Some(Tok::Number(n)) => n.parse().ok(),
            _ => None,
        }
    }

    fn set_agg(&mut self, agg: Agg, prefix: &'static str, implied: Implied) {
        if self.agg.is_none() {
            self.agg = Some(agg);
            self.prefix = prefix;
            if implied != Implied::None {
                self.implied = implied;
            }
        }
    }

    /// A top-N keyword: `desc` order by `implied`, `n` rows (a number right after, or one
    /// said before, or `default`).
    fn set_top(&mut self, desc: bool, implied: Implied, default: u64) {
        let n = match self.number_at(self.i) {
            Some(n) => {
                self.i += 1;
                Some(n)
            }
            None => self.pending_number.take(),
        };
        self.agg = Some(Agg::Top);
        self.desc = desc;
        if implied != Implied::None {
            self.implied = implied;
        }
        self.limit = Some(n.unwrap_or(default));
    }

    fn run(mut self) -> Option<Intent> {
        while self.i < self.toks.len() {
            if self.keyword()? {
                continue;
            }
            match self.toks[self.i].clone() {
                Tok::Number(n) => {
                    self.pending_number = Some(n.parse().ok()?);
                    self.i += 1;
                }
                Tok::Word { lower, orig } => {
                    self.i += 1;
                    if LIST_VERBS.contains(&lower.as_str()) {
                        self.list_hint = true;
                    } else if let Some(p) =
                        Period::from_word(&lower).filter(|_| lower.ends_with('y'))
                    {
                        // "monthly revenue", "daily orders"
                        self.group = vec![p.name().to_string()];
                    } else if !is_filler(&lower) {
                        let w = Word { lower, orig };
                        if self.in_of {
                            self.post.push(w);
                        } else {
                            self.pre.push(w);
                        }
                    }
                }
                Tok::Op(_) => {
                    // "products price > 100": the word before is the column.
                    let col = if self.in_of {
                        self.post.pop()
                    } else {
                        self.pre.pop()
                    }?;
                    let (op, value) = self.comparison()?;
                    self.filters.push(Filter {
                        target: Target::Column(vec![col.lower]),
                        op,
                        value,
                    });
                }
                Tok::Quoted(_) => return None,
            }
        }
        self.finish()
    }

    /// Handles a keyword at the cursor. `Some(true)`: consumed; `None`: not understood.
    fn keyword(&mut self) -> Option<bool> {
        let Some(w) = self.word(self.i).map(str::to_string) else {
            return Some(false);
        };
        let w = w.as_str();
        if self.eat_any(&[
            &["how", "many"],
            &["total", "number", "of"],
            &["number", "of"],
            &["count", "of"],
        ]) || (w == "count" && self.eat_any(&[&["count"]]))
        {
            self.set_agg(Agg::Count, "", Implied::None);
            return Some(true);
        }
        if self.eat_any(&[&["how", "much"]]) {
            self.set_agg(Agg::Sum, "total", Implied::Money);
            return Some(true);
        }
        let simple: Option<(Agg, &'static str, Implied)> = match w {
            "average" | "avg" | "mean" => Some((Agg::Avg, "avg", Implied::None)),
            "sum" | "total" => Some((Agg::Sum, "total", Implied::None)),
            "max" | "maximum" | "highest" | "largest" | "biggest" | "greatest" => {
                Some((Agg::Max, "max", Implied::None))
            }
            "min" | "minimum" | "lowest" | "smallest" => Some((Agg::Min, "min", Implied::None)),
            _ => None,
        };
        if let Some((agg, prefix, implied)) = simple {
            if w == "total" && self.agg.is_some() {
                // "how many total orders", "how much total revenue": nothing more;
                // "average invoice total": a word of the measure.
                if matches!(self.agg, Some(Agg::Count | Agg::Sum)) {
                    self.i += 1;
                    return Some(true);
                }
                return Some(false);
            }
            self.i += 1;
            self.set_agg(agg, prefix, implied);
            self.eat_any(&[&["of"]]);
            return Some(true);
        }
        if self.eat_any(&[&["most", "expensive"], &["priciest"], &["dearest"]]) {
            self.set_top(true, Implied::Price, 1);
            return Some(true);
        }
        if self.eat_any(&[&["least", "expensive"], &["cheapest"]]) {
            self.set_top(false, Implied::Price, 1);
            return Some(true);
        }
        if self.eat_any(&[
            &["most", "recent"],
            &["latest"],
            &["newest"],
            &["last"],
            &["recent"],
        ]) {
            if self.number_at(self.i).is_some() || self.pending_number.is_some() {
                self.set_top(true, Implied::Date, 1);
            } else {
                self.set_agg(Agg::Max, "latest", Implied::Date);
            }
            return Some(true);
        }
        if self.eat_any(&[&["earliest"], &["oldest"], &["first"]]) {
            if let Some(n) = self.number_at(self.i).filter(|_| w == "first") {
                self.i += 1;
                self.limit = Some(n); // "first 10 orders": a list
            } else if self.number_at(self.i).is_some() || self.pending_number.is_some() {
                self.set_top(false, Implied::Date, 1);
            } else {
                self.set_agg(Agg::Min, "earliest", Implied::Date);
            }
            return Some(true);
        }
        if self.eat_any(&[&["top"], &["best"]]) {
            self.set_top(true, Implied::None, DEFAULT_TOP_LIMIT);
            return Some(true);
        }
        if self.eat_any(&[&["bottom"], &["worst"]]) {
            self.set_top(false, Implied::None, DEFAULT_TOP_LIMIT);
            return Some(true);
        }
        if w == "by" && self.agg == Some(Agg::Top) && self.measure.is_empty() {
            self.i += 1;
            self.eat_any(&[&["the"]]);
            self.eat_any(&[&["number", "of"], &["count", "of"]]);
            self.measure = self.phrase().into_iter().map(|w| w.lower).collect();
            return Some(!self.measure.is_empty()).filter(|ok| *ok);
        }
        if self.eat_any(&[
            &["sorted", "by"],
            &["ordered", "by"],
            &["sort", "by"],
            &["order", "by"],
        ]) {
            // "orders sorted by date [desc]": whole rows in that order.
            self.measure = self.phrase().into_iter().map(|w| w.lower).collect();
            if self.measure.is_empty() || !matches!(self.agg, None | Some(Agg::List)) {
                return None;
            }
            let desc = self.eat_any(&[&["desc"], &["descending"]]);
            self.eat_any(&[&["asc"], &["ascending"]]);
            let n = self
                .limit
                .or(self.pending_number.take())
                .unwrap_or(DEFAULT_LIST_LIMIT);
            self.agg = Some(Agg::Top);
            self.desc = desc;
            self.limit = Some(n);
            self.rows = true;
            return Some(true);
        }
        if matches!(w, "most" | "fewest" | "least")
            && self
                .word(self.i + 1)
                .is_some_and(|n| !CLAUSE_WORDS.contains(&n) && !is_filler(n))
        {
            // "customers with the most orders", "who placed the most orders"
            self.i += 1;
            self.agg = Some(Agg::Top);
            self.desc = w == "most";
            self.limit = Some(self.pending_number.take().unwrap_or(1));
            self.measure = self.phrase().into_iter().map(|w| w.lower).collect();
            return Some(!self.measure.is_empty()).filter(|ok| *ok);
        }
        if self.eat_any(&[
            &["for", "each"],
            &["in", "each"],
            &["for", "every"],
            &["in", "every"],
            &["grouped", "by"],
            &["group", "by"],
            &["broken", "down", "by"],
            &["split", "by"],
            &["breakdown", "by"],
            &["per"],
            &["by"],
            &["each"],
        ]) {
            let words: Vec<String> = self.phrase().into_iter().map(|w| w.lower).collect();
            if words.is_empty() {
                return None;
            }
            self.group = words;
            return Some(true);
        }
        if w == "with"
            || self.at(&["that", "have"])
            || self.at(&["which", "have"])
            || self.at(&["who", "have"])
        {
            self.i += if w == "with" { 1 } else { 2 };
            self.eat_any(&[&["the"]]);
            let up = self
                .word(self.i)
                .is_some_and(|x| SUPERLATIVE_UP.contains(&x));
            let down = self
                .word(self.i)
                .is_some_and(|x| SUPERLATIVE_DOWN.contains(&x));
            if up || down {
                self.i += 1;
                self.agg = Some(Agg::Top);
                self.desc = up;
                self.limit = Some(self.pending_number.take().unwrap_or(1));
                self.measure = self.phrase().into_iter().map(|w| w.lower).collect();
                return Some(!self.measure.is_empty()).filter(|ok| *ok);
            }
            self.filter_clause(true)?;
            return Some(true);
        }
        if matches!(w, "where" | "whose" | "having") {
            self.i += 1;
            self.filter_clause(false)?;
            return Some(true);
        }
        if matches!(w, "in" | "from" | "for" | "during") {
            self.preposition(w == "for");
            return Some(true);
        }
        if w == "of" {
            self.i += 1;
            self.in_of = true;
            return Some(true);
        }
        Some(false)
    }

    /// Content words from the cursor up to the next clause word.
    fn phrase(&mut self) -> Vec<Word> {
        let mut out = Vec::new();
        while let Some(Tok::Word { lower, orig }) = self.toks.get(self.i) {
            if CLAUSE_WORDS.contains(&lower.as_str()) {
                break;
            }
            if !is_filler(lower) {
                out.push(Word {
                    lower: lower.clone(),
                    orig: orig.clone(),
                });
            }
            self.i += 1;
        }
        out
    }

    /// After "in"/"from"/"for"/"during": a place, a year, a subject ("rows in orders"),
    /// or nothing ("in total").
    fn preposition(&mut self, is_for: bool) {
        self.i += 1;
        self.eat_any(&[&["the"]]);
        if self.eat_any(&[&["total"], &["all"]]) {
            return;
        }
        match self.toks.get(self.i).cloned() {
            Some(Tok::Quoted(s)) => {
                self.i += 1;
                self.filters.push(Filter {
                    target: Target::Place,
                    op: "=",
                    value: Lit::Text(s),
                });
            }
            Some(Tok::Number(n)) if n.len() == 4 && n.chars().all(|c| c.is_ascii_digit()) => {
                self.i += 1;
                self.filters.push(Filter {
                    target: Target::Year,
                    op: "=",
                    value: Lit::Text(n),
                });
            }
            Some(Tok::Word { lower, orig }) => {
                let capitalized = orig.starts_with(char::is_uppercase);
                let known = name_tokens(&lower)
                    .iter()
                    .all(|t| self.vocab.tables.contains(t));
                if let Some(country) = country_abbreviation(&orig) {
                    self.i += 1;
                    self.filters.push(Filter {
                        target: Target::Place,
                        op: "=",
                        value: Lit::Text(country.to_string()),
                    });
                    return;
                }
                if CLAUSE_WORDS.contains(&lower.as_str()) || is_filler(&lower) {
                    return;
                }
                if !capitalized && (is_for || known) {
                    self.in_of = true; // "average price for products", "rows in orders"
                    return;
                }
                let start = self.i;
                let place = self.phrase();
                if place.is_empty() {
                    self.i = start;
                    return;
                }
                let lower: Vec<&str> = place.iter().map(|w| w.lower.as_str()).collect();
                if self.vocab.databases.contains(&lower.join(" ")) {
                    self.only_db = Some(lower.join(" ")); // "customers in shop"
                    return;
                }
                let column = |w: &Word| self.vocab.columns.contains(&singular(&w.lower));
                let text = |ws: &[Word]| {
                    ws.iter()
                        .map(|w| w.orig.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let filter = match place.as_slice() {
                    // "in category Books", "in the Books category"
                    [first, rest @ ..] if !rest.is_empty() && column(first) => Filter {
                        target: Target::Column(vec![first.lower.clone()]),
                        op: "=",
                        value: Lit::Text(text(rest)),
                    },
                    [rest @ .., last] if !rest.is_empty() && column(last) => Filter {
                        target: Target::Column(vec![last.lower.clone()]),
                        op: "=",
                        value: Lit::Text(text(rest)),
                    },
                    _ => Filter {
                        target: Target::Place,
                        op: "=",
                        value: Lit::Text(title_case(&text(&place))),
                    },
                };
                self.filters.push(filter);
            }
            _ => {}
        }
    }

    /// `<column words> [comparison] <value>` after where/with; with `loose` (after
    /// "with") the comparison may be left out: `with status shipped`.
    fn filter_clause(&mut self, loose: bool) -> Option<()> {
        loop {
            self.eat_any(&[&["the"]]);
            let mut col: Vec<String> = Vec::new();
            while let Some(Tok::Word { lower, .. }) = self.toks.get(self.i) {
                if is_comparison_word(lower) || CLAUSE_WORDS.contains(&lower.as_str()) {
                    break;
                }
                col.push(lower.clone());
                self.i += 1;
                if loose && col.len() == 1 && !self.at_comparison() {
                    break; // "with status shipped": one column word, then the value
                }
            }
            if col.is_empty() {
                return None;
            }
            let (op, value) = self.comparison()?;
            self.filters.push(Filter {
                target: Target::Column(col),
                op,
                value,
            });
            // "where status = 'shipped' and country = 'Germany'"
            let save = self.i;
            if self.eat_any(&[&["and"]]) {
                let more = matches!(self.toks.get(self.i + 1), Some(Tok::Op(_)))
                    || self.toks.get(self.i + 1).is_some_and(
                        |t| matches!(t, Tok::Word { lower, .. } if is_comparison_word(lower)),
                    );
                if more {
                    continue;
                }
                self.i = save;
            }
            return Some(());
        }
    }

    fn at_comparison(&self) -> bool {
        match self.toks.get(self.i) {
            Some(Tok::Op(_)) => true,
            Some(Tok::Word { lower, .. }) => is_comparison_word(lower),
            _ => false,
        }
    }

    /// An optional comparison (`=`, `is`, `is not`, `over`, `at least`...) and a value.
    fn comparison(&mut self) -> Option<(&'static str, Lit)> {
        let mut op = "=";
        let mut words: Vec<String> = Vec::new();
        loop {
            match self.toks.get(self.i) {
                Some(Tok::Op(o)) => {
                    op = o;
                    self.i += 1;
                }
                Some(Tok::Word { lower, .. }) if is_comparison_word(lower) => {
                    words.push(lower.clone());
                    self.i += 1;
                }
                _ => break,
            }
        }
        let has = |w: &str| words.iter().any(|x| x == w);
        if !words.is_empty() {
            op = if has("not") {
                "<>"
            } else if has("least") {
                ">="
            } else if has("most") {
                "<="
            } else if has("over")
                || has("above")
                || has("greater")
                || has("more")
                || has("exceeding")
            {
                ">"
            } else if has("under") || has("below") || has("less") || has("fewer") {
                "<"
            } else {
                op
            };
        }
        let value = match self.toks.get(self.i).cloned() {
            Some(Tok::Quoted(s)) => {
                self.i += 1;
                Lit::Text(s)
            }
            Some(Tok::Number(n)) => {
                self.i += 1;
                Lit::Number(n)
            }
            Some(Tok::Word { .. }) => {
                let mut parts = Vec::new();
                while let Some(Tok::Word { lower, orig }) = self.toks.get(self.i) {
                    if CLAUSE_WORDS.contains(&lower.as_str()) || matches!(lower.as_str(), "please")
                    {
                        break;
                    }
                    parts.push(orig.clone());
                    self.i += 1;
                }
                if parts.is_empty() {
                    return None;
                }
                Lit::Text(parts.join(" "))
            }
            _ => return None,
        };
        Some((op, value))
    }

    fn finish(self) -> Option<Intent> {
        let mut words: Vec<Word> = self.pre.clone();
        words.extend(self.post.iter().cloned());
        let singular_words: Vec<String> =
            words.iter().flat_map(|w| name_tokens(&w.lower)).collect();
        let explicit = self.agg.is_some();
        let (mut agg, mut prefix) = match self.agg {
            Some(a) => (a, self.prefix),
            None => {
                let money = words
                    .iter()
                    .any(|w| SUM_TRIGGERS.contains(&w.lower.as_str()))
                    || (words.iter().any(|w| w.lower == "sales")
                        && (!self.list_hint || !self.group.is_empty()));
                if money {
                    (Agg::Sum, "total")
                } else if !self.group.is_empty() {
                    (Agg::Count, "")
                } else {
                    (Agg::List, "")
                }
            }
        };
        // "total orders", "total customers": a count.
        if agg == Agg::Sum
            && !words.is_empty()
            && !singular_words
                .iter()
                .any(|w| MONEY_WORDS.contains(&w.as_str()))
            && singular_words.iter().all(|w| self.vocab.tables.contains(w))
        {
            agg = Agg::Count;
            prefix = "";
        }
        if agg == Agg::List && !self.group.is_empty() {
            agg = Agg::Count;
        }
        let mut limit = self.limit.map(|n| n.min(MAX_LIMIT));
        match agg {
            Agg::List => {
                limit = Some(
                    limit
                        .or(self.pending_number)
                        .unwrap_or(DEFAULT_LIST_LIMIT)
                        .min(MAX_LIMIT),
                );
            }
            Agg::Top => {}
            _ if self.pending_number.is_some() => return None, // a number we did not understand
            _ => {}
        }
        let alias_words = if self.pre.is_empty() {
            &self.post
        } else {
            &self.pre
        };
        let measure_counts = !self.measure.is_empty()
            && self
                .measure
                .iter()
                .flat_map(|w| name_tokens(w))
                .all(|t| self.vocab.tables.contains(&t));
        Some(Intent {
            agg,
            explicit,
            prefix,
            alias_words: alias_words.iter().map(|w| w.lower.clone()).collect(),
            words,
            measure: self.measure,
            implied: self.implied,
            desc: self.desc,
            group: self.group,
            filters: self.filters,
            limit,
            list_hint: self.list_hint,
            rows: self.rows,
            measure_counts,
            only_db: self.only_db,
        })
    }
}

fn is_comparison_word(w: &str) -> bool {
    matches!(
        w,
        "is" | "are"
            | "was"
            | "were"
            | "equals"
            | "equal"
            | "equal_to"
            | "not"
            | "over"
            | "above"
            | "under"
            | "below"
            | "more"
            | "less"
            | "fewer"
            | "greater"
            | "than"
            | "at"
            | "least"
            | "most"
            | "exceeding"
            | "to"
    )
}

/// Country names for the usual abbreviations ("US" but not "us", which is a pronoun).
fn country_abbreviation(word: &str) -> Option<&'static str> {
    match word {
        "US" | "USA" | "usa" | "America" | "america" => Some("United States"),
        "UK" | "uk" | "Britain" | "britain" => Some("United Kingdom"),
        "Holland" | "holland" => Some("Netherlands"),
        _ => None,
    }
}

/// `-12`, `3.5`: digits with an optional sign and decimal part (safe to write unquoted).
fn is_plain_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

/// "new york" → "New York"; text with any capital letter is kept as typed.
fn title_case(s: &str) -> String {
    if s.chars().any(char::is_uppercase) {
        return s.to_string();
    }
    s.split(' ')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The intent of `question`, reading `previous` questions for follow-ups. `None`: not
/// understood.
fn understand(question: &str, previous: &[String], vocab: &Vocab) -> Option<Intent> {
    let mut context: Option<Intent> = None;
    for q in previous {
        context = Parser::new(q, vocab)
            .run()
            .and_then(|i| resolve_follow_up(context.take(), i, vocab))
            .filter(valid);
    }
    let intent = Parser::new(question, vocab).run()?;
    resolve_follow_up(context, intent, vocab).filter(valid)
}

/// Whether an intent is complete enough to plan.
fn valid(i: &Intent) -> bool {
    !i.words.is_empty()
        || (matches!(i.agg, Agg::Sum | Agg::Avg | Agg::Min | Agg::Max)
            && i.implied == Implied::Money)
}

/// Applies a follow-up ("and only in Germany?", "what about France?", "per month?") to
/// the previous question; other questions stand alone.
fn resolve_follow_up(context: Option<Intent>, mut cur: Intent, vocab: &Vocab) -> Option<Intent> {
    let Some(mut ctx) = context else {
        return Some(cur);
    };
    // "what about France?": proper nouns that name no table are a place.
    if !cur.explicit
        && !cur.words.is_empty()
        && cur.group.is_empty()
        && cur.words.iter().all(|w| {
            w.orig.starts_with(char::is_uppercase)
                && !name_tokens(&w.lower)
                    .iter()
                    .all(|t| vocab.tables.contains(t))
        })
    {
        let text = cur
            .words
            .iter()
            .map(|w| w.orig.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        cur.filters.push(Filter {
            target: Target::Place,
            op: "=",
            value: Lit::Text(text),
        });
        cur.words.clear();
    }
    let is_follow_up = cur.words.is_empty()
        && cur.measure.is_empty()
        && (!cur.filters.is_empty()
            || !cur.group.is_empty()
            || cur.explicit
            || cur.list_hint
            || cur.only_db.is_some());
    if !is_follow_up {
        return Some(cur);
    }
    if cur.explicit {
        ctx.agg = cur.agg;
        ctx.prefix = cur.prefix;
        ctx.implied = cur.implied;
        ctx.desc = cur.desc;
        ctx.explicit = true;
        if cur.agg == Agg::Top {
            ctx.measure = cur.measure;
        }
    }
    for f in cur.filters {
        ctx.filters.retain(|old| old.target != f.target);
        ctx.filters.push(f);
    }
    if cur.only_db.is_some() {
        ctx.only_db = cur.only_db;
    }
    if !cur.group.is_empty() {
        ctx.group = cur.group;
        if ctx.agg == Agg::List {
            ctx.agg = Agg::Count;
        }
    }
    if cur.agg == Agg::List && cur.limit != Some(DEFAULT_LIST_LIMIT) || cur.agg == Agg::Top {
        ctx.limit = cur.limit.or(ctx.limit);
    }
    Some(ctx)
}

// ───────────────────────────── schema ─────────────────────────────

/// One table with the words its name is made of.
struct TableView<'a> {
    info: &'a TableInfo,
    core: Vec<String>,
}

impl<'a> TableView<'a> {
    fn column(&self, name: &str) -> Option<&'a ColumnInfo> {
        self.info
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The primary key (single column), or a column named `id`.
    fn pk(&self) -> Option<&'a ColumnInfo> {
        let pks: Vec<&ColumnInfo> = self.info.columns.iter().filter(|c| c.primary_key).collect();
        match pks.as_slice() {
            [one] => Some(one),
            _ => self.column("id"),
        }
    }

    /// The column that names a row: `name`, `<entity>_name`, `title`, `label`, any `*_name`.
    fn label(&self) -> Option<&'a ColumnInfo> {
        let mut entity_name = self.core.clone();
        entity_name.push("name".to_string());
        let texty = |c: &&ColumnInfo| !is_numeric(c) && !is_key(c);
        self.column("name")
            .or_else(|| {
                self.info
                    .columns
                    .iter()
                    .find(|c| name_tokens(&c.name) == entity_name)
            })
            .or_else(|| self.column("title"))
            .or_else(|| self.column("label"))
            .or_else(|| self.column("full_name"))
            .or_else(|| {
                self.info
                    .columns
                    .iter()
                    .filter(texty)
                    .find(|c| name_tokens(&c.name).last().is_some_and(|t| t == "name"))
            })
    }
}

/// One database as the planner sees it.
struct DbView<'a> {
    name: &'a str,
    dialect: Dialect,
    tables: Vec<TableView<'a>>,
}

impl<'a> DbView<'a> {
    fn new(db: &'a DbSchema) -> Self {
        DbView {
            name: &db.name,
            dialect: db.dialect,
            tables: db
                .schema
                .tables
                .iter()
                .map(|t| TableView {
                    core: table_core(&t.name),
                    info: t,
                })
                .collect(),
        }
    }

    /// Foreign keys of table `base`: `<x>_id`/`<x>_key` columns pointing at the table whose
    /// name matches `<x>`, joined on its primary key.
    fn hops(&self, base: usize) -> Vec<Hop<'a>> {
        let mut out = Vec::new();
        for c in &self.tables[base].info.columns {
            let toks = name_tokens(&c.name);
            let Some((last, entity)) = toks.split_last() else {
                continue;
            };
            if entity.is_empty() || !matches!(last.as_str(), "id" | "key" | "fk") {
                continue;
            }
            let best = self
                .tables
                .iter()
                .enumerate()
                .filter(|(ti, _)| *ti != base)
                .map(|(ti, t)| (match_subject(entity, &t.core), ti))
                .filter(|(s, _)| *s >= 3)
                .max_by_key(|(s, ti)| (*s, std::cmp::Reverse(*ti)));
            let Some((_, ti)) = best else {
                continue;
            };
            let target = &self.tables[ti];
            let pk = target
                .info
                .columns
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(&c.name))
                .or_else(|| target.pk());
            if let Some(pk) = pk {
                out.push(Hop {
                    fk: c,
                    target: ti,
                    pk,
                });
            }
        }
        out
    }
}

/// A foreign key from the base table to another table.
struct Hop<'a> {
    fk: &'a ColumnInfo,
    target: usize,
    pk: &'a ColumnInfo,
}

fn type_has(c: &ColumnInfo, parts: &[&str]) -> bool {
    let t = c.data_type.to_lowercase();
    parts.iter().any(|p| t.contains(p))
}

fn is_numeric(c: &ColumnInfo) -> bool {
    type_has(
        c,
        &[
            "int", "real", "float", "double", "decimal", "numeric", "number", "money", "serial",
        ],
    ) || c.data_type.trim().is_empty()
}

fn is_texty(c: &ColumnInfo) -> bool {
    type_has(c, &["char", "text", "string", "clob"])
}

fn is_date_typed(c: &ColumnInfo) -> bool {
    type_has(c, &["date", "time"]) && !type_has(c, &["interval"])
}

/// Keys are never measures nor groups: primary keys and `*_id`/`*_key` columns.
fn is_key(c: &ColumnInfo) -> bool {
    let toks = name_tokens(&c.name);
    c.primary_key
        || toks.as_slice() == ["id"]
        || (toks.len() > 1
            && toks
                .last()
                .is_some_and(|t| matches!(t.as_str(), "id" | "key" | "fk")))
}

/// How date-like a column is (lower is better), for "latest" and "per month".
fn date_rank(c: &ColumnInfo, core: &[String]) -> Option<i32> {
    if is_key(c) {
        return None;
    }
    let toks = name_tokens(&c.name);
    let has = |t: &str| toks.iter().any(|x| x == t);
    if has("date") && toks.iter().all(|t| t == "date" || core.contains(t)) {
        Some(0)
    } else if has("date") && (is_date_typed(c) || is_texty(c) || c.data_type.is_empty()) {
        Some(1)
    } else if is_date_typed(c) {
        Some(2)
    } else if (has("time") || has("timestamp") || toks.last().is_some_and(|t| t == "at"))
        && !is_numeric(c)
    {
        Some(3)
    } else {
        None
    }
}

// ───────────────────────────── queries ─────────────────────────────

/// Where a column lives: the base table or the target of one of its foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loc {
    Base,
    Hop(usize),
}

#[derive(Clone, Copy)]
struct ColRef<'a> {
    loc: Loc,
    col: &'a ColumnInfo,
}

#[derive(Clone)]
enum Expr<'a> {
    Col(ColRef<'a>),
    Period(Period, ColRef<'a>),
    Mul(ColRef<'a>, ColRef<'a>),
    Func(&'static str, Box<Expr<'a>>),
    CountStar,
}

impl<'a> Expr<'a> {
    fn locs(&self, out: &mut BTreeSet<usize>) {
        let mut add = |r: &ColRef<'a>| {
            if let Loc::Hop(h) = r.loc {
                out.insert(h);
            }
        };
        match self {
            Expr::Col(r) | Expr::Period(_, r) => add(r),
            Expr::Mul(a, b) => {
                add(a);
                add(b);
            }
            Expr::Func(_, e) => e.locs(out),
            Expr::CountStar => {}
        }
    }

    fn is_numeric(&self) -> bool {
        match self {
            Expr::Col(r) => is_numeric(r.col),
            Expr::Mul(..) | Expr::CountStar | Expr::Func(..) => true,
            Expr::Period(..) => false,
        }
    }
}

/// `expr op value`, or `expr IS NOT NULL` without a value.
struct Cond<'a> {
    expr: Expr<'a>,
    op: &'static str,
    value: Option<Lit>,
}

/// One SELECT over a base table and some of its foreign keys.
struct Query<'a> {
    db: &'a DbView<'a>,
    base: usize,
    hops: Vec<Hop<'a>>,
    star: bool,
    select: Vec<(Expr<'a>, String)>,
    filters: Vec<Cond<'a>>,
    group: Vec<Expr<'a>>,
    order: Vec<(Expr<'a>, bool)>,
    limit: Option<u64>,
}

impl<'a> Query<'a> {
    fn new(db: &'a DbView<'a>, base: usize) -> Self {
        Query {
            db,
            base,
            hops: db.hops(base),
            star: false,
            select: Vec::new(),
            filters: Vec::new(),
            group: Vec::new(),
            order: Vec::new(),
            limit: None,
        }
    }

    fn table(&self, loc: Loc) -> &'a TableView<'a> {
        let db: &'a DbView<'a> = self.db;
        match loc {
            Loc::Base => &db.tables[self.base],
            Loc::Hop(h) => &db.tables[self.hops[h].target],
        }
    }

    /// The base table, then the targets of its foreign keys.
    fn locs(&self) -> Vec<Loc> {
        std::iter::once(Loc::Base)
            .chain((0..self.hops.len()).map(Loc::Hop))
            .collect()
    }

    /// The column named by `toks`: score 3 exact name, 2 name ends with the words,
    /// 1 name contains the last word (keys only on exact names). Base table first.
    fn find_column(&self, toks: &[String]) -> Option<(ColRef<'a>, u8)> {
        let last = toks.last()?;
        let mut best: Option<(ColRef<'a>, u8)> = None;
        for loc in self.locs() {
            for c in &self.table(loc).info.columns {
                let ct = name_tokens(&c.name);
                let s = if ct == toks {
                    3
                } else if is_key(c) {
                    0
                } else if ct.ends_with(toks) {
                    2
                } else if ct.contains(last) {
                    1
                } else {
                    0
                };
                if s > 0 && best.as_ref().is_none_or(|(_, b)| s > *b) {
                    best = Some((ColRef { loc, col: c }, s));
                }
            }
        }
        best
    }

    /// The best date column of the base table, else of a foreign-key target.
    fn date_column(&self, base_only: bool) -> Option<ColRef<'a>> {
        let locs = if base_only {
            vec![Loc::Base]
        } else {
            self.locs()
        };
        let mut best: Option<(ColRef<'a>, i32)> = None;
        for loc in locs {
            let t = self.table(loc);
            for c in &t.info.columns {
                if let Some(r) = date_rank(c, &t.core) {
                    let r = r + if loc == Loc::Base { 0 } else { 10 };
                    if best.as_ref().is_none_or(|(_, b)| r < *b) {
                        best = Some((ColRef { loc, col: c }, r));
                    }
                }
            }
        }
        best.map(|(c, _)| c)
    }

    /// The country-like column ("customers in Germany").
    fn place_column(&self) -> Option<ColRef<'a>> {
        const PLACES: &[&str] = &[
            "country",
            "country_name",
            "nation",
            "region",
            "state",
            "city",
            "location",
        ];
        let locs = self.locs();
        for p in PLACES {
            let want = name_tokens(p);
            for &loc in &locs {
                if let Some(c) = self
                    .table(loc)
                    .info
                    .columns
                    .iter()
                    .find(|c| name_tokens(&c.name) == want)
                {
                    return Some(ColRef { loc, col: c });
                }
            }
        }
        for &loc in &locs {
            if let Some(c) = self
                .table(loc)
                .info
                .columns
                .iter()
                .find(|c| !is_key(c) && name_tokens(&c.name).iter().any(|t| t == "country"))
            {
                return Some(ColRef { loc, col: c });
            }
        }
        None
    }

    /// A foreign-key target named by `toks`, shown by its label: (select, group by, score).
    fn entity(&self, toks: &[String]) -> Option<(Expr<'a>, Vec<Expr<'a>>, u8)> {
        let (h, s) = (0..self.hops.len())
            .map(|h| (h, match_subject(toks, &self.table(Loc::Hop(h)).core)))
            .filter(|(_, s)| *s >= 3)
            .max_by_key(|(h, s)| (*s, std::cmp::Reverse(*h)))?;
        let loc = Loc::Hop(h);
        let pk = Expr::Col(ColRef {
            loc,
            col: self.hops[h].pk,
        });
        Some(match self.table(loc).label() {
            Some(l) => {
                let l = Expr::Col(ColRef { loc, col: l });
                (l.clone(), vec![pk, l], s)
            }
            None => (pk.clone(), vec![pk], s),
        })
    }

    /// The grouping named by `words`: a period of a date column, a column, or an entity.
    fn group_by(&self, words: &[String]) -> Option<(Expr<'a>, Vec<Expr<'a>>)> {
        let toks: Vec<String> = words.iter().flat_map(|w| name_tokens(w)).collect();
        if let [one] = toks.as_slice() {
            if let Some(p) = Period::from_word(one) {
                if let Some(c) = self.date_column(false) {
                    let e = Expr::Period(p, c);
                    return Some((e.clone(), vec![e]));
                }
            }
        }
        let col = self.find_column(&toks);
        if let Some((c, s)) = col {
            if s >= 2 {
                return Some((Expr::Col(c), vec![Expr::Col(c)]));
            }
        }
        if let Some((sel, group, _)) = self.entity(&toks) {
            return Some((sel, group));
        }
        col.map(|(c, _)| (Expr::Col(c), vec![Expr::Col(c)]))
    }

    /// The measure named by `toks` in the base table (rank: lower is better). With no
    /// words, the `implied` one (a date, money, a price).
    fn measure(&self, toks: &[String], implied: Implied) -> Option<(Expr<'a>, i32)> {
        let t = self.table(Loc::Base);
        let col = |c: &'a ColumnInfo| {
            Expr::Col(ColRef {
                loc: Loc::Base,
                col: c,
            })
        };
        let usable = |c: &&ColumnInfo| !is_key(c);
        let Some((last, rest)) = toks.split_last() else {
            return match implied {
                Implied::Date => self.date_column(true).map(|c| (Expr::Col(c), 0)),
                Implied::Price => self.price(),
                Implied::Money | Implied::None => self.money(&[]),
            };
        };
        // The whole phrase names a column: "unit price", "list_price".
        if let Some(c) = t
            .info
            .columns
            .iter()
            .filter(usable)
            .find(|c| name_tokens(&c.name) == toks)
        {
            return Some((col(c), 0));
        }
        if MONEY_WORDS.contains(&last.as_str()) {
            return self.money(rest);
        }
        if matches!(last.as_str(), "date" | "time" | "day") && rest.is_empty() {
            return self.date_column(true).map(|c| (Expr::Col(c), 0));
        }
        if matches!(last.as_str(), "price" | "cost") && rest.is_empty() {
            return self.price();
        }
        t.info
            .columns
            .iter()
            .filter(usable)
            .filter(|c| is_numeric(c) || date_rank(c, &t.core).is_some())
            .find(|c| {
                let ct = name_tokens(&c.name);
                ct.contains(last) && rest.iter().all(|r| ct.contains(r))
            })
            .map(|c| (col(c), 5))
    }

    /// The money column of the base table; `extra` words must be part of its name (or money words).
    fn money(&self, extra: &[String]) -> Option<(Expr<'a>, i32)> {
        let t = self.table(Loc::Base);
        let fits = |c: &ColumnInfo| {
            let ct = name_tokens(&c.name);
            extra
                .iter()
                .all(|w| ct.contains(w) || MONEY_WORDS.contains(&w.as_str()))
        };
        let r = |c: &'a ColumnInfo| ColRef {
            loc: Loc::Base,
            col: c,
        };
        for (rank, name) in MONEY_COLUMNS.iter().enumerate() {
            if let Some(c) = t
                .column(name)
                .filter(|c| is_numeric(c) && !is_key(c) && fits(c))
            {
                return Some((Expr::Col(r(c)), rank as i32 + 1));
            }
        }
        if let Some(c) = t.info.columns.iter().find(|c| {
            is_numeric(c)
                && !is_key(c)
                && fits(c)
                && name_tokens(&c.name).iter().any(|x| {
                    matches!(
                        x.as_str(),
                        "revenue" | "amount" | "sale" | "turnover" | "income"
                    )
                })
        }) {
            return Some((Expr::Col(r(c)), 20));
        }
        let qty = t.info.columns.iter().find(|c| {
            is_numeric(c)
                && !is_key(c)
                && name_tokens(&c.name)
                    .iter()
                    .any(|x| matches!(x.as_str(), "quantity" | "qty"))
        })?;
        let price = t.info.columns.iter().find(|c| {
            is_numeric(c) && !is_key(c) && name_tokens(&c.name).iter().any(|x| x == "price")
        })?;
        if !extra.iter().all(|w| MONEY_WORDS.contains(&w.as_str())) {
            return None;
        }
        Some((Expr::Mul(r(qty), r(price)), 30))
    }

    /// The price column of the base table: `price`, `*_price`, `*cost*`.
    fn price(&self) -> Option<(Expr<'a>, i32)> {
        let t = self.table(Loc::Base);
        let numeric = |c: &&ColumnInfo| is_numeric(c) && !is_key(c);
        let found = t
            .column("price")
            .filter(numeric)
            .map(|c| (c, 0))
            .or_else(|| {
                t.info
                    .columns
                    .iter()
                    .filter(numeric)
                    .find(|c| name_tokens(&c.name).iter().any(|x| x == "price"))
                    .map(|c| (c, 1))
            })
            .or_else(|| {
                t.info
                    .columns
                    .iter()
                    .filter(numeric)
                    .find(|c| name_tokens(&c.name).iter().any(|x| x == "cost"))
                    .map(|c| (c, 2))
            })?;
        Some((
            Expr::Col(ColRef {
                loc: Loc::Base,
                col: found.0,
            }),
            found.1,
        ))
    }

    /// The condition for one filter of the question.
    fn condition(&self, f: &Filter) -> Option<Cond<'a>> {
        let (expr, value) = match &f.target {
            Target::Column(words) => {
                let toks: Vec<String> = words.iter().flat_map(|w| name_tokens(w)).collect();
                let (c, _) = self.find_column(&toks)?;
                let numeric = is_numeric(c.col) && !c.col.data_type.trim().is_empty();
                let value = match &f.value {
                    Lit::Number(n) if !is_numeric(c.col) => Lit::Text(n.clone()),
                    // 'price is cheap': a word against a number column is not a filter
                    Lit::Text(t) if numeric => {
                        if !is_plain_number(t.trim()) {
                            return None;
                        }
                        Lit::Number(t.trim().to_string())
                    }
                    v => v.clone(),
                };
                (Expr::Col(c), value)
            }
            Target::Place => (Expr::Col(self.place_column()?), f.value.clone()),
            Target::Year => (
                Expr::Period(Period::Year, self.date_column(false)?),
                f.value.clone(),
            ),
        };
        if f.op != "=" && f.op != "<>" && !matches!(value, Lit::Number(_)) {
            return None; // "price over cheap"
        }
        Some(Cond {
            expr,
            op: f.op,
            value: Some(value),
        })
    }

    /// Number of foreign keys the query uses.
    fn joins(&self) -> usize {
        self.used_hops().len()
    }

    fn used_hops(&self) -> BTreeSet<usize> {
        let mut used = BTreeSet::new();
        for (e, _) in &self.select {
            e.locs(&mut used);
        }
        for c in &self.filters {
            c.expr.locs(&mut used);
        }
        for e in &self.group {
            e.locs(&mut used);
        }
        for (e, _) in &self.order {
            e.locs(&mut used);
        }
        used
    }

    /// The SQL (without the final `;`); `None` when the dialect cannot express it.
    fn render(&self) -> Option<String> {
        let d = self.db.dialect;
        let used = self.used_hops();
        let mut names: Vec<String> = Vec::new();
        let mut alias_of = |t: &TableView<'_>| {
            let base: String = if t.core.is_empty() {
                t.info
                    .name
                    .chars()
                    .take(1)
                    .collect::<String>()
                    .to_lowercase()
            } else {
                t.core.iter().filter_map(|w| w.chars().next()).collect()
            };
            let base = if base.chars().all(|c| c.is_ascii_lowercase()) && !base.is_empty() {
                base
            } else {
                "t".to_string()
            };
            let mut a = base.clone();
            let mut n = 2;
            while names.contains(&a) || RESERVED.contains(&a.as_str()) {
                a = format!("{base}{n}");
                n += 1;
            }
            names.push(a.clone());
            a
        };
        let qualified = !used.is_empty();
        let base_alias = alias_of(self.table(Loc::Base));
        let hop_aliases: Vec<(usize, String)> = used
            .iter()
            .map(|&h| (h, alias_of(self.table(Loc::Hop(h)))))
            .collect();
        let col = |r: &ColRef<'_>| -> String {
            let name = ident(d, &r.col.name);
            if !qualified {
                return name;
            }
            let a = match r.loc {
                Loc::Base => Some(base_alias.as_str()),
                Loc::Hop(h) => hop_aliases
                    .iter()
                    .find(|(x, _)| *x == h)
                    .map(|(_, a)| a.as_str()),
            };
            format!("{}.{name}", a.unwrap_or(""))
        };
        let expr = |e: &Expr<'_>| render_expr(d, e, &col);

        let mut sql = String::from("SELECT ");
        if self.star {
            sql.push_str(&if qualified {
                format!("{base_alias}.*")
            } else {
                "*".to_string()
            });
        } else {
            let mut items = Vec::new();
            for (e, alias) in &self.select {
                let text = expr(e)?;
                let same = matches!(e, Expr::Col(r) if r.col.name == *alias);
                items.push(if same {
                    text
                } else {
                    format!("{text} AS {}", ident(d, alias))
                });
            }
            sql.push_str(&items.join(", "));
        }
        sql.push_str(" FROM ");
        sql.push_str(&table_name(d, &self.table(Loc::Base).info.name));
        if qualified {
            sql.push_str(&format!(" AS {base_alias}"));
        }
        for (h, a) in &hop_aliases {
            let hop = &self.hops[*h];
            sql.push_str(&format!(
                " JOIN {} AS {a} ON {base_alias}.{} = {a}.{}",
                table_name(d, &self.table(Loc::Hop(*h)).info.name),
                ident(d, &hop.fk.name),
                ident(d, &hop.pk.name)
            ));
        }
        if !self.filters.is_empty() {
            let mut conds = Vec::new();
            for c in &self.filters {
                let e = expr(&c.expr)?;
                conds.push(match &c.value {
                    None => format!("{e} IS NOT NULL"),
                    Some(Lit::Number(n)) => format!("{e} {} {n}", c.op),
                    Some(Lit::Text(s)) => format!("{e} {} {}", c.op, literal(d, s)),
                });
            }
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        if !self.group.is_empty() {
            let g: Option<Vec<String>> = self.group.iter().map(&expr).collect();
            sql.push_str(" GROUP BY ");
            sql.push_str(&g?.join(", "));
        }
        if !self.order.is_empty() {
            let mut o = Vec::new();
            for (e, desc) in &self.order {
                let text = expr(e)?;
                o.push(if *desc { format!("{text} DESC") } else { text });
            }
            sql.push_str(" ORDER BY ");
            sql.push_str(&o.join(", "));
        }
        if let Some(n) = self.limit {
            sql.push_str(&format!(" LIMIT {n}"));
        }
        Some(sql)
    }
}

fn render_expr(d: Dialect, e: &Expr<'_>, col: &dyn Fn(&ColRef<'_>) -> String) -> Option<String> {
    Some(match e {
        Expr::Col(r) => col(r),
        Expr::Mul(a, b) => format!("{} * {}", col(a), col(b)),
        Expr::CountStar => "count(*)".to_string(),
        Expr::Func(f, inner) => format!("{f}({})", render_expr(d, inner, col)?),
        Expr::Period(p, r) => {
            let c = col(r);
            let ts = || {
                if is_date_typed(r.col) {
                    c.clone()
                } else {
                    format!("CAST({c} AS TIMESTAMP)")
                }
            };
            match d {
                Dialect::Postgres => format!("to_char({}, '{}')", ts(), p.to_char()),
                Dialect::Duckdb => format!("strftime({}, '{}')", ts(), p.strftime()),
                Dialect::Sqlite => format!("strftime('{}', {c})", p.strftime()),
                Dialect::Mysql => format!("DATE_FORMAT({c}, '{}')", p.strftime()),
                Dialect::Mongodb => return None,
            }
        }
    })
}

/// Words that must be quoted as identifiers in at least one dialect.
const RESERVED: &[&str] = &[
    "all",
    "alter",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "between",
    "both",
    "by",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "date",
    "day",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "hour",
    "if",
    "ilike",
    "in",
    "index",
    "inner",
    "insert",
    "intersect",
    "interval",
    "into",
    "is",
    "join",
    "key",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "minute",
    "month",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "partition",
    "pivot",
    "primary",
    "qualify",
    "range",
    "references",
    "replace",
    "returning",
    "right",
    "row",
    "rows",
    "second",
    "select",
    "session_user",
    "set",
    "show",
    "some",
    "symmetric",
    "table",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "unpivot",
    "update",
    "user",
    "using",
    "values",
    "when",
    "where",
    "window",
    "with",
    "year",
];

/// An identifier, quoted only when needed (PostgreSQL folds case, so capitals need quotes there).
fn ident(d: Dialect, name: &str) -> String {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| {
        c == '_' || c.is_ascii_lowercase() || (d != Dialect::Postgres && c.is_ascii_uppercase())
    });
    let rest_ok = chars.all(|c| {
        c == '_'
            || c.is_ascii_digit()
            || c.is_ascii_lowercase()
            || (d != Dialect::Postgres && c.is_ascii_uppercase())
    });
    if first_ok && rest_ok && !RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return name.to_string();
    }
    match d {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// A table name; `schema.table` is written qualified.
fn table_name(d: Dialect, name: &str) -> String {
    name.split('.')
        .map(|p| ident(d, p))
        .collect::<Vec<_>>()
        .join(".")
}

/// A string literal (MySQL also treats backslashes as escapes).
fn literal(d: Dialect, s: &str) -> String {
    let s = s.replace('\'', "''");
    let s = if d == Dialect::Mysql {
        s.replace('\\', "\\\\")
    } else {
        s
    };
    format!("'{s}'")
}

// ───────────────────────────── planning ─────────────────────────────

/// The question's words, and (in the synonym pass) each variant with one word replaced
/// by a synonym.
fn word_variants(toks: &[String], synonyms_pass: bool) -> Vec<Vec<String>> {
    if !synonyms_pass {
        return vec![toks.to_vec()];
    }
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        for s in synonyms(t) {
            let mut v = toks.to_vec();
            v[i] = (*s).to_string();
            out.push(v);
        }
    }
    out
}

/// The SQL answering `intent` on `db`, and whether a synonym was needed; `None` when no
/// table fits.
fn plan_database(intent: &Intent, db: &DbView<'_>) -> Option<(String, bool)> {
    let toks = intent.tokens();
    for synonyms_pass in [false, true] {
        let mut best: Option<(i64, String)> = None;
        for variant in word_variants(&toks, synonyms_pass) {
            for base in 0..db.tables.len() {
                let Some((q, score)) = build(intent, &variant, db, base) else {
                    continue;
                };
                let Some(sql) = q.render() else {
                    continue;
                };
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, sql));
                }
            }
        }
        if let Some((_, sql)) = best {
            return Some((sql, synonyms_pass));
        }
    }
    None
}

/// The query for `intent` with table `base` as its base, and its score (higher is
/// better), or `None` when some word of the question finds no column.
fn build<'a>(
    intent: &Intent,
    toks: &[String],
    db: &'a DbView<'a>,
    base: usize,
) -> Option<(Query<'a>, i64)> {
    let mut q = Query::new(db, base);
    let core = &db.tables[base].core;
    let mut score: i64;
    match intent.agg {
        Agg::Count | Agg::List => {
            let s = match_subject(toks, core);
            if s < 3 {
                return None;
            }
            score = i64::from(s) * 10_000;
            if intent.agg == Agg::Count {
                q.select.push((Expr::CountStar, intent.count_alias()));
            } else {
                q.star = true;
                q.limit = intent.limit;
            }
        }
        Agg::Sum | Agg::Avg | Agg::Min | Agg::Max => {
            let (subject, measure): (Vec<String>, Vec<String>) =
                toks.iter().cloned().partition(|t| core.contains(t));
            let s = match_subject(&subject, core);
            let (m, rank) = q.measure(&measure, intent.implied)?;
            if matches!(intent.agg, Agg::Sum | Agg::Avg) && !m.is_numeric() {
                return None;
            }
            let f = match intent.agg {
                Agg::Sum => "sum",
                Agg::Avg => "avg",
                Agg::Min => "min",
                _ => "max",
            };
            q.select
                .push((Expr::Func(f, Box::new(m)), intent.agg_alias()));
            score = i64::from(s) * 10_000 - i64::from(rank) * 100;
        }
        Agg::Top => score = top(intent, toks, &mut q)?,
    }
    for f in &intent.filters {
        let c = q.condition(f)?;
        q.filters.push(c);
    }
    if intent.agg != Agg::Top && !intent.group.is_empty() {
        let (sel, group) = q.group_by(&intent.group)?;
        q.select.insert(0, (sel.clone(), intent.group_alias()));
        q.group = group;
        q.order = vec![(sel, false)];
    }
    score -= 10 * q.joins() as i64;
    Some((q, score))
}

/// Fills `q` for a top-N question; returns the score. Either the entity's own column
/// ("top 5 products by price": base is the entity) or a sum/count per entity over a
/// table that points at it ("top 3 customers by revenue": base is orders).
fn top<'a>(intent: &Intent, toks: &[String], q: &mut Query<'a>) -> Option<i64> {
    if !intent.group.is_empty() {
        return None;
    }
    let base = q.table(Loc::Base);
    let mtoks: Vec<String> = intent.measure.iter().flat_map(|w| name_tokens(w)).collect();
    let implied = match intent.implied {
        Implied::None => Implied::Money,
        i => i,
    };
    q.limit = intent.limit;
    let s = match_subject(toks, &base.core);
    if s >= 3 {
        let (m, rank) = q.measure(&mtoks, implied)?;
        match base.label().filter(|_| !intent.rows) {
            Some(l) => {
                let l = Expr::Col(ColRef {
                    loc: Loc::Base,
                    col: l,
                });
                q.select.push((l, intent.entity_alias()));
                q.select.push((m.clone(), intent.measure_alias()));
            }
            None => q.star = true,
        }
        if !intent.rows {
            q.filters.push(Cond {
                expr: m.clone(),
                op: "",
                value: None,
            });
        }
        q.order.push((m, intent.desc));
        return Some(i64::from(s) * 10_000 - i64::from(rank) * 100 + 5_000);
    }
    if intent.rows {
        return None;
    }
    let (total, rank) = if match_subject(&mtoks, &base.core) >= 3 {
        (Expr::CountStar, 0) // "customers with the most orders" over orders
    } else {
        let (m, rank) = q.measure(&mtoks, implied)?;
        let price = matches!(&m, Expr::Col(r) if name_tokens(&r.col.name).iter().any(|t| t == "price" || t == "cost"));
        if !m.is_numeric() || price {
            return None; // summing unit prices means nothing
        }
        (Expr::Func("sum", Box::new(m)), rank)
    };
    let (label, group, es) = q.entity(toks).or_else(|| {
        let (c, s) = q.find_column(toks)?;
        (s >= 2 && !is_numeric(c.col)).then(|| (Expr::Col(c), vec![Expr::Col(c)], 3))
    })?;
    q.select.push((label, intent.entity_alias()));
    q.select.push((total.clone(), intent.measure_alias()));
    q.group = group;
    q.order.push((total, intent.desc));
    Some(i64::from(es) * 10_000 - i64::from(rank) * 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::SchemaInfo;

    fn col(name: &str, ty: &str, pk: bool) -> ColumnInfo {
        ColumnInfo {
            name: name.to_string(),
            data_type: ty.to_string(),
            primary_key: pk,
            nullable: !pk,
        }
    }

    fn table(name: &str, cols: &[(&str, &str)]) -> TableInfo {
        TableInfo {
            name: name.to_string(),
            columns: cols
                .iter()
                .enumerate()
                .map(|(i, (n, t))| col(n, t, i == 0))
                .collect(),
        }
    }

    fn shop() -> DbSchema {
        DbSchema {
            name: "shop".to_string(),
            dialect: Dialect::Sqlite,
            schema: SchemaInfo {
                database: "shop.db".to_string(),
                tables: vec![
                    table(
                        "customers",
                        &[
                            ("id", "INTEGER"),
                            ("name", "TEXT"),
                            ("email", "TEXT"),
                            ("country", "TEXT"),
                            ("city", "TEXT"),
                            ("created_at", "TEXT"),
                        ],
                    ),
                    table(
                        "order_items",
                        &[
                            ("id", "INTEGER"),
                            ("order_id", "INTEGER"),
                            ("product_id", "INTEGER"),
                            ("quantity", "INTEGER"),
                            ("unit_price", "REAL"),
                        ],
                    ),
                    table(
                        "orders",
                        &[
                            ("id", "INTEGER"),
                            ("customer_id", "INTEGER"),
                            ("order_date", "TEXT"),
                            ("status", "TEXT"),
                            ("total_amount", "REAL"),
                        ],
                    ),
                    table(
                        "products",
                        &[
                            ("id", "INTEGER"),
                            ("name", "TEXT"),
                            ("category", "TEXT"),
                            ("price", "REAL"),
                            ("stock", "INTEGER"),
                        ],
                    ),
                ],
            },
        }
    }

    fn warehouse() -> DbSchema {
        DbSchema {
            name: "warehouse".to_string(),
            dialect: Dialect::Duckdb,
            schema: SchemaInfo {
                database: "warehouse.duckdb".to_string(),
                tables: vec![
                    table(
                        "dim_customer",
                        &[
                            ("customer_key", "INTEGER"),
                            ("customer_name", "VARCHAR"),
                            ("email", "VARCHAR"),
                            ("country", "VARCHAR"),
                            ("city", "VARCHAR"),
                            ("segment", "VARCHAR"),
                        ],
                    ),
                    table(
                        "dim_date",
                        &[
                            ("date_key", "INTEGER"),
                            ("date", "DATE"),
                            ("year", "INTEGER"),
                            ("quarter", "INTEGER"),
                            ("month", "INTEGER"),
                            ("month_name", "VARCHAR"),
                        ],
                    ),
                    table(
                        "dim_product",
                        &[
                            ("product_key", "INTEGER"),
                            ("product_name", "VARCHAR"),
                            ("category", "VARCHAR"),
                            ("list_price", "DECIMAL(10,2)"),
                        ],
                    ),
                    table(
                        "fact_sales",
                        &[
                            ("sale_id", "INTEGER"),
                            ("date_key", "INTEGER"),
                            ("customer_key", "INTEGER"),
                            ("product_key", "INTEGER"),
                            ("quantity", "INTEGER"),
                            ("revenue", "DECIMAL(12,2)"),
                        ],
                    ),
                ],
            },
        }
    }

    fn demo() -> Vec<DbSchema> {
        vec![shop(), warehouse()]
    }

    fn ask_in(q: &str, dbs: &[DbSchema]) -> String {
        match BuiltinPlanner::new().plan(q, &[], dbs) {
            Ok(s) => s,
            Err(e) => panic!("{q}: {e}"),
        }
    }

    fn ask(q: &str) -> String {
        ask_in(q, &demo())
    }

    fn both(shop_sql: &str, warehouse_sql: &str) -> String {
        format!("DATABASE: shop\n{shop_sql};\n\nDATABASE: warehouse\n{warehouse_sql};")
    }

    fn shop_only(sql: &str) -> String {
        format!("DATABASE: shop\n{sql};")
    }

    fn warehouse_only(sql: &str) -> String {
        format!("DATABASE: warehouse\n{sql};")
    }

    fn unsupported(q: &str) -> String {
        match BuiltinPlanner::new().plan(q, &[], &demo()) {
            Ok(s) => panic!("{q}: expected Unsupported, got\n{s}"),
            Err(LlmError::Unsupported(m)) => m,
            Err(e) => panic!("{q}: expected Unsupported, got {e}"),
        }
    }

    // ── words ──

    #[test]
    fn singular_forms() {
        for (p, s) in [
            ("customers", "customer"),
            ("categories", "category"),
            ("sales", "sale"),
            ("addresses", "address"),
            ("status", "status"),
            ("statuses", "status"),
            ("boxes", "box"),
            ("order", "order"),
            ("people", "person"),
        ] {
            assert_eq!(singular(p), s, "{p}");
        }
    }

    #[test]
    fn table_words() {
        assert_eq!(table_core("dim_customer"), ["customer"]);
        assert_eq!(table_core("fact_sales"), ["sale"]);
        assert_eq!(table_core("order_items"), ["order", "item"]);
        assert_eq!(table_core("tblOrderItems"), ["order", "item"]);
        assert_eq!(table_core("sales.fact_orders"), ["order"]);
        assert_eq!(name_tokens("customerID"), ["customer", "id"]);
        assert_eq!(name_tokens("HTTPServer"), ["http", "server"]);
    }

    // ── counts ──

    #[test]
    fn count_customers() {
        let expected = both(
            "SELECT count(*) AS customers FROM customers",
            "SELECT count(*) AS customers FROM dim_customer",
        );
        assert_eq!(ask("how many customers are there?"), expected);
        assert_eq!(ask("How many customers do we have?"), expected);
        assert_eq!(ask("number of customers"), expected);
        assert_eq!(ask("Count customers, please"), expected);
        assert_eq!(ask("what is the total number of customers?"), expected);
        assert_eq!(ask("total customers"), expected);
    }

    #[test]
    fn count_orders_prefers_exact_subject() {
        assert_eq!(
            ask("how many orders"),
            shop_only("SELECT count(*) AS orders FROM orders")
        );
        assert_eq!(
            ask("number of orders"),
            shop_only("SELECT count(*) AS orders FROM orders")
        );
    }

    #[test]
    fn synonyms_only_when_no_exact_match() {
        assert_eq!(
            ask_in("how many orders", &[warehouse()]),
            warehouse_only("SELECT count(*) AS orders FROM fact_sales")
        );
        assert_eq!(
            ask("how many sales"),
            warehouse_only("SELECT count(*) AS sales FROM fact_sales")
        );
        assert_eq!(
            ask("how many clients"),
            both(
                "SELECT count(*) AS clients FROM customers",
                "SELECT count(*) AS clients FROM dim_customer"
            )
        );
    }

    #[test]
    fn count_products_and_compound_names() {
        assert_eq!(
            ask("count products"),
            both(
                "SELECT count(*) AS products FROM products",
                "SELECT count(*) AS products FROM dim_product"
            )
        );
        assert_eq!(
            ask("how many order items are there"),
            shop_only("SELECT count(*) AS order_items FROM order_items")
        );
    }

    // ── sums ──

    #[test]
    fn total_revenue() {
        let expected = both(
            "SELECT sum(total_amount) AS total_revenue FROM orders",
            "SELECT sum(revenue) AS total_revenue FROM fact_sales",
        );
        assert_eq!(ask("total revenue"), expected);
        assert_eq!(ask("What is the total revenue?"), expected);
        assert_eq!(ask("sum of revenue"), expected);
    }

    #[test]
    fn total_sales() {
        assert_eq!(
            ask("what is the total sales"),
            both(
                "SELECT sum(total_amount) AS total_sales FROM orders",
                "SELECT sum(revenue) AS total_sales FROM fact_sales"
            )
        );
        assert_eq!(
            ask("how much revenue did we make"),
            both(
                "SELECT sum(total_amount) AS total_revenue FROM orders",
                "SELECT sum(revenue) AS total_revenue FROM fact_sales"
            )
        );
    }

    #[test]
    fn sum_of_order_amounts() {
        assert_eq!(
            ask("sum of order amounts"),
            shop_only("SELECT sum(total_amount) AS total_order_amount FROM orders")
        );
    }

    #[test]
    fn total_stock() {
        assert_eq!(
            ask("total stock of products"),
            shop_only("SELECT sum(stock) AS total_stock FROM products")
        );
    }

    // ── averages ──

    #[test]
    fn average_price() {
        let expected = both(
            "SELECT avg(price) AS avg_price FROM products",
            "SELECT avg(list_price) AS avg_price FROM dim_product",
        );
        assert_eq!(ask("average price of products"), expected);
        assert_eq!(ask("what's the avg price of the products?"), expected);
        assert_eq!(
            ask("mean product price"),
            both(
                "SELECT avg(price) AS avg_product_price FROM products",
                "SELECT avg(list_price) AS avg_product_price FROM dim_product",
            )
        );
    }

    #[test]
    fn average_order_value() {
        assert_eq!(
            ask("average order value"),
            shop_only("SELECT avg(total_amount) AS avg_order_value FROM orders")
        );
        assert_eq!(
            ask_in("average order value", &[warehouse()]),
            warehouse_only("SELECT avg(revenue) AS avg_order_value FROM fact_sales")
        );
    }

    #[test]
    fn average_quantity() {
        assert_eq!(
            ask("average quantity"),
            both(
                "SELECT avg(quantity) AS avg_quantity FROM order_items",
                "SELECT avg(quantity) AS avg_quantity FROM fact_sales"
            )
        );
    }

    // ── min / max ──

    #[test]
    fn highest_and_lowest_price() {
        assert_eq!(
            ask("highest price"),
            both(
                "SELECT max(price) AS max_price FROM products",
                "SELECT max(list_price) AS max_price FROM dim_product"
            )
        );
        assert_eq!(
            ask("What is the minimum price?"),
            both(
                "SELECT min(price) AS min_price FROM products",
                "SELECT min(list_price) AS min_price FROM dim_product"
            )
        );
    }

    #[test]
    fn maximum_order_amount() {
        assert_eq!(
            ask("maximum order amount"),
            shop_only("SELECT max(total_amount) AS max_order_amount FROM orders")
        );
        assert_eq!(
            ask("largest order"),
            shop_only("SELECT max(total_amount) AS max_order FROM orders")
        );
    }

    #[test]
    fn latest_and_earliest() {
        assert_eq!(
            ask("latest order"),
            shop_only("SELECT max(order_date) AS latest_order FROM orders")
        );
        assert_eq!(
            ask("when was the first order?"),
            shop_only("SELECT min(order_date) AS earliest_order FROM orders")
        );
        assert_eq!(
            ask("newest customer"),
            shop_only("SELECT max(created_at) AS latest_customer FROM customers")
        );
    }

    #[test]
    fn most_expensive_and_cheapest_product() {
        assert_eq!(
            ask("most expensive product"),
            both(
                "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price DESC LIMIT 1",
                "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price DESC LIMIT 1"
            )
        );
        assert_eq!(
            ask("What's the cheapest product?"),
            both(
                "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price LIMIT 1",
                "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price LIMIT 1"
            )
        );
        assert_eq!(
            ask("product with the highest price"),
            ask("most expensive product")
        );
        assert_eq!(
            ask("3 cheapest products"),
            both(
                "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price LIMIT 3",
                "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price LIMIT 3"
            )
        );
    }

    // ── top-N ──

    #[test]
    fn top_products_by_price() {
        assert_eq!(
            ask("top 5 products by price"),
            both(
                "SELECT name AS product, price FROM products WHERE price IS NOT NULL ORDER BY price DESC LIMIT 5",
                "SELECT product_name AS product, list_price AS price FROM dim_product WHERE list_price IS NOT NULL ORDER BY list_price DESC LIMIT 5"
            )
        );
    }

    #[test]
    fn top_customers_by_revenue_joins() {
        assert_eq!(
            ask("top 3 customers by revenue"),
            both(
                "SELECT c.name AS customer, sum(o.total_amount) AS revenue FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY sum(o.total_amount) DESC LIMIT 3",
                "SELECT c.customer_name AS customer, sum(s.revenue) AS revenue FROM fact_sales AS s JOIN dim_customer AS c ON s.customer_key = c.customer_key GROUP BY c.customer_key, c.customer_name ORDER BY sum(s.revenue) DESC LIMIT 3"
            )
        );
    }

    #[test]
    fn top_products_by_revenue_uses_quantity_times_price() {
        assert_eq!(
            ask("top 5 products by revenue"),
            both(
                "SELECT p.name AS product, sum(oi.quantity * oi.unit_price) AS revenue FROM order_items AS oi JOIN products AS p ON oi.product_id = p.id GROUP BY p.id, p.name ORDER BY sum(oi.quantity * oi.unit_price) DESC LIMIT 5",
                "SELECT p.product_name AS product, sum(s.revenue) AS revenue FROM fact_sales AS s JOIN dim_product AS p ON s.product_key = p.product_key GROUP BY p.product_key, p.product_name ORDER BY sum(s.revenue) DESC LIMIT 5"
            )
        );
        // No measure named: revenue.
        assert_eq!(ask("top 5 products"), ask("top 5 products by revenue"));
    }

    #[test]
    fn top_without_label_lists_rows() {
        assert_eq!(
            ask("show the 10 most recent orders"),
            shop_only("SELECT * FROM orders WHERE order_date IS NOT NULL ORDER BY order_date DESC LIMIT 10")
        );
        assert_eq!(
            ask("top 2 orders by amount"),
            shop_only("SELECT * FROM orders WHERE total_amount IS NOT NULL ORDER BY total_amount DESC LIMIT 2")
        );
    }

    // ── lists ──

    #[test]
    fn lists() {
        assert_eq!(
            ask("list customers"),
            both(
                "SELECT * FROM customers LIMIT 20",
                "SELECT * FROM dim_customer LIMIT 20"
            )
        );
        assert_eq!(
            ask("Show all products."),
            both(
                "SELECT * FROM products LIMIT 20",
                "SELECT * FROM dim_product LIMIT 20"
            )
        );
        assert_eq!(
            ask("show 10 orders"),
            shop_only("SELECT * FROM orders LIMIT 10")
        );
        assert_eq!(
            ask("first 5 orders"),
            shop_only("SELECT * FROM orders LIMIT 5")
        );
        assert_eq!(
            ask("show me the orders"),
            shop_only("SELECT * FROM orders LIMIT 20")
        );
    }

    // ── group by ──

    #[test]
    fn orders_per_status() {
        assert_eq!(
            ask("orders per status"),
            shop_only(
                "SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY status"
            )
        );
        assert_eq!(ask("how many orders per status?"), ask("orders per status"));
    }

    #[test]
    fn customers_by_country() {
        let expected = both(
            "SELECT country, count(*) AS customers FROM customers GROUP BY country ORDER BY country",
            "SELECT country, count(*) AS customers FROM dim_customer GROUP BY country ORDER BY country",
        );
        assert_eq!(ask("customers by country"), expected);
        assert_eq!(ask("how many customers per country"), expected);
        assert_eq!(ask("number of customers in each country"), expected);
    }

    #[test]
    fn count_products_per_category() {
        assert_eq!(
            ask("count of products per category"),
            both(
                "SELECT category, count(*) AS products FROM products GROUP BY category ORDER BY category",
                "SELECT category, count(*) AS products FROM dim_product GROUP BY category ORDER BY category"
            )
        );
    }

    #[test]
    fn revenue_by_category_joins() {
        let expected = both(
            "SELECT p.category, sum(oi.quantity * oi.unit_price) AS total_revenue FROM order_items AS oi JOIN products AS p ON oi.product_id = p.id GROUP BY p.category ORDER BY p.category",
            "SELECT p.category, sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_product AS p ON s.product_key = p.product_key GROUP BY p.category ORDER BY p.category",
        );
        assert_eq!(ask("revenue by category"), expected);
        assert_eq!(ask("total revenue by category"), expected);
    }

    #[test]
    fn average_price_per_category() {
        assert_eq!(
            ask("average price per category"),
            both(
                "SELECT category, avg(price) AS avg_price FROM products GROUP BY category ORDER BY category",
                "SELECT category, avg(list_price) AS avg_price FROM dim_product GROUP BY category ORDER BY category"
            )
        );
    }

    #[test]
    fn group_by_month_uses_dialect_date_format() {
        assert_eq!(
            ask("revenue per month"),
            both(
                "SELECT strftime('%Y-%m', order_date) AS \"month\", sum(total_amount) AS total_revenue FROM orders GROUP BY strftime('%Y-%m', order_date) ORDER BY strftime('%Y-%m', order_date)",
                "SELECT strftime(d.\"date\", '%Y-%m') AS \"month\", sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_date AS d ON s.date_key = d.date_key GROUP BY strftime(d.\"date\", '%Y-%m') ORDER BY strftime(d.\"date\", '%Y-%m')"
            )
        );
        assert_eq!(ask("monthly revenue"), ask("revenue per month"));
        assert_eq!(
            ask("orders per year"),
            shop_only("SELECT strftime('%Y', order_date) AS \"year\", count(*) AS orders FROM orders GROUP BY strftime('%Y', order_date) ORDER BY strftime('%Y', order_date)")
        );
    }

    #[test]
    fn group_by_entity_through_foreign_key() {
        assert_eq!(
            ask("orders per customer"),
            shop_only("SELECT c.name AS customer, count(*) AS orders FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY c.name")
        );
        assert_eq!(
            ask("orders by country"),
            shop_only("SELECT c.country, count(*) AS orders FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.country ORDER BY c.country")
        );
    }

    // ── filters ──

    #[test]
    fn place_filters() {
        assert_eq!(
            ask("customers in Germany"),
            both(
                "SELECT * FROM customers WHERE country = 'Germany' LIMIT 20",
                "SELECT * FROM dim_customer WHERE country = 'Germany' LIMIT 20"
            )
        );
        let france = both(
            "SELECT count(*) AS customers FROM customers WHERE country = 'France'",
            "SELECT count(*) AS customers FROM dim_customer WHERE country = 'France'",
        );
        assert_eq!(ask("how many customers in France"), france);
        assert_eq!(ask("how many customers in france?"), france);
        assert_eq!(
            ask("customers from Spain"),
            both(
                "SELECT * FROM customers WHERE country = 'Spain' LIMIT 20",
                "SELECT * FROM dim_customer WHERE country = 'Spain' LIMIT 20"
            )
        );
        assert_eq!(
            ask("customers in the US"),
            ask("customers from the united states")
        );
        assert_eq!(
            ask("customers in the USA"),
            ask("customers from the united states")
        );
        assert_eq!(
            ask("customers from the united states"),
            both(
                "SELECT * FROM customers WHERE country = 'United States' LIMIT 20",
                "SELECT * FROM dim_customer WHERE country = 'United States' LIMIT 20"
            )
        );
    }

    #[test]
    fn column_filters() {
        assert_eq!(
            ask("orders with status shipped"),
            shop_only("SELECT * FROM orders WHERE status = 'shipped' LIMIT 20")
        );
        assert_eq!(
            ask("products where category = 'Books'"),
            both(
                "SELECT * FROM products WHERE category = 'Books' LIMIT 20",
                "SELECT * FROM dim_product WHERE category = 'Books' LIMIT 20"
            )
        );
        assert_eq!(
            ask("how many orders where status is 'delivered'"),
            shop_only("SELECT count(*) AS orders FROM orders WHERE status = 'delivered'")
        );
        assert_eq!(
            ask("products with price over 100"),
            both(
                "SELECT * FROM products WHERE price > 100 LIMIT 20",
                "SELECT * FROM dim_product WHERE list_price > 100 LIMIT 20"
            )
        );
        assert_eq!(
            ask("orders where status = 'shipped' and total_amount >= 50"),
            shop_only(
                "SELECT * FROM orders WHERE status = 'shipped' AND total_amount >= 50 LIMIT 20"
            )
        );
    }

    #[test]
    fn quoted_numbers_against_number_columns() {
        assert_eq!(
            ask("products where price = '12.5'"),
            both(
                "SELECT * FROM products WHERE price = 12.5 LIMIT 20",
                "SELECT * FROM dim_product WHERE list_price = 12.5 LIMIT 20"
            )
        );
        unsupported("products where price = 'inf'");
        unsupported("products where price is cheap");
        assert!(is_plain_number("-3.25") && !is_plain_number("1e5") && !is_plain_number("3."));
    }

    #[test]
    fn quotes_in_values_are_doubled() {
        assert_eq!(
            ask("customers where name = 'O''Brien'"),
            both(
                "SELECT * FROM customers WHERE name = 'O''Brien' LIMIT 20",
                "SELECT * FROM dim_customer WHERE customer_name = 'O''Brien' LIMIT 20"
            )
        );
        assert_eq!(
            ask("customers where city is \"Xi'an\""),
            both(
                "SELECT * FROM customers WHERE city = 'Xi''an' LIMIT 20",
                "SELECT * FROM dim_customer WHERE city = 'Xi''an' LIMIT 20"
            )
        );
    }

    #[test]
    fn filters_combine_with_aggregates() {
        assert_eq!(
            ask("total revenue in Germany"),
            both(
                "SELECT sum(o.total_amount) AS total_revenue FROM orders AS o JOIN customers AS c ON o.customer_id = c.id WHERE c.country = 'Germany'",
                "SELECT sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_customer AS c ON s.customer_key = c.customer_key WHERE c.country = 'Germany'"
            )
        );
        assert_eq!(
            ask("orders in 2024"),
            shop_only("SELECT * FROM orders WHERE strftime('%Y', order_date) = '2024' LIMIT 20")
        );
        assert_eq!(
            ask("total revenue in 2024"),
            both(
                "SELECT sum(total_amount) AS total_revenue FROM orders WHERE strftime('%Y', order_date) = '2024'",
                "SELECT sum(s.revenue) AS total_revenue FROM fact_sales AS s JOIN dim_date AS d ON s.date_key = d.date_key WHERE strftime(d.\"date\", '%Y') = '2024'"
            )
        );
    }

    #[test]
    fn column_named_after_in() {
        let books = both(
            "SELECT count(*) AS products FROM products WHERE category = 'Books'",
            "SELECT count(*) AS products FROM dim_product WHERE category = 'Books'",
        );
        assert_eq!(ask("how many products in category Books"), books);
        assert_eq!(ask("how many products are in the Books category?"), books);
        assert_eq!(
            ask("customers in the city Berlin"),
            both(
                "SELECT * FROM customers WHERE city = 'Berlin' LIMIT 20",
                "SELECT * FROM dim_customer WHERE city = 'Berlin' LIMIT 20"
            )
        );
    }

    #[test]
    fn naming_a_database_restricts_the_answer() {
        assert_eq!(
            ask("how many customers in shop"),
            shop_only("SELECT count(*) AS customers FROM customers")
        );
        assert_eq!(
            ask("list customers from the warehouse database"),
            warehouse_only("SELECT * FROM dim_customer LIMIT 20")
        );
    }

    // ── more top-N ──

    #[test]
    fn top_groups_by_a_column_through_a_foreign_key() {
        assert_eq!(
            ask("top 3 categories by revenue"),
            both(
                "SELECT p.category, sum(oi.quantity * oi.unit_price) AS revenue FROM order_items AS oi JOIN products AS p ON oi.product_id = p.id GROUP BY p.category ORDER BY sum(oi.quantity * oi.unit_price) DESC LIMIT 3",
                "SELECT p.category, sum(s.revenue) AS revenue FROM fact_sales AS s JOIN dim_product AS p ON s.product_key = p.product_key GROUP BY p.category ORDER BY sum(s.revenue) DESC LIMIT 3"
            )
        );
        assert_eq!(
            ask("top 5 customers by total revenue"),
            ask("top 5 customers by revenue")
        );
    }

    #[test]
    fn top_by_count_of_a_related_table() {
        let expected = shop_only(
            "SELECT c.name AS customer, count(*) AS orders FROM orders AS o JOIN customers AS c ON o.customer_id = c.id GROUP BY c.id, c.name ORDER BY count(*) DESC LIMIT 1",
        );
        assert_eq!(ask("customers with the most orders"), expected);
        assert_eq!(ask("which customer placed the most orders?"), expected);
        assert_eq!(
            ask("top 3 customers by number of orders"),
            expected.replace("LIMIT 1", "LIMIT 3")
        );
    }

    #[test]
    fn sorted_lists() {
        assert_eq!(
            ask("show orders sorted by date"),
            shop_only("SELECT * FROM orders ORDER BY order_date LIMIT 20")
        );
        assert_eq!(
            ask("list 5 products ordered by price descending"),
            both(
                "SELECT * FROM products ORDER BY price DESC LIMIT 5",
                "SELECT * FROM dim_product ORDER BY list_price DESC LIMIT 5"
            )
        );
    }

    #[test]
    fn camel_case_schema() {
        let t = |name: &str, cols: &[(&str, &str)]| table(name, cols);
        let db = DbSchema {
            name: "chinook".to_string(),
            dialect: Dialect::Sqlite,
            schema: SchemaInfo {
                database: "chinook".to_string(),
                tables: vec![
                    t(
                        "Artist",
                        &[("ArtistId", "INTEGER"), ("Name", "NVARCHAR(120)")],
                    ),
                    t(
                        "Album",
                        &[
                            ("AlbumId", "INTEGER"),
                            ("Title", "NVARCHAR(160)"),
                            ("ArtistId", "INTEGER"),
                        ],
                    ),
                    t(
                        "Customer",
                        &[
                            ("CustomerId", "INTEGER"),
                            ("FirstName", "NVARCHAR(40)"),
                            ("Country", "NVARCHAR(40)"),
                        ],
                    ),
                    t(
                        "Invoice",
                        &[
                            ("InvoiceId", "INTEGER"),
                            ("CustomerId", "INTEGER"),
                            ("InvoiceDate", "DATETIME"),
                            ("Total", "NUMERIC(10,2)"),
                        ],
                    ),
                ],
            },
        };
        let dbs = [db];
        let one = |sql: &str| format!("DATABASE: chinook\n{sql};");
        assert_eq!(
            ask_in("total sales by country", &dbs),
            one("SELECT c.Country AS country, sum(i.Total) AS total_sales FROM Invoice AS i JOIN Customer AS c ON i.CustomerId = c.CustomerId GROUP BY c.Country ORDER BY c.Country")
        );
        assert_eq!(
            ask_in("albums per artist", &dbs),
            one("SELECT a2.Name AS artist, count(*) AS albums FROM Album AS a JOIN Artist AS a2 ON a.ArtistId = a2.ArtistId GROUP BY a2.ArtistId, a2.Name ORDER BY a2.Name")
        );
        assert_eq!(
            ask_in("average invoice total", &dbs),
            one("SELECT avg(Total) AS avg_invoice_total FROM Invoice")
        );
        assert_eq!(
            ask_in("how many invoices in 2021", &dbs),
            one("SELECT count(*) AS invoices FROM Invoice WHERE strftime('%Y', InvoiceDate) = '2021'")
        );
    }

    // ── follow-ups ──

    #[test]
    fn follow_ups_refine_the_previous_question() {
        let p = BuiltinPlanner::new();
        let prev = vec!["how many customers are there?".to_string()];
        let got = p.plan("and only in Germany?", &prev, &demo());
        assert_eq!(
            got.ok(),
            Some(both(
                "SELECT count(*) AS customers FROM customers WHERE country = 'Germany'",
                "SELECT count(*) AS customers FROM dim_customer WHERE country = 'Germany'"
            ))
        );
        let prev = vec![
            "how many customers are there?".to_string(),
            "and only in Germany?".to_string(),
        ];
        let got = p.plan("what about France?", &prev, &demo());
        assert_eq!(
            got.ok(),
            Some(both(
                "SELECT count(*) AS customers FROM customers WHERE country = 'France'",
                "SELECT count(*) AS customers FROM dim_customer WHERE country = 'France'"
            ))
        );
        let got = p.plan("per city?", &["how many customers".to_string()], &demo());
        assert_eq!(
            got.ok(),
            Some(both(
                "SELECT city, count(*) AS customers FROM customers GROUP BY city ORDER BY city",
                "SELECT city, count(*) AS customers FROM dim_customer GROUP BY city ORDER BY city"
            ))
        );
        // A new question stands alone.
        let got = p.plan("list products", &prev, &demo());
        assert_eq!(
            got.ok(),
            Some(both(
                "SELECT * FROM products LIMIT 20",
                "SELECT * FROM dim_product LIMIT 20"
            ))
        );
    }

    // ── dialects ──

    #[test]
    fn dialect_quoting_and_qualified_names() {
        let db = DbSchema {
            name: "crm".to_string(),
            dialect: Dialect::Postgres,
            schema: SchemaInfo {
                database: "crm".to_string(),
                tables: vec![table(
                    "sales.Orders",
                    &[
                        ("id", "integer"),
                        ("Status", "text"),
                        ("order", "integer"),
                        ("created_at", "timestamp with time zone"),
                    ],
                )],
            },
        };
        assert_eq!(
            ask_in("orders per status", std::slice::from_ref(&db)),
            "DATABASE: crm\nSELECT \"Status\" AS status, count(*) AS orders FROM sales.\"Orders\" GROUP BY \"Status\" ORDER BY \"Status\";"
        );
        assert_eq!(
            ask_in("orders per month", std::slice::from_ref(&db)),
            "DATABASE: crm\nSELECT to_char(created_at, 'YYYY-MM') AS \"month\", count(*) AS orders FROM sales.\"Orders\" GROUP BY to_char(created_at, 'YYYY-MM') ORDER BY to_char(created_at, 'YYYY-MM');"
        );
        let mut my = db.clone();
        my.dialect = Dialect::Mysql;
        my.name = "legacy".to_string();
        assert_eq!(
            ask_in("orders per month", std::slice::from_ref(&my)),
            "DATABASE: legacy\nSELECT DATE_FORMAT(created_at, '%Y-%m') AS `month`, count(*) AS orders FROM sales.Orders GROUP BY DATE_FORMAT(created_at, '%Y-%m') ORDER BY DATE_FORMAT(created_at, '%Y-%m');"
        );
        assert_eq!(
            ask_in(r"orders where status = 'a\b'", std::slice::from_ref(&my)),
            "DATABASE: legacy\nSELECT * FROM sales.Orders WHERE Status = 'a\\\\b' LIMIT 20;"
        );
    }

    #[test]
    fn postgres_text_dates_are_cast() {
        let db = DbSchema {
            name: "pg".to_string(),
            dialect: Dialect::Postgres,
            schema: SchemaInfo {
                database: "pg".to_string(),
                tables: vec![table(
                    "orders",
                    &[
                        ("id", "integer"),
                        ("order_date", "text"),
                        ("amount", "numeric"),
                    ],
                )],
            },
        };
        assert_eq!(
            ask_in("sales by year", &[db]),
            "DATABASE: pg\nSELECT to_char(CAST(order_date AS TIMESTAMP), 'YYYY') AS \"year\", sum(amount) AS total_sales FROM orders GROUP BY to_char(CAST(order_date AS TIMESTAMP), 'YYYY') ORDER BY to_char(CAST(order_date AS TIMESTAMP), 'YYYY');"
        );
    }

    // ── unsupported ──

    #[test]
    fn unsupported_questions() {
        for q in [
            "why did sales drop last spring?",
            "how many unicorns are there?",
            "how many active customers",
            "what is the meaning of life",
            "",
            "how many?",
            "average",
        ] {
            let m = unsupported(q);
            assert!(m.contains("builtin planner cannot answer"), "{q}: {m}");
            assert!(m.contains("provider = \"openai\""), "{q}: {m}");
        }
        let m = unsupported("how many unicorns are there?");
        assert!(m.contains("\"how many unicorns are there?\""), "{m}");
    }

    #[test]
    fn no_databases_is_unsupported() {
        let got = BuiltinPlanner::new().plan("how many customers", &[], &[]);
        assert!(
            matches!(got, Err(LlmError::Unsupported(m)) if m.contains("no database is in scope"))
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        const PARTS: &[&str] = &[
            "how",
            "many",
            "top",
            "5",
            "by",
            "per",
            "in",
            "Germany",
            "'x''y'",
            "\"",
            "'",
            "=",
            "<>",
            ">=",
            "-3",
            "2024",
            "customers",
            "orders",
            "revenue",
            "with",
            "the",
            "most",
            "where",
            "status",
            "is",
            "not",
            "of",
            "average",
            "latest",
            "sorted",
            "desc",
            "İstanbul's",
            "ünïcödé",
            "’s",
            "…",
            "?",
            ";",
            "and",
            "total",
            "first",
            "each",
            "month",
            "from",
            "shop",
            "99999999999999999999999",
            "1.5",
            "category",
            "Books",
            "cheapest",
            "for",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let p = BuiltinPlanner::new();
        for _ in 0..3_000 {
            let mut q = String::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 9) as usize;
            for k in 0..len {
                let idx = ((seed >> (k * 5)) % PARTS.len() as u64) as usize;
                q.push_str(PARTS[idx]);
                q.push(if k % 3 == 0 { ' ' } else { ',' });
            }
            let prev = vec![q.chars().rev().collect::<String>()];
            match p.plan(&q, &prev, &demo()) {
                Ok(reply) => assert!(reply.starts_with("DATABASE: "), "{q}: {reply}"),
                Err(LlmError::Unsupported(m)) => assert!(!m.is_empty()),
                Err(e) => panic!("{q}: {e}"),
            }
        }
    }

    #[tokio::test]
    async fn implements_llm() {
        let req = LlmRequest {
            messages: Vec::new(),
            databases: demo(),
            question: "how many customers are there?".to_string(),
            previous_questions: Vec::new(),
        };
        let p = BuiltinPlanner::new();
        assert_eq!(p.name(), "builtin");
        let got = p.complete(&req).await;
        assert_eq!(
            got.ok(),
            Some(both(
                "SELECT count(*) AS customers FROM customers",
                "SELECT count(*) AS customers FROM dim_customer"
            ))
        );
    }
}
