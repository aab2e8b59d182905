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
pub(super) fn plan_database(intent: &Intent, db: &DbView<'_>) -> Option<(String, String, bool)> {
    let toks = intent.tokens();
    for synonyms_pass in [false, true] {
        let mut best: Option<(i64, String, String)> = None;
        for variant in word_variants(&toks, synonyms_pass) {
            for base in 0..db.tables.len() {
                let Some((q, score)) = build(intent, &variant, db, base) else {
                    continue;
                };
                let Some(sql) = q.render() else {
                    continue;
                };
                if best.as_ref().is_none_or(|(b, _, _)| score > *b) {
                    let mut text = q.describe();
                    if synonyms_pass {
                        text.push_str(&format!(
                            "; \"{}\" read as \"{}\" (no table has the question's own word)",
                            toks.join(" "),
                            variant.join(" ")
                        ));
                    }
                    best = Some((score, sql, text));
                }
            }
        }
        if let Some((_, sql, text)) = best {
            return Some((sql, text, synonyms_pass));
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
    let mut grouped = !intent.group.is_empty();
    match intent.agg {
        Agg::Count | Agg::List => {
            let s = match_subject(toks, core);
            if s >= 3 {
                score = i64::from(s) * 10_000;
                if intent.agg == Agg::Count {
                    q.select.push((Expr::CountStar, intent.count_alias()));
                } else {
                    q.star = true;
                    q.limit = intent.limit;
                }
            } else {
                // "how many cities", "all product categories": a column's distinct values.
                let (c, s) = subject_column(&q, toks, core)?;
                score = i64::from(s) * 10_000 - 5_000;
                let name = c.col.name.clone();
                if intent.agg == Agg::Count {
                    q.select.push((
                        Expr::Func("count", Box::new(Expr::Distinct(c))),
                        intent.count_alias(),
                    ));
                    q.notes
                        .push(format!("counting the distinct values of {name}"));
                } else {
                    q.distinct = true;
                    q.select.push((Expr::Col(c), name.clone()));
                    q.order.push((Expr::Col(c), false));
                    q.limit = intent.limit;
                    q.notes.push(format!("the distinct values of {name}"));
                }
            }
        }
        Agg::Sum | Agg::Avg | Agg::Min | Agg::Max => {
            let items =
                matches!(toks, [w] if w == "item" || w == "unit") && quantity_column(&q).is_some();
            let (subject, measure): (Vec<String>, Vec<String>) = if items {
                q.notes
                    .push("items counted as the sum of the quantity column".to_string());
                (toks.to_vec(), vec!["quantity".to_string()])
            } else {
                toks.iter().cloned().partition(|t| core.contains(t))
            };
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
            let per = if intent.agg == Agg::Avg && grouped {
                entity_hop(&q, &intent.group)
            } else {
                None
            };
            if let Some(h) = per {
                // "average number of items per order": one number, the total divided by
                // the number of distinct orders.
                let fk = ColRef {
                    loc: Loc::Base,
                    col: q.hops[h].fk,
                };
                q.notes.push(format!(
                    "average per {}: the total divided by the number of distinct {}",
                    intent.group.join(" "),
                    fk.col.name
                ));
                q.select.push((
                    Expr::Div(
                        Box::new(Expr::Func("sum", Box::new(m))),
                        Box::new(Expr::Func("count", Box::new(Expr::Distinct(fk)))),
                    ),
                    intent.agg_alias(),
                ));
                grouped = false;
            } else {
                q.select
                    .push((Expr::Func(f, Box::new(m)), intent.agg_alias()));
            }
            score = i64::from(s) * 10_000 - i64::from(rank) * 100;
        }
        Agg::Top => score = top(intent, toks, &mut q)?,
    }
    for f in &intent.filters {
        let c = q.condition(f)?;
        q.filters.extend(c);
    }
    if intent.agg != Agg::Top && grouped {
        let (sel, group) = q.group_by(&intent.group)?;
        q.select.insert(0, (sel.clone(), intent.group_alias()));
        q.group = group;
        q.order = vec![(sel, false)];
    }
    if intent.pct {
        // "share of revenue per category": each group's percent of the total.
        if !matches!(intent.agg, Agg::Count | Agg::Sum) || q.group.is_empty() || q.select.len() != 2
        {
            return None;
        }
        let (m, alias) = q.select[1].clone();
        q.select
            .push((Expr::Share(Box::new(m)), format!("pct_{alias}")));
    }
    score -= 10 * q.joins() as i64;
    Some((q, score))
}

/// A text or date column of the base table named by the words that are not the table's
/// own ("product categories" on products → category; "cities" on customers → city).
fn subject_column<'a>(q: &Query<'a>, toks: &[String], core: &[String]) -> Option<(ColRef<'a>, u8)> {
    let (subject, rest): (Vec<String>, Vec<String>) =
        toks.iter().cloned().partition(|t| core.contains(t));
    if rest.is_empty() {
        return None;
    }
    let s = if subject.is_empty() {
        3
    } else {
        match_subject(&subject, core).max(3)
    };
    let t = q.table(Loc::Base);
    let c = t
        .info
        .columns
        .iter()
        .find(|c| !is_key(c) && !is_numeric(c) && name_tokens(&c.name) == rest)?;
    Some((
        ColRef {
            loc: Loc::Base,
            col: c,
        },
        s,
    ))
}

/// The quantity column of the base table.
fn quantity_column<'a>(q: &Query<'a>) -> Option<&'a crate::backends::ColumnInfo> {
    q.table(Loc::Base).info.columns.iter().find(|c| {
        is_numeric(c)
            && !is_key(c)
            && name_tokens(&c.name)
                .iter()
                .any(|x| matches!(x.as_str(), "quantity" | "qty"))
    })
}

