//! Bounds on a statement's size and shape, checked by a linear scan before anything
//! recursive touches the text.
//!
//! sqlparser parses a flat chain of operators (`1+1+…+1`, `a OR b OR …`, `x UNION y
//! UNION …`) in a loop, but builds a tree as deep as the chain is long, and cloning or
//! dropping that tree recurses once per level: 100,000 terms overflow any thread stack
//! and abort the whole process. The scan here estimates that depth from tokens alone
//! (operators and operator keywords chained at one parenthesis level, summed over the
//! open levels; set operations are not reset by commas; subscripts and joins nested
//! without parentheses count too) and refuses what is past the bound with SQLSTATE
//! `54001`, or `54000` for sheer size.
//!
//! The bounds are far beyond what applications, ORMs and BI tools write: an `IN` list of
//! any length is commas, not depth; PostgreSQL itself stops at about the same depth with
//! "stack depth limit exceeded" (also `54001`).

use super::lexer::{tokens, Kind, Mode, ALL_MODES};

/// The bounds one check applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest statement, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of `(`, `[` and `{`.
    pub max_nesting: usize,
    /// Highest estimated expression depth: operators and operator keywords chained at
    /// one nesting level, summed over the open levels.
    pub max_depth: usize,
    /// What one chained set operation (`UNION`, ...) adds to the depth.
    pub set_weight: usize,
    /// What one join still waiting for its `ON`/`USING` adds to the depth. sqlparser
    /// parses `a JOIN b JOIN c … ON … ON …` (joins nested without parentheses) by plain
    /// recursion of several kilobytes of stack per level, about a hundred times an
    /// expression level's.
    pub join_weight: usize,
}

/// The bounds for a statement sent to a database (guard) or read by the proxy: 4 MiB,
/// 128 levels of brackets, an estimated expression depth of 10,000 (a set operation
/// counts 1, a pending join 100). Safe for sqlparser to parse, visit, print and drop on a
/// 2 MiB thread stack.
pub const STATEMENT: Limits = Limits {
    max_bytes: 4 << 20,
    max_nesting: 128,
    max_depth: 10_000,
    set_weight: 1,
    join_weight: 100,
};

/// Tighter bounds for the proxy's own translators (catalog queries, SQL on MongoDB),
/// which clone parts of the tree; cloning recurses with larger frames than dropping (a
/// cloned set operation about three times an expression's). 1 MiB, 64 levels of
/// brackets, an estimated expression depth of 1,000 (a set operation counts 4, a
/// pending join 100).
pub const TRANSLATOR: Limits = Limits {
    max_bytes: 1 << 20,
    max_nesting: 64,
    max_depth: 1_000,
    set_weight: 4,
    join_weight: 100,
};

/// Longest simple-query message (several statements) the proxy splits into statements:
/// 16 MiB. A longer one is handed on whole, and refused as too long.
pub const MESSAGE_BYTES: usize = 16 << 20;

/// A statement past one of the bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Longer than [`Limits::max_bytes`] (SQLSTATE 54000).
    #[error("statement too long: {bytes} bytes, the limit is {limit} bytes")]
    TooLong {
        /// Its length.
        bytes: usize,
        /// The bound.
        limit: usize,
    },
    /// Brackets nested deeper than [`Limits::max_nesting`] (SQLSTATE 54001).
    #[error("statement too complex: brackets nested more than {limit} deep")]
    TooDeep {
        /// The bound.
        limit: usize,
    },
    /// An expression chain deeper than [`Limits::max_depth`] (SQLSTATE 54001).
    #[error("statement too complex: more than {limit} chained operators or terms in one expression (use IN (...) lists, or split the statement)")]
    TooManyTerms {
        /// The bound.
        limit: usize,
    },
    /// sqlparser's own recursion bound (SQLSTATE 54001).
    #[error("statement too complex: nested too deeply to be checked")]
    ParserDepth,
}

