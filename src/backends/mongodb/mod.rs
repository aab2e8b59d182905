//! MongoDB backend (the `mongodb` crate).
//!
//! - The database is the path of the connection URL (`mongodb://host:27017/shop`).
//! - Each collection is shown as a table by sampling [`introspect::SAMPLE_SIZE`]
//!   documents (`$sample`): nested field paths, majority types, presence, arrays. The
//!   result is cached for [`SCHEMA_TTL`] and also used to expand `SELECT *` and to type
//!   literals and result columns.
//! - A statement is either the SQL subset of [`sql`] (translated to `find` or `aggregate`)
//!   or a JSON pipeline (see [`pipeline`]), whose `$out`, `$merge`, `$function`,
//!   `$accumulator` and `$where` are refused. Anything else is refused with SQLSTATE
//!   0A000 naming the construct.
//! - Only read commands are sent: `find`, `aggregate`, `listCollections` (plus the
//!   driver's own handshake, `getMore`, `killCursors` and `endSessions`).
//! - `row_limit` becomes the `find` limit or a final `$limit` stage; the timeout becomes
//!   `maxTimeMS` and a client-side deadline. Dropping the stream kills the cursor.

pub mod convert;
pub mod introspect;
pub mod pipeline;
pub mod sql;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use mongodb::bson::{doc, Bson, Document};
use mongodb::error::ErrorKind;
use mongodb::options::ClientOptions;
use mongodb::{Client, Cursor, Database};
use tokio::time::Instant;

use self::convert::Reader;
use self::introspect::{CollectionSchema, SAMPLE_SIZE};
use self::pipeline::PipelineError;
use self::sql::{OutColumn, Plan, Translated};
use super::types::BATCH_ROWS;
use super::{Backend, BackendError, BatchStream, Dialect, QueryOptions, QueryResult, SchemaInfo};
use crate::config::ConnectionConfig;

/// How long a sampled schema is reused before the collections are sampled again.
pub const SCHEMA_TTL: Duration = Duration::from_secs(30);
/// Server selection timeout when the URL sets none (the driver's default is 30 s).
const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP connect timeout when the URL sets none.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long `ping` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// How long sampling may take when the caller sets no deadline.
const INTROSPECT_TIMEOUT: Duration = Duration::from_secs(60);
/// Collections sampled at once.
const SAMPLE_CONCURRENCY: usize = 4;

/// A MongoDB database behind the proxy. The client connects lazily.
pub struct MongoBackend {
    /// The database handle (it holds the client and its connection pool).
    db: Database,
    connection: String,
    database: String,
    secrets: Arc<Vec<String>>,
    schemas: Mutex<Option<Sampled>>,
}

/// Collections sampled at one moment.
#[derive(Clone)]
struct Sampled {
    at: Instant,
    names: Vec<String>,
    collections: HashMap<String, Arc<CollectionSchema>>,
}

