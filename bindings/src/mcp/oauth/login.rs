//! The interactive grant behind `dialtone mcp login` (authorization code with PKCE, RFC 8252
//! loopback redirect): ask the MCP server unauthenticated and read its 401 challenge, discover
//! its authorization server (RFC 9728, RFC 8414 / OpenID discovery), register Dialtone
//! (pre-registered client, client ID metadata document, or dynamic registration), show the
//! authorization URL, receive the browser's redirect on a loopback port, and exchange the code
//! for tokens. The result is an [`OAuthGrant`] for the host to store as a secret.

use std::sync::Arc;
use std::time::Duration;

use rmcp::transport::auth::{
    AuthorizationManager, AuthorizationRequest, AuthorizationSession, CredentialStore,
    InMemoryCredentialStore,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::{OAuthGrant, PolicyHttp, auth_error_text};

/// What `dialtone mcp login` asks for.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// The MCP endpoint.
    pub server: Url,
    /// Scopes to ask for; empty: the server's challenge or `scopes_supported` decides.
    pub scopes: Vec<String>,
    /// A client registered with the authorization server beforehand.
    pub client_id: Option<String>,
    /// Its secret, for a confidential client.
    pub client_secret: Option<String>,
    /// An https URL of Dialtone's client metadata document (used when the server accepts
    /// URL client ids).
    pub client_metadata_url: Option<String>,
    /// The name dynamic registration gives.
    pub client_name: String,
    /// Loopback port for the redirect (0: any free port).
    pub redirect_port: u16,
    /// How long to wait for the browser.
    pub timeout: Duration,
}

/// Why a login failed, for the operator.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Anything of the flow; the text says what and where.
    #[error("{0}")]
    Failed(String),
}

fn failed(what: &str) -> impl FnOnce(rmcp::transport::auth::AuthError) -> LoginError + '_ {
    move |e| LoginError::Failed(format!("{what}: {}", auth_error_text(&e)))
}

