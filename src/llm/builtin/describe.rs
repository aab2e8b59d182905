//! The interpretation of a query in words: the NOTICE (and `EXPLAIN ASK` comment) that
//! says what the planner understood, so no reading of a question is silent.

use super::intent::*;
use super::query::*;

impl<'a> Query<'a> {
    /// "interpreted as: number of rows of customers where country = 'Germany'; every row".
    pub(super) fn describe(&self) -> String {
        let base = &self.table(Loc::Base).info.name;
        let mut s = String::from("interpreted as: ");
        if self.star {
            s.push_str(&format!("rows of {base}"));
        } else {
            let items: Vec<String> = self.select.iter().map(|(e, _)| self.words(e)).collect();
            s.push_str(&format!("{} from {base}", items.join(", ")));
        }
        for h in self.used_hops() {
            s.push_str(&format!(
                " joined to {} on {}",
                self.table(Loc::Hop(h)).info.name,
                self.hops[h].fk.name
            ));
        }
        let conds: Vec<String> = self
            .filters
            .iter()
            .filter(|c| c.value.is_some())
            .map(|c| {
                let e = self.words(&c.expr);
                match &c.value {
                    Some(Lit::Text(t)) => format!("{e} {} '{t}'", c.op),
                    Some(Lit::Number(n)) => format!("{e} {} {n}", c.op),
                    Some(Lit::Range(a, b)) => format!("{e} between {a} and {b}"),
                    Some(Lit::Recent(n, unit)) => format!(
                        "{e} within the last {n} {unit}(s) up to the latest {e} in the data"
                    ),
                    None => e,
                }
            })
            .collect();
        if !conds.is_empty() {
            s.push_str(&format!(" where {}", conds.join(" and ")));
        }
        if !self.group.is_empty() {
            let g: Vec<String> = self.group.iter().map(|e| self.words(e)).collect();
            s.push_str(&format!(" per {}", g.join(", ")));
        }
        if !self.order.is_empty() {
            let o: Vec<String> = self
                .order
                .iter()
                .map(|(e, desc)| {
                    format!(
                        "{}{}",
                        self.words(e),
                        if *desc { " descending" } else { "" }
                    )
                })
                .collect();
            s.push_str(&format!(", ordered by {}", o.join(", ")));
        }
        match self.limit {
            Some(n) => s.push_str(&format!("; the first {n} row(s)")),
            None if self.star || self.distinct || !self.group.is_empty() => {
                s.push_str("; every row (up to max_rows)")
            }
            None => {}
        }
        for n in &self.notes {
            s.push_str(&format!("; {n}"));
        }
        s.replace('\n', " ")
    }

    fn col_words(&self, r: &ColRef<'_>) -> String {
        match r.loc {
            Loc::Base => r.col.name.clone(),
            Loc::Hop(h) => format!("{}.{}", self.table(Loc::Hop(h)).info.name, r.col.name),
        }
    }

    fn words(&self, e: &Expr<'_>) -> String {
        match e {
            Expr::Col(r) => self.col_words(r),
            Expr::Period(p, r) => format!("{} of {}", p.name(), self.col_words(r)),
            Expr::Mul(a, b) => format!("{} * {}", self.col_words(a), self.col_words(b)),
            Expr::CountStar => "number of rows".to_string(),
            Expr::Distinct(r) => format!("distinct {}", self.col_words(r)),
            Expr::Div(a, b) => format!("{} / {}", self.words(a), self.words(b)),
            Expr::Share(a) => format!("percent of the total {}", self.words(a)),
            Expr::Func(f, inner) => {
                let name = match *f {
                    "sum" => "sum",
                    "avg" => "average",
                    "min" => "minimum",
                    "max" => "maximum",
                    "count" => "number",
                    other => other,
                };
                format!("{name} of {}", self.words(inner))
            }
        }
    }
}
