//! `proxy.toml`: one serde tree, `${ENV}` expansion, validated once at start.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod connections;
mod duration;
mod federation;
mod http;
mod knowledge;
mod limits;
mod size;
pub use connections::{ConnectionConfig, ConnectionKind, DemoData};
pub use duration::parse_duration;
use duration::{duration_str, opt_duration_str};
pub use federation::FederationConfig;
pub use http::HttpConfig;
pub use knowledge::KnowledgeConfig;
pub use limits::LimitsConfig;
use size::byte_size;
pub use size::parse_byte_size;

/// The embedded default configuration (the repository's `proxy.toml`).
pub const EMBEDDED_DEFAULT: &str = include_str!("../proxy.toml");

/// Configuration errors; each names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML did not parse or did not fit the schema.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// An `${ENV}` reference named a variable that is not set.
    #[error("{key}: environment variable {var} is not set")]
    MissingEnv {
        /// Dotted key path.
        key: String,
        /// Variable name.
        var: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted key path.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A secret from the configuration (a password, an API key, a URL that may carry a
/// password): `Debug` prints `***`, and there is no `Display`, so it cannot end up in a
/// log line or an error message by accident. [`Secret::expose`] (or `Deref`) gives the
/// value to the code that must use it.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listener and TLS.
    #[serde(default)]
    pub server: ServerConfig,
    /// Users allowed to connect.
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// The language model.
    #[serde(default)]
    pub llm: LlmConfig,
    /// Global caps; sessions may lower them, never raise them.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Where chat sessions and history are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// Plan and result caching.
    #[serde(default)]
    pub cache: CacheConfig,
    /// Statements that join tables of several connections.
    #[serde(default)]
    pub federation: FederationConfig,
    /// The databases behind the proxy.
    #[serde(default)]
    pub connections: Vec<ConnectionConfig>,
    /// The REST API and chat page (off unless `[http] listen` is set).
    #[serde(default)]
    pub http: HttpConfig,
    /// Glossary and example files.
    #[serde(default)]
    pub knowledge: KnowledgeConfig,
    /// Directory relative paths are resolved against (the config file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:6543`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// `server_version` reported to clients. Default `16.6 (dbguru <version>)`.
    #[serde(default = "default_server_version")]
    pub server_version: String,
    /// TLS certificate and key; when absent, TLS is not offered.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            server_version: default_server_version(),
            tls: None,
        }
    }
}

fn default_listen() -> String {
    "127.0.0.1:6543".into()
}
fn default_server_version() -> String {
    format!("16.6 (dbguru {})", env!("CARGO_PKG_VERSION"))
}

/// `[server.tls]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain file.
    pub cert: PathBuf,
    /// PEM private key file.
    pub key: PathBuf,
    /// Refuse clients that do not use TLS. Default false.
    #[serde(default)]
    pub required: bool,
}

/// How a user proves who they are.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// No password; accepted only from loopback addresses.
    Trust,
    /// Cleartext password (use only over TLS).
    Cleartext,
    /// SCRAM-SHA-256.
    Scram,
}

/// `[[users]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Login name.
    pub name: String,
    /// Password (use `${ENV}`); required for `cleartext` and `scram` unless `scram_verifier` is given.
    #[serde(default)]
    pub password: Option<Secret>,
    /// A PostgreSQL SCRAM verifier (`SCRAM-SHA-256$<iter>:<salt>$<stored>:<server>`).
    #[serde(default)]
    pub scram_verifier: Option<Secret>,
    /// Authentication method. Default: `scram` when a password or verifier is set, else `trust`.
    #[serde(default)]
    pub auth: Option<AuthMethod>,
    /// Connections (names) this user may use. Default: all.
    #[serde(default)]
    pub connections: Option<Vec<String>>,
    /// Whether this user may enable writes (`SET dbguru.allow_write = on`). Default false.
    #[serde(default)]
    pub may_write: bool,
    /// Whether this user sees every user's sessions and may change the business
    /// knowledge (`dbguru.glossary`, `dbguru.examples`). Default false.
    #[serde(default)]
    pub admin: bool,
    /// A bearer token for the HTTP API (`Authorization: Bearer <token>`; use `${ENV}`).
    #[serde(default)]
    pub api_token: Option<Secret>,
}

impl UserConfig {
    /// The effective authentication method.
    pub fn auth_method(&self) -> AuthMethod {
        self.auth.unwrap_or(
            if self.password.is_some() || self.scram_verifier.is_some() {
                AuthMethod::Scram
            } else {
                AuthMethod::Trust
            },
        )
    }

