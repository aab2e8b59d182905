//! Startup and authentication: trust (loopback only), cleartext and SCRAM-SHA-256,
//! chosen per user from `[[users]]`.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use futures::sink::Sink;
use pgwire::api::auth::cleartext::CleartextPasswordAuth;
use pgwire::api::auth::driver::AuthOutcome;
use pgwire::api::auth::mechanism::{AuthMechanism, AuthMechanismFactory, AuthState};
use pgwire::api::auth::sasl::scram::{gen_salted_password, ScramAuth, ScramSecret};
use pgwire::api::auth::{
    protocol_negotiation, save_startup_parameters_to_metadata, AuthDriver, AuthSource,
    DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::ClientInfo;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::PasswordMessageFamily;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::config::{AuthMethod, Config};

const SCRAM_ITERATIONS: usize = 4096;

struct Credentials {
    password: Option<String>,
    scram: ScramSecret,
}

/// Password material for every configured user (derived once at start).
pub struct UserStore {
    users: HashMap<String, Credentials>,
}

impl Debug for UserStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserStore")
            .field("users", &self.users.len())
            .finish()
    }
}

fn clone_secret(s: &ScramSecret) -> ScramSecret {
    match s {
        ScramSecret::SaltedPassword {
            salt,
            salted_password,
        } => ScramSecret::SaltedPassword {
            salt: salt.clone(),
            salted_password: salted_password.clone(),
        },
        ScramSecret::Verifier {
            salt,
            iterations,
            stored_key,
            server_key,
        } => ScramSecret::Verifier {
            salt: salt.clone(),
            iterations: *iterations,
            stored_key: stored_key.clone(),
            server_key: server_key.clone(),
        },
    }
}

fn random_verifier() -> ScramSecret {
    ScramSecret::Verifier {
        salt: rand::random::<[u8; 16]>().to_vec(),
        iterations: SCRAM_ITERATIONS,
        stored_key: rand::random::<[u8; 32]>().to_vec(),
        server_key: rand::random::<[u8; 32]>().to_vec(),
    }
}

/// Parses `SCRAM-SHA-256$<iter>:<salt>$<stored>:<server>` (base64 parts).
pub fn parse_verifier(v: &str) -> Option<ScramSecret> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let rest = v.strip_prefix("SCRAM-SHA-256$")?;
    let (iter_salt, keys) = rest.split_once('$')?;
    let (iter, salt) = iter_salt.split_once(':')?;
    let (stored, server) = keys.split_once(':')?;
    Some(ScramSecret::Verifier {
        salt: b64.decode(salt).ok()?,
        iterations: iter.parse().ok()?,
        stored_key: b64.decode(stored).ok()?,
        server_key: b64.decode(server).ok()?,
    })
}

impl UserStore {
    /// Derives credentials for every user (SCRAM salts are random per start).
    pub fn new(cfg: &Config) -> Result<UserStore, String> {
        let mut users = HashMap::new();
        for (i, u) in cfg.users.iter().enumerate() {
            let scram = match (&u.scram_verifier, &u.password) {
                (Some(v), _) => parse_verifier(v).ok_or_else(|| {
                    format!("users[{i}].scram_verifier: not a SCRAM-SHA-256 verifier")
                })?,
                (None, Some(p)) => {
                    let salt = rand::random::<[u8; 16]>().to_vec();
                    ScramSecret::SaltedPassword {
                        salted_password: gen_salted_password(p, &salt, SCRAM_ITERATIONS),
                        salt,
                    }
                }
                (None, None) => random_verifier(),
            };
            users.insert(
                u.name.clone(),
                Credentials {
                    password: u.password.as_deref().map(str::to_owned),
                    scram,
                },
            );
        }
        Ok(UserStore { users })
    }
}

#[async_trait]
impl AuthSource for UserStore {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        match self.users.get(user).and_then(|c| c.password.as_ref()) {
            Some(p) => Ok(Password::new(None, p.as_bytes().to_vec())),
            None => Err(PgWireError::InvalidPassword(user.to_string())),
        }
    }

    async fn get_scram_secret(&self, login: &LoginInfo) -> PgWireResult<(ScramSecret, Option<()>)> {
        let user = login.user().unwrap_or_default();
        Ok(match self.users.get(user) {
            Some(c) => (clone_secret(&c.scram), None),
            // Unknown users get a random verifier: the handshake fails like a wrong password.
            None => (random_verifier(), None),
        })
    }
}

