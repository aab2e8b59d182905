//! `[http]`: the REST API and chat page listener.

use serde::Deserialize;

use super::size::byte_size;
use super::{invalid, ConfigError};

/// `[http]`: the REST API of the reference guide and the chat page. Served only when
/// `listen` is set (the embedded default sets `127.0.0.1:8000`).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address to listen on (`host:port`); absent: no HTTP listener.
    #[serde(default)]
    pub listen: Option<String>,
    /// Largest request body, in bytes (`1048576` or `"1MB"`); a larger one gets HTTP 413.
    /// Default 1 MB.
    #[serde(default = "default_max_body", with = "byte_size")]
    pub max_body: usize,
    /// Origins allowed to call the API from a browser (CORS), e.g.
    /// `["https://bi.example.com"]`; `["*"]` allows any. Default: none (no CORS headers).
    #[serde(default)]
    pub allow_origins: Vec<String>,
}

fn default_max_body() -> usize {
    1 << 20
}

impl HttpConfig {
    /// Checks the listen address and origins; errors name the key.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(l) = &self.listen {
            l.parse::<std::net::SocketAddr>()
                .map_err(|e| invalid("http.listen", format!("{e} (expected host:port)")))?;
        }
        if self.max_body == 0 {
            return Err(invalid("http.max_body", "must be at least 1 byte"));
        }
        for (i, o) in self.allow_origins.iter().enumerate() {
            let ok = o == "*"
                || ((o.starts_with("http://") || o.starts_with("https://"))
                    && !o.ends_with('/')
                    && !o.contains(char::is_whitespace));
            if !ok {
                return Err(invalid(
                    format!("http.allow_origins[{i}]"),
                    format!("{o:?}: use \"*\" or an origin like \"https://host:port\" (no path)"),
                ));
            }
        }
        Ok(())
    }
}