/// The foreign key of the base table whose target the words name ("per order").
fn entity_hop(q: &Query<'_>, words: &[String]) -> Option<usize> {
    let toks: Vec<String> = words.iter().flat_map(|w| name_tokens(w)).collect();
    (0..q.hops.len())
        .map(|h| (h, match_subject(&toks, &q.table(Loc::Hop(h)).core)))
        .filter(|(_, s)| *s >= 3)
        .max_by_key(|(h, s)| (*s, std::cmp::Reverse(*h)))
        .map(|(h, _)| h)
}

/// Fills `q` for a top-N question; returns the score. Either the entity's own column
/// ("top 5 products by price": base is the entity) or a sum/count/average per entity over
/// a table that points at it ("top 3 customers by revenue": base is orders), or per
/// column value or period ("the category with the highest average price", "the month
/// with the most orders").
pub(super) fn top<'a>(intent: &Intent, toks: &[String], q: &mut Query<'a>) -> Option<i64> {
    if !intent.group.is_empty() {
        return None;
    }
    let base = q.table(Loc::Base);
    let mut mtoks: Vec<String> = intent.measure.iter().flat_map(|w| name_tokens(w)).collect();
    // "highest average price", "most total revenue", "highest number of orders"
    let func = match mtoks.first().map(String::as_str) {
        Some("average" | "avg" | "mean") => Some("avg"),
        Some("total" | "sum") => Some("sum"),
        Some("number" | "count") => Some("count"),
        _ => None,
    };
    if func.is_some() {
        mtoks.remove(0);
        if mtoks.first().is_some_and(|w| w == "of") {
            mtoks.remove(0);
        }
    }
    let implied = match intent.implied {
        Implied::None => Implied::Money,
        i => i,
    };
    q.limit = intent.limit;
    let s = match_subject(toks, &base.core);
    if s >= 3 && func.is_none() {
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
    let (total, rank) = if match_subject(&mtoks, &base.core) >= 3
        && matches!(func, None | Some("count"))
    {
        (Expr::CountStar, 0) // "customers with the most orders" over orders
    } else {
        let (m, rank) = q.measure(&mtoks, implied)?;
        let price = matches!(&m, Expr::Col(r) if name_tokens(&r.col.name).iter().any(|t| t == "price" || t == "cost"));
        let f = func.unwrap_or("sum");
        if !m.is_numeric() || (price && f == "sum") || f == "count" {
            return None; // summing unit prices means nothing
        }
        (Expr::Func(f, Box::new(m)), rank)
    };
    let period = match toks {
        [one] => Period::from_word(one),
        _ => None,
    };
    let (label, group, es) = match period {
        Some(p) => {
            let e = Expr::Period(p, q.date_column(false)?);
            (e.clone(), vec![e], 3)
        }
        None => q.entity(toks).or_else(|| {
            let (c, s) = q.find_column(toks)?;
            (s >= 2 && !is_numeric(c.col)).then(|| (Expr::Col(c), vec![Expr::Col(c)], 3))
        })?,
    };
    q.select.push((label, intent.entity_alias()));
    q.select.push((total.clone(), intent.measure_alias()));
    q.group = group;
    q.order.push((total, intent.desc));
    Some(i64::from(es) * 10_000 - i64::from(rank) * 100)
}
