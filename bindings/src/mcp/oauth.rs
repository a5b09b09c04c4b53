//! OAuth 2.1 for MCP servers that ask for it (the MCP authorization spec), on rmcp's `auth`
//! feature (discovery, PKCE, registration, token requests, refresh) with Dialtone's storage:
//!
//! - `auth: {oauth: "NAME"}`: a grant made once, out of the call path, by `dialtone mcp login`
//!   ([`login`]) and kept as the application's encrypted secret NAME ([`OAuthGrant`], JSON).
//!   A session sends its access token, refreshes it before it expires and hands the refreshed
//!   grant back to the host to store ([`GrantStore`]); a grant that can no longer be refreshed
//!   ends in `auth_required`, naming the login command.
//! - `auth: {clientCredentials: "NAME"}`: machine to machine (the client-credentials
//!   extension), the secret holding [`ClientCredentials`]; a token is fetched per client.
//!
//! `http`: the HTTP client rmcp's OAuth requests go through (the application's outbound
//! policy applies to authorization servers too).

mod assertion;
mod http;
pub mod login;
mod token_requests;

use std::sync::{Arc, Mutex};

use std::time::{SystemTime, UNIX_EPOCH};

use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationMetadata, ClientCredentialsConfig,
    CredentialStore, InMemoryCredentialStore, OAuthClientConfig, OAuthTokenResponse,
    StoredCredentials,
};
use serde::{Deserialize, Serialize};
use url::Url;

use super::McpEvent;
use super::error::McpError;

pub(crate) use http::PolicyHttp;
pub(crate) use token_requests::plain_client;

/// A grant for one MCP server, as `dialtone mcp login` stores it (the secret's JSON value).
#[derive(Clone, Serialize, Deserialize)]
pub struct OAuthGrant {
    /// The MCP endpoint the grant is for; its tokens go to no other.
    pub server: String,
    /// The authorization server's metadata, as discovered at login.
    pub metadata: AuthorizationMetadata,
    /// The client's registration: pre-registered, by metadata document URL, or dynamic.
    pub client_id: String,
    /// For a confidential client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Where the authorization server sent the browser at login.
    pub redirect_uri: String,
    /// The scopes asked for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The tokens (access, refresh, expiry).
    pub credentials: StoredCredentials,
}

impl std::fmt::Debug for OAuthGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthGrant")
            .field("server", &self.server)
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Machine-to-machine credentials (the secret's JSON value for `clientCredentials`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCredentials {
    /// The client's id at the authorization server.
    pub client_id: String,
    /// `client_secret_basic` / `client_secret_post`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `private_key_jwt`: the client's PKCS#8 PEM key.
    #[serde(default)]
    pub private_key_pem: Option<String>,
    /// For `private_key_jwt`: ES256 (default), ES384 or RS256.
    #[serde(default)]
    pub signing_algorithm: Option<String>,
    /// Scopes to ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Enterprise-managed authorization (SEP-990): a user's identity token from the company IdP,
/// exchanged there for an ID-JAG that the MCP server's authorization server accepts (the
/// secret's JSON value for `enterprise`).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseCredentials {
    /// Dialtone's client id at the MCP server's authorization server.
    pub client_id: String,
    /// Its secret there (client_secret_basic).
    pub client_secret: String,
    /// The IdP's token endpoint.
    pub idp_token_endpoint: String,
    /// Dialtone's client id at the IdP.
    pub idp_client_id: String,
    /// The user's identity token from the IdP.
    pub idp_id_token: String,
    /// Scopes to ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// How a client authorizes, read from `auth` and the application's secrets.
#[derive(Clone)]
pub(crate) enum AuthSettings {
    Grant {
        name: String,
        grant: Box<OAuthGrant>,
        /// The command that makes the grant again.
        login: String,
    },
    ClientCredentials {
        name: String,
        credentials: ClientCredentials,
    },
    Enterprise {
        name: String,
        credentials: EnterpriseCredentials,
    },
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthSettings::Grant { name, .. } => write!(f, "oauth grant '{name}'"),
            AuthSettings::ClientCredentials { name, .. } => {
                write!(f, "client credentials '{name}'")
            }
            AuthSettings::Enterprise { name, .. } => write!(f, "enterprise credentials '{name}'"),
        }
    }
}

