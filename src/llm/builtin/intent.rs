//! What a question asks, independent of any schema: [`Intent`] and the follow-up rules.

use super::lexicon::*;
use super::parser::*;
use super::schema::*;
use std::collections::{HashMap, HashSet};

/// What is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Agg {
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
pub(super) enum Implied {
    None,
    Date,
    Money,
    Price,
}

/// A word of the question: lowercase and as typed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub(super) lower: String,
    pub(super) orig: String,
}

/// A literal value of a filter.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Text(String),
    Number(String),
    /// `BETWEEN low AND high` on numbers (both ends included).
    Range(String, String),
    /// Later than `n` units before the column's latest value (rendered per dialect).
    Recent(u32, &'static str),
}

/// What a filter constrains.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Target {
    /// A column named by these words ("status", "category").
    Column(Vec<String>),
    /// A place ("in Germany", "from Spain"): the country-like column.
    Place,
    /// A calendar range of the date column, `from` included, `to` excluded
    /// (`YYYY-MM-DD`); `label` says it in words ("2024", "March 2024", "2024-12-26").
    Dates {
        from: Option<String>,
        to: Option<String>,
        label: String,
    },
    /// The last `n` days/weeks/months/years of the data, up to the date column's latest value.
    Recent { n: u32, unit: &'static str },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Filter {
    pub(super) target: Target,
    pub(super) op: &'static str,
    pub(super) value: Lit,
}

/// A question, understood: `agg` over the noun phrase `words`, optionally grouped,
/// filtered and limited.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Intent {
    pub(super) agg: Agg,
    /// Whether the question said which aggregate (false: implied by its words).
    pub(super) explicit: bool,
    /// Alias prefix of aggregates: total, avg, max, min, latest, earliest.
    pub(super) prefix: &'static str,
    /// Content words of the noun phrase (subject and, for aggregates, measure).
    pub(super) words: Vec<Word>,
    /// The words the aggregate's alias is made of (the part before "of" if any).
    pub(super) alias_words: Vec<String>,
    /// The measure of a top-N question ("by price"), lowercase words.
    pub(super) measure: Vec<String>,
    pub(super) implied: Implied,
    pub(super) desc: bool,
    /// Words after "per"/"by" (empty: no grouping).
    pub(super) group: Vec<String>,
    pub(super) filters: Vec<Filter>,
    pub(super) limit: Option<u64>,
    /// Whether a verb such as "list"/"show" was used.
    pub(super) list_hint: bool,
    /// Whole rows rather than entity and measure ("orders sorted by date").
    pub(super) rows: bool,
    /// Whether the top-N measure words name tables ("customers with the most orders"):
    /// their alias is kept as typed ("orders").
    pub(super) measure_counts: bool,
    /// The connections the question named ("customers in shop", "in shop and warehouse").
    pub(super) only_dbs: Vec<String>,
    /// Words and numbers of the question the parser could not place (a refusal names them).
    pub(super) unplaced: Vec<String>,
    /// "share of"/"percentage of": each group's share of the total, in percent.
    pub(super) pct: bool,
}

impl Intent {
    /// Singular name tokens of the noun phrase.
    pub(super) fn tokens(&self) -> Vec<String> {
        self.words
            .iter()
            .flat_map(|w| name_tokens(&w.lower))
            .collect()
    }

    /// Alias of a count: the subject as typed ("customers", "order_items").
    pub(super) fn count_alias(&self) -> String {
        alias(self.words.iter().map(|w| w.lower.as_str()))
    }

    /// Alias of sum/avg/min/max: prefix and the measure words ("total_revenue", "avg_price").
    pub(super) fn agg_alias(&self) -> String {
        let words: Vec<String> = self.alias_words.iter().map(|w| alias_word(w)).collect();
        alias(std::iter::once(self.prefix).chain(words.iter().map(String::as_str)))
    }

