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
    /// The server wants a (new) authorization: the grant expired or was revoked.
    #[error("MCP server {endpoint} needs a new authorization: {detail}")]
    AuthRequired {
        /// The endpoint.
        endpoint: String,
        /// What to do, naming the login command.
        detail: String,
    },
    /// OAuth failed (discovery, the token request, the client credentials).
    #[error("OAuth with MCP server {endpoint} failed: {detail}")]
    Auth {
        /// The endpoint.
        endpoint: String,
        /// What failed.
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
            McpError::AuthRequired { .. } => "ERR_MCP_AUTH_REQUIRED",
            McpError::Auth { .. } => "ERR_MCP_AUTH",
        }
    }
}

/// What went wrong, in a scenario author's words: each error of the source chain that adds
/// something, outermost first, down to the first one we can say in our own words
/// ([`known`]); wrappers that only repeat what is under them are left out, and what is left
/// is in [`plain`] words.
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(text) = known(e) {
            parts.push(text);
            break;
        }
        let text = plain(&e.to_string());
        let inner = cause(e).map(|i| plain(&i.to_string()).to_ascii_lowercase());
        let wraps = inner
            .as_ref()
            .is_some_and(|i| !i.is_empty() && text.to_ascii_lowercase().contains(i.as_str()));
        // hyper's "client error (Connect)" names its own error kind, nothing more.
        let kind_only = text.starts_with("client error (") && text.ends_with(')');
        if !wraps && !kind_only && !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        current = cause(e);
    }
    parts.join(": ")
}

/// The errors we say in our own words rather than theirs.
fn known(error: &(dyn StdError + 'static)) -> Option<String> {
    use rmcp::service::ClientInitializeError as Init;
    use rmcp::transport::streamable_http_client::StreamableHttpError as Http;
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        return Some(
            match io.kind() {
                K::ConnectionRefused => "connection refused",
                K::ConnectionReset => "the connection was reset",
                K::ConnectionAborted | K::BrokenPipe => "the connection was closed",
                K::UnexpectedEof => "the connection closed in the middle of an answer",
                K::TimedOut => "timed out",
                _ => return None,
            }
            .to_owned(),
        );
    }
    let not_json_rpc = |detail: &str| format!("the MCP server's answer is not JSON-RPC: {detail}");
    if let Some(http) = error.downcast_ref::<Http<reqwest::Error>>() {
        return match http {
            Http::UnexpectedContentType(content_type) => Some(format!(
                "the MCP server answered with {}, not application/json or text/event-stream",
                content_type
                    .as_deref()
                    .map_or("no content type".to_owned(), |c| format!(
                        "content type {c}"
                    ))
            )),
            Http::UnexpectedServerResponse(text) if status_in(text).is_none() => {
                let detail = text
                    .strip_prefix("could not parse JSON response as ServerJsonRpcMessage: ")
                    .unwrap_or(text);
                Some(not_json_rpc(&plain(detail)))
            }
            Http::Deserialize(e) => Some(not_json_rpc(&plain(&e.to_string()))),
            Http::UnexpectedEndOfStream => {
                Some("the MCP server ended its event stream in the middle of an answer".into())
            }
            Http::TransportChannelClosed => Some("the connection to the MCP server closed".into()),
            _ => None,
        };
    }
    if let Some(init) = error.downcast_ref::<Init>() {
        return match init {
            Init::ExpectedInitResponse(_) | Init::ExpectedInitResult(_) => {
                Some("the MCP server did not answer initialize with an initialize result".into())
            }
            Init::ConnectionClosed(_) => {
                Some("the MCP server closed the connection during the handshake".into())
            }
            Init::JsonRpcError(data) => Some(format!(
                "the MCP server refused initialize: {}",
                data.message
            )),
            Init::NoCompatibleProtocolVersion {
                server_supported, ..
            } => Some(format!(
                "the MCP server speaks no protocol revision Dialtone speaks (it offers {})",
                serde_json::to_string(server_supported).unwrap_or_default()
            )),
            _ => None,
        };
    }
    None
}