impl LimitError {
    /// The SQLSTATE for the client: `54000` (too long) or `54001` (too complex).
    pub fn sqlstate(&self) -> &'static str {
        match self {
            LimitError::TooLong { .. } => "54000",
            _ => "54001",
        }
    }
}

/// Words that chain like binary operators in some dialect.
const OPERATOR_WORDS: &[&str] = &[
    "and", "or", "xor", "not", "is", "in", "like", "ilike", "rlike", "regexp", "glob", "match",
    "similar", "between", "escape", "collate", "at", "div", "mod", "overlaps", "isnull", "notnull",
];

/// Words that chain queries: not reset by commas, since each side is a whole query.
const SET_WORDS: &[&str] = &["union", "intersect", "except", "minus"];

/// What [`measure`] found under one mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Measure {
    /// Deepest bracket nesting.
    pub nesting: usize,
    /// Highest estimated expression depth.
    pub depth: usize,
}

/// What one open bracket level has seen since it opened.
#[derive(Debug, Clone, Copy, Default)]
struct Level {
    /// Operators chained since the last comma.
    chain: usize,
    /// Set operations (not reset by commas).
    sets: usize,
    /// JOINs still waiting for their ON/USING (not reset by commas).
    joins: usize,
}

impl Level {
    fn weight(&self, l: &Limits) -> usize {
        1 + self.chain + self.sets * l.set_weight + self.joins * l.join_weight
    }
}

/// Nesting and estimated expression depth of `sql` under `mode`, with the weights of
/// `limits`. Stops early once either exceeds its bound in `limits`.
pub fn measure(sql: &str, mode: Mode, limits: &Limits) -> Measure {
    let mut levels: Vec<Level> = vec![Level::default()];
    // The sum of the weights of the open levels.
    let mut sum = 1usize;
    let mut m = Measure::default();
    let mut prev_word: Option<&str> = None;
    for t in tokens(sql, mode) {
        if !t.is_code() {
            continue;
        }
        match t.kind {
            Kind::Open => {
                // `a[1][1]…`: each subscript wraps the expression before it.
                if t.text == "[" {
                    if let Some(top) = levels.last_mut() {
                        top.chain += 1;
                        sum += 1;
                    }
                }
                levels.push(Level::default());
                sum += 1;
                m.nesting = m.nesting.max(levels.len() - 1);
            }
            Kind::Close if levels.len() > 1 => {
                if let Some(l) = levels.pop() {
                    sum -= l.weight(limits);
                }
            }
            Kind::Comma => {
                if let Some(top) = levels.last_mut() {
                    sum -= top.chain;
                    top.chain = 0;
                }
            }
            Kind::Semicolon => {
                levels.clear();
                levels.push(Level::default());
                sum = 1;
            }
            Kind::Operator => {
                if let Some(top) = levels.last_mut() {
                    top.chain += 1;
                    sum += 1;
                }
            }
            Kind::Word => {
                let w = t.text;
                if let Some(top) = levels.last_mut() {
                    let is = |k: &str| w.eq_ignore_ascii_case(k);
                    if w.len() > 13 {
                        // longer than any word below
                    } else if OPERATOR_WORDS.iter().any(|k| is(k)) {
                        top.chain += 1;
                        sum += 1;
                    } else if SET_WORDS.iter().any(|k| is(k)) {
                        top.sets += 1;
                        sum += limits.set_weight;
                    } else if (is("join") || is("straight_join"))
                        && !prev_word.is_some_and(|p| {
                            p.eq_ignore_ascii_case("cross") || p.eq_ignore_ascii_case("natural")
                        })
                    {
                        top.joins += 1;
                        sum += limits.join_weight;
                    } else if (is("on") || is("using")) && top.joins > 0 {
                        top.joins -= 1;
                        sum -= limits.join_weight;
                    }
                }
            }
            _ => {}
        }
        prev_word = (t.kind == Kind::Word).then_some(t.text);
        m.depth = m.depth.max(sum);
        if m.nesting > limits.max_nesting || m.depth > limits.max_depth {
            break;
        }
    }
    m
}