    /// Alias of the entity of a top-N question ("product").
    pub(super) fn entity_alias(&self) -> String {
        let toks = self.tokens();
        alias(toks.iter().map(String::as_str))
    }

    /// Alias of the measure of a top-N question ("price", "revenue").
    pub(super) fn measure_alias(&self) -> String {
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
    pub(super) fn group_alias(&self) -> String {
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
pub(super) fn alias_word(w: &str) -> String {
    if w == "sales" {
        w.to_string()
    } else {
        name_tokens(w).join("_")
    }
}

/// A column alias: lowercase letters, digits and underscores.
pub(super) fn alias<'s>(words: impl Iterator<Item = &'s str>) -> String {
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

/// Words the parser needs from the schemas in scope.
pub(super) struct Vocab {
    /// Singular words of table names (`customer`, `order`, `item`).
    pub(super) tables: HashSet<String>,
    /// Last word of non-key column names (`country`, `category`, `status`).
    pub(super) columns: HashSet<String>,
    /// Connection names, lowercase.
    pub(super) databases: HashSet<String>,
    /// Every word of every column name.
    pub(super) column_words: HashSet<String>,
    /// The sampled values of low-cardinality text columns (`[llm] sample_values`), lower
    /// case, with the column names (lower case) and the values as stored: "cancelled"
    /// → [("status", "cancelled")]. A value without its column is placed by these.
    pub(super) values: HashMap<String, Vec<(String, String)>>,
}

impl Vocab {
    pub(super) fn new(views: &[DbView<'_>]) -> Self {
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
            column_words: views
                .iter()
                .flat_map(|v| v.tables.iter())
                .flat_map(|t| t.info.columns.iter())
                .flat_map(|c| name_tokens(&c.name))
                .collect(),
            values: sampled_values(views),
        }
    }

    /// The one column (lower case) whose sampled values hold `value` (any case), with the
    /// value as stored; `None` when no column or several differently named ones do.
    pub(super) fn value_column(&self, value: &str) -> Option<(String, String)> {
        let found = self.values.get(&value.trim().to_lowercase())?;
        let (col, exact) = found.first()?;
        found
            .iter()
            .all(|(c, _)| c == col)
            .then(|| (col.clone(), exact.clone()))
    }
}

fn sampled_values(views: &[DbView<'_>]) -> HashMap<String, Vec<(String, String)>> {
    let mut out: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for c in views
        .iter()
        .flat_map(|v| v.tables.iter())
        .flat_map(|t| t.info.columns.iter())
    {
        for v in &c.samples {
            let entry = out.entry(v.trim().to_lowercase()).or_default();
            let col = c.name.to_lowercase();
            if !entry.iter().any(|(e, _)| *e == col) {
                entry.push((col, v.clone()));
            }
        }
    }
    out
}

/// The intent of `question`, reading `previous` questions for follow-ups. `None`: not
/// understood.
pub(super) fn understand(question: &str, previous: &[String], vocab: &Vocab) -> Option<Intent> {
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
pub(super) fn valid(i: &Intent) -> bool {
    !i.words.is_empty()
        || (matches!(i.agg, Agg::Sum | Agg::Avg | Agg::Min | Agg::Max)
            && i.implied == Implied::Money)
}

/// Applies a follow-up ("and only in Germany?", "what about France?", "per month?") to
/// the previous question; other questions stand alone.
pub(super) fn resolve_follow_up(
    context: Option<Intent>,
    mut cur: Intent,
    vocab: &Vocab,
) -> Option<Intent> {
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
        if is_country(&text) || country_abbreviation(&text).is_some() {
            cur.filters.push(Filter {
                target: Target::Place,
                op: "=",
                value: Lit::Text(country_abbreviation(&text).map_or(text, str::to_string)),
            });
        } else {
            cur.unplaced.push(text); // "what about Paris?": a value without its column
        }
        cur.words.clear();
    }
    let is_follow_up = cur.words.is_empty()
        && cur.measure.is_empty()
        && (!cur.filters.is_empty()
            || !cur.group.is_empty()
            || cur.explicit
            || cur.list_hint
            || !cur.only_dbs.is_empty());
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
        ctx.filters
            .retain(|old| !same_target(&old.target, &f.target));
        ctx.filters.push(f);
    }
    if !cur.only_dbs.is_empty() {
        ctx.only_dbs = cur.only_dbs;
    }
    ctx.unplaced = cur.unplaced;
    if !cur.group.is_empty() {
        ctx.group = cur.group;
        if ctx.agg == Agg::List {
            ctx.agg = Agg::Count;
        }
    }
    if cur.agg == Agg::List && cur.limit.is_some() || cur.agg == Agg::Top {
        ctx.limit = cur.limit.or(ctx.limit);
    }
    Some(ctx)
}

/// Whether two filters constrain the same thing (a follow-up's filter replaces the old one).
fn same_target(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (Target::Column(x), Target::Column(y)) => x == y,
        (Target::Place, Target::Place) => true,
        (
            Target::Dates { .. } | Target::Recent { .. },
            Target::Dates { .. } | Target::Recent { .. },
        ) => true,
        _ => false,
    }
}

/// Words of `question` the planner knows no meaning for: not filler, not a keyword, not a
/// word of a table, column or connection name (or a synonym of one). A refusal names them.
pub(super) fn unknown_words(question: &str, vocab: &Vocab) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "how",
        "many",
        "much",
        "count",
        "number",
        "total",
        "sum",
        "average",
        "avg",
        "mean",
        "max",
        "maximum",
        "min",
        "minimum",
        "highest",
        "lowest",
        "largest",
        "smallest",
        "biggest",
        "greatest",
        "most",
        "least",
        "fewest",
        "expensive",
        "cheapest",
        "priciest",
        "dearest",
        "recent",
        "latest",
        "newest",
        "last",
        "earliest",
        "oldest",
        "first",
        "top",
        "best",
        "bottom",
        "worst",
        "sorted",
        "ordered",
        "sort",
        "order",
        "by",
        "per",
        "each",
        "every",
        "group",
        "grouped",
        "broken",
        "down",
        "split",
        "breakdown",
        "with",
        "where",
        "whose",
        "having",
        "in",
        "from",
        "for",
        "during",
        "of",
        "between",
        "since",
        "before",
        "after",
        "until",
        "past",
        "previous",
        "days",
        "day",
        "weeks",
        "week",
        "months",
        "month",
        "years",
        "year",
        "quarter",
        "quarters",
        "quarterly",
        "monthly",
        "yearly",
        "daily",
        "annual",
        "price",
        "cost",
        "date",
        "time",
        "item",
        "items",
        "unit",
        "units",
        "quantity",
        "desc",
        "descending",
        "asc",
        "ascending",
        "limit",
        "second",
        "third",
        "fourth",
    ];
    let mut out = Vec::new();
    for t in tokenize(question) {
        match t {
            Tok::Word { lower, orig } => {
                let known = is_filler(&lower)
                    || CLAUSE_WORDS.contains(&lower.as_str())
                    || is_comparison_word(&lower)
                    || KEYWORDS.contains(&lower.as_str())
                    || MONEY_WORDS.contains(&singular(&lower).as_str())
                    || month_number(&lower).is_some()
                    || quarter_number(&lower).is_some()
                    || country_abbreviation(&orig).is_some()
                    || vocab.databases.contains(&lower)
                    || name_tokens(&lower).iter().all(|w| {
                        vocab.tables.contains(w)
                            || vocab.column_words.contains(w)
                            || synonyms(w).iter().any(|s| vocab.tables.contains(*s))
                    });
                if !known {
                    out.push(orig);
                }
            }
            Tok::Quoted(q) => out.push(format!("'{q}'")),
            _ => {}
        }
    }
    out
}
