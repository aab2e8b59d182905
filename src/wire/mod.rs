//! The PostgreSQL wire: startup/auth, simple and extended query protocol, client
//! probes, and the Arrow → DataRow encoder. It never imports a database driver.
// pgwire's ErrorInfo is the error currency of this layer; boxing it everywhere would only
// move the allocation.
#![allow(clippy::result_large_err)]

pub mod auth;
mod bi;
mod block;
pub mod catalog;
pub mod command;
pub mod disconnect;
pub mod encode;
pub mod errors;
pub mod probes;
mod protocol;
mod relay;

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use async_trait::async_trait;
use futures::sink::{Sink, SinkExt};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{
    DescribePortalResponse, DescribeResponse, DescribeStatementResponse, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireServerHandlers, Type};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::extendedquery::{Bind, Close, Describe, Execute, Parse, Sync as PgSync};
use pgwire::messages::response::NoticeResponse;
use pgwire::messages::PgWireBackendMessage;

use crate::backends::params::interpolate;
use crate::backends::types::{ColType, Value};
use crate::config::UserConfig;
use crate::engine::sessions::ChatError;
use crate::engine::{Engine, Notice, SqlOutcome};
use crate::session::Session;

use self::command::{Command, Question};
use self::errors::{engine_error, error, session_error, syntax_error, user_error};
use self::probes::ProbeContext;

/// Per-connection session, kept in pgwire's session extensions.
struct SessionSlot(Mutex<Session>);

/// A parsed statement of the extended protocol.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// Statement text.
    pub sql: String,
    /// What it is.
    pub command: Result<Command, command::SyntaxError>,
}

/// Parses Parse messages into [`Parsed`].
#[derive(Debug, Default)]
pub struct Parser;

#[async_trait]
impl QueryParser for Parser {
    type Statement = Parsed;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Parsed>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        if count_params(sql).is_some_and(|n| n > MAX_PARAMS) {
            return Err(PgWireError::UserError(Box::new(error(
                "54000",
                format!("a statement may have at most {MAX_PARAMS} parameters"),
                None,
            ))));
        }
        Ok(Some(Parsed {
            sql: sql.to_string(),
            command: command::parse(sql),
        }))
    }

    fn get_parameter_types(&self, stmt: &Parsed) -> PgWireResult<Vec<Type>> {
        Ok(match &stmt.command {
            Ok(Command::Ask {
                question: Question::Param(n),
                ..
            }) => vec![Type::TEXT; *n],
            Ok(Command::AskTable { ask, .. }) => match ask.as_ref() {
                Command::Ask {
                    question: Question::Param(n),
                    ..
                } => vec![Type::TEXT; *n],
                _ => vec![],
            },
            _ => count_params(&stmt.sql)
                .map(|n| vec![Type::TEXT; n])
                .unwrap_or_default(),
        })
    }

    fn get_result_schema(
        &self,
        _stmt: &Parsed,
        _f: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(vec![])
    }
}

/// Whether the proxy answers `sql` itself (client probes, the catalog, `dbguru.*`
/// tables): nothing reaches a database, nothing can change.
fn is_proxy_answered(sql: &str) -> bool {
    catalog::is_catalog_query(sql) || crate::engine::meta::references_meta(sql) || {
        let pc = ProbeContext {
            user: "",
            server_version: "",
            schema: "",
        };
        probes::answer(sql, &pc).is_some()
    }
}

/// Most `$n` parameters of one statement (the protocol counts them in an int16).
const MAX_PARAMS: usize = 65535;

/// Highest `$n` placeholder in `sql` (outside quotes).
fn count_params(sql: &str) -> Option<usize> {
    let mut max = 0;
    let b = sql.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'\'' || c == b'"' => quote = Some(c),
            None if c == b'$' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                if j > start {
                    max = max.max(sql[start..j].parse().unwrap_or(usize::MAX));
                }
                i = j;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    (max > 0).then_some(max)
}

/// The command tag PostgreSQL writes for `tag` with `rows` affected: `INSERT 0 n`,
/// `UPDATE n`, `DELETE n`, `SELECT n`, …; tags without a count (`CREATE TABLE`,
/// `SHOW`, `EXPLAIN`) stay bare; `DECLARE`/`CLOSE` name the cursor as PostgreSQL does.
pub(crate) fn command_tag(tag: &str, rows: u64) -> Tag {
    let rows = usize::try_from(rows).unwrap_or(usize::MAX);
    let first = tag
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    match first.as_str() {
        "INSERT" => Tag::new("INSERT").with_oid(0).with_rows(rows),
        "UPDATE" | "DELETE" | "SELECT" | "MERGE" | "MOVE" | "FETCH" | "COPY" => {
            Tag::new(&first).with_rows(rows)
        }
        "DECLARE" => Tag::new("DECLARE CURSOR"),
        "CLOSE" => Tag::new("CLOSE CURSOR"),
        _ => Tag::new(tag),
    }
}

