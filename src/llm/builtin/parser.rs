//! Reads a question's tokens into an [`Intent`].

use super::intent::*;
use super::lexicon::*;
use super::{DEFAULT_TOP_LIMIT, MAX_LIMIT};

/// Reads a question into an [`Intent`] (not yet checked: the noun phrase may be empty).
pub(super) struct Parser<'v> {
    pub(super) toks: Vec<Tok>,
    pub(super) i: usize,
    pub(super) vocab: &'v Vocab,
    pub(super) agg: Option<Agg>,
    pub(super) prefix: &'static str,
    pub(super) implied: Implied,
    pub(super) desc: bool,
    pub(super) limit: Option<u64>,
    pub(super) pending_number: Option<u64>,
    pub(super) pre: Vec<Word>,
    pub(super) post: Vec<Word>,
    pub(super) in_of: bool,
    pub(super) measure: Vec<String>,
    pub(super) group: Vec<String>,
    pub(super) filters: Vec<Filter>,
    pub(super) list_hint: bool,
    pub(super) rows: bool,
    pub(super) only_dbs: Vec<String>,
    /// Numbers, quoted text and values the parser could not place.
    pub(super) unplaced: Vec<String>,
    /// "sold"/"sell" was said ("how many items were sold").
    pub(super) sold: bool,
    /// "share of"/"percentage of" was said.
    pub(super) pct: bool,
}

