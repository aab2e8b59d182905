//! Who is calling: HTTP Basic with the user's password (or SCRAM verifier), a per-user
//! bearer `api_token`, or — from a loopback address only — a `trust` user (the first
//! one when no credentials are sent). The same `[[users]]` as the wire.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::http::{header, HeaderMap};
use base64::Engine as _;
use pgwire::api::auth::sasl::scram::{gen_salted_password, ScramSecret};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AuthMethod, Config, UserConfig};
use crate::wire::auth::parse_verifier;

use super::error::ApiError;

/// Checks credentials against `[[users]]`.
pub struct Authenticator {
    users: Vec<UserConfig>,
    /// Digests of (user, password) pairs already checked against a SCRAM verifier, so
    /// PBKDF2 runs once per pair and not on every request.
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("users", &self.users.len())
            .finish()
    }
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn pair_digest(user: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(user.as_bytes());
    h.update([0u8]);
    h.update(password.as_bytes());
    h.finalize().into()
}

impl Authenticator {
    /// Takes the users of `config`.
    pub fn new(config: &Config) -> Authenticator {
        Authenticator {
            users: config.users.clone(),
            verified: Mutex::new(HashSet::new()),
        }
    }

    /// The user a request speaks for, or 401.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
    ) -> Result<UserConfig, ApiError> {
        let loopback = peer.ip().is_loopback();
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return self
                .users
                .iter()
                .find(|u| u.auth_method() == AuthMethod::Trust && loopback)
                .cloned()
                .ok_or_else(|| {
                    ApiError::unauthorized(
                        "authentication required: HTTP Basic with a dbguru user, or Authorization: Bearer <api_token>",
                    )
                });
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            let token = rest.trim();
            return self
                .users
                .iter()
                .find(|u| {
                    u.api_token
                        .as_ref()
                        .is_some_and(|t| ct_eq(t.expose(), token))
                })
                .cloned()
                .ok_or_else(|| ApiError::new("28P01", "invalid API token"));
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(ApiError::unauthorized(format!(
                "unsupported authorization scheme {scheme:?} (use Basic or Bearer)"
            )));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::unauthorized("malformed Basic credentials"))?;
        let (name, password) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
        let failed = || {
            ApiError::new(
                "28P01",
                format!("password authentication failed for user \"{name}\""),
            )
        };
        let user = self
            .users
            .iter()
            .find(|u| u.name == name)
            .ok_or_else(failed)?;
        match user.auth_method() {
            AuthMethod::Trust if loopback => Ok(user.clone()),
            AuthMethod::Trust => Err(ApiError::new(
                "28000",
                format!("user \"{name}\" is trusted only from loopback addresses"),
            )),
            AuthMethod::Cleartext | AuthMethod::Scram => {
                if self.password_ok(user, password) {
                    Ok(user.clone())
                } else {
                    Err(failed())
                }
            }
        }
    }

    fn password_ok(&self, user: &UserConfig, password: &str) -> bool {
        if let Some(p) = &user.password {
            return ct_eq(p.expose(), password);
        }
        let Some(v) = user.scram_verifier.as_ref().and_then(|v| parse_verifier(v)) else {
            return false;
        };
        let digest = pair_digest(&user.name, password);
        if self
            .verified
            .lock()
            .map(|s| s.contains(&digest))
            .unwrap_or(false)
        {
            return true;
        }
        let ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            ..
        } = v
        else {
            return false;
        };
        let salted = gen_salted_password(password, &salt, iterations);
        let ok = match ScramSecret::verifier_from_salted_password(salt, salted, iterations) {
            ScramSecret::Verifier { stored_key: k, .. } => bool::from(k.ct_eq(&stored_key)),
            ScramSecret::SaltedPassword { .. } => false,
        };
        if ok {
            if let Ok(mut s) = self.verified.lock() {
                s.insert(digest);
            }
        }
        ok
    }
}
