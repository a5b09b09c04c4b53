//! One MCP client: a task on its session's worker runtime that connects, then runs the scenario's requests
//! concurrently on the wire and reports their results **in request order**; it cancels what is
//! in flight (`notifications/cancelled`) and closes the transport (DELETE of the streamable
//! HTTP session) when the scenario closes it or the session ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesOrdered, StreamExt};
use rmcp::ServiceExt;
use rmcp::model::{CancelledNotificationParam, ClientRequest, RequestId};
use rmcp::service::{Peer, PeerRequestOptions, RoleClient, RunningService, ServiceError};
use rmcp::transport::auth::AuthClient;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::McpEvent;
use super::config::{ClientSettings, Target};
use super::error::{McpError, SendFailure, classify_connect_error, classify_send_error, plain};
use super::handler::{Handler, ProgressRoutes};
use super::http::{BoundedHttp, Reconnect};
use super::lifeline::Lifeline;
use super::oauth::AuthSettings;
use super::sse::LegacySse;

/// Most pages `{all: true}` walks before it stops.
const MAX_PAGES: usize = 64;
/// How long closing may take (cancel notifications, DELETE) before the client gives up.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// What a scenario asks of a client.
#[derive(Debug)]
pub(crate) enum Command {
    /// One request; exactly one result event answers it.
    Request {
        id: u64,
        kind: RequestKind,
        params: Value,
    },
    /// `client.close()`.
    Close,
}

/// The requests a scenario can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    ListTools,
    CallTool,
    ListResources,
    ReadResource,
    ListPrompts,
    GetPrompt,
}

impl RequestKind {
    pub(crate) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "listTools" => Self::ListTools,
            "callTool" => Self::CallTool,
            "listResources" => Self::ListResources,
            "readResource" => Self::ReadResource,
            "listPrompts" => Self::ListPrompts,
            "getPrompt" => Self::GetPrompt,
            _ => return None,
        })
    }

    /// The JSON-RPC method.
    pub(crate) fn method(self) -> &'static str {
        match self {
            Self::ListTools => "tools/list",
            Self::CallTool => "tools/call",
            Self::ListResources => "resources/list",
            Self::ReadResource => "resources/read",
            Self::ListPrompts => "prompts/list",
            Self::GetPrompt => "prompts/get",
        }
    }

    /// The rmcp request with these parameters. Reads the one request type `self` names
    /// rather than `ClientRequest`, which would try each of its variants in turn.
    fn request(self, params: Value) -> Result<ClientRequest, serde_json::Error> {
        fn typed<T: DeserializeOwned>(
            method: &str,
            params: Value,
            wrap: fn(T) -> ClientRequest,
        ) -> Result<ClientRequest, serde_json::Error> {
            serde_json::from_value(json!({ "method": method, "params": params })).map(wrap)
        }
        let method = self.method();
        match self {
            Self::ListTools => typed(method, params, ClientRequest::ListToolsRequest),
            Self::CallTool => typed(method, params, ClientRequest::CallToolRequest),
            Self::ListResources => typed(method, params, ClientRequest::ListResourcesRequest),
            Self::ReadResource => typed(method, params, ClientRequest::ReadResourceRequest),
            Self::ListPrompts => typed(method, params, ClientRequest::ListPromptsRequest),
            Self::GetPrompt => typed(method, params, ClientRequest::GetPromptRequest),
        }
    }

    /// The result event.
    fn event(self) -> &'static str {
        match self {
            Self::ListTools => "ToolsList",
            Self::CallTool => "ToolResult",
            Self::ListResources => "ResourcesList",
            Self::ReadResource => "ResourceContent",
            Self::ListPrompts => "PromptsList",
            Self::GetPrompt => "PromptResult",
        }
    }

    /// For list requests: the result field holding the page's items.
    fn items(self) -> Option<&'static str> {
        match self {
            Self::ListTools => Some("tools"),
            Self::ListResources => Some("resources"),
            Self::ListPrompts => Some("prompts"),
            _ => None,
        }
    }
}

