//! Matching words to columns: one SELECT over a base table and its foreign keys.

use super::intent::*;
use super::lexicon::*;
use super::schema::*;
use crate::backends::ColumnInfo;
use std::collections::BTreeSet;

/// Where a column lives: the base table or the target of one of its foreign keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Loc {
    Base,
    Hop(usize),
}

#[derive(Clone, Copy)]
pub(super) struct ColRef<'a> {
    pub(super) loc: Loc,
    pub(super) col: &'a ColumnInfo,
}

#[derive(Clone)]
pub(super) enum Expr<'a> {
    Col(ColRef<'a>),
    Period(Period, ColRef<'a>),
    Mul(ColRef<'a>, ColRef<'a>),
    Func(&'static str, Box<Expr<'a>>),
    CountStar,
    /// `DISTINCT col` (inside `count(...)`).
    Distinct(ColRef<'a>),
    /// `a * 1.0 / b` (an average per entity: units per order).
    Div(Box<Expr<'a>>, Box<Expr<'a>>),
    /// `100.0 * a / sum(a) OVER ()`: a group's share of the total, in percent.
    Share(Box<Expr<'a>>),
}

impl<'a> Expr<'a> {
    pub(super) fn locs(&self, out: &mut BTreeSet<usize>) {
        let mut add = |r: &ColRef<'a>| {
            if let Loc::Hop(h) = r.loc {
                out.insert(h);
            }
        };
        match self {
            Expr::Col(r) | Expr::Period(_, r) | Expr::Distinct(r) => add(r),
            Expr::Div(a, b) => {
                a.locs(out);
                b.locs(out);
            }
            Expr::Share(a) => a.locs(out),
            Expr::Mul(a, b) => {
                add(a);
                add(b);
            }
            Expr::Func(_, e) => e.locs(out),
            Expr::CountStar => {}
        }
    }

    pub(super) fn is_numeric(&self) -> bool {
        match self {
            Expr::Col(r) => is_numeric(r.col),
            Expr::Mul(..) | Expr::CountStar | Expr::Func(..) | Expr::Div(..) | Expr::Share(_) => {
                true
            }
            Expr::Period(..) | Expr::Distinct(_) => false,
        }
    }
}

/// `expr op value`, or `expr IS NOT NULL` without a value.
pub(super) struct Cond<'a> {
    pub(super) expr: Expr<'a>,
    pub(super) op: &'static str,
    pub(super) value: Option<Lit>,
}

/// One SELECT over a base table and some of its foreign keys.
pub(super) struct Query<'a> {
    pub(super) db: &'a DbView<'a>,
    pub(super) base: usize,
    pub(super) hops: Vec<Hop<'a>>,
    pub(super) star: bool,
    pub(super) select: Vec<(Expr<'a>, String)>,
    pub(super) filters: Vec<Cond<'a>>,
    pub(super) group: Vec<Expr<'a>>,
    pub(super) order: Vec<(Expr<'a>, bool)>,
    pub(super) limit: Option<u64>,
    /// `SELECT DISTINCT` (the distinct values of a column).
    pub(super) distinct: bool,
    /// How the planner read words that are not plain column names, for the NOTICE.
    pub(super) notes: Vec<String>,
}

impl<'a> Query<'a> {
    pub(super) fn new(db: &'a DbView<'a>, base: usize) -> Self {
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
            distinct: false,
            notes: Vec::new(),
        }
    }

    pub(super) fn table(&self, loc: Loc) -> &'a TableView<'a> {
        let db: &'a DbView<'a> = self.db;
        match loc {
            Loc::Base => &db.tables[self.base],
            Loc::Hop(h) => &db.tables[self.hops[h].target],
        }
    }

    /// The base table, then the targets of its foreign keys.
    pub(super) fn locs(&self) -> Vec<Loc> {
        std::iter::once(Loc::Base)
            .chain((0..self.hops.len()).map(Loc::Hop))
            .collect()
    }

    /// The column named by `toks`: score 3 exact name, 2 name ends with the words,
    /// 1 name contains the last word (keys only on exact names). Base table first.
    pub(super) fn find_column(&self, toks: &[String]) -> Option<(ColRef<'a>, u8)> {
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
    pub(super) fn date_column(&self, base_only: bool) -> Option<ColRef<'a>> {
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
    pub(super) fn place_column(&self) -> Option<ColRef<'a>> {
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
    pub(super) fn entity(&self, toks: &[String]) -> Option<(Expr<'a>, Vec<Expr<'a>>, u8)> {
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
    pub(super) fn group_by(&self, words: &[String]) -> Option<(Expr<'a>, Vec<Expr<'a>>)> {
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
    pub(super) fn measure(&self, toks: &[String], implied: Implied) -> Option<(Expr<'a>, i32)> {
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
    pub(super) fn money(&self, extra: &[String]) -> Option<(Expr<'a>, i32)> {
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
    pub(super) fn price(&self) -> Option<(Expr<'a>, i32)> {
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
    pub(super) fn condition(&self, f: &Filter) -> Option<Vec<Cond<'a>>> {
        let (expr, value) = match &f.target {
            Target::Column(words) => {
                let toks: Vec<String> = words.iter().flat_map(|w| name_tokens(w)).collect();
                let (c, _) = self.find_column(&toks)?;
                if f.op == "dates" {
                    // "where order_date between 2024-01-01 and 2024-03-31"
                    let Lit::Range(from, to) = &f.value else {
                        return None;
                    };
                    return Some(self.date_range(c, Some(from.clone()), Some(to.clone())));
                }
                let numeric = is_numeric(c.col) && !c.col.data_type.trim().is_empty();
                let value = match &f.value {
                    Lit::Number(n) if !is_numeric(c.col) => Lit::Text(n.clone()),
                    Lit::Range(..) if !numeric => return None,
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
            Target::Dates { from, to, .. } => {
                let c = self.date_column(false)?;
                return Some(self.date_range(c, from.clone(), to.clone()));
            }
            Target::Recent { n, unit } => {
                let c = self.date_column(false)?;
                return Some(vec![Cond {
                    expr: Expr::Col(c),
                    op: ">",
                    value: Some(Lit::Recent(*n, unit)),
                }]);
            }
        };
        let ok = match &value {
            Lit::Number(_) => true,
            Lit::Range(..) => f.op == "between",
            _ => f.op == "=" || f.op == "<>",
        };
        if !ok {
            return None; // "price over cheap"
        }
        Some(vec![Cond {
            expr,
            op: f.op,
            value: Some(value),
        }])
    }

    /// `from <= c < to` on a date column (text dates compare as `YYYY-MM-DD` strings).
    fn date_range(&self, c: ColRef<'a>, from: Option<String>, to: Option<String>) -> Vec<Cond<'a>> {
        let mut out = Vec::new();
        if let Some(f) = from {
            out.push(Cond {
                expr: Expr::Col(c),
                op: ">=",
                value: Some(Lit::Text(f)),
            });
        }
        if let Some(t) = to {
            out.push(Cond {
                expr: Expr::Col(c),
                op: "<",
                value: Some(Lit::Text(t)),
            });
        }
        out
    }

    /// Number of foreign keys the query uses.
    pub(super) fn joins(&self) -> usize {
        self.used_hops().len()
    }

    pub(super) fn used_hops(&self) -> BTreeSet<usize> {
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
}