/// The command of a row-returning statement, for its tag: `INSERT`/`UPDATE`/`DELETE`/
/// `MERGE` with `RETURNING` (also after a `WITH`), `FETCH`, `MOVE`, `SHOW`, `EXPLAIN`;
/// anything else (`SELECT`, `VALUES`, `TABLE`, `ASK`) is `SELECT`.
fn rows_command(text: &str) -> &'static str {
    const VERBS: &[&str] = &[
        "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE",
    ];
    let words = top_level_words(text);
    let mut it = words.iter().map(|w| w.to_ascii_uppercase());
    let first = it.next().unwrap_or_default();
    let main = if first == "WITH" {
        it.find(|w| VERBS.contains(&w.as_str())).unwrap_or_default()
    } else {
        first
    };
    match main.as_str() {
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "MERGE" => "MERGE",
        "FETCH" => "FETCH",
        "MOVE" => "MOVE",
        "SHOW" => "SHOW",
        "EXPLAIN" => "EXPLAIN",
        _ => "SELECT",
    }
}

/// The words of `sql` outside brackets, quotes and comments, in order (the shared
/// lexer, PostgreSQL rules).
fn top_level_words(sql: &str) -> Vec<&str> {
    use crate::sql::lexer::{tokens, Kind, Mode};
    let mut depth = 0usize;
    let mut words = Vec::new();
    for t in tokens(sql, Mode::Postgres) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Word if depth == 0 => words.push(t.text),
            _ => {}
        }
    }
    words
}

/// Sends a result of the simple protocol: RowDescription, the rows, and the
/// CommandComplete PostgreSQL writes for its command.
async fn send_rows<C>(client: &mut C, results: QueryResponse) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    use futures::StreamExt;
    let mut results = results;
    let fields: Vec<pgwire::messages::data::FieldDescription> =
        results.row_schema().iter().map(Into::into).collect();
    client
        .feed(PgWireBackendMessage::RowDescription(
            pgwire::messages::data::RowDescription::new(fields),
        ))
        .await?;
    let command = results.command_tag().to_string();
    let mut rows = 0u64;
    let data = results.data_rows();
    while let Some(row) = data.next().await {
        let row = row?;
        rows += 1;
        client.feed(PgWireBackendMessage::DataRow(row)).await?;
    }
    let tag = command_tag(&command, rows);
    client
        .feed(PgWireBackendMessage::CommandComplete(tag.into()))
        .await
        .map_err(PgWireError::from)
}

/// What one statement produced, before it becomes a pgwire `Response`.
enum Outcome {
    Rows(SchemaRef, Vec<RecordBatch>),
    Stream(crate::backends::BatchStream),
    Tag(Tag),
    TxStart(Tag),
    TxEnd(Tag),
}

/// The query handler shared by every connection.
pub struct Handler {
    engine: Arc<Engine>,
    parser: Arc<Parser>,
}

impl Handler {
    /// A handler over `engine`.
    pub fn new(engine: Arc<Engine>) -> Handler {
        Handler {
            engine,
            parser: Arc::new(Parser),
        }
    }

    fn slot<C: ClientInfo>(&self, client: &C) -> Arc<SessionSlot> {
        let user = client.metadata().get("user").cloned().unwrap_or_default();
        let app = client.metadata().get("application_name").cloned();
        client.session_extensions().get_or_insert_with(|| {
            let mut s = Session::new(&user);
            s.chat_name = app.filter(|a| !a.is_empty());
            SessionSlot(Mutex::new(s))
        })
    }