/// A finished request, ready to report.
struct Outcome {
    event: McpEvent,
    /// Set when the transport failed under this request: the client is dead.
    transport_failure: Option<(u16, String)>,
}

/// The process's HTTP client for `outbound`'s applications ([`crate::http_pool`]).
pub(crate) fn http_client(
    outbound: &std::sync::Arc<crate::outbound::OutboundPolicy>,
) -> Result<reqwest::Client, McpError> {
    crate::http_pool::client(outbound, None).map_err(|e| McpError::Config(e.to_string()))
}

/// The process's TLS client settings ([`crate::tls::client_config`]).
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, McpError> {
    crate::tls::client_config().map_err(|e| McpError::Config(format!("cannot set up TLS: {e}")))
}

/// Connects with the configured transport. An endpoint that turns out to speak the other HTTP
/// transport (the legacy SSE GET answered 400/404/405/406, or the streamable POST answered
/// 404/405) is retried with it, so one scenario works against both kinds of server; the
/// transport actually used is reported in `ConnectorInformation`.
async fn connect(
    handler: Handler,
    settings: &ClientSettings,
    http: &reqwest::Client,
    lifeline: &Lifeline,
    oauth: &OAuthPlace,
) -> Result<(RunningService<RoleClient, Handler>, &'static str), McpError> {
    let wrong_transport = |e: &McpError, statuses: &[u16]| matches!(e, McpError::HttpStatus { status, .. } if statuses.contains(status));
    let oauth = Some(oauth);
    // The other HTTP transport, and the statuses of the first try that send the client there.
    let other: Option<(Target, &[u16])> = match &settings.target {
        Target::Http(url) if settings.auth.is_none() => {
            Some((Target::Sse(url.clone()), &[404, 405]))
        }
        Target::Sse(url) => Some((Target::Http(url.clone()), &[400, 404, 405, 406])),
        _ => None,
    };
    let first = connect_to(
        handler.clone(),
        &settings.target,
        settings,
        http,
        lifeline,
        oauth,
    )
    .await;
    match (first, other) {
        (Err(e), Some((other, statuses))) if wrong_transport(&e, statuses) => {
            let service = connect_to(handler, &other, settings, http, lifeline, oauth)
                .await
                .map_err(|_| e)?;
            Ok((service, other.transport()))
        }
        (first, _) => first.map(|s| (s, settings.target.transport())),
    }
}

/// What a client's OAuth needs besides its settings: where refreshed grants go, and the
/// outbound policy its authorization server requests obey.
pub(crate) struct OAuthPlace {
    pub(crate) outbound: Arc<crate::outbound::OutboundPolicy>,
    pub(crate) events: crate::host::ShedSender<McpEvent>,
}