/// A login waiting for the browser: the authorization URL to open, and what finishes it.
pub struct PendingLogin {
    session: AuthorizationSession,
    tokens: InMemoryCredentialStore,
    server: Url,
    metadata: rmcp::transport::auth::AuthorizationMetadata,
    client_id: String,
    client_secret: Option<String>,
    redirect_uri: String,
    scopes: Vec<String>,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("server", &self.server.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl PendingLogin {
    /// Where to send the browser.
    pub fn authorization_url(&self) -> &str {
        self.session.get_authorization_url()
    }

    /// The `state` the redirect must carry back.
    pub fn state(&self) -> Option<String> {
        Url::parse(self.authorization_url()).ok().and_then(|url| {
            url.query_pairs()
                .find(|(k, _)| k == "state")
                .map(|(_, v)| v.into_owned())
        })
    }

    /// Exchanges the code of the browser's redirect (the whole URL it was sent to) for the
    /// grant; an `error` in it is the authorization server's refusal.
    pub async fn finish(self, redirect: &str) -> Result<OAuthGrant, LoginError> {
        if let Ok(parsed) = Url::parse(redirect) {
            let query = |key: &str| {
                parsed
                    .query_pairs()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.into_owned())
            };
            if let Some(error) = query("error") {
                let description = query("error_description").unwrap_or_default();
                return Err(LoginError::Failed(
                    format!("the authorization server refused: {error} {description}")
                        .trim_end()
                        .to_owned(),
                ));
            }
        }
        self.session
            .handle_callback_url(redirect)
            .await
            .map_err(failed("the token request"))?;
        let credentials = self
            .tokens
            .load()
            .await
            .ok()
            .flatten()
            .ok_or_else(|| LoginError::Failed("the token request gave no tokens".into()))?;
        // A grant is a secret (at most 8192 characters): of the metadata's other fields, only
        // what the token requests use.
        let mut metadata = self.metadata;
        metadata.additional_fields.retain(|name, _| {
            matches!(
                name.as_str(),
                "token_endpoint_auth_methods_supported" | "client_id_metadata_document_supported"
            )
        });
        Ok(OAuthGrant {
            server: self.server.to_string(),
            metadata,
            client_id: self.client_id,
            client_secret: self.client_secret,
            redirect_uri: self.redirect_uri,
            scopes: self.scopes,
            credentials,
        })
    }
}

/// Runs the whole grant with a loopback redirect; `show` gets the authorization URL to open
/// in a browser.
pub async fn login(
    request: LoginRequest,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
    show: impl FnOnce(&str),
) -> Result<OAuthGrant, LoginError> {
    let listener = TcpListener::bind(("127.0.0.1", request.redirect_port))
        .await
        .map_err(|e| {
            LoginError::Failed(format!(
                "cannot listen on 127.0.0.1:{} for the redirect: {e}",
                request.redirect_port
            ))
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| LoginError::Failed(e.to_string()))?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let pending = start(&request, &redirect_uri, outbound).await?;
    show(pending.authorization_url());
    let callback = tokio::time::timeout(request.timeout, redirect(&listener, port))
        .await
        .map_err(|_| {
            LoginError::Failed(format!(
                "no redirect from the browser within {} s",
                request.timeout.as_secs()
            ))
        })?;
    pending.finish(&callback).await
}

/// Discovers, registers and builds the authorization URL; the browser is sent to
/// `redirect_uri` afterwards.
pub async fn start(
    request: &LoginRequest,
    redirect_uri: &str,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<PendingLogin, LoginError> {
    let redirect_uri = redirect_uri.to_owned();
    let challenge = challenge(&request.server, outbound).await?;
    let http = PolicyHttp::new(outbound).map_err(|e| LoginError::Failed(e.to_string()))?;
    let mut manager =
        AuthorizationManager::new_with_oauth_http_client(request.server.as_str(), Arc::new(http))
            .await
            .map_err(failed("OAuth setup"))?;
    let tokens = InMemoryCredentialStore::new();
    manager.set_credential_store(tokens.clone());
    let no_login = || {
        LoginError::Failed(format!(
            "the MCP server at {} answered without asking for authorization and publishes no OAuth metadata: it needs no login",
            request.server
        ))
    };
    let metadata = match manager
        .resolve_metadata_from_challenge(challenge.as_deref())
        .await
    {
        // Without a challenge, only metadata the server publishes says it wants OAuth (not
        // rmcp's default endpoints).
        Ok(resolution) if challenge.is_none() && !resolution.source.is_discovered() => {
            return Err(no_login());
        }
        Ok(resolution) => resolution.metadata,
        // 2025-03-26 servers: no protected resource metadata, the authorization server at
        // the MCP server's own origin, whose metadata may name another issuer.
        Err(rmcp::transport::auth::AuthError::AuthorizationServerMismatch { .. }) => {
            legacy_metadata(&request.server, outbound).await?
        }
        Err(_) if challenge.is_none() => return Err(no_login()),
        Err(e) => return Err(failed("OAuth discovery")(e)),
    };
    manager.set_metadata(metadata.clone());
    let mut scopes = request.scopes.clone();
    if scopes.is_empty() {
        scopes = manager.select_initial_scopes(&[]).await;
    }
    let url_client_ids = metadata
        .additional_fields
        .get("client_id_metadata_document_supported")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let (client_id, client_secret) = match (&request.client_id, &request.client_metadata_url) {
        (Some(id), _) => (id.clone(), request.client_secret.clone()),
        (None, Some(url)) if url_client_ids => (url.clone(), None),
        _ if metadata.registration_endpoint.is_some() => {
            let scope_refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let registered = manager
                .register_client(&request.client_name, &redirect_uri, &scope_refs)
                .await
                .map_err(failed("client registration"))?;
            (registered.client_id, registered.client_secret)
        }
        _ => {
            return Err(LoginError::Failed(
                "the authorization server offers no dynamic registration: register Dialtone there \
                 (redirect URI http://127.0.0.1:PORT/callback, with --redirect-port PORT) and pass \
                 --client-id (and --client-secret)"
                    .into(),
            ));
        }
    };
    let mut authorization = AuthorizationRequest::new(&redirect_uri)
        .with_scopes(scopes.clone())
        .with_client_name(&request.client_name)
        .with_preregistered_client(&client_id);
    if let Some(secret) = &client_secret {
        authorization = authorization.with_client_secret(secret);
    }
    if let Some(challenge) = &challenge {
        authorization = authorization.with_challenge(challenge);
    }
    let session = AuthorizationSession::new(manager, authorization)
        .await
        .map_err(|(_, e)| failed("authorization")(e))?;
    Ok(PendingLogin {
        session,
        tokens,
        server: request.server.clone(),
        metadata,
        client_id,
        client_secret,
        redirect_uri,
        scopes,
    })
}

/// The WWW-Authenticate challenge of an unauthenticated `initialize`, when the server asks
/// for authorization (401); an error when it does not.
async fn challenge(
    server: &Url,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<Option<String>, LoginError> {
    let http = client(outbound)?;
    let initialize = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": { "protocolVersion": super::super::config::PROTOCOL_VERSIONS[0], "capabilities": {},
                    "clientInfo": { "name": "dialtone", "version": env!("CARGO_PKG_VERSION") } }
    });
    let response = http
        .post(server.as_str())
        .header("accept", "application/json, text/event-stream")
        .json(&initialize)
        .send()
        .await
        .map_err(|e| {
            LoginError::Failed(format!(
                "cannot reach the MCP server: {}",
                super::super::error::describe(&e)
            ))
        })?;
    // A server may let `initialize` through and ask for authorization on its methods: the
    // login then goes by its published metadata.
    if response.status().is_success() {
        return Ok(None);
    }
    Ok(response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned))
}

