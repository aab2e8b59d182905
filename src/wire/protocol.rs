//! The extended-protocol message loop, answered the way PostgreSQL answers it.
//!
//! pgwire's default handlers flush the socket after ParseComplete, BindComplete, each
//! Describe answer and each Execute, and collect every remaining row of a portal in
//! memory before the first is sent. Here every answer is only *fed* to the socket
//! buffer and goes out on Sync or Flush (or when the buffer fills), so a
//! Bind/Describe/Execute/Sync round costs one write; and Execute streams rows straight
//! from the result to the socket, pausing after `max_rows` with PortalSuspended.
//!
//! Transaction status is the connection's block (see `block.rs`): Sync reports `T`
//! inside a block, `E` once an error aborted it (later statements get `25P02` until
//! `ROLLBACK`), `I` outside one.
//!
//! Describe never runs a statement that may write: a statement is run at Describe time
//! (and its result parked for the Execute that follows) only when it provably reads;
//! a parked result answers only an Execute of the same statement text, and results
//! parked by Describe(statement) are dropped at Sync.

use std::fmt::Debug;
use std::sync::Arc;

use futures::{Sink, SinkExt, StreamExt};
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{DescribeResponse, Response, Tag};
use pgwire::api::stmt::StoredStatement;
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState as State, DEFAULT_NAME};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::{NoData, ParameterDescription, RowDescription};
use pgwire::messages::extendedquery::{
    Bind, BindComplete, Close, CloseComplete, Describe, Execute, Parse, ParseComplete,
    PortalSuspended, Sync as PgSync, TARGET_TYPE_BYTE_PORTAL, TARGET_TYPE_BYTE_STATEMENT,
};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus,
};
use pgwire::messages::PgWireBackendMessage;

use super::errors::error;
use super::{Handler, Parsed};

async fn feed<C>(client: &mut C, m: PgWireBackendMessage) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    client.feed(m).await.map_err(PgWireError::from)
}

/// Parse: store the statement, answer ParseComplete.
pub async fn parse<C>(h: &Handler, client: &mut C, message: Parse) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    let name = message
        .name
        .clone()
        .unwrap_or_else(|| DEFAULT_NAME.to_owned());
    // A statement parsed under this name replaces the old one: nothing computed for
    // the old one may answer for it.
    Handler::forget_statement(client, &name);
    match StoredStatement::parse(client, &message, h.query_parser()).await? {
        Some(stmt) => client.portal_store().put_statement(Arc::new(stmt)),
        None => client.portal_store().put_empty_statement(&name),
    }
    feed(
        client,
        PgWireBackendMessage::ParseComplete(ParseComplete::new()),
    )
    .await
}

/// Bind: make a portal of a stored statement, answer BindComplete.
pub async fn bind<C>(client: &mut C, message: Bind) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    let statement_name = message.statement_name.as_deref().unwrap_or(DEFAULT_NAME);
    let portal_name = message.portal_name.as_deref().unwrap_or(DEFAULT_NAME);
    Handler::forget_parked(client, &format!("p:{portal_name}"), true);
    match client.portal_store().get_statement(statement_name) {
        Some(Entry::Value(statement)) => {
            let portal = Portal::try_new(&message, statement)?;
            client.portal_store().put_portal(Arc::new(portal));
        }
        Some(Entry::Empty) => {
            if !message.parameters.is_empty() {
                return Err(PgWireError::UserError(Box::new(error(
                    "08P01",
                    format!(
                        "bind message supplies {} parameters, but prepared statement \"{statement_name}\" requires 0",
                        message.parameters.len()
                    ),
                    None,
                ))));
            }
            client.portal_store().put_empty_portal(portal_name);
        }
        None => return Err(PgWireError::StatementNotFound(statement_name.to_owned())),
    }
    feed(
        client,
        PgWireBackendMessage::BindComplete(BindComplete::new()),
    )
    .await
}

async fn feed_describe<C, D>(client: &mut C, d: &D) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin,
    C::Error: Debug,
    PgWireError: From<C::Error>,
    D: DescribeResponse,
{
    if let Some(types) = d.parameters() {
        let oids = types.iter().map(|t| t.oid()).collect();
        feed(
            client,
            PgWireBackendMessage::ParameterDescription(ParameterDescription::new(oids)),
        )
        .await?;
    }
    if d.is_no_data() {
        feed(client, PgWireBackendMessage::NoData(NoData::new())).await
    } else {
        let fields = d.fields().iter().map(Into::into).collect();
        feed(
            client,
            PgWireBackendMessage::RowDescription(RowDescription::new(fields)),
        )
        .await
    }
}

/// Describe of a statement or a portal.
pub async fn describe<C>(h: &Handler, client: &mut C, message: Describe) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    use pgwire::api::results::{DescribePortalResponse, DescribeStatementResponse};
    let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    match message.target_type {
        TARGET_TYPE_BYTE_STATEMENT => match client.portal_store().get_statement(name) {
            Some(Entry::Value(stmt)) => {
                // Describe may run the statement (its result is parked for Execute).
                let cancel = super::cancel_receiver(client).await;
                let work = h.do_describe_statement(client, &stmt);
                let d = super::until_cancelled(cancel, work).await?;
                feed_describe(client, &d).await
            }
            Some(Entry::Empty) => {
                feed_describe(client, &DescribeStatementResponse::no_data()).await
            }
            None => Err(PgWireError::StatementNotFound(name.to_owned())),
        },
        TARGET_TYPE_BYTE_PORTAL => match client.portal_store().get_portal(name) {
            Some(Entry::Value(portal)) => {
                let cancel = super::cancel_receiver(client).await;
                let work = h.do_describe_portal(client, &portal);
                let d = super::until_cancelled(cancel, work).await?;
                feed_describe(client, &d).await
            }
            Some(Entry::Empty) => feed_describe(client, &DescribePortalResponse::no_data()).await,
            None => Err(PgWireError::PortalNotFound(name.to_owned())),
        },
        other => Err(PgWireError::InvalidTargetType(other)),
    }
}

