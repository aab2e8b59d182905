//! Starting the proxy: open the engine, listen, serve every connection.

use std::net::SocketAddr;
use std::sync::Arc;

use pgwire::api::auth::{AuthDriver, DefaultServerParameterProvider};
use pgwire::tokio::process_socket;
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
    let startup = Arc::new(Startup::new(&config, AuthDriver::new(params)).map_err(ServerError::Auth)?);
    let engine = Arc::new(Engine::new(config).await?);
    let factory = Arc::new(Factory { handler: Arc::new(Handler::new(engine.clone())), startup });
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|source| ServerError::Bind { addr: listen.clone(), source })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind { addr: listen, source })?;
    let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop_rx => break,
                accepted = listener.accept() => match accepted {
                    Ok((socket, peer)) => {
                        let _ = socket.set_nodelay(true);
                        let f = factory.clone();
                        tokio::spawn(async move {
                            if let Err(e) = process_socket(socket, None, f).await {
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
    Ok(RunningServer { addr, stop: Some(stop_tx), task, engine })
}