/// The authorization server metadata of a 2025-03-26 server, at its own origin (the spec of
/// that revision has no issuer check; the server and its authorization server are one origin).
async fn legacy_metadata(
    server: &Url,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<rmcp::transport::auth::AuthorizationMetadata, LoginError> {
    let mut url = server.clone();
    url.set_path("/.well-known/oauth-authorization-server");
    url.set_query(None);
    let http = client(outbound)?;
    let unusable = |why: String| {
        LoginError::Failed(format!(
            "OAuth discovery: the metadata at {url} is unusable: {why}"
        ))
    };
    let response = http
        .get(url.as_str())
        .send()
        .await
        .map_err(|e| unusable(super::super::error::describe(&e)))?;
    if !response.status().is_success() {
        return Err(unusable(format!("HTTP {}", response.status().as_u16())));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| unusable(super::super::error::describe(&e)))?;
    serde_json::from_slice(&body).map_err(|e| unusable(super::super::error::plain(&e.to_string())))
}

fn client(outbound: &Arc<crate::outbound::OutboundPolicy>) -> Result<reqwest::Client, LoginError> {
    super::plain_client(outbound).map_err(LoginError::Failed)
}

/// Waits for the browser's GET of `/callback` and answers it; returns the full redirect URL.
/// Other requests (a favicon) get 404.
async fn redirect(listener: &TcpListener, port: u16) -> String {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let Some(target) = request_target(&mut stream).await else {
            continue;
        };
        let url = format!("http://127.0.0.1:{port}{target}");
        let Ok(parsed) = Url::parse(&url) else {
            continue;
        };
        if parsed.path() != "/callback" {
            let _ = answer(&mut stream, "404 Not Found", "not here").await;
            continue;
        }
        let refused = parsed.query_pairs().any(|(k, _)| k == "error");
        let text = if refused {
            "Dialtone: the authorization was refused. You can close this window."
        } else {
            "Dialtone: authorized. You can close this window."
        };
        let _ = answer(&mut stream, "200 OK", text).await;
        return url;
    }
}

/// The request target of one HTTP request (at most 16 KiB of head, 10 s).
async fn request_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    (parts.next()? == "GET").then_some(())?;
    parts.next().map(str::to_owned)
}

async fn answer(stream: &mut TcpStream, status: &str, text: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    stream.write_all(response.as_bytes()).await
}