    fn snapshot(slot: &SessionSlot) -> Session {
        match slot.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn with_session<T>(slot: &SessionSlot, f: impl FnOnce(&mut Session) -> T) -> T {
        match slot.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    fn user_config(&self, name: &str) -> Result<UserConfig, ErrorInfo> {
        self.engine
            .config
            .user(name)
            .cloned()
            .ok_or_else(|| error("28000", format!("role \"{name}\" does not exist"), None))
    }

    async fn send_notices<C>(client: &mut C, notices: &[Notice])
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
    {
        for n in notices {
            let info = ErrorInfo::new(n.severity.to_string(), n.code.clone(), n.message.clone());
            let _ = client
                .feed(PgWireBackendMessage::NoticeResponse(NoticeResponse::from(
                    info,
                )))
                .await;
        }
    }

    /// Runs one statement (`text` is its text) inside or outside the connection's
    /// transaction block.
    async fn execute<C>(
        &self,
        client: &mut C,
        cmd: Command,
        params: &[Option<String>],
        text: &str,
    ) -> Result<Outcome, ErrorInfo>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    {
        let txs = Self::tx_slot(client);
        let mut tx = txs.0.lock().await;
        if let Some(e) = Self::refused_in_block(&tx, &cmd) {
            return Err(e);
        }
        let r = match cmd {
            Command::Tx(t) => {
                let session = Self::snapshot(&self.slot(client));
                let user = self.user_config(&session.user)?;
                match self
                    .block_control(&txs, &mut tx, t, text, &session, &user)
                    .await
                {
                    Ok((outcome, notices)) => {
                        Self::send_notices(client, &notices).await;
                        Ok(outcome)
                    }
                    Err(e) => Err(e),
                }
            }
            Command::Sql(sql) if tx.is_open() && !is_proxy_answered(&sql) => {
                let session = Self::snapshot(&self.slot(client));
                let user = self.user_config(&session.user)?;
                match self
                    .engine
                    .run_sql_in_block(&mut tx, &sql, params, &session, &user)
                    .await
                {
                    Ok(SqlOutcome::Rows(stream)) => Ok(Outcome::Stream(stream)),
                    Ok(SqlOutcome::Command { tag, rows }) => {
                        Ok(Outcome::Tag(command_tag(&tag, rows)))
                    }
                    Err(e) => Err(engine_error(&e)),
                }
            }
            other => self.execute_command(client, other, params).await,
        };
        if tx.is_open() {
            tx.last_used = Some(std::time::Instant::now());
            if r.is_err() {
                tx.failed = true;
            }
        }
        r
    }

    /// Runs one statement that is not transaction control nor SQL inside a block.
    async fn execute_command<C>(
        &self,
        client: &mut C,
        cmd: Command,
        params: &[Option<String>],
    ) -> Result<Outcome, ErrorInfo>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    {
        let slot = self.slot(client);
        let session = Self::snapshot(&slot);
        let user = self.user_config(&session.user)?;
        let cfg = self.engine.config.clone();
        let target = session.target_connection(&cfg, &user).unwrap_or_default();
        match cmd {
            Command::AskTable { ask, limit } => {
                let outcome = Box::pin(self.execute_command(client, *ask, params)).await?;
                Ok(match limit {
                    Some(n) => bi::limit_outcome(outcome, n),
                    None => outcome,
                })
            }
            Command::Ask {
                question,
                on,
                explain,
            } => {
                let q = match question {
                    Question::Literal(s) => s,
                    Question::Param(n) => params
                        .get(n.wrapping_sub(1))
                        .cloned()
                        .flatten()
                        .ok_or_else(|| {
                            error("08P01", format!("no value bound for parameter ${n}"), None)
                        })?,
                };
                let req = crate::engine::turn::TurnRequest {
                    question: &q,
                    on: on.as_deref(),
                    explain,
                    progress: None,
                };
                let turn = match self.engine.ask_turn(&slot.0, &user, req).await {
                    Ok(t) => t,
                    Err(e) => {
                        if let Some(w) = e.store_warning {
                            Self::send_notices(client, &[w]).await;
                        }
                        return Err(engine_error(&e.error));
                    }
                };
                let outcome = turn.outcome;
                Self::send_notices(client, &outcome.notices).await;
                if let Some(w) = turn.store_warning {
                    Self::send_notices(client, &[w]).await;
                }
                if explain {
                    let rows = outcome
                        .steps
                        .iter()
                        .map(|s| {
                            vec![
                                Value::Text(s.connection.clone()),
                                Value::Text(s.dialect.name().into()),
                                Value::Text(s.sql.clone()),
                            ]
                        })
                        .collect();
                    let (schema, batches) = probes::table(
                        &[
                            ("source_db", ColType::Text),
                            ("dialect", ColType::Text),
                            ("sql", ColType::Text),
                        ],
                        rows,
                    );
                    return Ok(Outcome::Rows(schema, batches));
                }
                match outcome.result {
                    Some((schema, batches)) => Ok(Outcome::Rows(schema, batches)),
                    None => Ok(Outcome::Tag(Tag::new("ASK"))),
                }
            }
            Command::Set { name, value } if name == "dbguru.session" => {
                let id = uuid::Uuid::parse_str(value.trim())
                    .map_err(|_| error("22023", format!("invalid value for parameter \"dbguru.session\": {value:?} is not a UUID"), None))?;
                let loaded = self
                    .engine
                    .open_chat_session(id, &user)
                    .await
                    .map_err(|e| {
                        let hint = match e {
                            ChatError::NotFound(_) => {
                                Some("SELECT id, name FROM dbguru.sessions lists yours")
                            }
                            _ => None,
                        };
                        let message = match &e {
                            ChatError::Store(_) => format!("cannot resume chat session {id}: {e}"),
                            _ => e.to_string(),
                        };
                        error(e.sqlstate(), message, hint)
                    })?;
                Self::with_session(&slot, |s| s.resume(&cfg, &user, loaded));
                Ok(Outcome::Tag(Tag::new("SET")))
            }
            Command::Set { name, value } => {
                if name.starts_with("dbguru.") {
                    let updated = Self::with_session(&slot, |s| {
                        s.set(&cfg, &user, &name, &value).map(|_| s.clone())
                    })
                    .map_err(|e| session_error(&e))?;
                    if updated.stored
                        && (name == "dbguru.connections" || name == "dbguru.session_name")
                    {
                        if let Err(e) = self
                            .engine
                            .save_chat_session(&updated.record(&cfg, &user))
                            .await
                        {
                            Self::send_notices(
                                client,
                                &[Notice {
                                    severity: "WARNING",
                                    code: "01000".into(),
                                    message: format!("the chat session was not saved: {e}"),
                                }],
                            )
                            .await;
                        }
                    }
                } else {
                    self.set_parameter(&slot, &session, &user, &name, &value)
                        .await?;
                }
                Ok(Outcome::Tag(Tag::new("SET")))
            }
            Command::Reset { name } => {
                if name == "all" {
                    Self::with_session(&slot, |s| {
                        s.params.clear();
                        for k in [
                            "dbguru.connections",
                            "dbguru.target",
                            "dbguru.max_rows",
                            "dbguru.timeout",
                            "dbguru.show_sql",
                            "dbguru.tables",
                            "dbguru.use_cache",
                            "dbguru.allow_write",
                        ] {
                            let _ = s.reset(k);
                        }
                        s.forwarded.clear();
                    });
                } else if name.starts_with("dbguru.") {
                    Self::with_session(&slot, |s| s.reset(&name)).map_err(|e| session_error(&e))?;
                } else {
                    Self::with_session(&slot, |s| {
                        s.params.remove(&name);
                        s.forwarded.remove(&name);
                        match name.as_str() {
                            "search_path" => s.reset("dbguru.target"),
                            "statement_timeout" => s.reset("dbguru.timeout"),
                            _ => Ok(()),
                        }
                    })
                    .map_err(|e| session_error(&e))?;
                }
                Ok(Outcome::Tag(Tag::new("RESET")))
            }
            Command::Show { name } => {
                let value = if name.starts_with("dbguru.") {
                    session
                        .show(&cfg, &user, &name)
                        .map_err(|e| session_error(&e))?
                } else {
                    let pc = ProbeContext {
                        user: &session.user,
                        server_version: &cfg.server.server_version,
                        schema: &target,
                    };
                    probes::show_parameter(&name, &pc, &session.params).ok_or_else(|| {
                        error(
                            "42704",
                            format!("unrecognized configuration parameter \"{name}\""),
                            None,
                        )
                    })?
                };
                let (schema, batches) = probes::single(&name, &value);
                Ok(Outcome::Rows(schema, batches))
            }
            // Handled by `execute` (transaction blocks).
            Command::Tx(_) => Err(error("XX000", "transaction control out of place", None)),
            Command::Deallocate => Ok(Outcome::Tag(Tag::new("DEALLOCATE"))),
            Command::Discard => {
                Self::with_session(&slot, |s| {
                    let user = s.user.clone();
                    *s = Session::new(&user);
                });
                Ok(Outcome::Tag(Tag::new("DISCARD ALL")))
            }
            Command::Sql(sql) => {
                let pc = ProbeContext {
                    user: &session.user,
                    server_version: &cfg.server.server_version,
                    schema: &target,
                };
                if let Some((schema, batches)) = probes::answer(&sql, &pc) {
                    return Ok(Outcome::Rows(schema, batches));
                }
                let postgres_target = cfg
                    .connections
                    .iter()
                    .any(|c| c.name == target && c.kind == crate::config::ConnectionKind::Postgres);
                if catalog::is_catalog_query(&sql)
                    && !(postgres_target && catalog::functions_only(&sql))
                {
                    let (schemas, mut keys) =
                        tokio::join!(self.engine.catalog(&user), self.engine.catalog_keys(&user));
                    let schemas: Vec<catalog::CatalogSchema> = schemas
                        .into_iter()
                        .map(|(name, schema)| catalog::CatalogSchema {
                            keys: keys.remove(&name).unwrap_or_default(),
                            name,
                            schema,
                        })
                        .collect();
                    let sql = interpolate(&sql, params, crate::backends::Dialect::Postgres);
                    let facts = bi::catalog_facts(client, &session, &pc);
                    return match catalog::answer_for(&sql, &schemas, &facts) {
                        Ok((schema, batches)) => Ok(Outcome::Rows(schema, batches)),
                        Err(msg) => Err(error("0A000", msg, None)),
                    };
                }
                if crate::engine::meta::references_meta(&sql) {
                    // An admin's INSERT or DELETE on dbguru.glossary / dbguru.examples.
                    let bound = interpolate(&sql, params, crate::backends::Dialect::Postgres);
                    match self.engine.knowledge_write(&bound, &user).await {
                        Ok(Some((tag, rows))) => return Ok(Outcome::Tag(command_tag(tag, rows))),
                        Ok(None) => {}
                        Err(e) => return Err(engine_error(&e)),
                    }
                    let max_rows = session.effective_max_rows(&cfg);
                    return match self.engine.query_meta(&sql, &user, max_rows).await {
                        Ok((schema, batches)) => Ok(Outcome::Rows(schema, batches)),
                        Err(e) => Err(engine_error(&e)),
                    };
                }
                match self.engine.run_sql(&sql, params, &session, &user).await {
                    Ok(SqlOutcome::Rows(stream)) => Ok(Outcome::Stream(stream)),
                    Ok(SqlOutcome::Command { tag, rows }) => {
                        Ok(Outcome::Tag(command_tag(&tag, rows)))
                    }
                    Err(e) => Err(engine_error(&e)),
                }
            }
        }
    }

    /// `SET name = value` of a PostgreSQL parameter: honoured (kept, forwarded to a
    /// PostgreSQL target, or mapped onto dbguru's own settings) or refused.
    async fn set_parameter(
        &self,
        slot: &SessionSlot,
        session: &Session,
        user: &UserConfig,
        name: &str,
        value: &str,
    ) -> Result<(), ErrorInfo> {
        use crate::engine::settings::{value_literal, Effect};
        let cfg = self.engine.config.clone();
        let effect = self
            .engine
            .set_parameter(name, value, session, user)
            .await
            .map_err(|e| engine_error(&e))?;
        Self::with_session(slot, |s| {
            match effect {
                Effect::SearchPath(found) => {
                    if let Some(t) = found {
                        s.target = Some(t);
                    }
                }
                Effect::Timeout => {
                    let v = value.trim().trim_matches('\'');
                    if v == "0" {
                        s.reset("dbguru.timeout")?;
                    } else {
                        let v = if v.bytes().all(|b| b.is_ascii_digit()) {
                            format!("{v}ms")
                        } else {
                            v.replace(' ', "")
                        };
                        s.set(&cfg, user, "dbguru.timeout", &v)?;
                    }
                }
                Effect::Forwarded => {
                    s.forwarded.insert(name.to_string(), value_literal(value));
                }
                Effect::Session => {}
            }
            s.params.insert(name.to_string(), value.to_string());
            Ok(())
        })
        .map_err(|e| session_error(&e))
    }

    /// The pgwire response of `outcome`; rows are tagged by the command of `text`
    /// (`SELECT`, `INSERT … RETURNING`, `FETCH`, `SHOW`, `EXPLAIN`).
    fn respond(outcome: Outcome, format: &Format, text: &str) -> Response {
        match outcome {
            Outcome::Rows(schema, batches) => {
                let shape = encode::shape(&schema, format);
                let mut q =
                    QueryResponse::new(shape.fields.clone(), encode::rows_of(shape, batches));
                q.set_command_tag(rows_command(text));
                Response::Query(q)
            }
            Outcome::Stream(stream) => {
                let shape = encode::shape(&stream.schema, format);
                let mut q = QueryResponse::new(
                    shape.fields.clone(),
                    encode::rows_of_stream(shape, stream, errors::stream_error),
                );
                q.set_command_tag(rows_command(text));
                Response::Query(q)
            }
            Outcome::Tag(t) => Response::Execution(t),
            Outcome::TxStart(t) => Response::TransactionStart(t),
            Outcome::TxEnd(t) => Response::TransactionEnd(t),
        }
    }
}

#[async_trait]
impl SimpleQueryHandler for Handler {
    /// The simple-query loop, with one difference from pgwire's default: a failed
    /// statement does not put an open transaction block into the aborted state. dbguru
    /// forwards no transaction to the databases (each passthrough statement commits on
    /// its own), so there is nothing to abort, and clients that recover with
    /// `ROLLBACK TO SAVEPOINT` (psycopg 3, psqlODBC, Django, SQLAlchemy) keep working.
    async fn on_query<C>(
        &self,
        client: &mut C,
        query: pgwire::messages::simplequery::Query,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        use pgwire::api::PgWireConnectionState as State;
        use pgwire::messages::response::{EmptyQueryResponse, ReadyForQuery};
        if !matches!(client.state(), State::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let mut failed = false;
        client.set_state(State::QueryInProgress);
        let cancel = cancel_receiver(client).await;
        let work = SimpleQueryHandler::do_query(self, client, &query.query);
        let responses = until_cancelled(cancel, work).await;
        // A cancelled query leaves its implicit block to be rolled back.
        if responses.is_err() {
            let txs = Self::tx_slot(client);
            let mut tx = txs.0.lock().await;
            if tx.kind == crate::session::tx::BlockKind::Implicit {
                let _ = self.engine.end_block(&mut tx, false).await;
            }
        }
        let responses = match responses {
            Ok(r) => r,
            Err(e) => {
                client.set_state(State::ReadyForQuery);
                return Err(e);
            }
        };
        let sent: PgWireResult<()> = async {
            for r in responses {
                match r {
                    Response::EmptyQuery => {
                        client
                            .feed(PgWireBackendMessage::EmptyQueryResponse(
                                EmptyQueryResponse::new(),
                            ))
                            .await?
                    }
                    Response::Query(results) => send_rows(client, results).await?,
                    Response::Execution(tag) => {
                        pgwire::api::query::send_execution_response(client, tag).await?
                    }
                    Response::TransactionStart(tag) | Response::TransactionEnd(tag) => {
                        pgwire::api::query::send_execution_response(client, tag).await?;
                    }
                    Response::Error(e) => {
                        failed = true;
                        client
                            .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                            .await?
                    }
                    Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {
                        failed = true;
                        let e = errors::copy_unsupported();
                        client
                            .feed(PgWireBackendMessage::ErrorResponse(e.into()))
                            .await?;
                    }
                }
            }
            Ok(())
        }
        .await;
        failed |= sent.is_err();
        // The implicit block of a multi-statement query ends after its rows were sent.
        {
            let txs = Self::tx_slot(client);
            let mut tx = txs.0.lock().await;
            if tx.kind == crate::session::tx::BlockKind::Implicit {
                if let Err(e) = self.engine.end_block(&mut tx, !failed).await {
                    client
                        .feed(PgWireBackendMessage::ErrorResponse(engine_error(&e).into()))
                        .await?;
                }
            }
        }
        if let Err(e) = sent {
            client.set_state(State::ReadyForQuery);
            return Err(e);
        }
        client.set_state(State::ReadyForQuery);
        let status = Self::tx_status(client);
        client.set_transaction_status(status);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let statements = match command::split_statements(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(syntax_error(&e)))]),
        };
        let mut out = Vec::with_capacity(statements.len());
        let commands: Vec<Result<Command, command::SyntaxError>> =
            statements.iter().map(|s| command::parse(s)).collect();
        // One plain statement for a PostgreSQL connection: relayed (see `relay`).
        if let [Ok(Command::Sql(sql))] = commands.as_slice() {
            if !is_proxy_answered(sql) {
                if let Some(r) = self.relay(client, sql).await {
                    return r.map(|_| Vec::new());
                }
            }
        }
        // Several statements in one query form one implicit transaction (unless they
        // control transactions themselves), as in PostgreSQL.
        // (It ends in `on_query`, after the rows were sent: they hold its connection.)
        if commands.len() > 1
            && !commands
                .iter()
                .any(|c| matches!(c, Ok(Command::Tx(_)) | Err(_)))
        {
            let txs = Self::tx_slot(client);
            let mut tx = txs.0.lock().await;
            if !tx.is_open() {
                tx.open(crate::session::tx::BlockKind::Implicit, false);
            }
        }
        for (s, cmd) in statements.iter().zip(commands) {
            let cmd = match cmd {
                Ok(c) => c,
                Err(e) => {
                    out.push(Response::Error(Box::new(syntax_error(&e))));
                    break;
                }
            };
            match self.execute(client, cmd, &[], s).await {
                Ok(o) => out.push(Self::respond(o, &Format::UnifiedText, s)),
                Err(e) => {
                    out.push(Response::Error(Box::new(e)));
                    break;
                }
            }
        }
        if out.is_empty() {
            out.push(Response::EmptyQuery);
        }
        Ok(out)
    }
}

