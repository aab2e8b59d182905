//! Plumbing shared by the network backends (PostgreSQL, MySQL/MariaDB) whose statements
//! run in a worker task that owns a pooled connection: the channel that carries the head
//! and the batches of a result to the caller, the deadline race, the batcher, command
//! tags and the scrubbing of secrets from error messages.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::types::{BatchBuilder, ColType, Value, BATCH_ROWS};
use super::{BackendError, BatchStream, QueryResult};

/// Batches kept in flight between a worker and its consumer.
pub(super) const CHANNEL_DEPTH: usize = 2;

/// What a query worker tells the caller: first the head (`Rows` or `Command`, or
/// `Failed`), then batches, then possibly `Failed`; the channel closing ends the stream.
pub(super) enum Msg {
    /// The statement returns rows with this schema; batches follow.
    Rows(SchemaRef),
    /// The statement returned no rows.
    Command {
        /// Command tag (`INSERT`, `CREATE TABLE`...).
        tag: String,
        /// Rows affected.
        rows: u64,
    },
    /// The next batch of rows.
    Batch(RecordBatch),
    /// The statement failed (before or while streaming).
    Failed(BackendError),
}

/// The worker's end of the channel.
pub(super) struct Sink {
    tx: mpsc::Sender<Msg>,
    /// Set while a send waits for room in the channel; stays set when the sending
    /// future is dropped mid-way.
    waiting: AtomicBool,
}

/// A worker/consumer channel.
pub(super) fn channel() -> (Sink, mpsc::Receiver<Msg>) {
    let (tx, rx) = mpsc::channel(CHANNEL_DEPTH);
    let sink = Sink {
        tx,
        waiting: AtomicBool::new(false),
    };
    (sink, rx)
}

impl Sink {
    /// Sends one message; fails when the consumer went away.
    pub(super) async fn send(&self, msg: Msg) -> Result<(), BackendError> {
        self.waiting.store(true, Ordering::Release);
        let sent = self.tx.send(msg).await;
        self.waiting.store(false, Ordering::Release);
        sent.map_err(|_| BackendError::Other("the query's consumer went away".into()))
    }

    /// Reports a failure (ignored when nobody listens any more).
    pub(super) async fn fail(&self, e: BackendError) {
        let _ = self.tx.send(Msg::Failed(e)).await;
    }

    /// Whether the worker was waiting for the consumer (not for the database) when
    /// its work was last interrupted.
    pub(super) fn was_waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the consumer went away.
    pub(super) fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}

/// `timeout` from now (a year from now when `timeout` is absurdly large).
pub(super) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

/// How a raced piece of work ended.
pub(super) enum Race<T> {
    /// The work finished.
    Done(T),
    /// The deadline passed first.
    TimedOut,
    /// The consumer went away first.
    Abandoned,
}

/// Runs `work` until it finishes, `deadline` passes, or the consumer goes away,
/// whichever comes first; `work` is dropped in the latter two cases.
pub(super) async fn race<F: Future>(work: F, deadline: Instant, sink: &Sink) -> Race<F::Output> {
    if Instant::now() >= deadline {
        return Race::TimedOut;
    }
    tokio::select! {
        out = work => Race::Done(out),
        _ = tokio::time::sleep_until(deadline) => Race::TimedOut,
        _ = sink.closed() => Race::Abandoned,
    }
}

/// Waits for the worker's head message and wraps the rest of the channel as a stream.
pub(super) async fn receive_head(mut rx: mpsc::Receiver<Msg>) -> Result<QueryResult, BackendError> {
    match rx.recv().await {
        Some(Msg::Rows(schema)) => {
            let batches = futures::stream::unfold(rx, |mut rx| async move {
                match rx.recv().await? {
                    Msg::Batch(b) => Some((Ok(b), rx)),
                    Msg::Failed(e) => Some((Err(e), rx)),
                    Msg::Rows(_) | Msg::Command { .. } => Some((
                        Err(BackendError::Other(
                            "unexpected message from query worker".into(),
                        )),
                        rx,
                    )),
                }
            });
            Ok(QueryResult::Rows(BatchStream {
                schema,
                batches: Box::pin(batches),
            }))
        }
        Some(Msg::Command { tag, rows }) => Ok(QueryResult::Command { tag, rows }),
        Some(Msg::Failed(e)) => Err(e),
        Some(Msg::Batch(_)) => Err(BackendError::Other(
            "query worker sent rows before their schema".into(),
        )),
        None => Err(BackendError::Other(
            "query worker ended without an answer".into(),
        )),
    }
}

