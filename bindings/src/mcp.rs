//! The MCP client behind `require(Modules.MCP)`.
//!
//! - `config`: `mcpServerConnectionConfig`, validated.
//! - `client`: one task per client on its session's worker (connect, requests in order, close).
//! - `handler`: the rmcp `ClientHandler`, one `on_*` per server notification and request.
//! - `server_requests`: server requests (elicitation, sampling) waiting for the scenario.
//! - `http`: reqwest for rmcp's streamable-HTTP transport, with a response-header timeout.
//! - `direct_result`: a POST's own result taken from its SSE answer as JSON, not decoded by rmcp.
//! - `sse`: the legacy HTTP+SSE transport (2024-11-05) as an rmcp worker.
//! - `lifeline`: ends a client's transport tasks with it; keeps why a transport died.
//! - `error`: connect errors with stable codes; which request failures leave a client open.
//! - `probe`: rmcp alone, no session or JS, as a floor for `dialtone bench mcp`.
//!
//! [`McpHub`] is a session's registry of its clients: the ops use it to create clients and
//! send requests; the clients answer with [`McpEvent`]s that the session loop dispatches to
//! JS, one turn each.

mod client;
mod config;
mod direct_result;
mod early_stream;
pub mod error;
mod handler;
mod http;
mod lifeline;
pub mod oauth;
pub mod probe;
mod server_requests;
pub mod sse;

use std::collections::HashMap;

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use client::Command;
pub(crate) use client::RequestKind;
use config::ConnectionConfig;
pub use error::McpError;

/// Something an MCP client tells its session.
#[derive(Debug)]
pub(crate) enum McpEvent {
    /// Connected and initialized: `createClient` resolves, then `ConnectorInformation`.
    Connected { client: u32, info: Value },
    /// `createClient` rejects with this code and message.
    ConnectFailed {
        client: u32,
        code: &'static str,
        message: String,
    },
    /// The one result of a request (`ToolsList`, `ToolResult`, `MCPError` ...).
    Result {
        client: u32,
        request_id: u64,
        name: &'static str,
        payload: Value,
        /// `payload` as JSON text, written once (for the size limit and for JS).
        json: String,
    },
    /// A server notification (`ToolsListChanged`, `Progress`, `LoggingMessage` ...).
    Notification {
        client: u32,
        name: &'static str,
        payload: Value,
    },
    /// A request of the server (`ElicitationRequest`, `SamplingRequest`) that the scenario
    /// answers with `respond(requestId, answer)`.
    ServerRequest {
        client: u32,
        request_id: u64,
        name: &'static str,
        payload: Value,
    },
    /// An OAuth grant was refreshed: the host stores it as the application's secret `name`.
    GrantRefreshed { name: String, value: String },
    /// The transport died: `onWebSocketClose` with this code.
    Closed {
        client: u32,
        code: u16,
        reason: String,
    },
}

impl crate::host::Sheddable for McpEvent {
    /// Notifications are what a server can send at will; results and closes always arrive.
    fn sheddable(&self) -> bool {
        matches!(self, McpEvent::Notification { .. })
    }
}

/// MCP clients a session may have open at once.
pub(crate) const MAX_CLIENTS: usize = 16;
/// Requests a session may have in flight at once, all clients together.
pub(crate) const MAX_IN_FLIGHT: usize = 256;

/// What the application allows its scenarios' MCP clients.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct McpPolicy {
    /// Whether `transport: "stdio"` may start local processes.
    pub allow_stdio: bool,
}

/// A session's MCP clients.
#[derive(Debug)]
pub(crate) struct McpHub {
    application: String,
    policy: McpPolicy,
    outbound: std::sync::Arc<crate::outbound::OutboundPolicy>,
    events: crate::host::ShedSender<McpEvent>,
    clients: HashMap<u32, mpsc::UnboundedSender<Command>>,
    /// Each open client's server requests waiting for the scenario.
    answers: HashMap<u32, server_requests::ServerRequests>,
    tasks: Vec<JoinHandle<()>>,
    /// The process's client for this session's application (connections are pooled per
    /// process, see `crate::http_pool`).
    http: Option<reqwest::Client>,
    next_client: u32,
    next_request: u64,
    /// When each connect and request started, for the host's MCP metrics.
    started: HashMap<Started, (std::time::Instant, &'static str)>,
}

/// What [`McpHub`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Started {
    /// A client's connect (`initialize`).
    Connect(u32),
    /// A request.
    Request(u64),
}

impl McpHub {
    pub(crate) fn new(
        application: String,
        policy: McpPolicy,
        outbound: std::sync::Arc<crate::outbound::OutboundPolicy>,
    ) -> (Self, crate::host::ShedReceiver<McpEvent>) {
        let (events, receiver) = crate::host::shed_queue();
        let hub = Self {
            application,
            policy,
            outbound,
            events,
            clients: HashMap::new(),
            answers: HashMap::new(),
            tasks: Vec::new(),
            http: None,
            next_client: 1,
            next_request: 1,
            started: HashMap::new(),
        };
        (hub, receiver)
    }

