//! Work stops when its client goes: a CancelRequest, or the client's socket closing,
//! interrupts the running statement — its future is dropped (which cancels the LLM call
//! and every backend query) and so is the row stream it may be sending.
//!
//! pgwire reads the socket only between messages, so on its own it notices a gone
//! client only after the statement finished. [`serve`] therefore keeps a duplicate of
//! the connection's socket whose only use is to watch it: when the peer has closed its
//! side (Linux reports `EPOLLRDHUP`, which PostgreSQL's own
//! `client_connection_check_interval` uses too) or reset the connection, the client is
//! gone. Bytes waiting to be read (pipelined messages) are not a disconnect: the watcher
//! just waits for the next change. The connection is marked in its session extensions
//! ([`ClientGone`]), and [`Interrupt`] — which every statement of the connection runs
//! under — fires.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_trait::async_trait;
use futures::channel::oneshot;
use futures::future::{BoxFuture, Shared};
use futures::{FutureExt, Sink, Stream, StreamExt};
use pgwire::api::auth::StartupHandler;
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, Response, SendableRowStream,
};
use pgwire::api::{ClientInfo, ConnectionHandle, PgWireServerHandlers};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use pgwire::tokio::{process_socket, TlsAcceptor};
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::watch;

/// Serves one client connection with pgwire, watching a duplicate of its socket so a
/// client that goes away interrupts its running statement (see the module docs).
pub async fn serve<H: PgWireServerHandlers>(
    socket: TcpStream,
    tls: Option<TlsAcceptor>,
    handlers: H,
) -> io::Result<()> {
    let (socket, watcher) = duplicate(socket)?;
    let (gone_tx, gone_rx) = watch::channel(false);
    let handlers = Watched {
        inner: handlers,
        gone: gone_rx,
    };
    let connection = process_socket(socket, tls, handlers);
    let Some(watcher) = watcher else {
        return connection.await;
    };
    tokio::pin!(connection);
    tokio::select! {
        result = &mut connection => return result,
        () = client_gone(&watcher) => {
            tracing::debug!("client went away; interrupting its statement");
            let _ = gone_tx.send(true);
        }
    }
    // pgwire ends the connection itself once it reads the end of the stream; the
    // duplicate socket is closed with it (when this function returns).
    connection.await
}

/// The socket to serve and, when the descriptor could be duplicated, a second handle
/// on it for the watcher.
fn duplicate(socket: TcpStream) -> io::Result<(TcpStream, Option<TcpStream>)> {
    let std_socket = socket.into_std()?;
    let copy = std_socket.try_clone();
    let socket = TcpStream::from_std(std_socket)?;
    match copy.and_then(TcpStream::from_std) {
        Ok(watcher) => Ok((socket, Some(watcher))),
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the client socket; a disconnect is noticed only between statements");
            Ok((socket, None))
        }
    }
}

/// Resolves when the peer has closed its side of `socket` or reset the connection.
async fn client_gone(socket: &TcpStream) {
    let mut byte = [0u8; 1];
    loop {
        let ready = match socket.ready(Interest::READABLE).await {
            Ok(ready) => ready,
            Err(_) => return,
        };
        if ready.is_read_closed() {
            return;
        }
        match socket.peek(&mut byte).now_or_never() {
            // End of stream (where the system reports no RDHUP), or a reset.
            Some(Ok(0)) | Some(Err(_)) => return,
            // Messages waiting for pgwire: not a disconnect. Forget this readiness and
            // wait for the next event (more data, or the peer closing).
            Some(Ok(_)) => {
                let _ = socket.try_io(Interest::READABLE, || {
                    Err::<(), _>(io::Error::from(io::ErrorKind::WouldBlock))
                });
            }
            // Nothing to read after all (the readiness is cleared by `peek`).
            None => {}
        }
    }
}

/// Session extension: becomes `true` when the connection's client has gone away.
pub struct ClientGone(watch::Receiver<bool>);

/// pgwire's handlers, with the startup handler marking each connection's session with
/// its [`ClientGone`] signal.
struct Watched<H> {
    inner: H,
    gone: watch::Receiver<bool>,
}

impl<H: PgWireServerHandlers> PgWireServerHandlers for Watched<H> {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.inner.simple_query_handler()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.inner.extended_query_handler()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        Arc::new(WatchedStartup {
            inner: self.inner.startup_handler(),
            gone: self.gone.clone(),
        })
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.inner.copy_handler()
    }

    fn error_handler(&self) -> Arc<impl pgwire::api::ErrorHandler> {
        self.inner.error_handler()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.inner.cancel_handler()
    }
}

/// The startup handler, storing [`ClientGone`] in the session first.
struct WatchedStartup<S> {
    inner: Arc<S>,
    gone: watch::Receiver<bool>,
}

#[async_trait]
impl<S: StartupHandler> StartupHandler for WatchedStartup<S> {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let extensions = client.session_extensions();
        if extensions.get::<ClientGone>().is_none() {
            extensions.insert(ClientGone(self.gone.clone()));
        }
        self.inner.on_startup(client, message).await
    }
}

