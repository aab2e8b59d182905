//! TLS to MySQL/MariaDB: the MySQL client's `ssl-mode` and `ssl-ca` in the URL, turned
//! into mysql_async's rustls options.
//!
//! | `ssl-mode` | TLS | the server's certificate |
//! |---|---|---|
//! | `DISABLED` | never | — |
//! | `PREFERRED` (default) | when the server offers it | not checked |
//! | `REQUIRED` | always | not checked; with `ssl-ca`, as `VERIFY_CA` (like the MySQL client) |
//! | `VERIFY_CA` | always | signed by `ssl-ca` (default: the Mozilla roots) |
//! | `VERIFY_IDENTITY` | always | as `VERIFY_CA`, and issued for the host name |
//!
//! mysql_async's own URL options (`require_ssl`, `verify_ca`, `verify_identity`,
//! `built_in_roots`) still work when `ssl-mode` is absent. mysql_async has no
//! "TLS if offered" mode: `PREFERRED` is two pools, the TLS one tried first and the
//! plain one used from then on when the server has no TLS.

use std::path::PathBuf;

use mysql_async::{Opts, OptsBuilder, SslOpts};

/// The MySQL client's `--ssl-mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SslMode {
    /// No TLS.
    Disabled,
    /// TLS when the server offers it, certificate not checked.
    Preferred,
    /// TLS always, certificate not checked.
    Required,
    /// TLS always, chain checked.
    VerifyCa,
    /// TLS always, chain and host name checked.
    VerifyIdentity,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, String> {
        Ok(match value.to_ascii_uppercase().replace('-', "_").as_str() {
            "DISABLED" => SslMode::Disabled,
            "PREFERRED" => SslMode::Preferred,
            "REQUIRED" => SslMode::Required,
            "VERIFY_CA" => SslMode::VerifyCa,
            "VERIFY_IDENTITY" => SslMode::VerifyIdentity,
            _ => {
                return Err(format!(
                    "invalid ssl-mode {value:?} (use DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
                ))
            }
        })
    }
}

/// The TLS options of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TlsOptions {
    /// `ssl-mode`; `None` when the URL does not say (mysql_async's own options, else
    /// `PREFERRED`).
    pub(super) mode: Option<SslMode>,
    /// `ssl-ca`: a PEM file of trusted CA certificates.
    pub(super) ca: Option<PathBuf>,
}

/// Takes `ssl-mode` and `ssl-ca` (also spelled `ssl_mode`/`sslmode`, `ssl_ca`/`sslca`)
/// out of a `mysql://` URL; returns the rest (for mysql_async) and the options.
pub(super) fn split_options(url: &str) -> Result<(String, TlsOptions), String> {
    let mut opts = TlsOptions {
        mode: None,
        ca: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), opts));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k.to_ascii_lowercase().replace('-', "_").as_str() {
            "ssl_mode" | "sslmode" => opts.mode = Some(SslMode::parse(&percent_decode(v))?),
            "ssl_ca" | "sslca" => opts.ca = Some(PathBuf::from(percent_decode(v))),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, opts))
}

