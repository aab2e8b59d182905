//! The extended protocol: Parse/Bind/Describe/Execute/Sync/Close. Describe answers
//! without running anything that could change data; a result computed to describe a
//! statement is parked for its own Execute only, never served to another statement.

use super::*;

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
    pub(super) fn fields_of(outcome: &Outcome, format: &Format) -> Vec<FieldInfo> {
        match outcome {
            Outcome::Rows(schema, _) => encode::shape(schema, format).fields.as_ref().clone(),
            Outcome::Stream(s) => encode::shape(&s.schema, format).fields.as_ref().clone(),
            _ => vec![],
        }
    }

    /// Parks the result of statement text `sql` under `key` (`s:<statement>` or
    /// `p:<portal>`) for the Execute that follows.
    pub(super) fn park<C: ClientInfo>(client: &C, key: String, sql: &str, outcome: Outcome) {
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
    pub(super) fn unpark<C: ClientInfo>(client: &C, key: &str, sql: &str) -> Option<Outcome> {
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
    pub(super) fn only_reads<C: ClientInfo>(&self, client: &C, stmt: &Parsed) -> bool {
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
    pub(super) async fn describe_without_running<C>(
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

    pub(super) async fn run_portal<C>(
        &self,
        client: &mut C,
        portal: &Portal<Parsed>,
    ) -> PgWireResult<Outcome>
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
    pub(super) async fn describe_by_running<C>(
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