/// Execute: run the portal (unless Describe already did) and stream up to `max_rows`.
pub async fn execute<C>(h: &Handler, client: &mut C, message: Execute) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    if !matches!(client.state(), State::ReadyForQuery) {
        return Err(PgWireError::NotReadyForQuery);
    }
    let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    let portal = match client.portal_store().get_portal(portal_name) {
        Some(Entry::Value(portal)) => portal,
        Some(Entry::Empty) => {
            return feed(
                client,
                PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new()),
            )
            .await
        }
        None => return Err(PgWireError::PortalNotFound(portal_name.to_owned())),
    };
    let max_rows = usize::try_from(message.max_rows).unwrap_or(0);
    let mut status = client.transaction_status();
    client.set_state(State::QueryInProgress);
    let result = run(h, client, &portal, max_rows, &mut status).await;
    client.set_state(State::ReadyForQuery);
    client.set_transaction_status(status);
    result
}

async fn run<C>(
    h: &Handler,
    client: &mut C,
    portal: &Arc<Portal<Parsed>>,
    max_rows: usize,
    status: &mut TransactionStatus,
) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    let state = portal.state();
    let started = !matches!(*state.lock().await, PortalExecutionState::Initial);
    if !started {
        let cancel = super::cancel_receiver(client).await;
        let work = h.do_query(client, portal.as_ref(), max_rows);
        let response = super::until_cancelled(cancel, work).await?;
        let tag = match response {
            Response::Query(results) => {
                portal.start(results).await;
                None
            }
            Response::EmptyQuery => {
                return feed(
                    client,
                    PgWireBackendMessage::EmptyQueryResponse(EmptyQueryResponse::new()),
                )
                .await
            }
            Response::Execution(tag) => Some(tag),
            Response::TransactionStart(tag) => {
                *status = TransactionStatus::Transaction;
                Some(tag)
            }
            Response::TransactionEnd(tag) => {
                *status = TransactionStatus::Idle;
                client.portal_store().rm_portal(DEFAULT_NAME);
                Some(tag)
            }
            Response::Error(e) => return Err(PgWireError::UserError(e)),
            Response::CopyIn(_) | Response::CopyOut(_) | Response::CopyBoth(_) => {
                return Err(PgWireError::UserError(Box::new(
                    super::errors::copy_unsupported(),
                )))
            }
        };
        if let Some(tag) = tag {
            return feed(client, PgWireBackendMessage::CommandComplete(tag.into())).await;
        }
    }
    // Stream rows straight from the result; stop after max_rows (0: all).
    let mut guard = state.lock().await;
    let PortalExecutionState::Suspended(response) = &mut *guard else {
        // Already finished: PostgreSQL answers an exhausted portal with an empty result.
        return feed(
            client,
            PgWireBackendMessage::CommandComplete(Tag::new("SELECT").with_rows(0).into()),
        )
        .await;
    };
    let command_tag = response.command_tag().to_owned();
    let rows = response.data_rows();
    let mut sent = 0usize;
    let mut exhausted = false;
    while max_rows == 0 || sent < max_rows {
        match rows.next().await {
            Some(Ok(row)) => {
                feed(client, PgWireBackendMessage::DataRow(row)).await?;
                sent += 1;
            }
            Some(Err(e)) => {
                *guard = PortalExecutionState::Finished;
                return Err(e);
            }
            None => {
                exhausted = true;
                break;
            }
        }
    }
    if exhausted {
        *guard = PortalExecutionState::Finished;
        let tag: CommandComplete = super::command_tag(&command_tag, sent as u64).into();
        feed(client, PgWireBackendMessage::CommandComplete(tag)).await
    } else {
        feed(
            client,
            PgWireBackendMessage::PortalSuspended(PortalSuspended::new()),
        )
        .await
    }
}

/// Sync: drop the unnamed portal, answer ReadyForQuery and flush everything queued.
pub async fn sync<C>(client: &mut C, _message: PgSync) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    client.portal_store().rm_portal(DEFAULT_NAME);
    // Results run at Describe(statement) answer only an Execute of the same round; a
    // statement executed later runs then (its rows are those of that moment).
    Handler::forget_parked(client, "s:", false);
    Handler::forget_parked(client, &format!("p:{DEFAULT_NAME}"), true);
    let status = Handler::tx_status(client);
    client.set_transaction_status(status);
    client
        .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
            status,
        )))
        .await?;
    Ok(())
}

/// Close of a statement or a portal.
pub async fn close<C>(client: &mut C, message: Close) -> PgWireResult<()>
where
    C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
    C::PortalStore: PortalStore<Statement = Parsed>,
    C::Error: Debug,
    PgWireError: From<C::Error>,
{
    let name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
    match message.target_type {
        TARGET_TYPE_BYTE_STATEMENT => {
            Handler::forget_statement(client, name);
            client.portal_store().rm_statement(name)
        }
        TARGET_TYPE_BYTE_PORTAL => {
            Handler::forget_parked(client, &format!("p:{name}"), true);
            client.portal_store().rm_portal(name)
        }
        _ => {}
    }
    feed(
        client,
        PgWireBackendMessage::CloseComplete(CloseComplete::new()),
    )
    .await
}