/// `%XX` sequences decoded (invalid ones kept as they are).
fn percent_decode(s: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// mysql_async's TLS options for `mode`.
fn ssl_opts(mode: SslMode, ca: Option<&PathBuf>) -> Option<SslOpts> {
    let check_chain = match mode {
        SslMode::Disabled => return None,
        SslMode::Preferred => false,
        SslMode::Required => ca.is_some(),
        SslMode::VerifyCa | SslMode::VerifyIdentity => true,
    };
    let mut ssl = SslOpts::default();
    if let Some(ca) = ca {
        ssl = ssl
            .with_root_certs(vec![ca.clone().into()])
            .with_disable_built_in_roots(true);
    }
    Some(if !check_chain {
        ssl.with_danger_accept_invalid_certs(true)
            .with_danger_skip_domain_validation(true)
    } else {
        ssl.with_danger_skip_domain_validation(mode != SslMode::VerifyIdentity)
    })
}

/// The options to connect with: `(first, fallback)`. `fallback` (plain) is used when
/// `first` (TLS) finds a server without TLS, for `PREFERRED` only.
pub(super) fn connect_opts(opts: Opts, tls: &TlsOptions) -> Result<(Opts, Option<Opts>), String> {
    if let Some(ca) = &tls.ca {
        if !ca.is_file() {
            return Err(format!("ssl-ca: cannot read {}", ca.display()));
        }
    }
    let mode = match tls.mode {
        Some(mode) => mode,
        // mysql_async's own `require_ssl=true` (and friends) decide.
        None if opts.ssl_opts().is_some() => return Ok((opts, None)),
        None => SslMode::Preferred,
    };
    let with_tls = |ssl: Option<SslOpts>| -> Opts {
        OptsBuilder::from_opts(opts.clone()).ssl_opts(ssl).into()
    };
    Ok(match mode {
        SslMode::Disabled => (with_tls(None), None),
        SslMode::Preferred => (
            with_tls(ssl_opts(mode, tls.ca.as_ref())),
            Some(with_tls(None)),
        ),
        _ => (with_tls(ssl_opts(mode, tls.ca.as_ref())), None),
    })
}

/// Whether a connection attempt failed only because the server offers no TLS.
pub(super) fn server_has_no_tls(e: &mysql_async::Error) -> bool {
    matches!(
        e,
        mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer)
    )
}

/// mysql_async builds its rustls configuration with the process-wide crypto provider;
/// several are compiled in (aws-lc-rs, ring), so one must be chosen or rustls panics.
pub(super) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn options_are_taken_out_of_the_url() {
        let (rest, o) = split_options(
            "mysql://u:p@h:3306/db?ssl-mode=verify_identity&prefer_socket=false&ssl-ca=%2Ftmp%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "mysql://u:p@h:3306/db?prefer_socket=false");
        assert_eq!(o.mode, Some(SslMode::VerifyIdentity));
        assert_eq!(o.ca, Some(PathBuf::from("/tmp/ca.pem")));
        let (rest, o) = split_options("mysql://h/db?sslmode=REQUIRED").unwrap();
        assert_eq!(rest, "mysql://h/db");
        assert_eq!(o.mode, Some(SslMode::Required));
        assert!(split_options("mysql://h/db?ssl-mode=sometimes").is_err());
    }

    #[test]
    fn modes_map_to_mysql_async() {
        let base = Opts::from_url("mysql://u@h/db").unwrap();
        let opts = |mode| TlsOptions {
            mode: Some(mode),
            ca: None,
        };
        let (first, fallback) = connect_opts(base.clone(), &opts(SslMode::Disabled)).unwrap();
        assert!(first.ssl_opts().is_none() && fallback.is_none());
        let (first, fallback) = connect_opts(base.clone(), &opts(SslMode::Preferred)).unwrap();
        assert!(first.ssl_opts().is_some_and(SslOpts::accept_invalid_certs));
        assert!(fallback.is_some_and(|f| f.ssl_opts().is_none()));
        let (first, _) = connect_opts(base.clone(), &opts(SslMode::VerifyIdentity)).unwrap();
        let ssl = first.ssl_opts().unwrap();
        assert!(!ssl.accept_invalid_certs() && !ssl.skip_domain_validation());
        let (first, _) = connect_opts(base.clone(), &opts(SslMode::VerifyCa)).unwrap();
        assert!(first.ssl_opts().unwrap().skip_domain_validation());
        // The default is PREFERRED, unless mysql_async's own options say otherwise.
        let none = TlsOptions {
            mode: None,
            ca: None,
        };
        assert!(connect_opts(base, &none).unwrap().1.is_some());
        let own = Opts::from_url("mysql://u@h/db?require_ssl=true").unwrap();
        assert!(connect_opts(own, &none).unwrap().1.is_none());
    }
}