/// Turns rows into batches of [`BATCH_ROWS`]. With `hold_back`, the last full batch
/// is kept until the next one fills up or [`Batcher::finish`], so a writing worker can
/// commit before the consumer has seen every row (a consumer that stops after the last
/// row then cannot roll the write back by dropping the stream).
pub(super) struct Batcher {
    builder: BatchBuilder,
    hold_back: bool,
    pending: Option<RecordBatch>,
}

impl Batcher {
    /// A batcher for columns `(name, type)`.
    pub(super) fn new(columns: &[(String, ColType)], hold_back: bool) -> Self {
        Batcher {
            builder: BatchBuilder::new(columns),
            hold_back,
            pending: None,
        }
    }

    /// The schema of the batches.
    pub(super) fn schema(&self) -> SchemaRef {
        self.builder.schema()
    }

    /// Adds a row, sending the previously held batch when a new one fills up.
    pub(super) async fn push(&mut self, row: Vec<Value>, sink: &Sink) -> Result<(), BackendError> {
        self.builder.push_row(row)?;
        if self.builder.len() >= BATCH_ROWS {
            let batch = self.builder.finish()?;
            if !self.hold_back {
                sink.send(Msg::Batch(batch)).await?;
            } else if let Some(prev) = self.pending.replace(batch) {
                sink.send(Msg::Batch(prev)).await?;
            }
        }
        Ok(())
    }

    /// Sends everything still held.
    pub(super) async fn finish(mut self, sink: &Sink) -> Result<(), BackendError> {
        if let Some(prev) = self.pending.take() {
            sink.send(Msg::Batch(prev)).await?;
        }
        if !self.builder.is_empty() {
            sink.send(Msg::Batch(self.builder.finish()?)).await?;
        }
        Ok(())
    }
}

/// A command tag for a statement that returned no rows, from its leading keywords:
/// `INSERT`, `UPDATE`, `CREATE TABLE`, `DROP VIEW`, `ALTER TABLE`...
pub(super) fn command_tag(sql: &str) -> String {
    let words: Vec<String> = keywords(sql).take(64).collect();
    let Some(first) = words.first() else {
        return "OK".into();
    };
    match first.as_str() {
        "WITH" => words
            .iter()
            .find(|w| matches!(w.as_str(), "INSERT" | "UPDATE" | "DELETE" | "MERGE"))
            .cloned()
            .unwrap_or_else(|| "SELECT".into()),
        "CREATE" | "DROP" | "ALTER" => {
            const MODIFIERS: &[&str] = &[
                "OR",
                "REPLACE",
                "TEMP",
                "TEMPORARY",
                "UNIQUE",
                "UNLOGGED",
                "GLOBAL",
                "LOCAL",
                "RECURSIVE",
                "DEFINER",
                "ALGORITHM",
                "CONCURRENTLY",
                "ONLINE",
                "OFFLINE",
            ];
            let mut object = words[1..]
                .iter()
                .skip_while(|w| MODIFIERS.contains(&w.as_str()));
            match object.next() {
                Some(w) if matches!(w.as_str(), "MATERIALIZED" | "FOREIGN") => {
                    match object.next() {
                        Some(next) => format!("{first} {w} {next}"),
                        None => format!("{first} {w}"),
                    }
                }
                Some(w) => format!("{first} {w}"),
                None => first.clone(),
            }
        }
        "TRUNCATE" => "TRUNCATE TABLE".into(),
        _ => first.clone(),
    }
}

/// Upper-cased words of `sql` in order, skipping comments and punctuation.
pub(super) fn keywords(sql: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = sql;
    std::iter::from_fn(move || loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map(|(_, t)| t).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map(|(_, t)| t).unwrap_or("");
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                let mut chars = rest.chars();
                chars.next()?;
                rest = chars.as_str();
                continue;
            }
            let (word, tail) = rest.split_at(end);
            rest = tail;
            return Some(word.to_ascii_uppercase());
        }
    })
}

/// Replaces every secret (connection URL, password) in `msg` with `***`.
pub(super) fn scrub(msg: &str, secrets: &[String]) -> String {
    let mut out = msg.to_string();
    for s in secrets {
        if s.len() >= 3 && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}