pub(super) async fn connect_to(
    handler: Handler,
    target: &Target,
    settings: &ClientSettings,
    http: &reqwest::Client,
    lifeline: &Lifeline,
    oauth: Option<&OAuthPlace>,
) -> Result<RunningService<RoleClient, Handler>, McpError> {
    let endpoint = target.endpoint();
    // How long a server may take to start answering one HTTP request.
    let answer_timeout = settings.request_timeout.max(settings.connect_timeout);
    let classify = |e: rmcp::service::ClientInitializeError| classify_connect_error(&endpoint, &e);
    match target {
        Target::Http(url) => {
            let mut headers = HashMap::new();
            for (name, value) in &settings.headers {
                let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                    McpError::Config(format!("'{name}' is not a valid HTTP header name"))
                })?;
                let value = http::HeaderValue::from_str(value).map_err(|_| {
                    McpError::Config(format!(
                        "the value of header '{name}' is not a valid HTTP header value"
                    ))
                })?;
                headers.insert(name, value);
            }
            let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                .custom_headers(headers)
                .reinit_on_expired_session(true);
            config.retry_config = Reconnect::policy(lifeline.clone());
            let bounded = BoundedHttp::new(http.clone(), answer_timeout, lifeline.clone());
            match (&settings.auth, oauth) {
                (Some(auth), Some(place)) => {
                    let manager =
                        super::oauth::manager(auth, url, &place.outbound, place.events.clone())
                            .await
                            .map_err(|e| McpError::Auth {
                                endpoint: endpoint.clone(),
                                detail: super::oauth::auth_error_text(&e),
                            })?;
                    let transport = StreamableHttpClientTransport::with_client(
                        AuthClient::new(bounded, manager),
                        config,
                    );
                    handler
                        .serve(transport)
                        .await
                        .map_err(|e| match classify(e) {
                            McpError::HttpStatus {
                                status: 401 | 403,
                                challenge,
                                ..
                            } => McpError::AuthRequired {
                                endpoint: endpoint.clone(),
                                detail: auth.remedy(&challenge),
                            },
                            other => other,
                        })
                }
                _ => {
                    let transport = StreamableHttpClientTransport::with_client(bounded, config);
                    handler.serve(transport).await.map_err(classify)
                }
            }
        }
        Target::Sse(url) => {
            let transport = LegacySse::connect(
                url.clone(),
                settings.headers.clone(),
                http.clone(),
                lifeline.clone(),
                answer_timeout,
            )
            .await
            .map_err(|e| classify_connect_error(&endpoint, &e))?;
            handler.serve(transport).await.map_err(classify)
        }
        Target::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let mut process = crate::child::clean_command(command);
            process.args(args).envs(env).kill_on_drop(true);
            if let Some(cwd) = cwd {
                process.current_dir(cwd);
            }
            let transport = TokioChildProcess::new(process).map_err(|e| McpError::Spawn {
                command: command.clone(),
                detail: e.to_string(),
            })?;
            handler.serve(transport).await.map_err(classify)
        }
    }
}

/// What `ConnectorInformation` carries.
fn connector_information(
    service: &RunningService<RoleClient, Handler>,
    settings: &ClientSettings,
    transport: &str,
) -> Value {
    let mut info = service
        .peer_info()
        .and_then(|info| serde_json::to_value(&*info).ok())
        .unwrap_or_else(|| json!({}));
    if let Some(map) = info.as_object_mut() {
        map.insert("transport".into(), json!(transport));
        map.insert("endpoint".into(), json!(settings.target.endpoint()));
        map.entry("instructions").or_insert(Value::Null);
    }
    info
}

