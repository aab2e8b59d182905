//! The PostgreSQL relay lease: a pool of raw protocol connections whose answers reach
//! the client as the server sent them (every type with its own OID and text, command
//! tags, every error and notice field, `COPY … TO STDOUT`), instead of being decoded
//! into Arrow and encoded again.
//!
//! This is the one place where a backend speaks in wire messages (see DESIGN.md): the
//! connection is pgwire's protocol client, the pool deadpool's. What runs on it and
//! which messages go on to the client is decided by `wire::relay`.
//!
//! A connection goes back to the pool only when its last statement completed and the
//! server reported it idle (`ReadyForQuery` with status `I`); one dropped in the middle
//! of a statement (the client cancelled or went away) is cancelled on the server and
//! closed, never reused.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use futures::{SinkExt, StreamExt};
use pgwire::api::client::auth::DefaultStartupHandler;
use pgwire::api::client::ClientInfo;
use pgwire::api::client::Config as WireConfig;
use pgwire::messages::response::TransactionStatus;
use pgwire::messages::simplequery::Query;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::client::PgWireClient;
use pgwire::tokio::TlsConnector;

use super::tls::{SslMode, TlsOptions};
use super::CANCEL_GRACE;
use crate::backends::worker::scrub;
use crate::backends::BackendError;

/// How one relay connection reaches its server.
struct RelayManager {
    config: Arc<WireConfig>,
    tls: Option<TlsConnector>,
    connect_timeout: Duration,
    secrets: Arc<Vec<String>>,
}

impl managed::Manager for RelayManager {
    type Type = PgWireClient;
    type Error = BackendError;

    async fn create(&self) -> Result<PgWireClient, BackendError> {
        let connect = PgWireClient::connect(
            self.config.clone(),
            DefaultStartupHandler::new(),
            self.tls.clone(),
        );
        match tokio::time::timeout(self.connect_timeout, connect).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(BackendError::Connect(scrub(&e.to_string(), &self.secrets))),
            Err(_) => Err(BackendError::Connect(format!(
                "no answer from the server within {:?}",
                self.connect_timeout
            ))),
        }
    }

    async fn recycle(&self, c: &mut PgWireClient, _: &Metrics) -> RecycleResult<BackendError> {
        if c.transaction_status() == TransactionStatus::Idle {
            Ok(())
        } else {
            Err(RecycleError::message(
                "connection left inside a transaction",
            ))
        }
    }
}

/// The relay connections of one PostgreSQL connection (at most its `pool_size`).
#[derive(Clone)]
pub struct RelayPool {
    pool: managed::Pool<RelayManager>,
    secrets: Arc<Vec<String>>,
}

impl std::fmt::Debug for RelayPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayPool").finish_non_exhaustive()
    }
}

impl RelayPool {
    /// A pool for the server `pg` describes, with the TLS of `tls_options`. No I/O.
    pub(super) fn new(
        pg: &tokio_postgres::Config,
        tls_options: &TlsOptions,
        max_size: usize,
        secrets: Arc<Vec<String>>,
    ) -> Result<RelayPool, String> {
        // pgwire's client exports no `SslMode`: the mode is set by parsing it.
        let unix = pg
            .get_hosts()
            .iter()
            .any(|h| matches!(h, tokio_postgres::config::Host::Unix(_)));
        let mode = match tls_options.mode {
            _ if unix => "disable",
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        };
        let mut config: WireConfig = format!("sslmode={mode}")
            .parse()
            .map_err(|e: pgwire::error::PgWireClientError| e.to_string())?;
        if let Some(u) = pg.get_user() {
            config.user(u);
        }
        if let Some(p) = pg.get_password() {
            config.password(p);
        }
        if let Some(d) = pg.get_dbname() {
            config.dbname(d);
        }
        if let Some(a) = pg.get_application_name() {
            config.application_name(a);
        }
        for h in pg.get_hosts() {
            match h {
                tokio_postgres::config::Host::Tcp(name) => {
                    config.host(name.as_str());
                }
                tokio_postgres::config::Host::Unix(path) => {
                    config.host_path(path);
                }
            }
        }
        for a in pg.get_hostaddrs() {
            config.hostaddr(*a);
        }
        for p in pg.get_ports() {
            config.port(*p);
        }
        if pg.get_hosts().is_empty() && pg.get_hostaddrs().is_empty() {
            config.host("localhost");
        }
        let tls = if mode == "disable" {
            None
        } else {
            let client = super::tls::client_config(tls_options)?;
            Some(TlsConnector::from(Arc::new(client)))
        };
        let manager = RelayManager {
            config: Arc::new(config),
            tls,
            connect_timeout: pg
                .get_connect_timeout()
                .copied()
                .unwrap_or(Duration::from_secs(10)),
            secrets: secrets.clone(),
        };
        let pool = managed::Pool::builder(manager)
            .max_size(max_size.max(1))
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot build the relay pool: {e}"))?;
        Ok(RelayPool { pool, secrets })
    }