impl std::fmt::Debug for MongoBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoBackend")
            .field("connection", &self.connection)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl MongoBackend {
    /// Builds the client from `cfg.url` (`mongodb://` or `mongodb+srv://`). The URL must
    /// name the database (`mongodb://host/shop`). Server selection and connect timeouts
    /// default to 5 s and the app name to `dbguru` when the URL does not set them. Does no
    /// I/O for `mongodb://` URLs (`mongodb+srv://` resolves DNS here).
    pub async fn new(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let url = cfg.url.as_deref().ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\" has no `url` (required for MongoDB)",
                cfg.name
            ))
        })?;
        let mut secrets = vec![url.to_string()];
        let mut options = ClientOptions::parse(url).await.map_err(|e| {
            BackendError::Connect(scrub(
                &format!("connection \"{}\": invalid MongoDB URL: {e}", cfg.name),
                &secrets,
            ))
        })?;
        if let Some(pw) = options.credential.as_ref().and_then(|c| c.password.clone()) {
            secrets.push(pw);
        }
        let database = options.default_database.clone().ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\": the MongoDB URL names no database (use mongodb://host:27017/DBNAME)",
                cfg.name
            ))
        })?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(DEFAULT_SERVER_SELECTION_TIMEOUT);
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(DEFAULT_CONNECT_TIMEOUT);
        }
        if options.app_name.is_none() {
            options.app_name = Some("dbguru".into());
        }
        options.retry_writes = Some(false);
        options.max_pool_size = Some(u32::try_from(cfg.pool_size.max(1)).unwrap_or(u32::MAX));
        let client = Client::with_options(options)
            .map_err(|e| BackendError::Connect(scrub(&e.to_string(), &secrets)))?;
        let db = client.database(&database);
        tracing::debug!(connection = %cfg.name, database = %database, "mongodb client created");
        Ok(MongoBackend {
            db,
            connection: cfg.name.clone(),
            database,
            secrets: Arc::new(secrets),
            schemas: Mutex::new(None),
        })
    }

    fn map(&self, e: mongodb::error::Error, timeout: Duration) -> BackendError {
        map_error(e, timeout, &self.secrets)
    }

    fn cached(&self) -> Option<Sampled> {
        let guard = self.schemas.lock().ok()?;
        guard
            .as_ref()
            .filter(|s| s.at.elapsed() < SCHEMA_TTL)
            .cloned()
    }

    /// Collection names (system collections left out), sorted.
    async fn collection_names(&self, timeout: Duration) -> Result<Vec<String>, BackendError> {
        let mut names = tokio::time::timeout(timeout, self.db.list_collection_names())
            .await
            .map_err(|_| BackendError::Timeout(timeout))?
            .map_err(|e| self.map(e, timeout))?;
        names.retain(|n| !n.starts_with("system."));
        names.sort();
        Ok(names)
    }

    /// Samples one collection.
    async fn sample(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<CollectionSchema, BackendError> {
        let work = async {
            let coll = self.db.collection::<Document>(name);
            let size = i64::try_from(SAMPLE_SIZE).unwrap_or(100);
            let mut cursor = coll
                .aggregate(vec![doc! {"$sample": {"size": size}}])
                .max_time(timeout)
                .await
                .map_err(|e| self.map(e, timeout))?;
            let mut docs = Vec::new();
            while let Some(d) = cursor.next().await {
                docs.push(d.map_err(|e| self.map(e, timeout))?);
                if docs.len() >= SAMPLE_SIZE {
                    break;
                }
            }
            // A stable field order: documents in ObjectId (creation) order.
            docs.sort_by_key(|d| match d.get("_id") {
                Some(Bson::ObjectId(o)) => Some(o.bytes()),
                _ => None,
            });
            Ok(CollectionSchema::from_documents(name, &docs))
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(timeout)))
    }

    /// Samples every collection (fresh) and caches the result.
    async fn sample_all(&self, timeout: Duration) -> Result<Sampled, BackendError> {
        let names = self.collection_names(timeout).await?;
        let results: Vec<Result<CollectionSchema, BackendError>> =
            futures::stream::iter(names.clone())
                .map(|n| async move { self.sample(&n, timeout).await })
                .buffered(SAMPLE_CONCURRENCY)
                .collect()
                .await;
        let mut collections = HashMap::new();
        for r in results {
            let s = r?;
            collections.insert(s.name.clone(), Arc::new(s));
        }
        let sampled = Sampled {
            at: Instant::now(),
            names,
            collections,
        };
        if let Ok(mut guard) = self.schemas.lock() {
            *guard = Some(sampled.clone());
        }
        Ok(sampled)
    }

    /// The sampled schema of one collection (cached, or sampled now); a collection that
    /// does not exist is an error listing those that do (SQLSTATE 42P01).
    async fn collection_schema(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Result<Arc<CollectionSchema>, BackendError> {
        let sampled = match self.cached() {
            Some(s) if s.collections.contains_key(name) => s,
            _ => self.sample_all(timeout).await?,
        };
        sampled
            .collections
            .get(name)
            .cloned()
            .ok_or_else(|| BackendError::Query {
                sqlstate: Some("42P01".into()),
                message: format!(
                "collection \"{name}\" does not exist in MongoDB database \"{}\" (collections: {})",
                self.database,
                if sampled.names.is_empty() {
                    "none".to_string()
                } else {
                    sampled.names.join(", ")
                }
            ),
            })
    }

    /// Runs a translated statement or a pipeline and streams its rows.
    async fn run(
        &self,
        t: Translated,
        keep_id: Option<bool>,
        opts: &QueryOptions,
    ) -> Result<BatchStream, BackendError> {
        let timeout = opts.timeout;
        let deadline = Instant::now() + timeout;
        let coll = self.db.collection::<Document>(&t.collection);
        let limit = match (&t.plan, opts.row_limit) {
            (Plan::Find(f), Some(r)) => Some(f.limit.map_or(r as u64, |l| l.min(r as u64))),
            (Plan::Find(f), None) => f.limit,
            (Plan::Aggregate(_), r) => r.map(|r| r as u64),
        };
        if limit == Some(0) {
            // MongoDB reads `limit: 0` as "no limit": answer without asking.
            let reader = Reader::new(t.columns, &[]);
            return Ok(BatchStream {
                schema: reader.schema(),
                batches: futures::stream::empty().boxed(),
            });
        }
        let batch_size =
            u32::try_from(limit.map_or(BATCH_ROWS as u64, |l| l.min(BATCH_ROWS as u64)))
                .unwrap_or(1024);
        let started = match t.plan {
            Plan::Find(f) => {
                tracing::debug!(connection = %self.connection, collection = %t.collection,
                    filter = %Bson::Document(f.filter.clone()).into_relaxed_extjson(),
                    projection = ?f.projection, sort = ?f.sort, skip = ?f.skip, limit = ?limit, "mongodb find");
                let mut action = coll.find(f.filter).max_time(timeout).batch_size(batch_size);
                if let Some(p) = f.projection {
                    action = action.projection(p);
                }
                if let Some(s) = f.sort {
                    action = action.sort(s);
                }
                if let Some(n) = f.skip {
                    action = action.skip(n);
                }
                if let Some(n) = limit {
                    action = action.limit(i64::try_from(n).unwrap_or(i64::MAX));
                }
                tokio::time::timeout_at(deadline, action).await
            }
            Plan::Aggregate(mut p) => {
                if let Some(n) = limit {
                    p.push(doc! {"$limit": i64::try_from(n).unwrap_or(i64::MAX)});
                }
                tracing::debug!(connection = %self.connection, collection = %t.collection,
                    pipeline = %Bson::Array(p.iter().cloned().map(Bson::Document).collect()).into_relaxed_extjson(),
                    "mongodb aggregate");
                let action = coll.aggregate(p).max_time(timeout).batch_size(batch_size);
                tokio::time::timeout_at(deadline, action).await
            }
        };
        let mut cursor = match started {
            Err(_) => return Err(BackendError::Timeout(timeout)),
            Ok(Err(e)) => return Err(self.map(e, timeout)),
            Ok(Ok(c)) => c,
        };
        let mut remaining = limit.map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        let (first, exhausted) = read_chunk(
            &mut cursor,
            &mut remaining,
            deadline,
            timeout,
            &self.secrets,
        )
        .await?;
        let columns: Vec<OutColumn> = match keep_id {
            Some(keep) => convert::discover_columns(&first, keep),
            None if t.columns.is_empty() && !first.is_empty() => {
                // `SELECT *` on a collection the sample saw empty: its current fields.
                convert::discover_columns(&first, false)
            }
            None => t.columns,
        };
        let mut reader = Reader::new(columns, &first);
        let schema = reader.schema();
        if schema.fields().is_empty() {
            return Ok(BatchStream {
                schema,
                batches: futures::stream::empty().boxed(),
            });
        }
        for d in &first {
            reader.push(d)?;
        }
        if first.is_empty() && t.empty_row {
            reader.push_empty_aggregate()?;
        }
        let first_batch = if reader.is_empty() {
            None
        } else {
            Some(reader.finish()?)
        };
        let state = StreamState {
            cursor: (!exhausted).then_some(cursor),
            reader,
            remaining,
            deadline,
            timeout,
            secrets: self.secrets.clone(),
            first: first_batch,
        };
        let batches = futures::stream::unfold(state, |mut st| async move {
            if let Some(b) = st.first.take() {
                return Some((Ok(b), st));
            }
            let mut cursor = st.cursor.take()?;
            match read_chunk(
                &mut cursor,
                &mut st.remaining,
                st.deadline,
                st.timeout,
                &st.secrets,
            )
            .await
            {
                Err(e) => Some((Err(e), st)),
                Ok((docs, exhausted)) => {
                    if !exhausted {
                        st.cursor = Some(cursor);
                    }
                    if docs.is_empty() {
                        return None;
                    }
                    for d in &docs {
                        if let Err(e) = st.reader.push(d) {
                            st.cursor = None;
                            return Some((Err(e), st));
                        }
                    }
                    let batch = st.reader.finish();
                    if batch.is_err() {
                        st.cursor = None;
                    }
                    Some((batch, st))
                }
            }
        })
        .boxed();
        Ok(BatchStream { schema, batches })
    }
}