/// Checks `sql` against [`STATEMENT`].
pub fn check(sql: &str) -> Result<(), LimitError> {
    check_with(sql, &STATEMENT)
}

/// Checks `sql` against `limits`, under every lexing mode (so that no dialect's reading
/// of quotes and comments can hide depth from the scan).
pub fn check_with(sql: &str, limits: &Limits) -> Result<(), LimitError> {
    if sql.len() > limits.max_bytes {
        return Err(LimitError::TooLong {
            bytes: sql.len(),
            limit: limits.max_bytes,
        });
    }
    for mode in ALL_MODES {
        let m = measure(sql, mode, limits);
        if m.nesting > limits.max_nesting {
            return Err(LimitError::TooDeep {
                limit: limits.max_nesting,
            });
        }
        if m.depth > limits.max_depth {
            return Err(LimitError::TooManyTerms {
                limit: limits.max_depth,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_chains_and_deep_brackets_are_refused() {
        let plus = format!("SELECT 1{}", "+1".repeat(100_000));
        assert_eq!(
            check(&plus),
            Err(LimitError::TooManyTerms { limit: 10_000 })
        );
        let concat = format!("SELECT 'x'{}", " || 'x'".repeat(100_000));
        assert_eq!(check(&concat).map_err(|e| e.sqlstate()), Err("54001"));
        // Commas do not reset a chain of set operations.
        let union = format!("SELECT 1, 2{}", " UNION SELECT 1, 2".repeat(20_000));
        assert_eq!(check(&union).map_err(|e| e.sqlstate()), Err("54001"));
        // Joins nested without parentheses, and subscripts.
        let joins = format!(
            "SELECT 1 FROM t0{}{}",
            " JOIN t".repeat(150),
            " ON TRUE".repeat(150)
        );
        assert_eq!(check(&joins).map_err(|e| e.sqlstate()), Err("54001"));
        let subscripts = format!("SELECT a{}", "[1]".repeat(100_000));
        assert_eq!(check(&subscripts).map_err(|e| e.sqlstate()), Err("54001"));
        let deep = format!("SELECT {}1{}", "(".repeat(200), ")".repeat(200));
        assert_eq!(check(&deep), Err(LimitError::TooDeep { limit: 128 }));
        let long = format!("SELECT '{}'", "x".repeat(5 << 20));
        assert_eq!(check(&long).map_err(|e| e.sqlstate()), Err("54000"));
        // Hidden in what one dialect reads as a string, visible to another.
        let hidden = format!("SELECT 'a\\' {} --'", "+1".repeat(20_000));
        assert!(check(&hidden).is_err());
    }

    #[test]
    fn real_world_shapes_pass() {
        let in_list = format!(
            "SELECT * FROM t WHERE id IN ({})",
            (0..10_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert_eq!(check(&in_list), Ok(()));
        let values = format!(
            "INSERT INTO t VALUES {}",
            (0..10_000)
                .map(|i| format!("({i}, 'n{i}', -{i}.5 * 2)"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        assert_eq!(check(&values), Ok(()));
        let ors = format!(
            "SELECT * FROM t WHERE {}",
            (0..2_000)
                .map(|i| format!("a = {i}"))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        assert_eq!(check(&ors), Ok(()));
        let star = format!(
            "SELECT * FROM f{}",
            (0..300)
                .map(|i| format!(" LEFT JOIN d{i} ON d{i}.id = f.d{i} CROSS JOIN x{i}"))
                .collect::<String>()
        );
        assert_eq!(check(&star), Ok(()));
        // Operators inside strings and comments do not count.
        let s = format!(
            "SELECT '{}' /* {} */",
            "+1".repeat(50_000),
            "+1".repeat(50_000)
        );
        assert_eq!(check(&s), Ok(()));
    }
}
