//! Choosing the base table and building the query for an intent, per database.

use super::intent::*;
use super::lexicon::*;
use super::query::*;
use super::schema::*;

/// The question's words, and (in the synonym pass) each variant with one word replaced
/// by a synonym.
pub(super) fn word_variants(toks: &[String], synonyms_pass: bool) -> Vec<Vec<String>> {
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
pub(super) fn plan_database(intent: &Intent, db: &DbView<'_>) -> Option<(String, bool)> {
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
pub(super) fn build<'a>(
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
pub(super) fn top<'a>(intent: &Intent, toks: &[String], q: &mut Query<'a>) -> Option<i64> {
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
