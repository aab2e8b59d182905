//! Running a blocking database (SQLite, DuckDB) from async code: the statement runs on
//! a blocking worker thread, batches reach the async side through a bounded channel
//! (back-pressure), and a timeout or a dropped consumer interrupts the statement.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use futures::stream::BoxStream;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{AbortHandle, JoinHandle};

use super::{BackendError, BatchStream, QueryResult};

/// The file name without extension, used as the database's name.
pub(super) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

// ---------------------------------------------------------------------------------------
// Blocking workers (shared with the DuckDB backend)
// ---------------------------------------------------------------------------------------

/// Batches buffered between a blocking worker and the async consumer (back-pressure).
pub(super) const CHANNEL_BATCHES: usize = 2;

/// Locks a mutex, recovering the data if a holder panicked.
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The error for a blocking task that panicked or was cancelled.
pub(super) fn join_error(e: tokio::task::JoinError) -> BackendError {
    BackendError::Other(format!("database worker failed: {e}"))
}

/// Stops a statement running on a blocking worker, on timeout or when its consumer goes away.
///
/// The interrupt is only delivered while the worker has not called [`Canceller::finish`],
/// so a late timer never reaches a connection that went back to a pool.
pub(super) struct Canceller {
    interrupt: Box<dyn Fn() + Send + Sync>,
    state: Mutex<CancelState>,
    timeout: Duration,
}

#[derive(Default)]
struct CancelState {
    finished: bool,
    cancelled: bool,
    timed_out: bool,
}

impl Canceller {
    fn new(timeout: Duration, interrupt: impl Fn() + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Canceller {
            interrupt: Box::new(interrupt),
            state: Mutex::new(CancelState::default()),
            timeout,
        })
    }

    /// Interrupts the statement unless the worker finished. Repeated calls interrupt again
    /// (an interrupt that arrives before a statement starts is forgotten by the database).
    fn cancel(&self, timed_out: bool) {
        let mut state = lock(&self.state);
        if state.finished {
            return;
        }
        state.cancelled = true;
        state.timed_out |= timed_out;
        (self.interrupt)();
    }

    /// Marks the worker done with its connection: no interrupt is delivered after this.
    pub(super) fn finish(&self) {
        lock(&self.state).finished = true;
    }

    /// Whether the statement was cancelled (timeout or consumer gone).
    pub(super) fn is_cancelled(&self) -> bool {
        lock(&self.state).cancelled
    }

    /// The error to report for a statement the database says was interrupted.
    pub(super) fn interrupted_error(&self) -> BackendError {
        if lock(&self.state).timed_out {
            BackendError::Timeout(self.timeout)
        } else {
            BackendError::Other("the statement was cancelled".into())
        }
    }
}

/// Owned by the async side: arms the timeout timer and interrupts the worker when dropped.
struct CancelGuard {
    canceller: Arc<Canceller>,
    timer: AbortHandle,
}

impl CancelGuard {
    fn arm(canceller: &Arc<Canceller>) -> Self {
        let c = Arc::clone(canceller);
        let timer = tokio::spawn(async move {
            tokio::time::sleep(c.timeout).await;
            tracing::debug!(timeout = ?c.timeout, "statement timed out, interrupting");
            c.cancel(true);
        });
        CancelGuard {
            canceller: Arc::clone(canceller),
            timer: timer.abort_handle(),
        }
    }
}

impl CancelGuard {
    /// Stops the timer without interrupting (the statement completed).
    fn disarm(self) {
        self.timer.abort();
        self.canceller.finish();
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        self.timer.abort();
        self.canceller.cancel(false);
    }
}

/// What a worker reports before any batch.
pub(super) enum Head {
    /// The statement returns rows with this schema; batches follow.
    Rows(SchemaRef),
    /// The statement returned no rows.
    Command {
        /// Command tag.
        tag: String,
        /// Rows affected.
        rows: u64,
    },
}

type BatchResult = Result<RecordBatch, BackendError>;

