//! Date phrases of a question: "March 2024", "Q4 2024", "the fourth quarter of 2024",
//! "the last 30 days", "between 2024-01-01 and 2024-03-31".

use super::intent::*;
use super::lexicon::*;
use super::parser::Parser;

impl Parser<'_> {
    /// A 4-digit year at token `i`.
    fn year_at(&self, i: usize) -> Option<i32> {
        match self.toks.get(i) {
            Some(Tok::Number(n)) if n.len() == 4 => {
                n.parse().ok().filter(|y| (1900..=2100).contains(y))
            }
            _ => None,
        }
    }

    /// A date phrase at the cursor: its length in tokens and its filter target.
    fn parse_date_phrase(&self) -> Option<(usize, Target)> {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        let i = self.i;
        let w = self.word(i)?;
        if matches!(w, "last" | "past" | "previous") {
            let (n, k) = match self.number_at(i + 1) {
                Some(n) => (n, 2),
                None => (1, 1),
            };
            let unit = match self.word(i + k)? {
                "day" | "days" => "day",
                "week" | "weeks" => "week",
                "month" | "months" => "month",
                "year" | "years" => "year",
                _ => return None,
            };
            if n == 0 || n > 100_000 {
                return None;
            }
            return Some((k + 1, Target::Recent { n: n as u32, unit }));
        }
        if w == "between" {
            if let (Some(Tok::Date(a)), Some("and"), Some(Tok::Date(b))) =
                (self.toks.get(i + 1), self.word(i + 2), self.toks.get(i + 3))
            {
                return Some((
                    4,
                    Target::Dates {
                        from: Some(a.clone()),
                        to: next_day(b),
                        label: format!("{a} to {b}"),
                    },
                ));
            }
            return None;
        }
        let ordinal = match w {
            "first" => Some(1),
            "second" => Some(2),
            "third" => Some(3),
            "fourth" => Some(4),
            _ => None,
        };
        let (quarter, k) = match (quarter_number(w), ordinal) {
            (Some(q), _) => (Some(q), 1),
            (None, Some(q)) if self.word(i + 1) == Some("quarter") => (Some(q), 2),
            _ => (None, 1),
        };
        let k = if self.word(i + k) == Some("of") {
            k + 1
        } else {
            k
        };
        let y = self.year_at(i + k)?;
        let (from, to, label) = if let Some(q) = quarter {
            (
                month_start(y, 3 * q - 2),
                month_start(y, 3 * q + 1),
                format!("Q{q} {y}"),
            )
        } else {
            let m = month_number(w)?;
            (
                month_start(y, m),
                month_start(y, m + 1),
                format!("{} {y}", MONTHS[(m - 1) as usize]),
            )
        };
        Some((
            k + 1,
            Target::Dates {
                from: Some(from),
                to: Some(to),
                label,
            },
        ))
    }

    /// Whether a date phrase starts at the cursor.
    pub(super) fn at_date_phrase(&self) -> bool {
        self.parse_date_phrase().is_some()
    }

    /// Consumes a date phrase at the cursor ("March 2024", "Q4 2024", "last 30 days").
    pub(super) fn date_phrase(&mut self) -> Option<Filter> {
        let (len, target) = self.parse_date_phrase()?;
        self.i += len;
        Some(Filter {
            target,
            op: "=",
            value: Lit::Text(String::new()),
        })
    }
}
