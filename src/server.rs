//! Starting the proxy: open the engine, listen, serve every connection.

use std::net::SocketAddr;
use std::sync::Arc;

use pgwire::api::auth::{AuthDriver, DefaultServerParameterProvider};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::ConnectionManager;
use pgwire::tokio::process_socket;
use pgwire::tokio::tokio_rustls::rustls;
use pgwire::tokio::tokio_rustls::TlsAcceptor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::{Engine, EngineError};
use crate::wire::{auth::Startup, Factory, Handler};

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

/// A running proxy.
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    /// The engine, for in-process inspection.
    pub engine: Arc<Engine>,
}

impl RunningServer {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
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
                            if let Err(e) = process_socket(socket, tls, f).await {
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
        engine,
    })
}
