//! What BI tools need from the wire besides the catalog itself: the session facts a
//! catalog query reads (`pg_backend_pid()`, `current_schemas`, `current_setting`) and the
//! `LIMIT` of `SELECT * FROM dbguru.ask(...)`.

use pgwire::api::ClientInfo;

use super::catalog;
use super::probes::{self, ProbeContext};
use super::Outcome;
use crate::session::Session;

/// The session facts a catalog query may read (see [`catalog::SessionFacts`]).
pub(super) fn catalog_facts<C: ClientInfo>(
    client: &C,
    session: &Session,
    pc: &ProbeContext<'_>,
) -> catalog::SessionFacts {
    const SHOWN: &[&str] = &[
        "search_path",
        "server_version",
        "server_version_num",
        "server_encoding",
        "client_encoding",
        "standard_conforming_strings",
        "integer_datetimes",
        "datestyle",
        "timezone",
        "intervalstyle",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "max_identifier_length",
        "transaction_isolation",
        "default_transaction_isolation",
        "transaction_read_only",
        "default_transaction_read_only",
        "is_superuser",
        "application_name",
        "lc_collate",
        "lc_ctype",
        "extra_float_digits",
    ];
    let mut names: Vec<String> = SHOWN.iter().map(|s| s.to_string()).collect();
    names.extend(session.params.keys().map(|k| k.to_ascii_lowercase()));
    names.sort();
    names.dedup();
    let settings = names
        .into_iter()
        .filter_map(|n| probes::show_parameter(&n, pc, &session.params).map(|v| (n, v)))
        .collect();
    catalog::SessionFacts {
        user: pc.user.to_string(),
        search_path: if pc.schema.is_empty() {
            vec![]
        } else {
            vec![pc.schema.to_string()]
        },
        backend_pid: client.pid_and_secret_key().0,
        server_version: pc.server_version.to_string(),
        settings,
    }
}

/// At most `n` rows of `outcome` (`SELECT * FROM dbguru.ask(...) LIMIT n`).
pub(super) fn limit_outcome(outcome: Outcome, n: u64) -> Outcome {
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    match outcome {
        Outcome::Rows(schema, batches) => {
            let mut left = n;
            let mut kept = Vec::with_capacity(batches.len());
            for b in batches {
                if left == 0 {
                    break;
                }
                let take = b.num_rows().min(left);
                left -= take;
                kept.push(b.slice(0, take));
            }
            Outcome::Rows(schema, kept)
        }
        Outcome::Stream(s) => {
            use futures::StreamExt;
            let batches = s
                .batches
                .scan(n, |left, b| {
                    if *left == 0 {
                        return futures::future::ready(None);
                    }
                    let b = b.map(|b| {
                        let take = b.num_rows().min(*left);
                        *left -= take;
                        b.slice(0, take)
                    });
                    futures::future::ready(Some(b))
                })
                .boxed();
            Outcome::Stream(crate::backends::BatchStream {
                schema: s.schema,
                batches,
            })
        }
        other => other,
    }
}
