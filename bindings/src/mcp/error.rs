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
    /// A per-session limit: too many clients open.
    #[error("MCP.createClient: {0}")]
    Limit(String),
    /// A stdio server was asked for, but the application does not allow it.
    #[error(
        "MCP.createClient: the stdio transport is not allowed for application '{0}' (set allow_stdio = true in its [application.mcp] config)"
    )]
    StdioForbidden(String),
    /// The application's outbound policy refuses the endpoint.
    #[error("MCP.createClient: {0}")]
    Outbound(#[from] crate::outbound::OutboundError),
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
            McpError::Limit(_) => "ERR_MCP_LIMIT",
            McpError::StdioForbidden(_) => "ERR_MCP_STDIO_FORBIDDEN",
            McpError::Outbound(_) => "ERR_MCP_OUTBOUND_FORBIDDEN",
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
                challenge: challenge_suffix(status.1),
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
        // The outbound policy refused every address the host resolved to.
        match e.downcast_ref::<crate::outbound::OutboundError>() {
            Some(crate::outbound::OutboundError::Resolve { reason, .. }) => {
                return McpError::Dns {
                    endpoint,
                    detail: reason.clone(),
                };
            }
            Some(refused) => return McpError::Outbound(refused.clone()),
            None => {}
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

/// What one failed request means for its client.
#[derive(Debug, PartialEq)]
pub(crate) enum SendFailure {
    /// The server answered this request with something unusable (an HTTP error status, a body
    /// that is not JSON-RPC, a wrong content type): this request fails, the client stays open.
    Answered {
        /// `http_status` or `bad_response`.
        code: &'static str,
        /// What the server answered.
        message: String,
    },
    /// The connection itself failed (refused, reset, closed mid-answer): the client is gone.
    Lost(String),
}

/// Sorts a request's transport error into [`SendFailure`].
pub(crate) fn classify_send_error(error: &(dyn StdError + 'static)) -> SendFailure {
    use rmcp::transport::streamable_http_client::StreamableHttpError as E;
    let text = chain(error).join(": ");
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some((status, challenge)) = http_status(e) {
            let challenge = challenge_suffix(challenge);
            return SendFailure::Answered {
                code: "http_status",
                message: format!("the MCP server answered HTTP {status}{challenge} ({text})"),
            };
        }
        if let Some(
            E::UnexpectedServerResponse(_)
            | E::ResponseBodyTooLarge { .. }
            | E::UnexpectedContentType(_)
            | E::Deserialize(_)
            | E::MissingSessionIdInResponse
            | E::ReinitializationFailed(_),
        ) = e.downcast_ref::<E<reqwest::Error>>()
        {
            return SendFailure::Answered {
                code: "bad_response",
                message: format!("the MCP server's answer is unusable: {text}"),
            };
        }
        current = cause(e);
    }
    SendFailure::Lost(text)
}

/// `; WWW-Authenticate: <challenge>` when the server sent one, for messages.
fn challenge_suffix(challenge: Option<String>) -> String {
    challenge
        .map(|c| format!("; WWW-Authenticate: {c}"))
        .unwrap_or_default()
}

/// The HTTP status (and WWW-Authenticate challenge) an error carries, if any.
fn http_status(error: &(dyn StdError + 'static)) -> Option<(u16, Option<String>)> {
    use rmcp::transport::streamable_http_client::{
        AuthRequiredError, HttpStatusError, InsufficientScopeError, StreamableHttpError,
    };
    match error.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(StreamableHttpError::HttpStatus(e)) => return Some((e.status, None)),
        Some(StreamableHttpError::SessionExpired) => return Some((404, None)),
        Some(StreamableHttpError::AuthRequired(e)) => {
            return Some((401, Some(e.www_authenticate_header.clone())));
        }
        Some(StreamableHttpError::InsufficientScope(e)) => {
            return Some((403, Some(e.www_authenticate_header.clone())));
        }
        // rmcp words a 4xx it has no variant for as "HTTP <status>: <body>".
        Some(StreamableHttpError::UnexpectedServerResponse(text)) => {
            return status_in(text).map(|status| (status, None));
        }
        _ => {}
    }
    if let Some(e) = error.downcast_ref::<HttpStatusError>() {
        return Some((e.status, None));
    }
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

/// The status in rmcp's "HTTP 404 Not Found: <body>" wording.
fn status_in(text: &str) -> Option<u16> {
    let digits = text.strip_prefix("HTTP ")?.get(..3)?;
    digits
        .parse()
        .ok()
        .filter(|status| (100..=599).contains(status))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use rmcp::transport::streamable_http_client::{HttpStatusError, StreamableHttpError};

    use super::*;

    type HttpError = StreamableHttpError<reqwest::Error>;

    fn answered(error: HttpError) -> (&'static str, String) {
        match classify_send_error(&error) {
            SendFailure::Answered { code, message } => (code, message),
            SendFailure::Lost(text) => panic!("classified as lost: {text}"),
        }
    }

    #[test]
    fn an_http_error_status_fails_one_request() {
        let (code, message) = answered(HttpError::HttpStatus(HttpStatusError::new(500, None)));
        assert_eq!(code, "http_status");
        assert!(
            message.starts_with("the MCP server answered HTTP 500"),
            "{message}"
        );
        // rmcp words the 4xx it has no variant for as "HTTP <status>: <body>".
        let (code, message) = answered(HttpError::UnexpectedServerResponse(Cow::Borrowed(
            "HTTP 405 Method Not Allowed: nope",
        )));
        assert_eq!(code, "http_status");
        assert!(
            message.contains("HTTP 405") && message.contains("nope"),
            "{message}"
        );
        assert_eq!(answered(HttpError::SessionExpired).0, "http_status");
    }

    #[test]
    fn an_unusable_body_fails_one_request() {
        let (code, message) = answered(HttpError::UnexpectedServerResponse(Cow::Borrowed(
            "expected value at line 1 column 2 in '{oops'",
        )));
        assert_eq!(code, "bad_response");
        assert!(message.contains("{oops"), "{message}");
        assert_eq!(
            answered(HttpError::UnexpectedContentType(Some("text/html".into()))).0,
            "bad_response"
        );
        assert_eq!(
            answered(HttpError::ResponseBodyTooLarge { max_size: 1 }).0,
            "bad_response"
        );
    }

    #[test]
    fn a_failed_connection_loses_the_client() {
        for error in [
            HttpError::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )),
            HttpError::UnexpectedEndOfStream,
            HttpError::TransportChannelClosed,
        ] {
            let text = error.to_string();
            assert!(
                matches!(classify_send_error(&error), SendFailure::Lost(t) if t.contains(&text)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_404_or_405_at_connect_is_an_http_status_so_the_other_transport_is_tried() {
        let error = HttpError::UnexpectedServerResponse(Cow::Borrowed("HTTP 404 Not Found: "));
        assert!(matches!(
            classify_connect_error("http://127.0.0.1:1/sse", &error),
            McpError::HttpStatus { status: 404, .. }
        ));
    }

    #[test]
    fn status_in_reads_only_rmcp_wording() {
        assert_eq!(status_in("HTTP 503 Service Unavailable: x"), Some(503));
        assert_eq!(status_in("HTTP 42"), None);
        assert_eq!(status_in("HTTP 999 nope"), None);
        assert_eq!(status_in("an HTTP 500 somewhere"), None);
    }
}