/// Fires when a CancelRequest for this connection arrives while a query runs, or when
/// the connection's client goes away (see [`disconnect`]).
async fn cancel_receiver<C: ClientInfo>(client: &C) -> disconnect::Interrupt {
    disconnect::Interrupt::start(client).await
}

/// Runs `work` unless the CancelRequest or disconnect behind `cancel` comes first: then
/// `work` is dropped (which cancels the LLM call and every backend query) and the answer
/// is 57014. Row streams of the answer stop the same way while they are sent.
async fn until_cancelled<T: disconnect::Interruptible>(
    cancel: disconnect::Interrupt,
    work: impl std::future::Future<Output = PgWireResult<T>>,
) -> PgWireResult<T> {
    cancel.run(work).await
}

/// Parameter types the proxy described per statement (when the client sent none), so
/// Bind decodes with exactly the described types.
#[derive(Default)]
struct DescribedParams(Mutex<std::collections::HashMap<String, Vec<Type>>>);

/// Decodes the bound parameters of a portal as text.
fn portal_params(portal: &Portal<Parsed>, described: &[Type]) -> PgWireResult<Vec<Option<String>>> {
    let types = &portal.statement.parameter_types;
    (0..portal.parameter_len())
        .map(|i| {
            let t = types
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| *t != Type::UNKNOWN)
                .or_else(|| described.get(i).cloned())
                .unwrap_or(Type::UNKNOWN);
            Ok(match t {
                Type::INT2 => portal.parameter::<i16>(i, &t)?.map(|v| v.to_string()),
                Type::INT4 => portal.parameter::<i32>(i, &t)?.map(|v| v.to_string()),
                Type::INT8 => portal.parameter::<i64>(i, &t)?.map(|v| v.to_string()),
                Type::FLOAT4 => portal.parameter::<f32>(i, &t)?.map(|v| v.to_string()),
                Type::FLOAT8 => portal.parameter::<f64>(i, &t)?.map(|v| v.to_string()),
                Type::BOOL => portal.parameter::<bool>(i, &t)?.map(|v| v.to_string()),
                _ => portal.parameter::<String>(i, &Type::TEXT)?,
            })
        })
        .collect()
}