impl AuthSettings {
    /// Reads `auth` (`{oauth: NAME}` or `{clientCredentials: NAME}`) with the secret it names.
    pub(crate) fn read(
        auth: &serde_json::Value,
        application: &str,
        endpoint: Option<&Url>,
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, McpError> {
        let shape = || {
            McpError::Config(
                "auth must be {oauth: \"SECRET_NAME\"}, {clientCredentials: \"SECRET_NAME\"} or {enterprise: \"SECRET_NAME\"}"
                    .into(),
            )
        };
        let map = auth
            .as_object()
            .filter(|m| m.len() == 1)
            .ok_or_else(shape)?;
        let (kind, name) = map.iter().next().ok_or_else(shape)?;
        let name = name.as_str().filter(|n| !n.is_empty()).ok_or_else(shape)?;
        if !matches!(kind.as_str(), "oauth" | "clientCredentials" | "enterprise") {
            return Err(shape());
        }
        let Some(endpoint) = endpoint else {
            return Err(McpError::Config(
                "auth needs the \"http\" transport (OAuth protects HTTP servers)".into(),
            ));
        };
        let login = login_command(application, name, endpoint.as_str());
        let value = secret(name).ok_or_else(|| {
            McpError::Config(match kind.as_str() {
                "oauth" => format!(
                    "auth.oauth: application '{application}' has no secret '{name}'; make the grant with `{login}`"
                ),
                _ => format!("auth.{kind}: application '{application}' has no secret '{name}'"),
            })
        })?;
        match kind.as_str() {
            "oauth" => {
                let grant: OAuthGrant = serde_json::from_str(&value).map_err(|_| {
                    McpError::Config(format!(
                        "auth.oauth: secret '{name}' is not a grant made by `dialtone mcp login`; make one with `{login}`"
                    ))
                })?;
                if !same_server(&grant.server, endpoint) {
                    return Err(McpError::Config(format!(
                        "auth.oauth: the grant in secret '{name}' is for {}, not {endpoint}; its tokens go to no other server",
                        grant.server
                    )));
                }
                Ok(Self::Grant {
                    name: name.to_owned(),
                    grant: Box::new(grant),
                    login,
                })
            }
            "clientCredentials" => {
                let credentials: ClientCredentials = serde_json::from_str(&value).map_err(|_| {
                    McpError::Config(format!(
                        "auth.clientCredentials: secret '{name}' must be JSON {{\"client_id\": ..., \"client_secret\" or \"private_key_pem\": ..., \"scopes\": [...]}}"
                    ))
                })?;
                if credentials.client_secret.is_none() == credentials.private_key_pem.is_none() {
                    return Err(McpError::Config(format!(
                        "auth.clientCredentials: secret '{name}' needs one of client_secret and private_key_pem"
                    )));
                }
                Ok(Self::ClientCredentials {
                    name: name.to_owned(),
                    credentials,
                })
            }
            "enterprise" => {
                let credentials = serde_json::from_str(&value).map_err(|_| {
                    McpError::Config(format!(
                        "auth.enterprise: secret '{name}' must be JSON {{\"client_id\", \"client_secret\", \"idp_token_endpoint\", \"idp_client_id\", \"idp_id_token\", \"scopes\"}}"
                    ))
                })?;
                Ok(Self::Enterprise {
                    name: name.to_owned(),
                    credentials,
                })
            }
            _ => Err(shape()),
        }
    }

    /// What a scenario author does when the server refuses the authorization; `challenge`
    /// is the server's WWW-Authenticate, whose `scope` (a step-up) the new grant asks for.
    pub(crate) fn remedy(&self, challenge: &str) -> String {
        match self {
            AuthSettings::Grant { name, login, .. } => {
                let scopes = challenge_scope(challenge)
                    .map(|scope| {
                        scope
                            .split_whitespace()
                            .map(|s| format!(" --scope {s}"))
                            .collect::<String>()
                    })
                    .unwrap_or_default();
                let what = if challenge.contains("insufficient_scope") {
                    "lacks a scope the server asks for"
                } else {
                    "is no longer accepted"
                };
                format!("the grant in secret '{name}' {what}; make it again with `{login}{scopes}`")
            }
            AuthSettings::ClientCredentials { name, .. } => {
                format!("the client credentials in secret '{name}' were refused")
            }
            AuthSettings::Enterprise { name, .. } => format!(
                "the enterprise credentials in secret '{name}' were refused (has the identity token expired?)"
            ),
        }
    }
}

/// The `scope` of a WWW-Authenticate challenge.
fn challenge_scope(challenge: &str) -> Option<&str> {
    let start = challenge.find("scope=\"")? + "scope=\"".len();
    let len = challenge[start..].find('"')?;
    Some(&challenge[start..start + len]).filter(|s| !s.is_empty())
}

/// `dialtone mcp login APP NAME URL`.
pub fn login_command(application: &str, name: &str, server: &str) -> String {
    format!("dialtone mcp login {application} {name} {server}")
}

/// Whether a grant made for `server` may be used at `endpoint`.
fn same_server(server: &str, endpoint: &Url) -> bool {
    Url::parse(server).is_ok_and(|s| {
        s.origin() == endpoint.origin()
            && s.path().trim_end_matches('/') == endpoint.path().trim_end_matches('/')
    })
}

/// An OAuth failure in words (rmcp's own words are for Rust programmers).
pub(crate) fn auth_error_text(error: &AuthError) -> String {
    use AuthError as A;
    let plain = |text: &str| super::error::plain(text);
    match error {
        A::AuthorizationRequired | A::TokenExpired => "the grant has expired".into(),
        A::TokenRefreshRejected(why) => {
            format!(
                "the authorization server refused to refresh the grant ({})",
                plain(why)
            )
        }
        A::TokenRefreshFailed(why) => format!("refreshing the token failed: {}", plain(why)),
        A::TokenExchangeFailed(why) => format!("the token request failed: {}", plain(why)),
        A::DiscoveryRequestFailed { url, source } => {
            format!(
                "OAuth discovery failed at {url}: {}",
                plain(&source.to_string())
            )
        }
        A::NoAuthorizationSupport => {
            "the MCP server publishes no OAuth metadata (no authorization server found)".into()
        }
        A::PkceUnsupported => {
            "the authorization server does not support PKCE with S256, which OAuth 2.1 requires"
                .into()
        }
        A::InsufficientScope { required_scope, .. } => {
            format!("the MCP server wants scope '{required_scope}', which the grant lacks")
        }
        A::HttpError(e) => super::error::describe(e),
        other => plain(&other.to_string()),
    }
}

/// Keeps a session's copy of a grant; a refreshed grant goes to the host to store.
struct GrantStore {
    name: String,
    grant: Arc<Mutex<OAuthGrant>>,
    events: crate::host::ShedSender<McpEvent>,
}

#[async_trait::async_trait]
impl CredentialStore for GrantStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        let grant = self
            .grant
            .lock()
            .map_err(|_| AuthError::CredentialStoreError("grant lock poisoned".into()))?;
        Ok(Some(grant.credentials.clone()))
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        let value = {
            let mut grant = self
                .grant
                .lock()
                .map_err(|_| AuthError::CredentialStoreError("grant lock poisoned".into()))?;
            grant.credentials = credentials;
            serde_json::to_string(&*grant)
                .map_err(|e| AuthError::CredentialStoreError(e.to_string()))?
        };
        let _ = self.events.send(McpEvent::GrantRefreshed {
            name: self.name.clone(),
            value,
        });
        Ok(())
    }

    async fn clear(&self) -> Result<(), AuthError> {
        if let Ok(mut grant) = self.grant.lock() {
            grant.credentials.token_response = None;
        }
        Ok(())
    }
}