/// `text` for a scenario author: without the Rust type names rmcp puts in brackets
/// (`Transport [rmcp::transport::worker::WorkerTransport<...>] error`), serde's positions
/// (`at line 1 column 74`) and its Rust type words (`expected usize`).
pub(crate) fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        // The bracketed part, with nested brackets.
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in from.char_indices() {
            match c {
                '[' => depth += 1,
                ']' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        match end {
            Some(end) if from[..end].contains("::") => {
                rest = &from[end + 1..];
                if out.ends_with(' ') && rest.starts_with(' ') {
                    rest = &rest[1..];
                }
            }
            Some(end) => {
                out.push_str(&from[..=end]);
                rest = &from[end + 1..];
            }
            None => {
                out.push_str(from);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let mut text = out;
    while let Some(at) = text.find(" at line ") {
        let tail = &text[at + " at line ".len()..];
        let digits = tail.chars().take_while(char::is_ascii_digit).count();
        let Some(after_column) = tail[digits..].strip_prefix(" column ") else {
            break;
        };
        let column = after_column
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        if digits == 0 || column == 0 {
            break;
        }
        let cut = at + " at line ".len() + digits + " column ".len() + column;
        text.replace_range(at..cut, "");
    }
    for (rust, words) in [
        ("expected usize", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u16", "expected a non-negative integer"),
        ("expected u8", "expected a non-negative integer"),
        ("expected i64", "expected an integer"),
        ("expected i32", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected f32", "expected a number"),
        ("expected a map", "expected an object"),
        ("expected a sequence", "expected an array"),
        ("expected struct ", "expected "),
        ("expected enum ", "expected "),
    ] {
        text = text.replace(rust, words);
    }
    let mut text = text.replace('`', "'");
    while let Some(at) = text.find(" (os error ") {
        let Some(close) = text[at..].find(')') else {
            break;
        };
        text.replace_range(at..at + close + 1, "");
    }
    while text.contains("Transport error: Transport error: ") {
        text = text.replace("Transport error: Transport error: ", "Transport error: ");
    }
    text
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
    let text = describe(error);
    let lower = text.to_ascii_lowercase();
    if lower.contains("dns error")
        || lower.contains("failed to lookup address")
        || lower.contains("name or service not known")
    {
        let detail = text.rsplit(": ").next().unwrap_or_default().to_owned();
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
        /// The HTTP status, for `http_status`.
        status: Option<u16>,
    },
    /// The connection itself failed (refused, reset, closed mid-answer): the client is gone.
    Lost(String),
}

/// Sorts a request's transport error into [`SendFailure`].
pub(crate) fn classify_send_error(error: &(dyn StdError + 'static)) -> SendFailure {
    use rmcp::transport::streamable_http_client::StreamableHttpError as E;
    let text = describe(error);
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some((status, challenge)) = http_status(e) {
            let challenge = challenge_suffix(challenge);
            // rmcp's "HTTP 405 Method Not Allowed: <body>" carries the server's words.
            let said = match e.downcast_ref::<E<reqwest::Error>>() {
                Some(E::UnexpectedServerResponse(said)) => plain(said),
                _ => format!("HTTP {status}"),
            };
            return SendFailure::Answered {
                code: "http_status",
                message: format!("the MCP server answered {said}{challenge}"),
                status: Some(status),
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
                message: text,
                status: None,
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
            SendFailure::Answered { code, message, .. } => (code, message),
            SendFailure::Lost(text) => panic!("classified as lost: {text}"),
        }
    }

    #[test]
    fn an_http_error_status_fails_one_request() {
        let (code, message) = answered(HttpError::HttpStatus(HttpStatusError::new(500, None)));
        assert_eq!(code, "http_status");
        assert_eq!(message, "the MCP server answered HTTP 500");
        // rmcp words the 4xx it has no variant for as "HTTP <status>: <body>".
        let (code, message) = answered(HttpError::UnexpectedServerResponse(Cow::Borrowed(
            "HTTP 405 Method Not Allowed: nope",
        )));
        assert_eq!(code, "http_status");
        assert_eq!(
            message,
            "the MCP server answered HTTP 405 Method Not Allowed: nope"
        );
        assert_eq!(answered(HttpError::SessionExpired).0, "http_status");
    }

    #[test]
    fn an_unusable_body_fails_one_request() {
        let (code, message) = answered(HttpError::UnexpectedServerResponse(Cow::Borrowed(
            "could not parse JSON response as ServerJsonRpcMessage: expected value at line 1 column 2: {oops",
        )));
        assert_eq!(code, "bad_response");
        assert_eq!(
            message,
            "the MCP server's answer is not JSON-RPC: expected value: {oops"
        );
        assert_eq!(
            answered(HttpError::UnexpectedContentType(Some("text/html".into()))),
            (
                "bad_response",
                "the MCP server answered with content type text/html, not application/json or text/event-stream".to_owned()
            )
        );
        assert_eq!(
            answered(HttpError::ResponseBodyTooLarge { max_size: 1 }).0,
            "bad_response"
        );
    }

    #[test]
    fn a_failed_connection_loses_the_client() {
        for (error, says) in [
            (
                HttpError::Io(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                )),
                "the connection was reset",
            ),
            (
                HttpError::UnexpectedEndOfStream,
                "the MCP server ended its event stream in the middle of an answer",
            ),
            (
                HttpError::TransportChannelClosed,
                "the connection to the MCP server closed",
            ),
        ] {
            assert_eq!(classify_send_error(&error), SendFailure::Lost(says.into()));
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
    fn plain_words_drop_rust_internals() {
        assert_eq!(
            plain(
                "Transport [rmcp::transport::worker::WorkerTransport<rmcp::transport::streamable_http_client::StreamableHttpClientWorker<dialtone_bindings::mcp::http::BoundedHttp>>] error: connection reset"
            ),
            "Transport error: connection reset"
        );
        assert_eq!(
            plain("invalid value: integer `-1`, expected usize at line 1 column 74"),
            "invalid value: integer '-1', expected a non-negative integer"
        );
        assert_eq!(
            plain("invalid type: string \"x\", expected a map at line 3 column 9 in [1, 2]"),
            "invalid type: string \"x\", expected an object in [1, 2]"
        );
        let nested = std::io::Error::other(
            "Transport [rmcp::X<[u8]>] error: Transport [rmcp::Y] error: the server went away",
        );
        assert_eq!(describe(&nested), "Transport error: the server went away");
    }

    #[test]
    fn status_in_reads_only_rmcp_wording() {
        assert_eq!(status_in("HTTP 503 Service Unavailable: x"), Some(503));
        assert_eq!(status_in("HTTP 42"), None);
        assert_eq!(status_in("HTTP 999 nope"), None);
        assert_eq!(status_in("an HTTP 500 somewhere"), None);
    }
}
