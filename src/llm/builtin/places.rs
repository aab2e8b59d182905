//! The parser's places and values: the words after "in"/"from"/"for" (a country, a year,
//! a database, a column's value) and values named without their column.

use super::intent::*;
use super::lexicon::*;
use super::parser::*;

impl Parser<'_> {
    /// A word that is a sampled value of exactly one column and nothing else the
    /// question could mean (not a table, column, database or number word).
    pub(super) fn bare_value(&self, lower: &str) -> Option<(String, String)> {
        let v = &self.vocab;
        if v.tables.contains(&singular(lower))
            || v.columns.contains(&singular(lower))
            || v.column_words.contains(lower)
            || v.databases.contains(lower)
            || CLAUSE_WORDS.contains(&lower)
        {
            return None;
        }
        v.value_column(lower)
    }

    /// Content words from the cursor up to the next clause word.
    pub(super) fn phrase(&mut self) -> Vec<Word> {
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
    pub(super) fn preposition(&mut self, is_for: bool) {
        self.i += 1;
        self.eat_any(&[&["the"]]);
        if self.eat_any(&[&["total"], &["all"]]) {
            return;
        }
        match self.toks.get(self.i).cloned() {
            Some(Tok::Quoted(s)) => {
                self.i += 1;
                if is_country(&s) {
                    self.filters.push(Filter {
                        target: Target::Place,
                        op: "=",
                        value: Lit::Text(s),
                    });
                } else {
                    self.unplaced.push(format!("'{s}'"));
                }
            }
            Some(Tok::Number(n)) if n.len() == 4 && n.chars().all(|c| c.is_ascii_digit()) => {
                self.i += 1;
                let y: i32 = n.parse().unwrap_or(0);
                self.filters.push(Filter {
                    target: Target::Dates {
                        from: Some(format!("{y:04}-01-01")),
                        to: Some(format!("{:04}-01-01", y + 1)),
                        label: n.clone(),
                    },
                    op: "=",
                    value: Lit::Text(n),
                });
            }
            Some(Tok::Word { .. }) if self.at_date_phrase() => {}
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
                    self.only_dbs.push(lower.join(" ")); // "customers in shop"
                                                         // "in shop and warehouse"
                    while self.word(self.i) == Some("and")
                        && self
                            .word(self.i + 1)
                            .is_some_and(|w| self.vocab.databases.contains(w))
                    {
                        self.only_dbs
                            .push(self.word(self.i + 1).unwrap_or_default().to_string());
                        self.i += 2;
                        self.eat_any(&[&["database"], &["databases"]]);
                    }
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
                    _ if is_country(&text(&place)) => Filter {
                        target: Target::Place,
                        op: "=",
                        value: Lit::Text(title_case(&text(&place))),
                    },
                    // A value without its column ("products in Books"): the one column
                    // whose sampled values hold it.
                    _ => match self.vocab.value_column(&text(&place)) {
                        Some((col, exact)) => Filter {
                            target: Target::Column(vec![col]),
                            op: "=",
                            value: Lit::Text(exact),
                        },
                        None => {
                            self.unplaced.push(text(&place));
                            return;
                        }
                    },
                };
                self.filters.push(filter);
            }
            _ => {}
        }
    }
}
