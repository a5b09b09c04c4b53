//! The legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp 3 no longer ships, as an rmcp
//! [`Worker`]: GET the event stream, wait for the `endpoint` event, resolve it against the
//! stream's URL, POST each JSON-RPC message there (the server answers 202), and read the
//! replies and notifications from `message` events.
//!
//! The stream is not reconnected: a new stream is a new server session, so a dropped stream
//! ends the transport and the client reports it. A POST the server does not answer within the
//! client's answer timeout is given up (its request has timed out by then); POSTs still
//! running when the transport ends are aborted with it.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use eventsource_client as es;
use eventsource_client::Client as _;
use futures::{StreamExt, TryStreamExt};
use launchdarkly_sdk_transport::{ByteStream, HttpTransport, ResponseFuture, TransportError};
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::worker::{Worker, WorkerContext, WorkerQuitReason};
use tokio::task::JoinSet;
use url::Url;

use super::lifeline::Lifeline;

/// Errors of the legacy SSE transport.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    /// The transport was closed.
    #[error("the SSE transport is closed")]
    Closed,
    /// A worker task failed.
    #[error("SSE worker task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    /// The server answered the GET or a POST with an error status.
    #[error("{method} {url} answered HTTP {status}")]
    HttpStatus {
        /// GET or POST.
        method: &'static str,
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The WWW-Authenticate challenge, if any.
        challenge: Option<String>,
    },
    /// The HTTP request failed (connect, TLS, reset ...).
    #[error("HTTP request failed: {0}")]
    Http(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server broke the SSE protocol or closed the stream.
    #[error("SSE stream: {0}")]
    Stream(String),
    /// A `message` event did not hold a JSON-RPC message.
    #[error("malformed JSON-RPC message from the server: {0}")]
    Malformed(String),
}

/// An `HttpTransport` for eventsource-client over our reqwest client.
#[derive(Clone)]
struct ReqwestTransport(reqwest::Client);

impl HttpTransport for ReqwestTransport {
    fn request(&self, request: http::Request<Option<Bytes>>) -> ResponseFuture {
        let client = self.0.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut builder = client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers);
            if let Some(body) = body {
                builder = builder.body(body);
            }
            let response = crate::http_pool::on_io(builder.send())
                .await
                .map_err(|gone| TransportError::new(std::io::Error::from(gone)))?
                .map_err(TransportError::new)?;
            let status = response.status();
            let headers = response.headers().clone();
            let stream: ByteStream = Box::pin(response.bytes_stream().map_err(TransportError::new));
            let mut out = http::Response::new(stream);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

/// The legacy SSE client transport, connected: the stream is open and the server has named
/// the URL to POST to. Connecting happens before rmcp takes over, so a refused connection or
/// an HTTP error (401 with its challenge) reaches the caller as such.
pub(crate) struct LegacySse {
    stream: es::BoxStream<es::Result<es::SSE>>,
    sse_url: Url,
    post_url: Url,
    headers: BTreeMap<String, String>,
    http: reqwest::Client,
    lifeline: Lifeline,
    /// How long a POST may take to be answered.
    post_timeout: Duration,
}

impl LegacySse {
    /// Opens the event stream and waits for the `endpoint` event, which must name a URL of
    /// the stream's own origin: the configured headers (a bearer token) go wherever it says.
    pub(crate) async fn connect(
        sse_url: Url,
        headers: BTreeMap<String, String>,
        http: reqwest::Client,
        lifeline: Lifeline,
        post_timeout: Duration,
    ) -> Result<Self, SseError> {
        let mut builder = es::ClientBuilder::for_url(sse_url.as_str())
            .map_err(|e| SseError::Stream(e.to_string()))?
            .reconnect(es::ReconnectOptions::reconnect(false).build());
        for (name, value) in &headers {
            builder = builder
                .header(name, value)
                .map_err(|e| SseError::Stream(e.to_string()))?;
        }
        let client = builder.build_with_transport(ReqwestTransport(http.clone()));
        let mut stream = client.stream();
        let post_url = loop {
            match stream.next().await {
                Some(Ok(es::SSE::Event(event))) if event.event_type == "endpoint" => {
                    let target = event.data.trim();
                    let post_url = sse_url.join(target).map_err(|e| {
                        SseError::Stream(format!("endpoint event '{target}' is not a URL: {e}"))
                    })?;
                    if post_url.origin() != sse_url.origin() {
                        return Err(SseError::Stream(format!(
                            "the endpoint event names {post_url}, not a URL of {}; refusing to send requests (and their headers) there",
                            sse_url.origin().ascii_serialization()
                        )));
                    }
                    break post_url;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(stream_error(&sse_url, e)),
                None => {
                    return Err(SseError::Stream(
                        "the stream closed before the endpoint event".into(),
                    ));
                }
            }
        };
        Ok(Self {
            stream,
            sse_url,
            post_url,
            headers,
            http,
            lifeline,
            post_timeout,
        })
    }
}

fn stream_error(url: &Url, error: es::Error) -> SseError {
    match error {
        es::Error::UnexpectedResponse(response, _) => SseError::HttpStatus {
            method: "GET",
            url: url.to_string(),
            status: response.status(),
            challenge: response
                .get_header_value("www-authenticate")
                .ok()
                .flatten()
                .map(str::to_owned),
        },
        es::Error::Transport(error) => SseError::Http(Box::new(error)),
        other => SseError::Stream(other.to_string()),
    }
}

fn fatal(error: SseError, context: &'static str) -> WorkerQuitReason<SseError> {
    WorkerQuitReason::fatal(error, context)
}

impl Worker for LegacySse {
    type Error = SseError;
    type Role = RoleClient;

