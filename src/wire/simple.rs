//! The simple-query protocol: one Query message, possibly several statements (one
//! implicit transaction), each answered by the shared statement path in `mod.rs`.

use super::*;

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