struct StreamState {
    cursor: Option<Cursor<Document>>,
    reader: Reader,
    remaining: Option<usize>,
    deadline: Instant,
    timeout: Duration,
    secrets: Arc<Vec<String>>,
    first: Option<arrow::record_batch::RecordBatch>,
}

/// Reads up to one batch of documents (never more than `remaining`); returns them and
/// whether the cursor is done (exhausted or the row limit reached).
async fn read_chunk(
    cursor: &mut Cursor<Document>,
    remaining: &mut Option<usize>,
    deadline: Instant,
    timeout: Duration,
    secrets: &[String],
) -> Result<(Vec<Document>, bool), BackendError> {
    let want = remaining.map_or(BATCH_ROWS, |r| r.min(BATCH_ROWS));
    let mut docs = Vec::with_capacity(want.min(BATCH_ROWS));
    let mut exhausted = false;
    while docs.len() < want {
        match tokio::time::timeout_at(deadline, cursor.next()).await {
            Err(_) => return Err(BackendError::Timeout(timeout)),
            Ok(None) => {
                exhausted = true;
                break;
            }
            Ok(Some(Err(e))) => return Err(map_error(e, timeout, secrets)),
            Ok(Some(Ok(d))) => docs.push(d),
        }
    }
    if let Some(r) = remaining.as_mut() {
        *r = r.saturating_sub(docs.len());
        exhausted |= *r == 0;
    }
    Ok((docs, exhausted))
}