    fn err_closed() -> Self::Error {
        SseError::Closed
    }

    fn err_join(e: tokio::task::JoinError) -> Self::Error {
        SseError::Join(e)
    }

    async fn run(self, mut cx: WorkerContext<Self>) -> Result<(), WorkerQuitReason<Self::Error>> {
        let Self {
            mut stream,
            sse_url,
            post_url,
            headers,
            http,
            lifeline,
            post_timeout,
        } = self;
        let cancelled = cx.cancellation_token.clone();
        // POSTs run beside the stream; they end when the worker does (the set aborts them).
        let mut posts = JoinSet::new();
        loop {
            tokio::select! {
                () = cancelled.cancelled() => return Err(WorkerQuitReason::Cancelled),
                () = lifeline.ended().cancelled() => return Err(WorkerQuitReason::Cancelled),
                request = cx.recv_from_handler() => {
                    let request = request?;
                    let (http, post_url, headers) = (http.clone(), post_url.clone(), headers.clone());
                    posts.spawn(async move {
                        let result = match tokio::time::timeout(post_timeout, post(&http, &post_url, &headers, &request.message)).await {
                            Ok(result) => result,
                            Err(_) => Err(SseError::Http(Box::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                format!("no answer to the POST to {post_url} within {} s", post_timeout.as_secs_f64()),
                            )))),
                        };
                        let _ = request.responder.send(result);
                    });
                }
                Some(_) = posts.join_next(), if !posts.is_empty() => {}
                event = stream.next() => match event {
                    Some(Ok(es::SSE::Event(event))) if event.event_type == "message" => {
                        let message: RxJsonRpcMessage<RoleClient> = match serde_json::from_str(&event.data) {
                            Ok(message) => message,
                            Err(e) => {
                                let error = SseError::Malformed(format!("{} in {}", super::error::plain(&e.to_string()), preview(&event.data)));
                                lifeline.record_fault(error.to_string());
                                return Err(fatal(error, "reading a message event"));
                            }
                        };
                        cx.send_to_handler(message).await?;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(fatal(stream_error(&sse_url, e), "reading the SSE stream")),
                    None => return Err(WorkerQuitReason::TransportClosed),
                }
            }
        }
    }
}

async fn post(
    http: &reqwest::Client,
    url: &Url,
    headers: &BTreeMap<String, String>,
    message: &TxJsonRpcMessage<RoleClient>,
) -> Result<(), SseError> {
    let mut request = http.post(url.clone()).json(message);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = crate::http_pool::on_io(request.send())
        .await
        .map_err(|gone| SseError::Stream(gone.to_string()))?
        .map_err(|e| SseError::Http(Box::new(e)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    Err(SseError::HttpStatus {
        method: "POST",
        url: url.to_string(),
        status: status.as_u16(),
        challenge,
    })
}

/// The start of a long text, for error messages.
fn preview(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    if cut.len() < text.len() {
        format!("'{cut}…'")
    } else {
        format!("'{cut}'")
    }
}
