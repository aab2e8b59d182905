//! PostgreSQL backend: a deadpool pool of tokio-postgres connections.
//!
//! Every statement runs in its own worker task that owns the pooled connection, so
//! the row stream is `'static`.
//!
//! Plain reads without a row limit (SQL passed through) take the fast path: one round
//! trip carries `BEGIN READ ONLY; SET LOCAL statement_timeout …; SET LOCAL <session
//! parameters>` and the statement as the unnamed statement (Parse, Bind, Describe,
//! Execute, Sync: `query_typed_raw`), so nothing stays prepared on the server and the
//! transaction is read-only before the statement's first instruction — no function it
//! calls can turn that off. The COMMIT goes out after the last row (an empty result is
//! described once more to learn its columns). Statements that could change the session
//! (`SET`, `set_config`, transaction control...) never take the fast path.
//!
//! Everything else (row limits, writes) runs in an explicit transaction:
//!
//! - `BEGIN READ ONLY` unless writes are allowed and the connection is not read-only;
//!   `SET LOCAL statement_timeout` bounds each step on the server. After a statement
//!   that could write, the connection's session state is reset (`RESET ALL`, temp
//!   tables, advisory locks, cursors) before it goes back to the pool.
//! - Row-returning statements are bound to a portal and fetched in chunks of at most
//!   [`BATCH_ROWS`] rows, never more than the row limit, so the server produces only
//!   what is asked for.
//! - The head (schema, or command tag) is sent after the first chunk of rows, so errors
//!   raised before the first row fail `query` itself; later errors end the stream.
//! - The client-side deadline covers the whole statement, streaming included. When it
//!   passes, or when the caller drops the future or the stream, while the server is
//!   working, the statement is cancelled on the server (`CancelRequest`), the worker
//!   waits until the server has finished with the connection, and the connection is
//!   closed instead of being returned to the pool (a late cancel signal can then never
//!   hit another statement). While the worker merely waits for a slow consumer,
//!   nothing runs on the server: the transaction is rolled back and the connection
//!   pooled again. On the fast path the server may still be producing rows, so an
//!   abandoned or timed-out statement is always cancelled and its connection closed.
//!
//! Values are read in PostgreSQL's binary format through [`Raw`], which accepts every
//! type, and decoded here (numeric, interval, arrays and friends included).
//!
//! The worker/channel plumbing (`Msg`, `Sink`, `race`, `Batcher`, `receive_head`,
//! `command_tag`, `scrub`) lives in [`super::worker`], shared with the MySQL backend.
//!
//! Files: [`job`] runs one statement (fast path, transactions, cancellation), [`decode`]
//! and [`text`] read PostgreSQL's binary format, [`errors`] maps driver errors, [`lease`]
//! pins a connection to a client's transaction block.

mod decode;
mod errors;
mod job;
mod keys;
mod lease;
pub mod relay;
mod text;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, Object, Pool};
use tokio_postgres_rustls::MakeRustlsConnect;

use self::decode::{columns_of, pg_kind};
use self::errors::{error_chain, pg_error, pool_error};
use self::job::{prepared, Job};
use super::worker::{channel, deadline_after, receive_head, scrub};
use super::{
    Backend, BackendError, ColumnInfo, Dialect, QueryOptions, QueryResult, SchemaInfo, TableInfo,
};
use crate::config::ConnectionConfig;

/// How long `ping` may take.
const PING_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `introspect` may take.
const INTROSPECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the cancel request, and then the wait for the server to settle, may each take.
const CANCEL_GRACE: Duration = Duration::from_secs(3);
/// TCP connect timeout used when the URL does not set `connect_timeout`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A PostgreSQL database behind the proxy.
///
/// Connections are made lazily by a pool of at most `pool_size` connections; nothing
/// touches the network until the first query, introspection or ping.
pub struct PostgresBackend {
    pool: Pool,
    read_only: bool,
    secrets: Arc<Vec<String>>,
    /// The TLS connector of the pool, for cancel requests too.
    tls: MakeRustlsConnect,
    /// Raw-protocol connections for relayed statements.
    relay: relay::RelayPool,
}

impl std::fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("read_only", &self.read_only)
            .finish_non_exhaustive()
    }
}

