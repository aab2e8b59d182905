//! `[http]`: the REST API and chat page listener.

use serde::Deserialize;

use super::size::byte_size;
use super::{invalid, ConfigError};

/// `[http]`: the REST API of the reference guide and the chat page. Served only when
/// `listen` is set (the embedded default sets `127.0.0.1:8000`).
#[derive(Debug, Clone, Deserialize)]
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

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: None,
            max_body: default_max_body(),
            allow_origins: Vec::new(),
        }
    }
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

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use std::path::Path;

    #[test]
    fn http_defaults_and_errors_name_the_key() {
        let base = "[[users]]\nname = \"a\"\n";
        let c = Config::from_toml(base, Path::new(".")).expect("no [http] section");
        assert_eq!((c.http.listen.as_deref(), c.http.max_body), (None, 1 << 20));
        assert!(c.http.allow_origins.is_empty());
        let c = Config::from_toml(
            &format!("{base}[http]\nlisten = \"127.0.0.1:0\"\nmax_body = \"2MB\"\n"),
            Path::new("."),
        )
        .expect("valid [http]");
        assert_eq!(c.http.max_body, 2 << 20);
        for (bad, key) in [
            ("listen = \"nowhere\"", "http.listen"),
            ("max_body = 0", "http.max_body"),
            (
                "allow_origins = [\"bi.example.com/\"]",
                "http.allow_origins[0]",
            ),
            ("cors = true", "cors"),
        ] {
            let err = Config::from_toml(&format!("{base}[http]\n{bad}\n"), Path::new("."))
                .expect_err(bad)
                .to_string();
            assert!(err.contains(key), "{bad}: {err}");
        }
        let err = Config::from_toml(&format!("{base}api_token = \"short\"\n"), Path::new("."))
            .expect_err("short token")
            .to_string();
        assert!(err.contains("users[0].api_token"), "{err}");
    }
}
