//! Per-connection state: the chat, the active connections and the session's settings.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::config::{parse_duration, Config, UserConfig};
use crate::engine::prompt::Turn;

pub mod tx;

/// Errors from `SET`/`SHOW`/`RESET` of `dbguru.*` settings.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Not a dbguru setting.
    #[error("unrecognized configuration parameter \"{0}\" (dbguru settings: {known})", known = SETTINGS.join(", "))]
    UnknownSetting(String),
    /// A value that does not fit the setting.
    #[error("invalid value for parameter \"{name}\": {message}")]
    InvalidValue {
        /// Setting name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A connection name that does not exist.
    #[error("unknown connection \"{name}\" (known: {known})")]
    UnknownConnection {
        /// The name given.
        name: String,
        /// The names the user may use.
        known: String,
    },
    /// A connection or capability the user may not use.
    #[error("permission denied: {0}")]
    NotPermitted(String),
}

/// The `dbguru.*` settings a session knows.
pub const SETTINGS: &[&str] = &[
    "dbguru.connections",
    "dbguru.target",
    "dbguru.max_rows",
    "dbguru.timeout",
    "dbguru.show_sql",
    "dbguru.use_cache",
    "dbguru.allow_write",
    "dbguru.session",
    "dbguru.session_name",
    "dbguru.tables",
];

/// One wire session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Chat session id.
    pub chat_id: Uuid,
    /// Chat session name (from `application_name` or the first question).
    pub chat_name: Option<String>,
    /// Login user.
    pub user: String,
    /// Active connections (canonical names); `None` means every connection the user may use.
    pub connections: Option<Vec<String>>,
    /// Where plain SQL goes; `None` means the first active connection.
    pub target: Option<String>,
    /// Session row cap (never above the configured cap).
    pub max_rows: Option<usize>,
    /// Session statement timeout (never above the configured cap).
    pub timeout: Option<Duration>,
    /// Send the SQL that ran as NOTICEs.
    pub show_sql: bool,
    /// Use cached plans/results.
    pub use_cache: bool,
    /// Writes allowed (only where the user and the connection permit).
    pub allow_write: bool,
    /// Tables always sent to the LLM (`SET dbguru.tables = 'shop.orders, warehouse.*'`).
    pub tables: Vec<String>,
    /// Earlier turns, oldest first: at most `[llm] history_turns` (the store keeps all).
    pub history: History,
    /// Other run-time parameters clients set (`DateStyle`, `extra_float_digits`, ...).
    pub params: HashMap<String, String>,
    /// Parameters applied to every statement on a PostgreSQL target (`TimeZone`,
    /// `work_mem`, …): name → SQL literal, checked by the server when they were set.
    pub forwarded: std::collections::BTreeMap<String, String>,
    /// When the chat session started.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether the chat session exists in the store (after the first ASK or a resume).
    pub stored: bool,
}

fn parse_bool(name: &str, v: &str) -> Result<bool, SessionError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Ok(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Ok(false),
        other => Err(SessionError::InvalidValue {
            name: name.into(),
            message: format!("{other:?} is not a boolean (use on/off)"),
        }),
    }
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

impl Session {
    /// A fresh session for `user`.
    pub fn new(user: &str) -> Session {
        Session {
            chat_id: Uuid::new_v4(),
            chat_name: None,
            user: user.to_string(),
            connections: None,
            target: None,
            max_rows: None,
            timeout: None,
            show_sql: false,
            use_cache: true,
            allow_write: false,
            tables: Vec::new(),
            history: History::default(),
            params: HashMap::new(),
            forwarded: std::collections::BTreeMap::new(),
            created_at: chrono::Utc::now(),
            stored: false,
        }
    }

    /// Canonical names of the connections this session answers from.
    pub fn active_connections(&self, cfg: &Config, user: &UserConfig) -> Vec<String> {
        match &self.connections {
            Some(c) => c.clone(),
            None => cfg
                .connections
                .iter()
                .filter(|c| user.may_use(&c.name))
                .map(|c| c.name.clone())
                .collect(),
        }
    }