    /// Validates `config_json` and starts connecting; the result arrives as an event.
    /// `warn` gets the line naming fields that are not options, before any rejection.
    pub(crate) fn create(
        &mut self,
        config_json: &str,
        warn: impl FnOnce(&str),
        secret: &dyn Fn(&str) -> Option<String>,
    ) -> Result<u32, McpError> {
        if self.clients.len() >= MAX_CLIENTS {
            return Err(McpError::Limit(format!(
                "a session may have at most {MAX_CLIENTS} MCP clients open; close one first"
            )));
        }
        let config = ConnectionConfig::from_json(config_json)?;
        if let Some(warning) = config.ignored_fields() {
            warn(&warning);
        }
        let auth = config.auth.clone();
        let mut settings = config.validate(&self.application, self.policy.allow_stdio)?;
        if let Some(auth) = auth {
            let endpoint = match &settings.target {
                config::Target::Http(url) => Some(url),
                _ => None,
            };
            settings.auth = Some(oauth::AuthSettings::read(
                &auth,
                &self.application,
                endpoint,
                secret,
            )?);
        }
        if let Some(url) = settings.target.url() {
            self.outbound.check_url(url)?;
        }
        let http = match &self.http {
            Some(http) => http.clone(),
            None => self
                .http
                .insert(client::http_client(&self.outbound)?)
                .clone(),
        };
        let id = self.next_client;
        self.next_client += 1;
        let (commands, receiver) = mpsc::unbounded_channel();
        let answers = server_requests::ServerRequests::default();
        self.answers.insert(id, answers.clone());
        let run = client::run(
            id,
            settings,
            http,
            receiver,
            self.events.clone(),
            answers,
            self.outbound.clone(),
        );
        // On the session's own worker: a request and its result never cross threads.
        let task = tokio::spawn(run);
        self.tasks.retain(|t| !t.is_finished());
        self.tasks.push(task);
        self.clients.insert(id, commands);
        self.started.insert(
            Started::Connect(id),
            (std::time::Instant::now(), "initialize"),
        );
        Ok(id)
    }

    /// Queues a request; returns its id, or None when the client is gone. Past
    /// [`MAX_IN_FLIGHT`] requests of the session in flight, the request is refused (the
    /// error is for the scenario).
    pub(crate) fn request(
        &mut self,
        client: u32,
        kind: RequestKind,
        params: Value,
    ) -> Result<Option<u64>, String> {
        let in_flight = self
            .started
            .keys()
            .filter(|s| matches!(s, Started::Request(_)))
            .count();
        if in_flight >= MAX_IN_FLIGHT {
            return Err(format!(
                "{}: a session may have at most {MAX_IN_FLIGHT} MCP requests in flight; wait for results before sending more",
                kind.method()
            ));
        }
        let id = self.next_request;
        self.next_request += 1;
        let Some(sender) = self.clients.get(&client) else {
            return Ok(None);
        };
        if sender.send(Command::Request { id, kind, params }).is_err() {
            return Ok(None);
        }
        self.started.insert(
            Started::Request(id),
            (std::time::Instant::now(), kind.method()),
        );
        Ok(Some(id))
    }

    /// A connect or request is over: its method and how long it took.
    pub(crate) fn finished(
        &mut self,
        what: Started,
    ) -> Option<(&'static str, std::time::Duration)> {
        self.started
            .remove(&what)
            .map(|(at, method)| (method, at.elapsed()))
    }

    /// `client.respond(requestId, answer)`: the answer to a server request.
    pub(crate) fn respond(
        &self,
        client: u32,
        request_id: u64,
        answer: Value,
    ) -> Result<(), String> {
        match self.answers.get(&client) {
            Some(answers) => answers.respond(request_id, answer),
            None => Err("respond: the client is closed".into()),
        }
    }

    /// `client.close()`: cancel what is in flight, close the transport.
    pub(crate) fn close(&mut self, client: u32) {
        self.answers.remove(&client);
        if let Some(sender) = self.clients.remove(&client) {
            let _ = sender.send(Command::Close);
        }
    }

    /// The client's transport died; it takes no more requests.
    pub(crate) fn forget(&mut self, client: u32) {
        self.answers.remove(&client);
        self.clients.remove(&client);
    }

    /// The session ends: every client cancels its requests and closes. Returns the tasks to
    /// wait for (bounded by each client's close timeout).
    pub(crate) fn close_all(&mut self) -> Vec<JoinHandle<()>> {
        self.answers.clear();
        for (_, sender) in self.clients.drain() {
            let _ = sender.send(Command::Close);
        }
        self.http = None;
        self.started.clear();
        std::mem::take(&mut self.tasks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_session_has_at_most_16_clients_and_256_requests_in_flight() {
        let (mut hub, _events) = McpHub::new(
            "app".into(),
            McpPolicy::default(),
            std::sync::Arc::new(crate::outbound::OutboundPolicy::open()),
        );
        // Clients whose commands the test holds, so requests stay in flight.
        let mut held = Vec::new();
        for id in 1..=MAX_CLIENTS as u32 {
            let (sender, receiver) = mpsc::unbounded_channel();
            hub.clients.insert(id, sender);
            held.push(receiver);
        }
        let config = r#"{"transport": "http", "endpoint": "http://127.0.0.1:9/mcp"}"#;
        let error = hub
            .create(config, |_| {}, &|_| None)
            .expect_err("one too many");
        assert_eq!(error.code(), "ERR_MCP_LIMIT");
        assert_eq!(
            error.to_string(),
            "MCP.createClient: a session may have at most 16 MCP clients open; close one first"
        );
        for _ in 0..MAX_IN_FLIGHT {
            let id = hub.request(1, RequestKind::CallTool, Value::Null);
            assert!(matches!(id, Ok(Some(_))));
        }
        assert_eq!(
            hub.request(2, RequestKind::CallTool, Value::Null),
            Err("tools/call: a session may have at most 256 MCP requests in flight; wait for results before sending more".into())
        );
        let first = Started::Request(1);
        assert!(hub.finished(first).is_some());
        assert!(matches!(
            hub.request(2, RequestKind::CallTool, Value::Null),
            Ok(Some(_))
        ));
    }
}