/// Runs one client until it is closed, the session ends, or the transport dies.
pub(crate) async fn run(
    client: u32,
    settings: ClientSettings,
    http: reqwest::Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    events: crate::host::ShedSender<McpEvent>,
    answers: super::server_requests::ServerRequests,
    outbound: Arc<crate::outbound::OutboundPolicy>,
) {
    let oauth = OAuthPlace {
        outbound,
        events: events.clone(),
    };
    let routes = ProgressRoutes::default();
    let handler = Handler::new(client, &settings, events.clone(), routes.clone(), answers);
    // Whichever way this function returns, the transport's tasks end with it.
    let lifeline = Lifeline::default();
    let _end_transport_tasks = lifeline.ended().clone().drop_guard();
    let endpoint = settings.target.endpoint();
    let connect_timeout = settings.connect_timeout;
    let (service, transport) = tokio::select! {
        result = tokio::time::timeout(connect_timeout, connect(handler, &settings, &http, &lifeline, &oauth)) => match result {
            Ok(Ok(connected)) => connected,
            Ok(Err(error)) => {
                let _ = events.send(McpEvent::ConnectFailed { client, code: error.code(), message: error.to_string() });
                return;
            }
            Err(_) => {
                let error = McpError::Timeout { endpoint, seconds: connect_timeout.as_secs_f64() };
                let _ = events.send(McpEvent::ConnectFailed { client, code: error.code(), message: error.to_string() });
                return;
            }
        },
        () = closed(&mut commands) => return,
    };
    let _ = events.send(McpEvent::Connected {
        client,
        info: connector_information(&service, &settings, transport),
    });

    let settings = Arc::new(settings);
    let peer = service.peer().clone();
    let cancel = service.cancellation_token();
    let mut service_done = tokio::spawn(service.waiting());
    let live: Arc<Mutex<HashMap<u64, RequestId>>> = Arc::default();
    let mut inflight: FuturesOrdered<BoxFuture<'static, Outcome>> = FuturesOrdered::new();
    let mut dead: Option<(u16, String)> = None;
    let mut service_ended = false;
    let mut scenario_done = false;
    loop {
        if dead.is_some() && inflight.is_empty() {
            break;
        }
        tokio::select! {
            command = commands.recv(), if !scenario_done => match command {
                Some(Command::Request { id, kind, params }) => {
                    let request = if let Some((_, reason)) = &dead {
                        let outcome = error_outcome(client, id, kind, json!("transport_closed"), format!("the connection to the MCP server is gone: {reason}"));
                        futures::future::ready(outcome).boxed()
                    } else {
                        execute(peer.clone(), client, id, kind, params, settings.clone(), routes.clone(), live.clone(), lifeline.clone()).boxed()
                    };
                    inflight.push_back(request);
                }
                Some(Command::Close) | None => {
                    scenario_done = true;
                    break;
                }
            },
            Some(outcome) = inflight.next(), if !inflight.is_empty() => {
                if dead.is_none() {
                    dead = outcome.transport_failure.clone();
                }
                let _ = events.send(outcome.event);
            }
            () = lifeline.lost().cancelled(), if dead.is_none() => {
                dead = Some(lifeline.death(|| "the MCP server could not be reached".to_owned()));
            }
            quit = &mut service_done, if !service_ended => {
                service_ended = true;
                dead.get_or_insert(lifeline.death(|| match quit {
                    Ok(_) => "the MCP server closed the connection".to_owned(),
                    Err(e) => format!("the MCP client task failed: {}", plain(&e.to_string())),
                }));
            }
        }
    }

    if scenario_done {
        // Tell the server to stop what it is doing for us, then close the transport.
        let pending: Vec<RequestId> = live
            .lock()
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default();
        let wind_down = async {
            for request_id in pending {
                let params = CancelledNotificationParam::new(
                    Some(request_id),
                    Some("the scenario closed the MCP client or its call ended".into()),
                );
                let _ = peer.notify_cancelled(params).await;
            }
            cancel.cancel();
            if !service_ended {
                let _ = service_done.await;
            }
        };
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, wind_down).await;
    } else if let Some((code, reason)) = dead {
        cancel.cancel();
        let _ = events.send(McpEvent::Closed {
            client,
            code,
            reason,
        });
    }
}

/// Resolves when the scenario closes the client (or the session, dropping the sender, ends).
async fn closed(commands: &mut mpsc::UnboundedReceiver<Command>) {
    while let Some(command) = commands.recv().await {
        if matches!(command, Command::Close) {
            return;
        }
    }
}