/// Trust: accepted only from loopback addresses.
struct TrustMechanism;

#[async_trait]
impl AuthMechanism for TrustMechanism {
    async fn begin(&mut self, client: &(dyn ClientInfo + Send + Sync)) -> PgWireResult<AuthState> {
        if client.socket_addr().ip().is_loopback() {
            Ok(AuthState::Ok {
                final_message: None,
                identity: None,
            })
        } else {
            Ok(AuthState::Failed(PgWireError::UserError(Box::new(
                ErrorInfo::new(
                    "FATAL".into(),
                    "28000".into(),
                    "trust authentication is only accepted from loopback addresses".into(),
                ),
            ))))
        }
    }

    async fn next(
        &mut self,
        _client: &(dyn ClientInfo + Send + Sync),
        _m: PasswordMessageFamily,
    ) -> PgWireResult<AuthState> {
        Ok(AuthState::Failed(PgWireError::InvalidStartupMessage))
    }
}

struct TrustFactory;

impl AuthMechanismFactory for TrustFactory {
    fn create(&self) -> Box<dyn AuthMechanism> {
        Box::new(TrustMechanism)
    }
}

/// The startup handler: picks the mechanism per user.
pub struct Startup {
    driver: AuthDriver<DefaultServerParameterProvider>,
    methods: HashMap<String, AuthMethod>,
    trust: Arc<dyn AuthMechanismFactory>,
    cleartext: Arc<dyn AuthMechanismFactory>,
    scram: Arc<dyn AuthMechanismFactory>,
    tls_required: bool,
}

impl Startup {
    /// Builds the handler from the configuration.
    pub fn new(
        cfg: &Config,
        driver: AuthDriver<DefaultServerParameterProvider>,
    ) -> Result<Startup, String> {
        let store = Arc::new(UserStore::new(cfg)?);
        Ok(Startup {
            driver,
            methods: cfg
                .users
                .iter()
                .map(|u| (u.name.clone(), u.auth_method()))
                .collect(),
            trust: Arc::new(TrustFactory),
            cleartext: Arc::new(CleartextPasswordAuth::new(store.clone())),
            scram: Arc::new(ScramAuth::new(store)),
            tls_required: cfg.server.tls.as_ref().is_some_and(|t| t.required),
        })
    }
}

fn fatal(code: &str, msg: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".into(), code.into(), msg)))
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                protocol_negotiation(client, startup).await?;
                save_startup_parameters_to_metadata(client, startup);
                if self.tls_required && !client.is_secure() {
                    return Err(fatal(
                        "28000",
                        "this server requires TLS (sslmode=require)".into(),
                    ));
                }
                let user = client
                    .metadata()
                    .get("user")
                    .cloned()
                    .ok_or(PgWireError::UserNameRequired)?;
                let mechanism = match self.methods.get(&user) {
                    Some(AuthMethod::Trust) => self.trust.create(),
                    Some(AuthMethod::Cleartext) => self.cleartext.create(),
                    Some(AuthMethod::Scram) | None => self.scram.create(),
                };
                if let AuthOutcome::Authenticated { final_message, .. } =
                    self.driver.begin_authentication(client, mechanism).await?
                {
                    tracing::info!(user = %user, peer = %client.socket_addr(), "client authenticated");
                    self.driver
                        .complete_authentication(client, final_message)
                        .await?;
                }
                Ok(())
            }
            PgWireFrontendMessage::PasswordMessageFamily(m) => {
                match self.driver.advance_authentication(client, m).await {
                    Ok(AuthOutcome::Authenticated { final_message, .. }) => {
                        tracing::info!(user = ?client.metadata().get("user"), peer = %client.socket_addr(), "client authenticated");
                        self.driver
                            .complete_authentication(client, final_message)
                            .await
                    }
                    Ok(AuthOutcome::InProgress) => Ok(()),
                    Err(e) => {
                        let user = client.metadata().get("user").cloned().unwrap_or_default();
                        tracing::info!(user = %user, peer = %client.socket_addr(), "authentication failed");
                        // SCRAM's last step knows no user name: name the one who logged in.
                        Err(match e {
                            PgWireError::InvalidPassword(_) => PgWireError::InvalidPassword(user),
                            other => other,
                        })
                    }
                }
            }
            _ => Ok(()),
        }
    }
}