    /// A connection of the pool, waiting at most `wait` for one to be free.
    pub async fn get(&self, wait: Duration) -> Result<RelayConn, BackendError> {
        let timeouts = managed::Timeouts {
            wait: Some(wait),
            create: Some(wait),
            recycle: Some(wait),
        };
        match self.pool.timeout_get(&timeouts).await {
            Ok(obj) => Ok(RelayConn {
                obj: Some(obj),
                busy: false,
            }),
            Err(managed::PoolError::Backend(e)) => Err(e),
            Err(managed::PoolError::Timeout(_)) => Err(BackendError::Connect(format!(
                "no PostgreSQL connection became free within {wait:?}"
            ))),
            Err(e) => Err(BackendError::Connect(scrub(&e.to_string(), &self.secrets))),
        }
    }
}

/// One relay connection, leased for one statement (or a transaction).
///
/// Dropped while a statement is under way, it cancels the statement on the server and
/// closes the connection in the background.
pub struct RelayConn {
    obj: Option<Object<RelayManager>>,
    /// Sent queries whose `ReadyForQuery` has not arrived yet.
    busy: bool,
}

impl RelayConn {
    fn client(&mut self) -> Result<&mut PgWireClient, BackendError> {
        self.obj
            .as_deref_mut()
            .ok_or_else(|| BackendError::Connect("the relay connection is closed".into()))
    }

    /// Sends simple-protocol queries, all in one write (pipelined: the server answers
    /// each with its messages and a `ReadyForQuery`).
    pub async fn send_queries(&mut self, queries: &[&str]) -> Result<(), BackendError> {
        self.busy = true;
        let c = self.client()?;
        for q in queries {
            c.feed(PgWireFrontendMessage::Query(Query::new((*q).to_string())))
                .await
                .map_err(|e| BackendError::Connect(e.to_string()))?;
        }
        c.flush()
            .await
            .map_err(|e| BackendError::Connect(e.to_string()))
    }

    /// Asks the server to parse `sql` as the unnamed statement, without running it
    /// (Parse, Sync): its answer is ParseComplete or the syntax error, then ReadyForQuery.
    pub async fn send_parse(&mut self, sql: &str) -> Result<(), BackendError> {
        use pgwire::messages::extendedquery::{Parse, Sync};
        self.busy = true;
        let c = self.client()?;
        c.feed(PgWireFrontendMessage::Parse(Parse::new(
            None,
            sql.to_string(),
            Vec::new(),
        )))
        .await
        .map_err(|e| BackendError::Connect(e.to_string()))?;
        c.feed(PgWireFrontendMessage::Sync(Sync::new()))
            .await
            .map_err(|e| BackendError::Connect(e.to_string()))?;
        c.flush()
            .await
            .map_err(|e| BackendError::Connect(e.to_string()))
    }

    /// The server's next message; `None` when the connection closed.
    pub async fn next(&mut self) -> Option<Result<PgWireBackendMessage, BackendError>> {
        let c = self.client().ok()?;
        let m = c.next().await?;
        Some(match m {
            Ok(PgWireBackendMessage::ReadyForQuery(r)) => {
                c.set_transaction_status(r.status);
                Ok(PgWireBackendMessage::ReadyForQuery(r))
            }
            Ok(m) => Ok(m),
            Err(e) => Err(BackendError::Connect(e.to_string())),
        })
    }

    /// Marks every sent query as answered: the connection may go back to the pool.
    pub fn settled(&mut self) {
        self.busy = false;
    }

    /// Closes the connection instead of pooling it (its state is unknown).
    pub fn discard(&mut self) {
        if let Some(obj) = self.obj.take() {
            drop(Object::take(obj));
        }
    }
}

impl Drop for RelayConn {
    fn drop(&mut self) {
        if !self.busy {
            return;
        }
        let Some(obj) = self.obj.take() else {
            return;
        };
        let client = Object::take(obj);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                tracing::debug!("cancelling an interrupted relayed PostgreSQL statement");
                match tokio::time::timeout(CANCEL_GRACE, client.cancel()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "PostgreSQL cancel request failed"),
                    Err(_) => tracing::warn!("PostgreSQL cancel request timed out"),
                }
                drop(client);
            });
        }
    }
}

/// The query that opens a relayed statement's transaction: `BEGIN [READ ONLY]`, then
/// `SET LOCAL` of the statement timeout and the session's parameters (values already
/// literals). A read-only transaction cannot be made writable after its first query,
/// whatever the statement calls (`set_config`, `query_to_xml`).
pub fn opening(read_only: bool, timeout: Duration, settings: &[(String, String)]) -> String {
    format!(
        "BEGIN{}; {}",
        if read_only { " READ ONLY" } else { "" },
        super::job::set_locals(timeout, settings)
    )
}

/// Whether `sql` may be relayed inside such a transaction: it neither controls
/// transactions nor changes the session (`SET`, `LISTEN`, `PREPARE`, `DO`, …), which
/// keep the decoding path.
pub fn relayable(sql: &str) -> bool {
    !super::job::touches_session(sql)
}

/// What resets a connection after a statement that could write (settings, temp
/// tables, advisory locks, cursors), before anyone else gets it.
pub const RESET: &str = super::job::RESET_SESSION;