#[async_trait]
impl Backend for MongoBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mongodb
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let sampled = match self.cached() {
            Some(s) => s,
            None => self.sample_all(INTROSPECT_TIMEOUT).await?,
        };
        let tables = sampled
            .names
            .iter()
            .filter_map(|n| sampled.collections.get(n))
            .map(|c| c.table_info())
            .collect();
        Ok(SchemaInfo {
            database: self.database.clone(),
            tables,
        })
    }

    async fn query(&self, text: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        let text = text.trim().trim_end_matches(';').trim();
        let stream = if pipeline::is_pipeline(text) {
            let q = pipeline::parse(text).map_err(|e| match e {
                PipelineError::Invalid(_) => BackendError::Query {
                    sqlstate: Some("42601".into()),
                    message: e.to_string(),
                },
                PipelineError::Forbidden(_) => BackendError::Query {
                    sqlstate: Some("42501".into()),
                    message: e.to_string(),
                },
            })?;
            // Existence check (and a useful list of collections when it fails).
            self.collection_schema(&q.collection, opts.timeout).await?;
            let keep_id = pipeline::mentions_id(&q.pipeline);
            let t = Translated {
                collection: q.collection,
                plan: Plan::Aggregate(q.pipeline),
                columns: Vec::new(),
                empty_row: false,
            };
            self.run(t, Some(keep_id), opts).await?
        } else {
            let st = sql::parse(text, &[self.connection.as_str(), self.database.as_str()])?;
            let schema = self
                .collection_schema(st.collection(), opts.timeout)
                .await?;
            let t = st.translate(&schema)?;
            self.run(t, None, opts).await?
        };
        Ok(QueryResult::Rows(stream))
    }

    async fn ping(&self) -> Result<(), BackendError> {
        self.collection_names(PING_TIMEOUT).await.map(|_| ())
    }
}

/// Maps a driver error: `MaxTimeMSExpired` → timeout; a missing namespace → 42P01;
/// other server errors → query errors (sent back to the LLM for a repair); network,
/// server selection and authentication problems → connection errors.
fn map_error(e: mongodb::error::Error, timeout: Duration, secrets: &[String]) -> BackendError {
    match e.kind.as_ref() {
        ErrorKind::Command(c) => match c.code {
            50 => BackendError::Timeout(timeout),
            26 => BackendError::Query {
                sqlstate: Some("42P01".into()),
                message: scrub(&c.message, secrets),
            },
            13 | 18 => {
                BackendError::Connect(scrub(&format!("{} ({})", c.message, c.code_name), secrets))
            }
            _ => BackendError::Query {
                sqlstate: None,
                message: scrub(
                    &if c.code_name.is_empty() {
                        format!("MongoDB error {}: {}", c.code, c.message)
                    } else {
                        format!("MongoDB error {} ({}): {}", c.code, c.code_name, c.message)
                    },
                    secrets,
                ),
            },
        },
        ErrorKind::InvalidArgument { message, .. } => BackendError::Query {
            sqlstate: Some("22023".into()),
            message: scrub(message, secrets),
        },
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::Authentication { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::InvalidTlsConfig { .. }
        | ErrorKind::Shutdown => BackendError::Connect(scrub(&e.to_string(), secrets)),
        _ => BackendError::Other(scrub(&e.to_string(), secrets)),
    }
}

/// Replaces every secret (the URL, the password) in a message with `***`.
fn scrub(msg: &str, secrets: &[String]) -> String {
    let mut out = msg.to_string();
    for s in secrets {
        if s.len() >= 3 && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}