    /// Effective row cap.
    pub fn effective_max_rows(&self, cfg: &Config) -> usize {
        self.max_rows
            .unwrap_or(cfg.limits.max_rows)
            .min(cfg.limits.max_rows)
    }

    /// Effective statement timeout.
    pub fn effective_timeout(&self, cfg: &Config) -> Duration {
        self.timeout
            .unwrap_or(cfg.limits.timeout)
            .min(cfg.limits.timeout)
    }

    /// Resolves a list of connection names or ids to canonical names the user may use.
    pub fn resolve_connections(
        cfg: &Config,
        user: &UserConfig,
        list: &[String],
    ) -> Result<Vec<String>, SessionError> {
        let mut out: Vec<String> = Vec::new();
        for raw in list {
            let name = raw.trim().trim_matches('"');
            if name.is_empty() {
                continue;
            }
            let conn = cfg
                .connection(name)
                .ok_or_else(|| SessionError::UnknownConnection {
                    name: name.to_string(),
                    known: cfg
                        .connections
                        .iter()
                        .filter(|c| user.may_use(&c.name))
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            if !user.may_use(&conn.name) {
                return Err(SessionError::NotPermitted(format!(
                    "user \"{}\" may not use connection \"{}\"",
                    user.name, conn.name
                )));
            }
            if !out.contains(&conn.name) {
                out.push(conn.name.clone());
            }
        }
        Ok(out)
    }

    /// `SET name = value` for a `dbguru.*` setting (`value` already unquoted).
    pub fn set(
        &mut self,
        cfg: &Config,
        user: &UserConfig,
        name: &str,
        value: &str,
    ) -> Result<(), SessionError> {
        let lname = name.to_ascii_lowercase();
        let invalid = |m: String| SessionError::InvalidValue {
            name: lname.clone(),
            message: m,
        };
        match lname.as_str() {
            "dbguru.connections" => {
                let list: Vec<String> = value.split(',').map(str::to_string).collect();
                let resolved = Self::resolve_connections(cfg, user, &list)?;
                if resolved.is_empty() {
                    return Err(invalid(
                        "give at least one connection (RESET restores all)".into(),
                    ));
                }
                self.connections = Some(resolved);
            }
            "dbguru.target" => {
                let resolved = Self::resolve_connections(cfg, user, &[value.to_string()])?;
                self.target = resolved.into_iter().next();
            }
            "dbguru.max_rows" => {
                let n: i64 = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("{value:?} is not an integer")))?;
                if n < 1 {
                    return Err(invalid(format!(
                        "{n} is out of range (1 .. {})",
                        cfg.limits.max_rows
                    )));
                }
                let n = n as usize;
                if n > cfg.limits.max_rows {
                    return Err(invalid(format!(
                        "{n} is above the configured cap of {} ([limits] max_rows)",
                        cfg.limits.max_rows
                    )));
                }
                self.max_rows = Some(n);
            }
            "dbguru.timeout" => {
                let d = parse_duration(value)
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| {
                        invalid(format!(
                            "{value:?} is not a positive duration (e.g. '5s', '500ms')"
                        ))
                    })?;
                if d > cfg.limits.timeout {
                    return Err(invalid(format!(
                        "{d:?} is above the configured cap of {:?} ([limits] timeout)",
                        cfg.limits.timeout
                    )));
                }
                self.timeout = Some(d);
            }
            "dbguru.show_sql" => self.show_sql = parse_bool(&lname, value)?,
            "dbguru.tables" => {
                let mut list = Vec::new();
                for p in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let ok = p.split('.').count() <= 2
                        && p.split('.').all(|part| {
                            !part.is_empty()
                                && (part == "*"
                                    || part
                                        .chars()
                                        .all(|c| c.is_alphanumeric() || "_-$".contains(c)))
                        });
                    if !ok {
                        return Err(invalid(format!(
                            "{p:?} is not a table pattern (use connection.table, connection.* or table)"
                        )));
                    }
                    list.push(p.to_string());
                }
                self.tables = list;
            }
            "dbguru.use_cache" => self.use_cache = parse_bool(&lname, value)?,
            "dbguru.allow_write" => {
                let on = parse_bool(&lname, value)?;
                if on && !user.may_write {
                    return Err(SessionError::NotPermitted(format!(
                        "user \"{}\" may not write (users.may_write = false)",
                        user.name
                    )));
                }
                self.allow_write = on;
            }
            "dbguru.session" => {
                // Resuming needs the store; the wire layer loads the session and calls `resume`.
                let id = Uuid::parse_str(value.trim())
                    .map_err(|_| invalid(format!("{value:?} is not a UUID")))?;
                if id != self.chat_id {
                    return Err(invalid(format!(
                        "chat session {id} must be resumed through the store"
                    )));
                }
            }
            "dbguru.session_name" => self.chat_name = Some(value.to_string()),
            _ => return Err(SessionError::UnknownSetting(name.to_string())),
        }
        Ok(())
    }

    /// Takes over a stored chat session: its id, name, connections and history.
    pub fn resume(&mut self, cfg: &Config, user: &UserConfig, loaded: crate::store::LoadedSession) {
        let names: Vec<String> = loaded
            .session
            .connection_ids
            .iter()
            .filter_map(|id| cfg.connections.iter().find(|c| c.id() == *id))
            .filter(|c| user.may_use(&c.name))
            .map(|c| c.name.clone())
            .collect();
        self.chat_id = loaded.session.id;
        self.chat_name = loaded.session.name.clone();
        self.created_at = loaded.session.created_at;
        self.connections = if names.is_empty() { None } else { Some(names) };
        let keep = cfg.llm.history_turns;
        let skip = loaded.turns.len().saturating_sub(keep);
        self.history = History::from_turns(
            loaded
                .turns
                .into_iter()
                .skip(skip)
                .map(|(question, plan)| Turn {
                    question,
                    plan: plan
                        .into_iter()
                        .map(|(connection, sql)| crate::engine::plan::PlannedQuery {
                            connection,
                            sql,
                        })
                        .collect(),
                    summary: String::new(),
                }),
            keep,
        );
        self.stored = true;
    }

    /// The store's record of this chat session.
    pub fn record(&self, cfg: &Config, user: &UserConfig) -> crate::store::SessionRecord {
        let now = chrono::Utc::now();
        let ids = self
            .active_connections(cfg, user)
            .iter()
            .filter_map(|n| cfg.connection(n).map(|c| c.id()))
            .collect();
        crate::store::SessionRecord {
            id: self.chat_id,
            name: self.chat_name.clone(),
            owner: self.user.clone(),
            connection_ids: ids,
            created_at: self.created_at,
            updated_at: now,
            last_active_at: now,
        }
    }

    /// `RESET name` for a `dbguru.*` setting.
    pub fn reset(&mut self, name: &str) -> Result<(), SessionError> {
        match name.to_ascii_lowercase().as_str() {
            "dbguru.connections" => self.connections = None,
            "dbguru.target" => self.target = None,
            "dbguru.max_rows" => self.max_rows = None,
            "dbguru.timeout" => self.timeout = None,
            "dbguru.show_sql" => self.show_sql = false,
            "dbguru.tables" => self.tables.clear(),
            "dbguru.use_cache" => self.use_cache = true,
            "dbguru.allow_write" => self.allow_write = false,
            "dbguru.session" => {
                self.chat_id = Uuid::new_v4();
                self.history.clear();
                self.chat_name = None;
                self.created_at = chrono::Utc::now();
                self.stored = false;
            }
            "dbguru.session_name" => self.chat_name = None,
            _ => return Err(SessionError::UnknownSetting(name.to_string())),
        }
        Ok(())
    }

    /// `SHOW name` for a `dbguru.*` setting.
    pub fn show(
        &self,
        cfg: &Config,
        user: &UserConfig,
        name: &str,
    ) -> Result<String, SessionError> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "dbguru.connections" => self.active_connections(cfg, user).join(", "),
            "dbguru.target" => self.target_connection(cfg, user).unwrap_or_default(),
            "dbguru.max_rows" => self.effective_max_rows(cfg).to_string(),
            "dbguru.timeout" => format!("{}ms", self.effective_timeout(cfg).as_millis()),
            "dbguru.show_sql" => on_off(self.show_sql),
            "dbguru.tables" => self.tables.join(", "),
            "dbguru.use_cache" => on_off(self.use_cache),
            "dbguru.allow_write" => on_off(self.allow_write),
            "dbguru.session" => self.chat_id.to_string(),
            "dbguru.session_name" => self.chat_name.clone().unwrap_or_default(),
            _ => return Err(SessionError::UnknownSetting(name.to_string())),
        })
    }

    /// Where plain SQL goes: the target, else the first active connection.
    pub fn target_connection(&self, cfg: &Config, user: &UserConfig) -> Option<String> {
        self.target
            .clone()
            .or_else(|| self.active_connections(cfg, user).into_iter().next())
    }
}