/// Most results parked per connection (see [`Handler::park`]).
const MAX_PARKED: usize = 8;

/// One result computed at Describe time.
struct ParkedResult {
    /// `s:<statement name>` or `p:<portal name>`.
    key: String,
    /// The statement text that produced it (a different statement under the same name
    /// never gets it).
    sql: String,
    outcome: Outcome,
}

/// Results computed at Describe time, parked for Execute.
#[derive(Default)]
struct Parked(Mutex<Vec<ParkedResult>>);

#[async_trait]
impl ExtendedQueryHandler for Handler {
    type Statement = Parsed;
    type QueryParser = Parser;

    fn query_parser(&self) -> Arc<Parser> {
        self.parser.clone()
    }

    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::parse(self, client, message).await
    }

    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::bind(client, message).await
    }

    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::describe(self, client, message).await
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::execute(self, client, message).await
    }

    async fn on_sync<C>(&self, client: &mut C, message: PgSync) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::sync(client, message).await
    }

    async fn on_close<C>(&self, client: &mut C, message: Close) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        protocol::close(client, message).await
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Parsed>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let sql = &portal.statement.statement.sql;
        let taken = Self::unpark(client, &format!("p:{}", portal.name), sql)
            .or_else(|| Self::unpark(client, &format!("s:{}", portal.statement.id), sql));
        let outcome = match taken {
            Some(o) => o,
            None => self.run_portal(client, portal).await?,
        };
        Ok(Self::respond(outcome, &portal.result_column_format, sql))
    }

    async fn do_describe_statement<C>(
        &self,
        client: &mut C,
        stmt: &StoredStatement<Parsed>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut server_types = self.parser.get_parameter_types(&stmt.statement)?;
        // Passthrough SQL on a database that describes statements (PostgreSQL prepares
        // it): parameter types and columns without running anything, as PostgreSQL's own
        // Describe does (asyncpg encodes parameters by the described types).
        let mut described_fields = None;
        if let Ok(Command::Sql(sql)) = &stmt.statement.command {
            if !is_proxy_answered(sql) {
                let session = Self::snapshot(&self.slot(client));
                let user = self.user_config(&session.user).map_err(user_error)?;
                let routed = self
                    .engine
                    .resolve_sql(sql, &session, &user)
                    .map_err(|e| user_error(engine_error(&e)))?;
                if self.engine.describes(&routed.connection) {
                    let described = self
                        .engine
                        .describe_sql(&routed, &user)
                        .await
                        .map_err(|e| user_error(engine_error(&e)))?;
                    if let Some(d) = described {
                        if !server_types.is_empty() {
                            server_types = d
                                .params
                                .iter()
                                .map(|t| {
                                    encode::wire_type(crate::pgtypes::PgType::of_field(
                                        &t.field("p"),
                                    ))
                                })
                                .collect();
                        }
                        described_fields = Some(
                            encode::shape(&d.schema, &Format::UnifiedText)
                                .fields
                                .as_ref()
                                .clone(),
                        );
                    }
                }
            }
        }
        let n = server_types.len().max(stmt.parameter_types.len());
        let param_types: Vec<Type> = (0..n)
            .map(|i| {
                stmt.parameter_types
                    .get(i)
                    .cloned()
                    .flatten()
                    .filter(|t| *t != Type::UNKNOWN)
                    .or_else(|| server_types.get(i).cloned())
                    .unwrap_or(Type::TEXT)
            })
            .collect();
        if let Ok(mut m) = client
            .session_extensions()
            .get_or_insert_with(DescribedParams::default)
            .0
            .lock()
        {
            m.insert(stmt.id.clone(), param_types.clone());
        }
        let mut fields = described_fields.clone().unwrap_or_default();
        if described_fields.is_none() {
            if n == 0 {
                // A statement that provably only reads (an ASK, SHOW, a catalog query, a
                // guarded read) runs now; its result is parked for an Execute of this
                // statement in the same round (dropped at Sync), so it runs once and
                // Describe reports the real columns. Anything that may write is not run.
                if let Some(outcome) = self.describe_by_running(client, &stmt.statement).await? {
                    fields = Self::fields_of(&outcome, &Format::UnifiedText);
                    Self::park(
                        client,
                        format!("s:{}", stmt.id),
                        &stmt.statement.sql,
                        outcome,
                    );
                }
            } else if let Some(pgwire::api::store::Entry::Value(portal)) =
                client.portal_store().get_portal(pgwire::api::DEFAULT_NAME)
            {
                // Some clients (tokio-postgres `query_typed`) Bind before they Describe
                // the statement: the parameters are known, so a read runs now and is
                // parked for the Execute of that portal.
                if portal.statement.id == stmt.id
                    && portal.statement.statement.sql == stmt.statement.sql
                    && self.only_reads(client, &stmt.statement)
                {
                    let outcome = self.run_portal(client, &portal).await?;
                    fields = Self::fields_of(&outcome, &portal.result_column_format);
                    Self::park(
                        client,
                        format!("p:{}", portal.name),
                        &portal.statement.statement.sql,
                        outcome,
                    );
                }
            }
            // A read on a database that cannot describe a statement (SQLite, DuckDB,
            // MySQL) and whose parameters are not bound yet (tokio-postgres `prepare`):
            // its columns are learned by running it with NULL parameters (it only
            // reads); nothing is parked, since the real values come later.
            let in_block = Self::tx_slot(client)
                .0
                .try_lock()
                .map_or(true, |t| t.is_open());
            if fields.is_empty() && n > 0 && !in_block && self.only_reads(client, &stmt.statement) {
                if let Ok(Command::Sql(sql)) = &stmt.statement.command {
                    if !is_proxy_answered(sql) {
                        let nulls = vec![None; n];
                        let cmd = Command::Sql(sql.clone());
                        if let Ok(outcome) =
                            self.execute(client, cmd, &nulls, &stmt.statement.sql).await
                        {
                            fields = Self::fields_of(&outcome, &Format::UnifiedText);
                        }
                    }
                }
            }
        }
        Ok(DescribeStatementResponse::new(param_types, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Parsed>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Parsed>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let sql = &portal.statement.statement.sql;
        if !self.only_reads(client, &portal.statement.statement) {
            // May write: never run at Describe. PostgreSQL describes it by preparing it;
            // for the other kinds a write has no result columns.
            return self.describe_without_running(client, portal).await;
        }
        // A read runs now (or takes the statement's result parked in this round) and is
        // parked for the Execute of this portal.
        let outcome = match Self::unpark(client, &format!("s:{}", portal.statement.id), sql) {
            Some(o) => o,
            None => self.run_portal(client, portal).await?,
        };
        let fields = Self::fields_of(&outcome, &portal.result_column_format);
        Self::park(client, format!("p:{}", portal.name), sql, outcome);
        if fields.is_empty() {
            Ok(DescribePortalResponse::no_data())
        } else {
            Ok(DescribePortalResponse::new(fields))
        }
    }
}

impl Handler {
    fn fields_of(outcome: &Outcome, format: &Format) -> Vec<FieldInfo> {
        match outcome {
            Outcome::Rows(schema, _) => encode::shape(schema, format).fields.as_ref().clone(),
            Outcome::Stream(s) => encode::shape(&s.schema, format).fields.as_ref().clone(),
            _ => vec![],
        }
    }

    /// Parks the result of statement text `sql` under `key` (`s:<statement>` or
    /// `p:<portal>`) for the Execute that follows.
    fn park<C: ClientInfo>(client: &C, key: String, sql: &str, outcome: Outcome) {
        let parked = client
            .session_extensions()
            .get_or_insert_with(Parked::default);
        if let Ok(mut v) = parked.0.lock() {
            v.retain(|p| p.key != key);
            v.push(ParkedResult {
                key,
                sql: sql.to_string(),
                outcome,
            });
            // A client that describes statements it never executes must not pin live
            // results (and their database connections) forever: keep the newest few.
            while v.len() > MAX_PARKED {
                v.remove(0);
            }
        };
    }

    /// Takes the result parked under `key`, only if it was produced by the same text.
    fn unpark<C: ClientInfo>(client: &C, key: &str, sql: &str) -> Option<Outcome> {
        let parked = client
            .session_extensions()
            .get_or_insert_with(Parked::default);
        let mut v = parked.0.lock().ok()?;
        let i = v.iter().position(|p| p.key == key)?;
        let p = v.remove(i);
        (p.sql == sql).then_some(p.outcome)
    }

    /// Drops parked results whose key starts with `prefix` (a statement or portal that
    /// was replaced or closed; `s:` at Sync).
    pub(crate) fn forget_parked<C: ClientInfo>(client: &C, prefix: &str, exact: bool) {
        if let Some(parked) = client.session_extensions().get::<Parked>() {
            if let Ok(mut v) = parked.0.lock() {
                v.retain(|p| {
                    if exact {
                        p.key != prefix
                    } else {
                        !p.key.starts_with(prefix)
                    }
                });
            }
        }
    }

    /// Forgets the parameter types described for statement `name` (closed or replaced).
    pub(crate) fn forget_statement<C: ClientInfo>(client: &C, name: &str) {
        Self::forget_parked(client, &format!("s:{name}"), true);
        if let Some(d) = client.session_extensions().get::<DescribedParams>() {
            if let Ok(mut m) = d.0.lock() {
                m.remove(name);
            }
        }
    }

    /// Whether `stmt` provably only reads, so it may run at Describe time: SHOW, an
    /// ASK while writes are off, what the proxy answers itself (probes, catalog,
    /// `dbguru.*`), and passthrough SQL the guard accepts as a read-only query.
    fn only_reads<C: ClientInfo>(&self, client: &C, stmt: &Parsed) -> bool {
        let session = Self::snapshot(&self.slot(client));
        match &stmt.command {
            Ok(Command::Show { .. }) => true,
            Ok(Command::Ask { .. } | Command::AskTable { .. }) => !session.allow_write,
            Ok(Command::Sql(sql)) if is_proxy_answered(sql) => {
                !crate::engine::knowledge::write::is_write(sql)
            }
            Ok(Command::Sql(sql)) => self.user_config(&session.user).is_ok_and(|user| {
                self.engine
                    .resolve_sql(sql, &session, &user)
                    .is_ok_and(|r| self.engine.reads_only(&r))
            }),
            _ => false,
        }
    }

    /// Describe of a portal that may write: the database describes it where it can
    /// (PostgreSQL prepares it), otherwise it has no result columns.
    async fn describe_without_running<C>(
        &self,
        client: &mut C,
        portal: &Portal<Parsed>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    {
        let Ok(Command::Sql(sql)) = &portal.statement.statement.command else {
            return Ok(DescribePortalResponse::no_data());
        };
        let session = Self::snapshot(&self.slot(client));
        let user = self.user_config(&session.user).map_err(user_error)?;
        let routed = self
            .engine
            .resolve_sql(sql, &session, &user)
            .map_err(|e| user_error(engine_error(&e)))?;
        if !self.engine.describes(&routed.connection) {
            return Ok(DescribePortalResponse::no_data());
        }
        let described = self
            .engine
            .describe_sql(&routed, &user)
            .await
            .map_err(|e| user_error(engine_error(&e)))?;
        match described {
            Some(d) if !d.schema.fields().is_empty() => Ok(DescribePortalResponse::new(
                encode::shape(&d.schema, &portal.result_column_format)
                    .fields
                    .as_ref()
                    .clone(),
            )),
            _ => Ok(DescribePortalResponse::no_data()),
        }
    }

    async fn run_portal<C>(&self, client: &mut C, portal: &Portal<Parsed>) -> PgWireResult<Outcome>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    {
        let cmd = portal
            .statement
            .statement
            .command
            .clone()
            .map_err(|e| user_error(syntax_error(&e)))?;
        let described = client
            .session_extensions()
            .get_or_insert_with(DescribedParams::default)
            .0
            .lock()
            .ok()
            .and_then(|m| m.get(&portal.statement.id).cloned())
            .unwrap_or_default();
        let params = portal_params(portal, &described)?;
        let text = portal.statement.statement.sql.clone();
        self.execute(client, cmd, &params, &text)
            .await
            .map_err(user_error)
    }

    /// Runs a parameterless, read-only statement at Describe time (ASK, SHOW, probes,
    /// SELECT passthrough); its result is parked for the Execute that follows.
    async fn describe_by_running<C>(
        &self,
        client: &mut C,
        stmt: &Parsed,
    ) -> PgWireResult<Option<Outcome>>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    {
        let cmd = stmt
            .command
            .clone()
            .map_err(|e| user_error(syntax_error(&e)))?;
        if !self.only_reads(client, stmt) {
            return Ok(None);
        }
        let inner = match &cmd {
            Command::AskTable { ask, .. } => ask.as_ref(),
            other => other,
        };
        if let Command::Ask {
            question: Question::Param(_),
            ..
        } = inner
        {
            return Ok(None);
        }
        self.execute(client, cmd, &[], &stmt.sql)
            .await
            .map(Some)
            .map_err(user_error)
    }
}

/// Hands pgwire its handlers.
pub struct Factory {
    /// Query handler.
    pub handler: Arc<Handler>,
    /// Startup handler.
    pub startup: Arc<auth::Startup>,
    /// Cancel-request handler.
    pub cancel: Arc<pgwire::api::cancel::DefaultCancelHandler>,
}

impl PgWireServerHandlers for Factory {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.handler.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.handler.clone()
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
}