/// The authorization manager one client's requests take their tokens from.
pub(crate) async fn manager(
    auth: &AuthSettings,
    endpoint: &Url,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
    events: crate::host::ShedSender<McpEvent>,
) -> Result<AuthorizationManager, AuthError> {
    let http =
        Arc::new(PolicyHttp::new(outbound).map_err(|e| AuthError::InternalError(e.to_string()))?);
    let mut manager =
        AuthorizationManager::new_with_oauth_http_client(endpoint.as_str(), http).await?;
    match auth {
        AuthSettings::Grant { name, grant, .. } => {
            manager.set_metadata(grant.metadata.clone());
            let mut config = OAuthClientConfig::new(&grant.client_id, &grant.redirect_uri)
                .with_scopes(grant.scopes.clone());
            if let Some(secret) = &grant.client_secret {
                config = config.with_client_secret(secret);
            }
            manager.configure_client(config)?;
            manager.set_credential_store(GrantStore {
                name: name.clone(),
                grant: Arc::new(Mutex::new((**grant).clone())),
                events,
            });
        }
        AuthSettings::ClientCredentials { credentials, .. }
            if credentials.private_key_pem.is_some() =>
        {
            let metadata = discover(&mut manager).await?;
            let token =
                token_requests::jwt_token(credentials, &metadata, endpoint, outbound).await?;
            keep_token(
                &mut manager,
                &credentials.client_id,
                token,
                &credentials.scopes,
            )
            .await?;
        }
        AuthSettings::Enterprise { credentials, .. } => {
            let metadata = discover(&mut manager).await?;
            let token =
                token_requests::enterprise_token(credentials, &metadata, endpoint, outbound)
                    .await?;
            keep_token(
                &mut manager,
                &credentials.client_id,
                token,
                &credentials.scopes,
            )
            .await?;
        }
        AuthSettings::ClientCredentials { credentials, .. } => {
            discover(&mut manager).await?;
            let config = ClientCredentialsConfig::ClientSecret {
                client_id: credentials.client_id.clone(),
                client_secret: credentials.client_secret.clone().unwrap_or_default(),
                scopes: credentials.scopes.clone(),
                resource: Some(endpoint.to_string()),
            };
            manager.validate_client_credentials_metadata(&config)?;
            manager.configure_client_credentials(&config)?;
            manager.exchange_client_credentials(&config).await?;
        }
    }
    Ok(manager)
}

/// The authorization server's metadata, found from the MCP server and kept by `manager`.
async fn discover(manager: &mut AuthorizationManager) -> Result<AuthorizationMetadata, AuthError> {
    let metadata = manager.resolve_metadata().await?.metadata;
    manager.set_metadata(metadata.clone());
    Ok(metadata)
}

/// Gives `manager` a token fetched outside it (no refresh token: a new call fetches anew).
async fn keep_token(
    manager: &mut AuthorizationManager,
    client_id: &str,
    token: OAuthTokenResponse,
    scopes: &[String],
) -> Result<(), AuthError> {
    let tokens = InMemoryCredentialStore::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .ok();
    tokens
        .save(StoredCredentials::new(
            client_id.to_owned(),
            Some(token),
            scopes.to_vec(),
            now,
        ))
        .await?;
    manager.set_credential_store(tokens);
    Ok(())
}