impl PostgresBackend {
    /// Runs `sql` with `params` bound to its placeholders in a worker task.
    async fn run(
        &self,
        sql: &str,
        params: Vec<Option<String>>,
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        let (sink, rx) = channel();
        let job = Job {
            pool: self.pool.clone(),
            sql: sql.to_string(),
            params,
            read_only: self.read_only || !opts.allow_write,
            row_limit: opts.row_limit,
            timeout: opts.timeout,
            deadline: deadline_after(opts.timeout),
            secrets: self.secrets.clone(),
            settings: opts.settings.clone(),
            tls: self.tls.clone(),
        };
        tokio::spawn(job.run(sink));
        receive_head(rx).await
    }

    /// Builds the pool from `cfg.url` (a `postgres://` URL or key=value string) with at
    /// most `cfg.pool_size` connections (minimum 1). Does no I/O; fails only when the
    /// URL is missing or invalid (or names an unreadable `sslrootcert`).
    /// `connect_timeout` defaults to 10 s and `application_name` to `dbguru` when the
    /// URL does not set them; `sslmode` (default `prefer`) and `sslrootcert` choose TLS
    /// as in libpq (see [`tls`]).
    pub fn new(cfg: &ConnectionConfig) -> Result<Self, BackendError> {
        let url = cfg.url.as_deref().ok_or_else(|| {
            BackendError::Connect(format!(
                "connection \"{}\" has no `url` (required for PostgreSQL)",
                cfg.name
            ))
        })?;
        let mut secrets = vec![url.to_string()];
        let invalid = |message: String| {
            BackendError::Connect(scrub(
                &format!(
                    "connection \"{}\": invalid PostgreSQL URL: {message}",
                    cfg.name
                ),
                &secrets,
            ))
        };
        let (rest, tls_options) = tls::split_options(url).map_err(invalid)?;
        let tls = tls::connector(&tls_options)
            .map_err(|e| BackendError::Connect(format!("connection \"{}\": {e}", cfg.name)))?;
        secrets.push(rest.clone());
        let mut pg: tokio_postgres::Config = rest.parse().map_err(|e: tokio_postgres::Error| {
            BackendError::Connect(scrub(
                &format!(
                    "connection \"{}\": invalid PostgreSQL URL: {}",
                    cfg.name,
                    error_chain(&e)
                ),
                &secrets,
            ))
        })?;
        if let Some(pw) = pg.get_password() {
            secrets.push(String::from_utf8_lossy(pw).into_owned());
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if pg.get_application_name().is_none() {
            pg.application_name("dbguru");
        }
        pg.ssl_mode(tls_options.mode.driver());
        let secrets = Arc::new(secrets);
        let relay = relay::RelayPool::new(&pg, &tls_options, cfg.pool_size, secrets.clone())
            .map_err(|e| BackendError::Connect(format!("connection \"{}\": {e}", cfg.name)))?;
        let pool = Pool::builder(Manager::new(pg, tls.clone()))
            .max_size(cfg.pool_size.max(1))
            .build()
            .map_err(|e| {
                BackendError::Connect(format!(
                    "connection \"{}\": cannot build the pool: {e}",
                    cfg.name
                ))
            })?;
        Ok(PostgresBackend {
            pool,
            read_only: cfg.read_only,
            secrets,
            tls,
            relay,
        })
    }

    async fn client(&self) -> Result<Object, BackendError> {
        self.pool
            .get()
            .await
            .map_err(|e| pool_error(e, &self.secrets))
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn relay(&self) -> Option<&relay::RelayPool> {
        Some(&self.relay)
    }

    async fn introspect(&self) -> Result<SchemaInfo, BackendError> {
        let work = async {
            let client = self.client().await?;
            let map = |e| pg_error(e, INTROSPECT_TIMEOUT, &self.secrets);
            let database: String = client
                .query_one("SELECT current_database()::text", &[])
                .await
                .map_err(map)?
                .try_get(0)
                .map_err(map)?;
            let rows = client.query(INTROSPECT_SQL, &[]).await.map_err(map)?;
            let mut tables: Vec<TableInfo> = Vec::new();
            for row in rows {
                let schema: String = row.try_get(0).map_err(map)?;
                let table: String = row.try_get(1).map_err(map)?;
                let name = if schema == "public" {
                    table
                } else {
                    format!("{schema}.{table}")
                };
                let column = ColumnInfo {
                    name: row.try_get(2).map_err(map)?,
                    data_type: short_type_name(&row.try_get::<_, String>(3).map_err(map)?),
                    nullable: !row.try_get::<_, bool>(4).map_err(map)?,
                    primary_key: row.try_get(5).map_err(map)?,
                    comment: row.try_get(6).map_err(map)?,
                    samples: Vec::new(),
                };
                match tables.last_mut() {
                    Some(t) if t.name == name => t.columns.push(column),
                    _ => tables.push(TableInfo {
                        name,
                        columns: vec![column],
                        comment: row.try_get(7).map_err(map)?,
                        // -1: never vacuumed or analyzed (PostgreSQL 14+).
                        rows: row.try_get::<_, i64>(8).ok().filter(|n| *n >= 0),
                    }),
                }
            }
            tables.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(SchemaInfo { database, tables })
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn schema_version(&self) -> Result<Option<String>, BackendError> {
        let work = async {
            let client = self.client().await?;
            let map = |e| pg_error(e, INTROSPECT_TIMEOUT, &self.secrets);
            let v: String = client
                .query_one(SCHEMA_VERSION_SQL, &[])
                .await
                .map_err(map)?
                .try_get(0)
                .map_err(map)?;
            Ok(Some(v))
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn introspect_keys(&self) -> Result<crate::keys::KeyInfo, BackendError> {
        let work = async {
            let client = self.client().await?;
            keys::introspect_keys(&client)
                .await
                .map_err(|e| pg_error(e, INTROSPECT_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }

    async fn query(&self, sql: &str, opts: &QueryOptions) -> Result<QueryResult, BackendError> {
        self.run(sql, Vec::new(), opts).await
    }

    fn binds_parameters(&self) -> bool {
        true
    }

    async fn query_params(
        &self,
        sql: &str,
        params: &[Option<String>],
        opts: &QueryOptions,
    ) -> Result<QueryResult, BackendError> {
        self.run(sql, params.to_vec(), opts).await
    }

    async fn describe(&self, sql: &str) -> Result<Option<super::Described>, BackendError> {
        let client = self.client().await?;
        // Only statements with parameters are described, and those run through the
        // per-connection statement cache too: prepare once, reuse when they execute.
        let stmt = tokio::time::timeout(PING_TIMEOUT, prepared(&client, sql))
            .await
            .map_err(|_| BackendError::Timeout(PING_TIMEOUT))?
            .map_err(|e| pg_error(e, PING_TIMEOUT, &self.secrets))?;
        let params = stmt
            .params()
            .iter()
            .map(|t| pg_kind(t).col_type())
            .collect();
        let (_, columns) = columns_of(stmt.columns());
        Ok(Some(super::Described {
            params,
            schema: super::types::schema_of(&columns),
        }))
    }

    async fn begin(&self, opts: &super::TxOptions) -> Result<Box<dyn super::Lease>, BackendError> {
        self.begin_lease(opts).await
    }

    async fn ping(&self) -> Result<(), BackendError> {
        let work = async {
            let client = self.client().await?;
            client
                .simple_query("SELECT 1")
                .await
                .map(|_| ())
                .map_err(|e| pg_error(e, PING_TIMEOUT, &self.secrets))
        };
        tokio::time::timeout(PING_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(PING_TIMEOUT)))
    }

    async fn write_privileges(&self) -> Result<Vec<String>, BackendError> {
        let work = async {
            let client = self.client().await?;
            let map = |e| pg_error(e, INTROSPECT_TIMEOUT, &self.secrets);
            let row = client
                .query_one(WRITE_PRIVILEGES_SQL, &[])
                .await
                .map_err(map)?;
            let superuser: bool = row.try_get(0).map_err(map)?;
            let file_writer: bool = row.try_get(1).map_err(map)?;
            let tables: i64 = row.try_get(2).map_err(map)?;
            let example: Option<String> = row.try_get(3).map_err(map)?;
            let schemas: Option<String> = row.try_get(4).map_err(map)?;
            let mut out = Vec::new();
            if superuser {
                out.push("the role is a superuser".to_string());
            }
            if file_writer {
                out.push("the role may write server files (pg_write_server_files)".to_string());
            }
            if tables > 0 {
                out.push(format!(
                    "INSERT/UPDATE/DELETE/TRUNCATE on {tables} table(s), e.g. {}",
                    example.unwrap_or_default()
                ));
            }
            if let Some(s) = schemas {
                out.push(format!("CREATE in schema(s) {s}"));
            }
            Ok(out)
        };
        tokio::time::timeout(INTROSPECT_TIMEOUT, work)
            .await
            .unwrap_or(Err(BackendError::Timeout(INTROSPECT_TIMEOUT)))
    }
}

/// Whether the current role could write: superuser, member of `pg_write_server_files`,
/// tables it may change (count and one example), user schemas it may create objects in.
const WRITE_PRIVILEGES_SQL: &str = "\
WITH writable AS (
    SELECT format('%I.%I', n.nspname, c.relname) AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp\\_%'
      AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
           OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE'))
)
SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),
       pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'),
       (SELECT count(*) FROM writable),
       (SELECT min(name) FROM writable),
       (SELECT string_agg(quote_ident(nspname), ', ' ORDER BY nspname) FROM pg_namespace
        WHERE nspname NOT IN ('pg_catalog', 'information_schema')
          AND nspname NOT LIKE 'pg\\_%'
          AND has_schema_privilege(oid, 'CREATE'))";

/// Tables, views, materialized views, foreign and partitioned tables of every user
/// schema (partitions themselves are left out), one row per column in ordinal order.
const INTROSPECT_SQL: &str = "\
SELECT n.nspname::text, c.relname::text, a.attname::text,
       format_type(a.atttypid, a.atttypmod), a.attnotnull,
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)),
       dc.description, dt.description, c.reltuples::bigint
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_description dc
       ON dc.classoid = 'pg_class'::regclass AND dc.objoid = c.oid AND dc.objsubid = a.attnum
LEFT JOIN pg_description dt
       ON dt.classoid = 'pg_class'::regclass AND dt.objoid = c.oid AND dt.objsubid = 0
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
ORDER BY n.nspname, c.relname, a.attnum";

/// A checksum of everything `INTROSPECT_SQL` and the key introspection read: the
/// columns of the same relations, their comments, and the constraints and indexes.
/// Reads only the catalogs (a few milliseconds for thousands of tables).
const SCHEMA_VERSION_SQL: &str = "\
SELECT count(*)::text || ':' || coalesce(sum(hashtext(
           c.oid::text || '.' || c.relname || '.' || a.attnum::text || '.' || a.attname
           || '.' || a.atttypid::text || '.' || a.atttypmod::text || '.' || a.attnotnull::text)::bigint), 0)::text
    || ':' || (SELECT count(*)::text || ':' || coalesce(sum(hashtext(conname || conrelid::text || contype::text)::bigint), 0)::text
               FROM pg_constraint)
    || ':' || (SELECT count(*)::text FROM pg_index)
    || ':' || (SELECT coalesce(sum(hashtext(objoid::text || '.' || objsubid::text || '.' || description)::bigint), 0)::text
               FROM pg_description WHERE classoid = 'pg_class'::regclass)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'";

/// `character varying(100)` → `varchar(100)`, `character(3)` → `char(3)`; other
/// names as `format_type` spells them.
fn short_type_name(name: &str) -> String {
    if let Some(rest) = name.strip_prefix("character varying") {
        format!("varchar{rest}")
    } else if let Some(rest) = name.strip_prefix("character(") {
        format!("char({rest}")
    } else {
        name.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backends::worker::command_tag;

    #[test]
    fn tags() {
        assert_eq!(command_tag("insert into t values (1)"), "INSERT");
        assert_eq!(command_tag("  -- c\n/* x */ Update t set a=1"), "UPDATE");
        assert_eq!(command_tag("CREATE TABLE t (a int)"), "CREATE TABLE");
        assert_eq!(
            command_tag("create or replace view v as select 1"),
            "CREATE VIEW"
        );
        assert_eq!(command_tag("CREATE UNIQUE INDEX i ON t(a)"), "CREATE INDEX");
        assert_eq!(
            command_tag("drop materialized view m"),
            "DROP MATERIALIZED VIEW"
        );
        assert_eq!(command_tag("WITH d AS (SELECT 1) DELETE FROM t"), "DELETE");
        assert_eq!(command_tag("truncate t"), "TRUNCATE TABLE");
        assert_eq!(command_tag(""), "OK");
    }

    #[test]
    fn secrets_are_scrubbed() {
        let secrets = vec![
            "postgres://u:hunter2@h/db".to_string(),
            "hunter2".to_string(),
        ];
        assert_eq!(
            scrub("bad url postgres://u:hunter2@h/db and hunter2", &secrets),
            "bad url *** and ***"
        );
    }

    #[test]
    fn type_names() {
        assert_eq!(short_type_name("character varying(100)"), "varchar(100)");
        assert_eq!(short_type_name("character(3)"), "char(3)");
        assert_eq!(short_type_name("numeric(10,2)"), "numeric(10,2)");
        assert_eq!(short_type_name("character varying[]"), "varchar[]");
    }
}
