//! Errors of the MCP client. Each has a stable `code` that scenarios see on the rejected
//! `createClient` promise (`error.code`); the message says what happened and where.

use std::error::Error as StdError;

use thiserror::Error;

/// Why an MCP client could not be created or connected.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum McpError {
    /// The connection config is invalid.
    #[error("MCP.createClient: {0}")]
    Config(String),
    /// A stdio server was asked for, but the application does not allow it.
    #[error(
        "MCP.createClient: the stdio transport is not allowed for application '{0}' (set allow_stdio = true in its [application.mcp] config)"
    )]
    StdioForbidden(String),
    /// Nothing listens at the endpoint.
    #[error("MCP server {endpoint} refused the connection")]
    Refused {
        /// The endpoint.
        endpoint: String,
    },
    /// The endpoint's host name does not resolve.
    #[error("cannot resolve the host of MCP server {endpoint}: {detail}")]
    Dns {
        /// The endpoint.
        endpoint: String,
        /// The resolver's words.
        detail: String,
    },
    /// The TLS handshake failed: most often a certificate that does not chain to a trusted
    /// root or does not name the host.
    #[error("TLS with MCP server {endpoint} failed: {detail}")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// rustls's words.
        detail: String,
    },
    /// Connect and handshake did not finish within `connectTimeout`.
    #[error(
        "MCP server {endpoint} did not complete the connection within {seconds} s (connectTimeout)"
    )]
    Timeout {
        /// The endpoint.
        endpoint: String,
        /// The timeout.
        seconds: f64,
    },
    /// The server answered with an HTTP error status.
    #[error("MCP server {endpoint} answered HTTP {status}{challenge}")]
    HttpStatus {
        /// The endpoint.
        endpoint: String,
        /// The status code.
        status: u16,
        /// `; WWW-Authenticate: ...` when the server sent one.
        challenge: String,
    },
    /// The transport connected, but the MCP handshake failed.
    #[error("MCP handshake with {endpoint} failed: {detail}")]
    Handshake {
        /// The endpoint.
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
    /// A stdio server could not be started.
    #[error("cannot start the stdio MCP server '{command}': {detail}")]
    Spawn {
        /// The command.
        command: String,
        /// The OS error.
        detail: String,
    },
}

impl McpError {
    /// The stable code scenarios branch on.
    pub fn code(&self) -> &'static str {
        match self {
            McpError::Config(_) => "ERR_MCP_CONFIG",
            McpError::StdioForbidden(_) => "ERR_MCP_STDIO_FORBIDDEN",
            McpError::Refused { .. } => "ERR_MCP_REFUSED",
            McpError::Dns { .. } => "ERR_MCP_DNS",
            McpError::Tls { .. } => "ERR_MCP_TLS",
            McpError::Timeout { .. } => "ERR_MCP_TIMEOUT",
            McpError::HttpStatus { .. } => "ERR_MCP_HTTP_STATUS",
            McpError::Handshake { .. } => "ERR_MCP_HANDSHAKE",
            McpError::Spawn { .. } => "ERR_MCP_SPAWN",
        }
    }
}

/// Every message in an error's source chain, outermost first.
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        let text = e.to_string();
        if out.last() != Some(&text) {
            out.push(text);
        }
        current = cause(e);
    }
    out
}

/// The error under `error`. rmcp's streamable-HTTP client error wraps the reqwest error
/// without naming it as its source, so it is unwrapped by hand.
fn cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a (dyn StdError + 'static)> {
    use rmcp::service::ClientInitializeError;
    use rmcp::transport::streamable_http_client::StreamableHttpError;
    if let Some(StreamableHttpError::Client(inner)) =
        error.downcast_ref::<StreamableHttpError<reqwest::Error>>()
    {
        return Some(inner);
    }
    if let Some(ClientInitializeError::TransportError { error, .. }) =
        error.downcast_ref::<ClientInitializeError>()
    {
        return Some(error);
    }
    error.source()
}

/// Turns a failed connect into the error a scenario can act on: refused, DNS, TLS, HTTP
/// status (with the WWW-Authenticate challenge) or a failed handshake.
pub(crate) fn classify_connect_error(endpoint: &str, error: &(dyn StdError + 'static)) -> McpError {
    let endpoint = endpoint.to_owned();
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(status) = http_status(e) {
            return McpError::HttpStatus {
                endpoint,
                status: status.0,
                challenge: status
                    .1
                    .map(|c| format!("; WWW-Authenticate: {c}"))
                    .unwrap_or_default(),
            };
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return McpError::Refused { endpoint };
        }
        if let Some(detail) = tls_error(e) {
            return McpError::Tls { endpoint, detail };
        }
        current = cause(e);
    }
    let messages = chain(error);
    let text = messages.join(": ");
    let lower = text.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        let detail = messages.last().cloned().unwrap_or_default();
        return McpError::Dns { endpoint, detail };
    }
    if lower.contains("connection refused") {
        return McpError::Refused { endpoint };
    }
    McpError::Handshake {
        endpoint,
        detail: text,
    }
}

/// What a failed TLS handshake says, when `error` is one. A rustls error reaches us inside an
/// `io::Error` whose payload reqwest's connector has already turned into text, so past the
/// typed check it is recognised by rustls's own wording.
fn tls_error(error: &(dyn StdError + 'static)) -> Option<String> {
    const RUSTLS_WORDING: [&str; 7] = [
        "invalid peer certificate",
        "received fatal alert",
        "peer is incompatible",
        "peer misbehaved",
        "peer doesn't support any known protocol",
        "peer sent no certificates",
        "invalid certificate revocation list",
    ];
    let io = error.downcast_ref::<std::io::Error>();
    let typed = error.downcast_ref::<rustls::Error>().or_else(|| {
        io.and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    });
    if let Some(tls) = typed {
        return Some(tls.to_string());
    }
    let text = io?.to_string();
    RUSTLS_WORDING
        .iter()
        .any(|w| text.starts_with(w))
        .then_some(text)
}

/// The HTTP status (and WWW-Authenticate challenge) an error carries, if any.
fn http_status(error: &(dyn StdError + 'static)) -> Option<(u16, Option<String>)> {
    use rmcp::transport::streamable_http_client::{AuthRequiredError, InsufficientScopeError};
    if let Some(e) = error.downcast_ref::<AuthRequiredError>() {
        return Some((401, Some(e.www_authenticate_header.clone())));
    }
    if let Some(e) = error.downcast_ref::<InsufficientScopeError>() {
        return Some((403, Some(e.www_authenticate_header.clone())));
    }
    if let Some(super::sse::SseError::HttpStatus {
        status, challenge, ..
    }) = error.downcast_ref::<super::sse::SseError>()
    {
        return Some((*status, challenge.clone()));
    }
    if let Some(e) = error.downcast_ref::<reqwest::Error>() {
        return e.status().map(|s| (s.as_u16(), None));
    }
    None
}