/// The worker's side of a query: one head, then batches.
pub(super) struct Output {
    head: Option<oneshot::Sender<Result<Head, BackendError>>>,
    batches: mpsc::Sender<BatchResult>,
}

impl Output {
    /// Reports the head (or an error instead of it); later calls are ignored.
    pub(super) fn head(&mut self, head: Result<Head, BackendError>) {
        if let Some(tx) = self.head.take() {
            let _ = tx.send(head);
        }
    }

    /// Sends a batch, waiting while the channel is full. `false` when the consumer is gone.
    pub(super) fn send(&mut self, batch: BatchResult) -> bool {
        self.batches.blocking_send(batch).is_ok()
    }

    /// Reports an error: instead of the head when none was sent yet, else in the stream.
    pub(super) fn fail(&mut self, e: BackendError) {
        if self.head.is_some() {
            self.head(Err(e));
        } else {
            let _ = self.send(Err(e));
        }
    }
}

/// Runs `work` on the blocking pool under a timeout and returns its result: a command
/// outcome, or a stream of the batches it sends. `interrupt` stops the running statement
/// from another thread; it is called on timeout and when the result (or this future) is
/// dropped before the worker finished. The timeout covers the whole statement, including
/// time spent waiting for the consumer to take batches.
pub(super) async fn spawn_query<F>(
    timeout: Duration,
    interrupt: impl Fn() + Send + Sync + 'static,
    work: F,
) -> Result<QueryResult, BackendError>
where
    F: FnOnce(&Canceller, &mut Output) + Send + 'static,
{
    let canceller = Canceller::new(timeout, interrupt);
    let guard = CancelGuard::arm(&canceller);
    let (head_tx, head_rx) = oneshot::channel();
    let (batch_tx, batch_rx) = mpsc::channel(CHANNEL_BATCHES);
    let worker = tokio::task::spawn_blocking(move || {
        let mut out = Output {
            head: Some(head_tx),
            batches: batch_tx,
        };
        if canceller.is_cancelled() {
            out.fail(canceller.interrupted_error());
        } else {
            work(&canceller, &mut out);
        }
        canceller.finish();
        // `out` is dropped last: the consumer sees the end only after `finish`.
        drop(out);
    });

    let head = match tokio::time::timeout(timeout, head_rx).await {
        Err(_) => return Err(BackendError::Timeout(timeout)),
        Ok(Err(_)) => {
            return Err(match worker.await {
                Err(e) => join_error(e),
                Ok(()) => BackendError::Other("database worker stopped without a result".into()),
            })
        }
        Ok(Ok(head)) => head?,
    };
    match head {
        Head::Command { tag, rows } => {
            guard.disarm();
            Ok(QueryResult::Command { tag, rows })
        }
        Head::Rows(schema) => Ok(QueryResult::Rows(BatchStream {
            schema,
            batches: batch_stream(batch_rx, guard, worker),
        })),
    }
}

/// The consumer's stream: the channel's batches, then the worker's panic if it had one.
/// Holds the cancel guard, so dropping the stream interrupts the statement.
fn batch_stream(
    rx: mpsc::Receiver<BatchResult>,
    guard: CancelGuard,
    worker: JoinHandle<()>,
) -> BoxStream<'static, BatchResult> {
    struct State {
        rx: mpsc::Receiver<BatchResult>,
        _guard: CancelGuard,
        worker: Option<JoinHandle<()>>,
    }
    let state = State {
        rx,
        _guard: guard,
        worker: Some(worker),
    };
    futures::stream::unfold(state, |mut st| async move {
        if let Some(item) = st.rx.recv().await {
            return Some((item, st));
        }
        let worker = st.worker.take()?;
        match worker.await {
            Err(e) => Some((Err(join_error(e)), st)),
            Ok(()) => None,
        }
    })
    .boxed()
}

/// The first keyword of a statement, upper-cased (comments, whitespace and opening
/// parentheses skipped): the command tag of a statement without rows.
pub(super) fn first_keyword(sql: &str) -> String {
    let mut rest = sql;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_ascii_uppercase()
}