    /// Whether this user may use the named connection.
    pub fn may_use(&self, connection: &str) -> bool {
        self.connections
            .as_ref()
            .is_none_or(|c| c.iter().any(|n| n.eq_ignore_ascii_case(connection)))
    }
}

/// Which LLM answers `ASK`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LlmProvider {
    /// The offline schema-aware planner.
    Builtin,
    /// Any OpenAI-compatible chat-completions endpoint.
    Openai,
}

/// `[llm]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    /// Provider. Default `builtin`.
    #[serde(default = "default_provider")]
    pub provider: LlmProvider,
    /// Base URL of the API, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`
    /// (a secret: it may carry credentials).
    #[serde(default)]
    pub base_url: Option<Secret>,
    /// Model name. Default `gpt-4o-mini`.
    #[serde(default = "default_model")]
    pub model: String,
    /// API key (use `${OPENAI_API_KEY}`); optional for local servers.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// Timeout of one request. Default 60s.
    #[serde(default = "default_llm_timeout", with = "duration_str")]
    pub timeout: Duration,
    /// Retries on connection errors, 429 and 5xx, with exponential backoff. Default 2.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Sampling temperature. Default 0.
    #[serde(default)]
    pub temperature: f32,
    /// History turns included in a prompt, and the most a session keeps in memory (the
    /// store keeps every turn). Default 6.
    #[serde(default = "default_history_turns")]
    pub history_turns: usize,
    /// Largest LLM reply body read, in bytes (`1048576` or `"1MiB"`); a longer reply is
    /// refused without being buffered. Default 1 MiB.
    #[serde(default = "default_max_reply_bytes", with = "byte_size")]
    pub max_reply_bytes: usize,
    /// Tokens (estimated as characters / 4) the schema part of a prompt may take. When
    /// the schemas in scope fit, all of them go; otherwise the most relevant tables do
    /// (`EXPLAIN ASK` says which and why). Default 6000.
    #[serde(default = "default_schema_budget")]
    pub schema_budget: usize,
    /// Distinct values read per low-cardinality text column and shown to the LLM beside
    /// it (they leave the database: `[[connections]] sample_values = 0` turns it off for a
    /// connection). Default 8; 0 turns it off everywhere.
    #[serde(default = "default_sample_values")]
    pub sample_values: usize,
}

fn default_sample_values() -> usize {
    8
}

fn default_schema_budget() -> usize {
    6000
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            provider: default_provider(),
            base_url: None,
            model: default_model(),
            api_key: None,
            timeout: default_llm_timeout(),
            retries: default_retries(),
            temperature: 0.0,
            history_turns: default_history_turns(),
            max_reply_bytes: default_max_reply_bytes(),
            schema_budget: default_schema_budget(),
            sample_values: default_sample_values(),
        }
    }
}

fn default_provider() -> LlmProvider {
    LlmProvider::Builtin
}
fn default_model() -> String {
    "gpt-4o-mini".into()
}
fn default_llm_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_retries() -> u32 {
    2
}
fn default_history_turns() -> usize {
    6
}
fn default_max_reply_bytes() -> usize {
    1 << 20
}
/// Most `[llm] history_turns` accepted (each turn is part of every prompt).
const MAX_HISTORY_TURNS: usize = 1000;
/// Smallest `[llm] max_reply_bytes` accepted (a chat completion's JSON envelope alone is
/// a few hundred bytes).
const MIN_REPLY_BYTES: usize = 1024;

/// `[cache]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Plans (LLM answers) kept, keyed on question, connections, schema fingerprints and
    /// history. Default 1000; 0 disables plan caching.
    #[serde(default = "default_cache_entries")]
    pub plan_entries: usize,
    /// How long a combined result is reused. Default 60s; "0s" disables result caching.
    #[serde(default = "default_result_ttl", with = "duration_str")]
    pub result_ttl: Duration,
    /// Results kept. Default 256.
    #[serde(default = "default_result_entries")]
    pub result_entries: usize,
    /// Bytes the result cache may hold (`67108864` or `"64MB"`), estimated from the Arrow
    /// buffers of each result; least recently used results go first, and a result larger
    /// than this is not cached. Default 64 MiB; 0 disables result caching.
    #[serde(default = "default_result_bytes", with = "byte_size")]
    pub result_bytes: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            plan_entries: default_cache_entries(),
            result_ttl: default_result_ttl(),
            result_entries: default_result_entries(),
            result_bytes: default_result_bytes(),
        }
    }
}

fn default_cache_entries() -> usize {
    1000
}
fn default_result_ttl() -> Duration {
    Duration::from_secs(60)
}
fn default_result_entries() -> usize {
    256
}
fn default_result_bytes() -> usize {
    64 << 20
}