fn error_outcome(client: u32, id: u64, kind: RequestKind, code: Value, error: String) -> Outcome {
    let payload = json!({ "error": error, "code": code, "method": kind.method(), "requestId": id });
    Outcome {
        event: McpEvent::Result {
            client,
            request_id: id,
            name: "MCPError",
            json: payload.to_string(),
            payload,
        },
        transport_failure: None,
    }
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    peer: Peer<RoleClient>,
    client: u32,
    id: u64,
    kind: RequestKind,
    mut params: Value,
    settings: Arc<ClientSettings>,
    routes: ProgressRoutes,
    live: Arc<Mutex<HashMap<u64, RequestId>>>,
    lifeline: Lifeline,
) -> Outcome {
    let fields = params.as_object_mut();
    let (all, progress) = match fields {
        Some(map) => (
            map.remove("all").and_then(|v| v.as_bool()).unwrap_or(false),
            map.remove("progress")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        ),
        None => (false, false),
    };
    if kind == RequestKind::CallTool
        && let Some(allowed) = &settings.allowed_tools
    {
        let name = params
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !allowed.contains(name) {
            return error_outcome(
                client,
                id,
                kind,
                json!("tool_not_allowed"),
                format!("tool '{name}' is not in allowedTools"),
            );
        }
    }
    let one = |params: Value| send(&peer, id, kind, params, progress, &settings, &routes, &live);
    let result = match kind.items() {
        Some(items) if all => {
            let mut collected = Vec::new();
            let mut page_params = params.clone();
            let mut pages = 0;
            loop {
                let page = match one(page_params.clone()).await {
                    Ok(page) => page,
                    Err(e) => break Err(e),
                };
                pages += 1;
                if let Some(list) = page.get(items).and_then(Value::as_array) {
                    collected.extend(list.iter().cloned());
                }
                match page.get("nextCursor").and_then(Value::as_str) {
                    Some(cursor) if pages < MAX_PAGES => page_params["cursor"] = json!(cursor),
                    // Stopped at MAX_PAGES: the cursor tells the scenario where the rest starts.
                    Some(cursor) => break Ok(json!({ items: collected, "nextCursor": cursor })),
                    None => break Ok(json!({ items: collected })),
                }
            }
        }
        _ => one(params).await,
    };
    let mut payload = match result {
        Ok(payload) => payload,
        Err(failure) => {
            return failure.into_outcome(client, id, kind, &lifeline, settings.auth.as_ref());
        }
    };
    if kind == RequestKind::ListTools
        && let Some(allowed) = &settings.allowed_tools
        && let Some(tools) = payload.get_mut("tools").and_then(Value::as_array_mut)
    {
        tools.retain(|t| {
            t.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| allowed.contains(n))
        });
    }
    let json = payload.to_string();
    let size = json.len();
    if size > settings.max_result_bytes {
        return error_outcome(
            client,
            id,
            kind,
            json!("result_too_large"),
            format!(
                "the result has {size} bytes, more than maxResultBytes ({})",
                settings.max_result_bytes
            ),
        );
    }
    Outcome {
        event: McpEvent::Result {
            client,
            request_id: id,
            name: kind.event(),
            payload,
            json,
        },
        transport_failure: None,
    }
}

/// A request refused for want of authorization: what the server said and what to do.
fn auth_required(auth: Option<&AuthSettings>, answered: String) -> String {
    match auth {
        Some(auth) => {
            // "the MCP server answered HTTP 403; WWW-Authenticate: <challenge>"
            let (said, challenge) = answered
                .split_once("; WWW-Authenticate: ")
                .unwrap_or((answered.as_str(), ""));
            format!("{said}; {}", auth.remedy(challenge))
        }
        None => answered,
    }
}

/// Why a request failed.
enum Failure {
    Invalid(String),
    Service(ServiceError),
}

impl Failure {
    fn into_outcome(
        self,
        client: u32,
        id: u64,
        kind: RequestKind,
        lifeline: &Lifeline,
        auth: Option<&AuthSettings>,
    ) -> Outcome {
        let (code, error, transport_failure) = match self {
            Failure::Invalid(message) => (json!("invalid_params"), message, None),
            Failure::Service(ServiceError::McpError(data)) => {
                (json!(data.code.0), data.message.to_string(), None)
            }
            Failure::Service(ServiceError::Timeout { timeout }) => (
                json!("timeout"),
                format!(
                    "no result within {} s (requestTimeout); the request was cancelled on the server",
                    timeout.as_secs_f64()
                ),
                None,
            ),
            Failure::Service(ServiceError::TransportClosed) => {
                let (code, reason) =
                    lifeline.death(|| "the connection to the MCP server closed".to_owned());
                (
                    json!("transport_closed"),
                    reason.clone(),
                    Some((code, reason)),
                )
            }
            Failure::Service(ServiceError::TransportSend(error)) => {
                match classify_send_error(&error) {
                    SendFailure::Answered {
                        status: Some(401 | 403),
                        message,
                        ..
                    } if auth.is_some() => {
                        (json!("auth_required"), auth_required(auth, message), None)
                    }
                    SendFailure::Answered { code, message, .. } => (json!(code), message, None),
                    SendFailure::Lost(text) => {
                        (json!("transport_error"), text.clone(), Some((1006, text)))
                    }
                }
            }
            Failure::Service(other) => (json!("request_failed"), plain(&other.to_string()), None),
        };
        let mut outcome = error_outcome(client, id, kind, code, error);
        outcome.transport_failure = transport_failure;
        outcome
    }
}