/// A session's earlier turns kept in memory, oldest first, at most `keep` of them (the
/// store keeps every turn). Cloning shares the turns (the session is cloned for every
/// statement); a push copies them only while an older clone still shares them.
#[derive(Debug, Clone, Default)]
pub struct History(Arc<Vec<Turn>>);

impl History {
    /// The last `keep` of `turns`.
    pub fn from_turns(turns: impl IntoIterator<Item = Turn>, keep: usize) -> History {
        let mut v: Vec<Turn> = turns.into_iter().collect();
        let excess = v.len().saturating_sub(keep);
        v.drain(..excess);
        History(Arc::new(v))
    }

    /// Appends a turn, dropping the oldest beyond `keep` (`[llm] history_turns`).
    pub fn push(&mut self, turn: Turn, keep: usize) {
        let v = Arc::make_mut(&mut self.0);
        v.push(turn);
        let excess = v.len().saturating_sub(keep);
        v.drain(..excess);
    }

    /// Forgets every turn.
    pub fn clear(&mut self) {
        self.0 = Arc::default();
    }
}

impl std::ops::Deref for History {
    type Target = [Turn];

    fn deref(&self) -> &[Turn] {
        &self.0
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;

    fn turn(i: usize) -> Turn {
        Turn {
            question: format!("q{i}"),
            plan: vec![],
            summary: String::new(),
        }
    }

    #[test]
    fn a_session_with_100_asks_keeps_history_turns() {
        let mut s = Session::new("guru");
        let mut snapshots = Vec::new();
        for i in 0..100 {
            snapshots.push(s.clone()); // what every statement does
            s.history.push(turn(i), 6);
            assert!(s.history.len() <= 6);
        }
        let qs: Vec<&str> = s.history.iter().map(|t| t.question.as_str()).collect();
        assert_eq!(qs, ["q94", "q95", "q96", "q97", "q98", "q99"]);
        // Snapshots taken earlier still see what they saw, and hold at most 6 turns each.
        assert_eq!(snapshots[3].history.len(), 3);
        assert!(snapshots.iter().all(|c| c.history.len() <= 6));
        // A clone shares the turns rather than copying them.
        let c = s.clone();
        assert!(std::ptr::eq(c.history.as_ptr(), s.history.as_ptr()));
        s.history.push(turn(100), 0);
        assert!(s.history.is_empty());
        assert_eq!(History::from_turns((0..10).map(turn), 2).len(), 2);
    }
}
