//! Plain SQL: where it runs (one namespace, see [`super::route`]), whether it only
//! reads, describing it without running it, session parameters, and running it.

use std::sync::Arc;

use crate::backends::{self, Dialect, QueryOptions, QueryResult};
use crate::config::UserConfig;
use crate::session::{Session, SessionError};

use super::route::{self, Routed};
use super::settings::{self, Effect};
use super::{Engine, EngineError, SqlOutcome};

impl Engine {
    /// Where `sql` runs for this session: the connection its schema-qualified table
    /// names point at (the qualifiers removed), else the session's target. A statement
    /// naming several connections is routed to [`route::FEDERATED`] (the federation
    /// engine; no database describes it, and it runs at Describe time when it reads).
    pub fn resolve_sql(
        &self,
        sql: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<Routed, EngineError> {
        let target = session.target_connection(&self.config, user);
        let names: Vec<String> = self
            .conns
            .iter()
            .filter(|c| user.may_use(&c.cfg.name))
            .map(|c| c.cfg.name.clone())
            .collect();
        let dialect_of = |n: &str| {
            self.conn(n)
                .map(|c| c.backend.dialect())
                .unwrap_or(Dialect::Postgres)
        };
        match route::route(sql, target.as_deref(), &names, dialect_of) {
            Ok(Some(r)) => Ok(r),
            Ok(None) => target
                .map(|connection| Routed {
                    connection,
                    sql: sql.to_string(),
                })
                .ok_or(EngineError::NoConnections),
            Err(route::RouteError::CrossDatabase(_)) => Ok(Routed {
                connection: route::FEDERATED.to_string(),
                sql: sql.to_string(),
            }),
            Err(e) => Err(EngineError::Route(e)),
        }
    }

    /// Whether `routed` provably only reads: the guard accepts it as a read-only query
    /// for its connection's dialect (no DML in a CTE, no locking clause, no function
    /// with side effects). Used to decide what may run at Describe time.
    pub fn reads_only(&self, routed: &Routed) -> bool {
        if routed.connection == route::FEDERATED {
            return self
                .verdicts
                .check(&routed.sql, Dialect::Postgres, false)
                .is_ok_and(|v| v.is_query);
        }
        self.conn(&routed.connection).is_some_and(|c| {
            self.verdicts
                .check(&routed.sql, c.backend.dialect(), false)
                .is_ok_and(|v| v.is_query)
        })
    }

    /// Whether `connection`'s database describes a statement without running it.
    pub fn describes(&self, connection: &str) -> bool {
        self.conn(connection)
            .is_some_and(|c| c.backend.binds_parameters())
    }

    /// Parameter types and result schema of plain SQL on a connection, where the
    /// database can describe it without running it. `Ok(None)` when it cannot (the
    /// backend does not describe, or the guard refuses the statement, which its
    /// execution then reports); a database error (unknown column, syntax) is returned,
    /// so Describe fails the way PostgreSQL's own does.
    pub async fn describe_sql(
        &self,
        routed: &Routed,
        user: &UserConfig,
    ) -> Result<Option<backends::Described>, EngineError> {
        let Some(c) = self
            .conn(&routed.connection)
            .filter(|c| user.may_use(&c.cfg.name))
        else {
            return Ok(None);
        };
        if self
            .verdicts
            .check(&routed.sql, c.backend.dialect(), true)
            .is_err()
        {
            return Ok(None);
        }
        c.backend
            .describe(&routed.sql)
            .await
            .map_err(|error| EngineError::Backend {
                connection: c.cfg.name.clone(),
                error,
            })
    }

    /// What `SET name = value` does for this session (see [`settings`]). A parameter
    /// forwarded to a PostgreSQL target is checked by the server now, so a bad name or
    /// value fails the `SET` itself, as it would on PostgreSQL.
    pub async fn set_parameter(
        &self,
        name: &str,
        value: &str,
        session: &Session,
        user: &UserConfig,
    ) -> Result<Effect, EngineError> {
        let target = session.target_connection(&self.config, user);
        let kind = target
            .as_deref()
            .and_then(|t| self.conn(t))
            .map(|c| c.backend.dialect());
        let effect = settings::classify(name, value, target.as_deref(), kind)
            .map_err(EngineError::Setting)?;
        match &effect {
            Effect::Forwarded => {
                let Some(c) = target.as_deref().and_then(|t| self.conn(t)) else {
                    return Ok(effect);
                };
                let mut forwarded: Vec<(String, String)> = session
                    .forwarded
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                forwarded.retain(|(k, _)| k != name);
                forwarded.push((name.to_string(), settings::value_literal(value)));
                let opts = QueryOptions {
                    row_limit: Some(1),
                    timeout: session.effective_timeout(&self.config),
                    allow_write: false,
                    settings: Arc::new(forwarded),
                };
                let r = c.backend.query("SELECT 1", &opts).await;
                match r {
                    Ok(QueryResult::Rows(s)) => {
                        backends::collect(s)
                            .await
                            .map_err(|error| EngineError::Backend {
                                connection: c.cfg.name.clone(),
                                error,
                            })?;
                    }
                    Ok(QueryResult::Command { .. }) => {}
                    Err(error) => {
                        return Err(EngineError::Backend {
                            connection: c.cfg.name.clone(),
                            error,
                        })
                    }
                }
            }
            Effect::SearchPath(_) => {
                let names: Vec<String> = settings::search_path_elements(value);
                let found = names.iter().find_map(|n| {
                    self.conns
                        .iter()
                        .find(|c| user.may_use(&c.cfg.name) && c.cfg.name.eq_ignore_ascii_case(n))
                        .map(|c| c.cfg.name.clone())
                });
                return Ok(Effect::SearchPath(found));
            }
            _ => {}
        }
        Ok(effect)
    }

    /// Routes, permits, binds or substitutes parameters, checks with the guard and sets
    /// the limits of one plain statement: everything but running it.
    pub(crate) fn prepare_sql(
        &self,
        sql: &str,
        params: &[Option<String>],
        session: &Session,
        user: &UserConfig,
    ) -> Result<PreparedSql<'_>, EngineError> {
        let routed = self.resolve_sql(sql, session, user)?;
        if routed.connection == route::FEDERATED {
            return Err(EngineError::Route(route::RouteError::CrossDatabase(
                "several connections".into(),
            )));
        }
        let c = self.conn(&routed.connection).ok_or_else(|| {
            EngineError::Session(SessionError::UnknownConnection {
                name: routed.connection.clone(),
                known: self
                    .conns
                    .iter()
                    .map(|c| c.cfg.name.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        })?;
        if !user.may_use(&c.cfg.name) {
            return Err(EngineError::Session(SessionError::NotPermitted(format!(
                "user \"{}\" may not use connection \"{}\"",
                user.name, c.cfg.name
            ))));
        }
        let allow_write = session.allow_write && user.may_write && !c.cfg.read_only;
        let bind = !params.is_empty() && c.backend.binds_parameters();
        let sql = if params.is_empty() || bind {
            routed.sql
        } else {
            backends::params::interpolate(&routed.sql, params, c.backend.dialect())
        };
        let checked = self
            .verdicts
            .check(&sql, c.backend.dialect(), allow_write)
            .map_err(|error| EngineError::Guard {
                connection: c.cfg.name.clone(),
                error,
            })?;
        let timeout = c
            .cfg
            .effective_timeout(&self.config.limits)
            .min(session.effective_timeout(&self.config));
        Ok(PreparedSql {
            conn: c,
            sql: checked.sql,
            params: if bind { params.to_vec() } else { Vec::new() },
            opts: QueryOptions {
                row_limit: None,
                timeout,
                allow_write,
                settings: self.forwarded_settings(c, session),
            },
        })
    }

    /// The session parameters applied on `c` (PostgreSQL only).
    pub(crate) fn forwarded_settings(
        &self,
        c: &super::Conn,
        session: &Session,
    ) -> Arc<Vec<(String, String)>> {
        if c.backend.dialect() == Dialect::Postgres && !session.forwarded.is_empty() {
            Arc::new(
                session
                    .forwarded
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )
        } else {
            Arc::default()
        }
    }

    /// Runs plain SQL for the session outside a transaction block: on the connection its
    /// qualified names point at, else the target, with the values bound to its `$n`
    /// placeholders (extended protocol): bound by the database where it can
    /// (PostgreSQL), otherwise substituted as literals of its dialect before the guard
    /// checks the statement.
    pub async fn run_sql(
        &self,
        sql: &str,
        params: &[Option<String>],
        session: &Session,
        user: &UserConfig,
    ) -> Result<SqlOutcome, EngineError> {
        let p = match self.prepare_sql(sql, params, session, user) {
            Err(EngineError::Route(route::RouteError::CrossDatabase(_))) => {
                // Several connections: federated (values bound as PostgreSQL literals).
                let sql = backends::params::interpolate(sql, params, Dialect::Postgres);
                return self.run_federated(&sql, session, user).await;
            }
            r => r?,
        };
        let r = if p.params.is_empty() {
            p.conn.backend.query(&p.sql, &p.opts).await
        } else {
            p.conn
                .backend
                .query_params(&p.sql, &p.params, &p.opts)
                .await
        };
        if p.opts.allow_write {
            // It may have been DDL: the schema is checked again before its next use.
            self.schema_changed(&p.conn.cfg.name);
        }
        p.outcome(r)
    }
}

impl Engine {
    /// A plain statement outside a transaction block that the wire relays to a
    /// PostgreSQL connection (answers forwarded as the server sent them), or `None` when
    /// it takes the decoding path: another kind, a statement that changes the session,
    /// or one that fails to route or pass the guard (that path reports the error).
    ///
    /// `COPY … TO STDOUT` is relayed when the query whose rows it copies passes the
    /// guard as a read; it always runs read-only.
    pub fn relay_sql(&self, sql: &str, session: &Session, user: &UserConfig) -> Option<RelayJob> {
        let copied = super::guard::copy_out_query(sql);
        let p = match self.prepare_sql(copied.as_deref().unwrap_or(sql), &[], session, user) {
            Ok(p) => p,
            // What the guard cannot parse, PostgreSQL is asked to parse (never to run):
            // its syntax error, with the position, is the client's answer.
            Err(
                refusal @ EngineError::Guard {
                    error: super::guard::GuardError::Unparsable { .. },
                    ..
                },
            ) => {
                let routed = self.resolve_sql(sql, session, user).ok()?;
                let c = self
                    .conn(&routed.connection)
                    .filter(|c| user.may_use(&c.cfg.name))?;
                return Some(RelayJob {
                    connection: c.cfg.name.clone(),
                    pool: c.backend.relay()?.clone(),
                    sql: routed.sql,
                    opening: String::new(),
                    read_only: true,
                    timeout: session.effective_timeout(&self.config),
                    parse_only: Some(refusal),
                });
            }
            Err(_) => return None,
        };
        let pool = p.conn.backend.relay()?.clone();
        let (text, read_only) = match copied {
            None => (p.sql, !p.opts.allow_write),
            Some(_) => {
                let routed = self.resolve_sql(sql, session, user).ok()?;
                let inner = super::guard::copy_out_query(&routed.sql)?;
                let reads = self
                    .verdicts
                    .check(&inner, Dialect::Postgres, false)
                    .is_ok_and(|v| v.is_query);
                if routed.connection != p.conn.cfg.name || !reads {
                    return None;
                }
                (routed.sql, true)
            }
        };
        if !backends::postgres::relay::relayable(&text) {
            return None;
        }
        Some(RelayJob {
            connection: p.conn.cfg.name.clone(),
            opening: backends::postgres::relay::opening(
                read_only,
                p.opts.timeout,
                &p.opts.settings,
            ),
            read_only,
            timeout: p.opts.timeout,
            sql: text,
            pool,
            parse_only: None,
        })
    }
}

/// A statement the wire relays (see [`Engine::relay_sql`]).
pub struct RelayJob {
    /// The connection's name (for errors).
    pub connection: String,
    /// Its relay connections.
    pub pool: backends::postgres::relay::RelayPool,
    /// The checked statement.
    pub sql: String,
    /// What opens its transaction (`BEGIN [READ ONLY]; SET LOCAL …`).
    pub opening: String,
    /// Whether the transaction is read-only (else the connection is reset afterwards).
    pub read_only: bool,
    /// The statement timeout (also how long to wait for a free connection).
    pub timeout: std::time::Duration,
    /// The guard could not parse the statement: PostgreSQL only parses it, and its
    /// syntax error is the answer; when it parses, this refusal is.
    pub parse_only: Option<EngineError>,
}

/// A plain statement ready to run (see [`Engine::prepare_sql`]).
pub(crate) struct PreparedSql<'a> {
    /// Where it runs.
    pub(crate) conn: &'a super::Conn,
    /// The checked text.
    pub(crate) sql: String,
    /// Values the database binds (empty when they were substituted).
    pub(crate) params: Vec<Option<String>>,
    /// Limits and settings.
    pub(crate) opts: QueryOptions,
}

impl PreparedSql<'_> {
    /// The engine's outcome of running it.
    pub(crate) fn outcome(
        &self,
        r: Result<QueryResult, backends::BackendError>,
    ) -> Result<SqlOutcome, EngineError> {
        match r {
            Ok(QueryResult::Rows(mut s)) => {
                // `count(*)` is `count`, as PostgreSQL names it (issue 11).
                s.schema = super::r#virtual::names::rename(
                    &s.schema,
                    &self.sql,
                    self.conn.backend.dialect(),
                );
                Ok(SqlOutcome::Rows(s))
            }
            Ok(QueryResult::Command { tag, rows }) => Ok(SqlOutcome::Command { tag, rows }),
            Err(error) => Err(EngineError::Backend {
                connection: self.conn.cfg.name.clone(),
                error,
            }),
        }
    }
}
