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

mod dates;
mod describe;
mod intent;
mod lexicon;
mod parser;
mod places;
mod plan;
mod query;
mod render;
mod schema;

use async_trait::async_trait;

use crate::backends::Dialect;
use crate::llm::{DbSchema, Llm, LlmError, LlmRequest};

use intent::*;
use plan::*;
use schema::*;

/// Rows a "top" question returns when it names no number.
pub(super) const DEFAULT_TOP_LIMIT: u64 = 10;
/// Largest row limit written into SQL (the proxy's own max_rows applies on top).
pub(super) const MAX_LIMIT: u64 = 1_000_000;
/// What the planner tells the user it can do.
const CAPABILITIES: &str = "it understands counts, totals, averages, min/max, top-N, lists, \
distinct values, \"per/by X\" groupings, date ranges and simple filters; configure [llm] \
provider = \"openai\" for anything else";

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
        let names: Vec<&str> = views.iter().map(|v| v.name).collect();
        let refuse = |words: Vec<String>, why: &str| {
            let words = if words.is_empty() {
                unknown_words(question, &vocab)
            } else {
                words
            };
            let placed = if words.is_empty() {
                format!(
                    "could not place the words of \"{}\" together ({why})",
                    shorten(question)
                )
            } else {
                format!(
                    "could not place {} in \"{}\" ({why})",
                    words
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(", "),
                    shorten(question)
                )
            };
            LlmError::Unsupported(format!("the builtin planner {placed} — {CAPABILITIES}"))
        };
        let intent = understand(question, previous, &vocab)
            .ok_or_else(|| refuse(Vec::new(), "not a shape it knows"))?;
        if !intent.unplaced.is_empty() {
            return Err(refuse(
                intent.unplaced.clone(),
                "no table, column or known value fits them; name a value's column, e.g. \"with city Paris\"",
            ));
        }
        let mut found: Vec<(&str, String, String, bool, Dialect)> = views
            .iter()
            .filter(|v| {
                intent.only_dbs.is_empty()
                    || intent
                        .only_dbs
                        .iter()
                        .any(|d| v.name.eq_ignore_ascii_case(d))
            })
            .filter_map(|v| {
                plan_database(&intent, v)
                    .map(|(sql, text, syn)| (v.name, sql, text, syn, v.dialect))
            })
            .collect();
        if found.iter().any(|f| !f.3) {
            found.retain(|f| !f.3);
        }
        if found.is_empty() {
            let scope = if names.is_empty() {
                "no database is in scope".to_string()
            } else {
                format!("no table in {} fits them", names.join(", "))
            };
            return Err(refuse(Vec::new(), &scope));
        }
        Ok(found
            .iter()
            .map(|(name, sql, text, _, dialect)| {
                if *dialect == Dialect::Mongodb {
                    format!("DATABASE: {name}\n{sql};")
                } else {
                    format!("DATABASE: {name}\n-- {text}\n{sql};")
                }
            })
            .collect::<Vec<_>>()
            .join("\n\n"))
    }
}

#[async_trait]
impl Llm for BuiltinPlanner {
    async fn complete(&self, req: &LlmRequest) -> Result<String, LlmError> {
        // A question an admin answered before (`dbguru.examples`) gets that answer.
        let asked = crate::llm::normalize_question(&req.question);
        if let Some(e) = req
            .examples
            .iter()
            .find(|e| crate::llm::normalize_question(&e.question) == asked)
        {
            return Ok(format!(
                "DATABASE: {}\n-- answered by the example \"{}\" (dbguru.examples)\n{};",
                e.connection,
                shorten(&e.question),
                e.sql
            ));
        }
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

#[cfg(test)]
mod tests;