#[allow(clippy::too_many_arguments)]
async fn send(
    peer: &Peer<RoleClient>,
    id: u64,
    kind: RequestKind,
    params: Value,
    progress: bool,
    settings: &ClientSettings,
    routes: &ProgressRoutes,
    live: &Mutex<HashMap<u64, RequestId>>,
) -> Result<Value, Failure> {
    let request = kind.request(params).map_err(|e| {
        Failure::Invalid(format!(
            "invalid {} parameters: {}",
            kind.method(),
            plain(&e.to_string())
        ))
    })?;
    let options =
        PeerRequestOptions::with_timeout(settings.request_timeout).reset_timeout_on_progress();
    let handle = peer
        .send_request_with_option(request, options)
        .await
        .map_err(Failure::Service)?;
    let token = handle.progress_token.clone();
    if let Ok(mut routes) = routes.lock() {
        routes.insert(token.clone(), (id, progress));
    }
    if let Ok(mut live) = live.lock() {
        live.insert(id, handle.id.clone());
    }
    let response = handle.await_response().await;
    if let Ok(mut routes) = routes.lock() {
        routes.remove(&token);
    }
    if let Ok(mut live) = live.lock() {
        live.remove(&id);
    }
    let result = response.map_err(Failure::Service)?;
    serde_json::to_value(&result)
        .map_err(|e| Failure::Invalid(format!("unreadable result: {}", plain(&e.to_string()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ClientRequest`'s own (untagged) reading makes of the same parameters.
    fn untagged(kind: RequestKind, params: Value) -> Value {
        let request: ClientRequest =
            serde_json::from_value(json!({ "method": kind.method(), "params": params }))
                .expect("untagged");
        serde_json::to_value(request).expect("serialize")
    }

    #[test]
    fn typed_requests_match_the_untagged_reading() {
        let cases = [
            (RequestKind::ListTools, json!({})),
            (RequestKind::ListTools, json!({ "cursor": "page-2" })),
            (
                RequestKind::CallTool,
                json!({ "name": "echo", "arguments": { "message": "hi" }, "_meta": { "trace": "t-1" } }),
            ),
            (RequestKind::ListResources, json!({ "cursor": "c" })),
            (
                RequestKind::ReadResource,
                json!({ "uri": "demo://resource/static/document/architecture.md" }),
            ),
            (RequestKind::ListPrompts, json!({})),
            (
                RequestKind::GetPrompt,
                json!({ "name": "args-prompt", "arguments": { "city": "Paris" } }),
            ),
        ];
        for (kind, params) in cases {
            let typed = kind.request(params.clone()).expect("typed");
            assert_eq!(typed.method(), kind.method());
            assert_eq!(
                serde_json::to_value(typed).expect("serialize"),
                untagged(kind, params),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn typed_requests_reject_what_the_request_type_rejects() {
        let error = RequestKind::CallTool
            .request(json!({ "arguments": {} }))
            .expect_err("no name");
        assert!(error.to_string().contains("name"), "{error}");
        assert!(
            RequestKind::ReadResource
                .request(json!({ "uri": 7 }))
                .is_err()
        );
    }
}