/// `[store]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// SQLite file for sessions and history. Default: kept in memory only.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// PostgreSQL URL, for several proxies sharing state (may carry a password).
    #[serde(default)]
    pub url: Option<Secret>,
}

/// Replaces `${VAR}` in every string of the tree; errors name the key.
fn expand_env(value: &mut toml::Value, path: &str) -> Result<(), ConfigError> {
    match value {
        toml::Value::String(s) if s.contains("${") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let end = after
                    .find('}')
                    .ok_or_else(|| invalid(path, "unterminated ${...} reference"))?;
                let var = &after[..end];
                let val = std::env::var(var).map_err(|_| ConfigError::MissingEnv {
                    key: path.to_string(),
                    var: var.to_string(),
                })?;
                out.push_str(&val);
                rest = &after[end + 1..];
            }
            out.push_str(rest);
            *s = out;
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                expand_env(v, &format!("{path}[{i}]"))?;
            }
        }
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                expand_env(v, &p)?;
            }
        }
        _ => {}
    }
    Ok(())
}

impl Config {
    /// Parses and validates configuration text; relative paths resolve against `base_dir`.
    pub fn from_toml(text: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let mut tree: toml::Value =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        expand_env(&mut tree, "")?;
        let mut cfg: Config = tree
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
        cfg.base_dir = base_dir.to_path_buf();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Loads a file, or the embedded default when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.display().to_string(),
                    source,
                })?;
                let base = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from("."));
                Config::from_toml(&text, &base)
            }
            None => Config::from_toml(EMBEDDED_DEFAULT, Path::new(".")),
        }
    }

    /// Resolves a path from the config against the config file's directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// Finds a connection by name (case-insensitive) or numeric id.
    pub fn connection(&self, name_or_id: &str) -> Option<&ConnectionConfig> {
        let key = name_or_id.trim();
        self.connections
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(key) || key.parse::<i64>().ok() == Some(c.id()))
    }

    /// Finds a user by name.
    pub fn user(&self, name: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.name == name)
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        self.server
            .listen
            .parse::<SocketAddr>()
            .map_err(|e| invalid("server.listen", format!("{e} (expected host:port)")))?;
        if self.limits.max_rows == 0 {
            return Err(invalid("limits.max_rows", "must be at least 1"));
        }
        if self.limits.timeout.is_zero() {
            return Err(invalid("limits.timeout", "must be greater than zero"));
        }
        if self.limits.schema_check.is_zero() {
            return Err(invalid("limits.schema_check", "must be greater than zero"));
        }
        if self.limits.max_tables == 0 {
            return Err(invalid("limits.max_tables", "must be at least 1"));
        }
        if self.limits.max_columns == 0 {
            return Err(invalid("limits.max_columns", "must be at least 1"));
        }
        if self.limits.max_concurrency == 0 {
            return Err(invalid("limits.max_concurrency", "must be at least 1"));
        }
        if self.llm.provider == LlmProvider::Openai && self.llm.base_url.is_none() {
            return Err(invalid(
                "llm.base_url",
                "required when provider = \"openai\" (e.g. https://api.openai.com/v1)",
            ));
        }
        if self.llm.schema_budget < 100 {
            return Err(invalid(
                "llm.schema_budget",
                "must be at least 100 tokens (one table needs about 50)",
            ));
        }
        if self.llm.history_turns > MAX_HISTORY_TURNS {
            return Err(invalid(
                "llm.history_turns",
                format!(
                    "{} is too many (at most {MAX_HISTORY_TURNS}; every turn is part of every prompt)",
                    self.llm.history_turns
                ),
            ));
        }
        if self.llm.max_reply_bytes < MIN_REPLY_BYTES {
            return Err(invalid(
                "llm.max_reply_bytes",
                format!(
                    "{} bytes is too small (at least {MIN_REPLY_BYTES}; default 1MiB)",
                    self.llm.max_reply_bytes
                ),
            ));
        }
        if self.store.path.is_some() && self.store.url.is_some() {
            return Err(invalid("store", "set either path or url, not both"));
        }
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        for (i, c) in self.connections.iter_mut().enumerate() {
            let key = format!("connections[{i}]");
            if c.name.trim().is_empty()
                || !c
                    .name
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
            {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("{:?}: use letters, digits, '_' or '-'", c.name),
                ));
            }
            if c.name.eq_ignore_ascii_case("dbguru") {
                return Err(invalid(format!("{key}.name"), "\"dbguru\" is reserved"));
            }
            if !names.insert(c.name.to_ascii_lowercase()) {
                return Err(invalid(
                    format!("{key}.name"),
                    format!("duplicate connection name {:?}", c.name),
                ));
            }
            let id = c.id.unwrap_or(i as i64 + 1);
            if !ids.insert(id) {
                return Err(invalid(format!("{key}.id"), format!("duplicate id {id}")));
            }
            c.id = Some(id);
            match c.kind {
                ConnectionKind::Sqlite | ConnectionKind::Duckdb => {
                    if c.path.is_none() {
                        return Err(invalid(
                            format!("{key}.path"),
                            format!("required for kind = \"{}\"", c.kind.name()),
                        ));
                    }
                }
                _ => {
                    if c.url.is_none() {
                        return Err(invalid(
                            format!("{key}.url"),
                            format!("required for kind = \"{}\"", c.kind.name()),
                        ));
                    }
                }
            }
            if c.max_rows == Some(0) {
                return Err(invalid(format!("{key}.max_rows"), "must be at least 1"));
            }
            if c.pool_size == 0 {
                return Err(invalid(format!("{key}.pool_size"), "must be at least 1"));
            }
        }
        let mut user_names = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            let key = format!("users[{i}]");
            if !user_names.insert(u.name.clone()) {
                return Err(invalid(format!("{key}.name"), "duplicate user"));
            }
            if matches!(u.auth_method(), AuthMethod::Cleartext | AuthMethod::Scram)
                && u.password.is_none()
                && u.scram_verifier.is_none()
            {
                return Err(invalid(
                    format!("{key}.password"),
                    "required for password authentication",
                ));
            }
            if let Some(conns) = &u.connections {
                for c in conns {
                    if self.connection(c).is_none() {
                        return Err(invalid(
                            format!("{key}.connections"),
                            format!("unknown connection {c:?}"),
                        ));
                    }
                }
            }
        }
        if self.users.is_empty() {
            return Err(invalid("users", "at least one [[users]] entry is required"));
        }
        let mut tokens = HashSet::new();
        for (i, u) in self.users.iter().enumerate() {
            if let Some(t) = &u.api_token {
                if t.expose().len() < 16 {
                    return Err(invalid(
                        format!("users[{i}].api_token"),
                        "too short (at least 16 characters)",
                    ));
                }
                if !tokens.insert(t.expose().to_string()) {
                    return Err(invalid(format!("users[{i}].api_token"), "duplicate token"));
                }
            }
        }
        self.http.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let cfg = Config::load(None).expect("embedded default parses");
        assert_eq!(cfg.connections.len(), 2);
        assert!(cfg.connection("shop").is_some());
        assert!(cfg.connection("WAREHOUSE").is_some());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::from_toml(
            "[server]\nlisten = \"127.0.0.1:1\"\nbogus = 1\n",
            Path::new("."),
        )
        .expect_err("must fail")
        .to_string();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn missing_env_names_key_and_var() {
        let text = "[[users]]\nname = \"a\"\npassword = \"${DBGURU_TEST_SURELY_UNSET}\"\n";
        let err = Config::from_toml(text, Path::new("."))
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("users[0].password"), "{err}");
        assert!(err.contains("DBGURU_TEST_SURELY_UNSET"), "{err}");
    }

    #[test]
    fn debug_prints_no_secret() {
        let text = r#"
[llm]
provider = "openai"
base_url = "https://llmuser:llm-url-secret@llm.example/v1"
api_key = "sk-api-key-secret"

[store]
url = "postgres://store:store-secret@127.0.0.1/dbguru"

[[users]]
name = "guru"
password = "user-password-secret"

[[users]]
name = "other"
scram_verifier = "SCRAM-SHA-256$4096:c2FsdA==$verifier-secret:verifier-secret2"

[[connections]]
name = "pg"
kind = "postgres"
url = "postgres://app:pg-url-secret@db.example/app?sslmode=verify-full"

[[connections]]
name = "my"
kind = "mysql"
url = "host=db user=app password=kv-secret"
"#;
        let cfg = Config::from_toml(text, Path::new(".")).expect("valid");
        let shown = format!("{cfg:?} {cfg:#?}");
        for secret in [
            "llm-url-secret",
            "sk-api-key-secret",
            "store-secret",
            "user-password-secret",
            "verifier-secret",
            "pg-url-secret",
            "kv-secret",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(shown.contains("***"));
        // The values are still there for the code that uses them.
        assert_eq!(
            cfg.llm.api_key.as_ref().map(Secret::expose),
            Some("sk-api-key-secret")
        );
        assert!(cfg.connections[0]
            .url
            .as_deref()
            .is_some_and(|u| u.contains("pg-url-secret")));
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2min"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("-1s"), None);
        assert_eq!(parse_duration("soon"), None);
    }
}
