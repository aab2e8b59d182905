//! Starting the proxy: open the engine, listen, serve every connection.

use std::net::SocketAddr;
use std::sync::Arc;

use pgwire::api::auth::{AuthDriver, DefaultServerParameterProvider};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::ConnectionManager;
use pgwire::tokio::tokio_rustls::rustls;
use pgwire::tokio::tokio_rustls::TlsAcceptor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::wire::{auth::Startup, disconnect, Factory, Handler};

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The engine could not open its databases or LLM.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// Authentication setup failed.
    #[error("{0}")]
    Auth(String),
    /// The TLS certificate or key could not be loaded.
    #[error("server.tls: {0}")]
    Tls(String),
}

/// Builds the TLS acceptor from `[server.tls]` (rustls with the aws-lc-rs provider, ALPN `postgresql`).
fn tls_acceptor(config: &Config) -> Result<Option<TlsAcceptor>, ServerError> {
    let Some(tls) = &config.server.tls else {
        return Ok(None);
    };
    let cert_path = config.resolve(&tls.cert);
    let key_path = config.resolve(&tls.key);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            ServerError::Tls(format!(
                "cannot read certificate {}: {e}",
                cert_path.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(ServerError::Tls(format!(
            "no certificate in {}",
            cert_path.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| {
        ServerError::Tls(format!(
            "cannot read private key {}: {e}",
            key_path.display()
        ))
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut sc = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ServerError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| ServerError::Tls(e.to_string()))?;
    sc.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(sc))))
}

/// A connection marked `read_only` whose database role could write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableRole {
    /// The connection's name.
    pub connection: String,
    /// How the role could write (superuser, grants...).
    pub privileges: Vec<String>,
}

impl WritableRole {
    /// The warning shown by `dbguru check` and logged at startup.
    pub fn message(&self) -> String {
        format!(
            "connection \"{}\" is read_only, but its database role could write ({}); dbguru keeps \
             its statements read-only, but give it a read-only role so the database enforces it too",
            self.connection,
            self.privileges.join("; ")
        )
    }
}

/// The `read_only` connections whose database role could write (PostgreSQL: superuser,
/// table write privileges, CREATE on a schema; MySQL/MariaDB: writing grants). A
/// connection that cannot be checked is skipped (it is reported elsewhere).
pub async fn writable_read_only(engine: &Engine) -> Vec<WritableRole> {
    let mut out = Vec::new();
    for c in engine.connections().iter().filter(|c| c.cfg.read_only) {
        match c.backend.write_privileges().await {
            Ok(privileges) if !privileges.is_empty() => out.push(WritableRole {
                connection: c.cfg.name.clone(),
                privileges,
            }),
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(connection = %c.cfg.name, error = %e, "cannot check the role's privileges")
            }
        }
    }
    out
}

/// A running proxy.
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    http: Option<(SocketAddr, oneshot::Sender<()>, JoinHandle<()>)>,
    /// The engine, for in-process inspection.
    pub engine: Arc<Engine>,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound address of the HTTP API (`[http] listen`), when it is served.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.0)
    }

    /// Stops accepting connections.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
        if let Some((_, stop, task)) = self.http.take() {
            let _ = stop.send(());
            task.abort();
            let _ = task.await;
        }
    }

    /// Waits until the server stops.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Opens the engine and starts listening.
pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
    let listen = config.server.listen.clone();
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = config.server.server_version.clone();
    let tls = tls_acceptor(&config)?;
    // Cancel requests (psql Ctrl-C, JDBC Statement.cancel) find their connection here;
    // pgwire then drops the running statement's future, which cancels every backend query.
    let manager = Arc::new(ConnectionManager::new());
    let driver = AuthDriver::new(params).with_connection_manager(manager.clone());
    let startup = Arc::new(Startup::new(&config, driver).map_err(ServerError::Auth)?);
    let engine = Arc::new(Engine::new(config).await?);
    // Warn (once, in the background) about read-only connections whose role could write.
    let audit_engine = Arc::downgrade(&engine);
    tokio::spawn(async move {
        let Some(e) = audit_engine.upgrade() else {
            return;
        };
        for w in writable_read_only(&e).await {
            tracing::warn!(connection = %w.connection, "{}", w.message());
        }
    });
    // Read every schema in the background (the proxy listens at once) and keep it current.
    engine.watch_schemas();
    // Keep dbguru.connections current.
    let health_engine = Arc::downgrade(&engine);
    let interval = engine.config.limits.health_interval;
    tokio::spawn(async move {
        loop {
            let Some(e) = health_engine.upgrade() else {
                break;
            };
            e.check_health().await;
            drop(e);
            tokio::time::sleep(interval).await;
        }
    });
    let factory = Arc::new(Factory {
        handler: Arc::new(Handler::new(engine.clone())),
        startup,
        cancel: Arc::new(DefaultCancelHandler::new(manager)),
    });
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: listen.clone(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: listen,
        source,
    })?;
    let http = match engine.config.http.listen.clone() {
        Some(http_listen) => {
            let (tx, rx) = oneshot::channel::<()>();
            let (addr, task) = crate::http::serve(engine.clone(), &http_listen, rx)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: http_listen,
                    source,
                })?;
            Some((addr, tx, task))
        }
        None => None,
    };
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                accepted = listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        let _ = socket.set_nodelay(true);
                        let f = factory.clone();
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            // A client that goes away interrupts its running statement.
                            if let Err(e) = disconnect::serve(socket, tls, f).await {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
            }
        }
    });
    tracing::info!(%addr, "dbguru listening");
    Ok(RunningServer {
        addr,
        stop: Some(stop_tx),
        task,
        http,
        engine,
    })
}