/// What stops one statement: a CancelRequest for its connection, or its client going
/// away. Cheap to clone; every clone fires together.
#[derive(Clone)]
pub struct Interrupt(Shared<BoxFuture<'static, ()>>);

impl Interrupt {
    /// Starts a statement on `client`'s connection: a CancelRequest from now on, or the
    /// client going away, interrupts it.
    pub async fn start<C: ClientInfo>(client: &C) -> Interrupt {
        let extensions = client.session_extensions();
        let cancel = match extensions.get::<Arc<ConnectionHandle>>() {
            Some(handle) => Some(handle.start_query().await),
            None => None,
        };
        let gone = extensions.get::<ClientGone>().map(|g| g.0.clone());
        Interrupt::from_parts(cancel, gone)
    }

    fn from_parts(
        cancel: Option<oneshot::Receiver<()>>,
        gone: Option<watch::Receiver<bool>>,
    ) -> Interrupt {
        let cancelled = async move {
            // An error means the next statement took over the cancel slot: this one
            // can no longer be cancelled, only abandoned.
            if let Some(rx) = cancel {
                if rx.await.is_ok() {
                    return;
                }
            }
            futures::future::pending::<()>().await
        };
        let left = async move {
            if let Some(mut rx) = gone {
                let fired = rx.wait_for(|gone| *gone).await.is_ok();
                if fired {
                    return;
                }
            }
            futures::future::pending::<()>().await
        };
        let either = async move {
            futures::future::select(Box::pin(cancelled), Box::pin(left)).await;
        };
        Interrupt(either.boxed().shared())
    }

    /// Runs `work` unless the interrupt fires first: then `work` is dropped and the
    /// answer is 57014. Rows of the result are streamed under the same interrupt.
    pub async fn run<T: Interruptible>(
        self,
        work: impl Future<Output = PgWireResult<T>>,
    ) -> PgWireResult<T> {
        let result = {
            futures::pin_mut!(work);
            match futures::future::select(work, self.0.clone()).await {
                futures::future::Either::Left((result, _)) => result?,
                futures::future::Either::Right(_) => return Err(PgWireError::QueryCanceled),
            }
        };
        Ok(result.stop_on(&self))
    }
}

/// A statement's answer whose row streams must stop when its [`Interrupt`] fires.
pub trait Interruptible {
    /// `self` with every row stream ending (57014) when `interrupt` fires; the
    /// stream's source is dropped at that moment.
    fn stop_on(self, interrupt: &Interrupt) -> Self;
}

impl Interruptible for Response {
    fn stop_on(self, interrupt: &Interrupt) -> Self {
        match self {
            Response::Query(mut q) => {
                let rows = std::mem::replace(
                    &mut q.data_rows,
                    Box::pin(futures::stream::empty::<PgWireResult<DataRow>>()),
                );
                q.data_rows = Box::pin(StopOn {
                    rows: Some(rows),
                    interrupt: interrupt.0.clone(),
                });
                Response::Query(q)
            }
            other => other,
        }
    }
}

impl Interruptible for Vec<Response> {
    fn stop_on(self, interrupt: &Interrupt) -> Self {
        self.into_iter().map(|r| r.stop_on(interrupt)).collect()
    }
}

impl Interruptible for DescribeStatementResponse {
    fn stop_on(self, _interrupt: &Interrupt) -> Self {
        self
    }
}

impl Interruptible for DescribePortalResponse {
    fn stop_on(self, _interrupt: &Interrupt) -> Self {
        self
    }
}

/// A row stream that ends with 57014 (dropping its source) when the interrupt fires.
struct StopOn {
    rows: Option<SendableRowStream>,
    interrupt: Shared<BoxFuture<'static, ()>>,
}

impl Stream for StopOn {
    type Item = PgWireResult<DataRow>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(rows) = this.rows.as_mut() else {
            return Poll::Ready(None);
        };
        if this.interrupt.poll_unpin(cx).is_ready() {
            this.rows = None;
            return Poll::Ready(Some(Err(PgWireError::QueryCanceled)));
        }
        rows.poll_next_unpin(cx)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rows(n: usize) -> SendableRowStream {
        Box::pin(futures::stream::iter(
            (0..n).map(|_| Ok(DataRow::default())),
        ))
    }

    #[tokio::test]
    async fn cancel_and_gone_fire_superseded_cancel_does_not() {
        let (tx, rx) = oneshot::channel();
        let i = Interrupt::from_parts(Some(rx), None);
        tx.send(()).unwrap();
        let r = i.run(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok(Vec::<Response>::new())
        });
        assert!(matches!(r.await, Err(PgWireError::QueryCanceled)));

        let (gone_tx, gone_rx) = watch::channel(false);
        let i = Interrupt::from_parts(None, Some(gone_rx));
        let slow = i.run(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Vec::<Response>::new())
        });
        gone_tx.send(true).unwrap();
        assert!(matches!(
            tokio::time::timeout(Duration::from_secs(2), slow).await,
            Ok(Err(PgWireError::QueryCanceled))
        ));

        // The sender dropped (a later statement took the slot): no interrupt.
        let (tx, rx) = oneshot::channel::<()>();
        drop(tx);
        let i = Interrupt::from_parts(Some(rx), None);
        assert!(i.run(async { Ok(Vec::<Response>::new()) }).await.is_ok());
    }

    #[tokio::test]
    async fn streams_stop_when_interrupted() {
        let (gone_tx, gone_rx) = watch::channel(false);
        let i = Interrupt::from_parts(None, Some(gone_rx));
        let mut s = StopOn {
            rows: Some(Box::pin(rows(3).chain(futures::stream::pending()))),
            interrupt: i.0.clone(),
        };
        for _ in 0..3 {
            assert!(matches!(s.next().await, Some(Ok(_))));
        }
        gone_tx.send(true).unwrap();
        assert!(matches!(
            s.next().await,
            Some(Err(PgWireError::QueryCanceled))
        ));
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn a_closed_socket_is_noticed_pending_bytes_are_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let (_served, watcher) = duplicate(server).unwrap();
        let watcher = watcher.unwrap();
        tokio::io::AsyncWriteExt::write_all(&mut client, b"pipelined")
            .await
            .unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(300), client_gone(&watcher)).await;
        assert!(waiting.is_err(), "pending bytes are not a disconnect");
        drop(client);
        tokio::time::timeout(Duration::from_secs(2), client_gone(&watcher))
            .await
            .unwrap();
    }
}
