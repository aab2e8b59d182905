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
mod extended;
pub mod probes;
mod protocol;
mod relay;
mod simple;

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