impl<'v> Parser<'v> {
    pub(super) fn new(q: &str, vocab: &'v Vocab) -> Self {
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
            only_dbs: Vec::new(),
            unplaced: Vec::new(),
            sold: false,
            pct: false,
        }
    }

    pub(super) fn word(&self, i: usize) -> Option<&str> {
        match self.toks.get(i) {
            Some(Tok::Word { lower, .. }) => Some(lower.as_str()),
            _ => None,
        }
    }

    /// Whether the words at the cursor are `phrase`.
    pub(super) fn at(&self, phrase: &[&str]) -> bool {
        phrase
            .iter()
            .enumerate()
            .all(|(k, p)| self.word(self.i + k) == Some(*p))
    }

    /// Consumes the first of `phrases` found at the cursor.
    pub(super) fn eat_any(&mut self, phrases: &[&[&str]]) -> bool {
        for p in phrases {
            if self.at(p) {
                self.i += p.len();
                return true;
            }
        }
        false
    }

    pub(super) fn number_at(&self, i: usize) -> Option<u64> {
        match self.toks.get(i) {
            Some(Tok::Number(n)) => n.parse().ok(),
            _ => None,
        }
    }

    pub(super) fn set_agg(&mut self, agg: Agg, prefix: &'static str, implied: Implied) {
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
    pub(super) fn set_top(&mut self, desc: bool, implied: Implied, default: u64) {
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

    pub(super) fn run(mut self) -> Option<Intent> {
        while self.i < self.toks.len() {
            if self.keyword()? {
                continue;
            }
            match self.toks[self.i].clone() {
                Tok::Number(n) => {
                    self.i += 1;
                    // A row count only before the subject ("10 orders", "show 5 products");
                    // any other number is a value the question did not place.
                    match n.parse::<u64>() {
                        Ok(v)
                            if self.pre.is_empty()
                                && self.post.is_empty()
                                && self.pending_number.is_none()
                                && !(1900..=2100).contains(&v) =>
                        {
                            self.pending_number = Some(v)
                        }
                        _ => self.unplaced.push(n),
                    }
                }
                Tok::Date(d) => {
                    self.i += 1;
                    let before = self
                        .i
                        .checked_sub(2)
                        .and_then(|k| self.word(k))
                        .map(str::to_string);
                    let f = match before.as_deref() {
                        Some("before" | "until" | "till") => {
                            (None, Some(d.clone()), format!("before {d}"))
                        }
                        Some("after") => (next_day(&d), None, format!("after {d}")),
                        Some("since") => (Some(d.clone()), None, format!("since {d}")),
                        _ => (Some(d.clone()), next_day(&d), d.clone()),
                    };
                    self.filters.push(Filter {
                        target: Target::Dates {
                            from: f.0,
                            to: f.1,
                            label: f.2,
                        },
                        op: "=",
                        value: Lit::Text(d),
                    });
                }
                Tok::Word { lower, orig } => {
                    self.i += 1;
                    if matches!(lower.as_str(), "sold" | "sell" | "sells") {
                        self.sold = true;
                    }
                    if LIST_VERBS.contains(&lower.as_str()) {
                        self.list_hint = true;
                    } else if let Some(p) =
                        Period::from_word(&lower).filter(|_| lower.ends_with('y'))
                    {
                        // "monthly revenue", "daily orders"
                        self.group = vec![p.name().to_string()];
                    } else if let Some((col, exact)) = self.bare_value(&lower) {
                        // "cancelled orders": a sampled value of one column.
                        self.filters.push(Filter {
                            target: Target::Column(vec![col]),
                            op: "=",
                            value: Lit::Text(exact),
                        });
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
                Tok::Quoted(q) => {
                    self.i += 1;
                    self.unplaced.push(format!("'{q}'"));
                }
            }
        }
        self.finish()
    }

    /// Handles a keyword at the cursor. `Some(true)`: consumed; `None`: not understood.
    pub(super) fn keyword(&mut self) -> Option<bool> {
        let Some(w) = self.word(self.i).map(str::to_string) else {
            return Some(false);
        };
        let w = w.as_str();
        if let Some(f) = self.date_phrase() {
            self.filters.push(f);
            return Some(true);
        }
        if self.eat_any(&[
            &["percentage", "of"],
            &["percent", "of"],
            &["share", "of"],
            &["proportion", "of"],
            &["percentage"],
            &["share"],
        ]) {
            self.pct = true;
            return Some(true);
        }
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
            let numbered = self.pending_number.is_some() || self.number_at(self.i + 1).is_some();
            if matches!(agg, Agg::Max | Agg::Min) && numbered && self.agg.is_none() {
                // "the 5 biggest sales", "largest 3 orders": top-N rows.
                self.i += 1;
                self.set_top(agg == Agg::Max, Implied::None, 1);
                return Some(true);
            }
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
            let n = self.limit.or(self.pending_number.take());
            self.agg = Some(Agg::Top);
            self.desc = desc;
            self.limit = n;
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

    /// `<column words> [comparison] <value>` after where/with; with `loose` (after
    /// "with") the comparison may be left out: `with status shipped`.
    pub(super) fn filter_clause(&mut self, loose: bool) -> Option<()> {
        loop {
            self.eat_any(&[&["the"]]);
            let mut col: Vec<String> = Vec::new();
            while let Some(Tok::Word { lower, .. }) = self.toks.get(self.i) {
                if is_comparison_word(lower) || CLAUSE_WORDS.contains(&lower.as_str()) {
                    break;
                }
                col.push(lower.clone());
                self.i += 1;
                let more_column = self
                    .word(self.i)
                    .is_some_and(|n| self.vocab.column_words.contains(&singular(n)));
                if loose && col.len() == 1 && !self.at_comparison() && !more_column {
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

    pub(super) fn at_comparison(&self) -> bool {
        match self.toks.get(self.i) {
            Some(Tok::Op(_)) => true,
            Some(Tok::Word { lower, .. }) => is_comparison_word(lower),
            _ => false,
        }
    }

    /// An optional comparison (`=`, `is`, `is not`, `over`, `at least`...) and a value.
    pub(super) fn comparison(&mut self) -> Option<(&'static str, Lit)> {
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
        if self.word(self.i) == Some("between") {
            let lo = self.toks.get(self.i + 1).cloned();
            let hi = self.toks.get(self.i + 3).cloned();
            if self.word(self.i + 2) == Some("and") {
                match (lo, hi) {
                    (Some(Tok::Number(a)), Some(Tok::Number(b))) => {
                        self.i += 4;
                        return Some(("between", Lit::Range(a, b)));
                    }
                    (Some(Tok::Date(a)), Some(Tok::Date(b))) => {
                        self.i += 4;
                        let to = next_day(&b)?;
                        return Some(("dates", Lit::Range(a, to)));
                    }
                    _ => {}
                }
            }
            return None;
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

    pub(super) fn finish(self) -> Option<Intent> {
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
        let mut unplaced = self.unplaced;
        match agg {
            // Lists return every row (up to max_rows) unless they name a number.
            Agg::List => limit = limit.or(self.pending_number).map(|n| n.min(MAX_LIMIT)),
            Agg::Top => {}
            _ => {
                if let Some(n) = self.pending_number {
                    unplaced.push(n.to_string()); // a number we did not understand
                }
            }
        }
        if self.pct && self.group.is_empty() {
            unplaced.push("percentage".to_string()); // a share needs groups ("per category")
        }
        let mut alias_words: Vec<String> = if self.pre.is_empty() {
            &self.post
        } else {
            &self.pre
        }
        .iter()
        .map(|w| w.lower.clone())
        .collect();
        // "how many items were sold": units, the sum of the quantity column.
        if agg == Agg::Count
            && self.sold
            && matches!(singular_words.as_slice(), [w] if w == "item" || w == "unit")
        {
            agg = Agg::Sum;
            prefix = "total";
            words = vec![Word {
                lower: "quantity".into(),
                orig: "quantity".into(),
            }];
            alias_words = vec!["quantity".into()];
        }
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
            alias_words,
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
            only_dbs: self.only_dbs,
            unplaced,
            pct: self.pct,
        })
    }
}
