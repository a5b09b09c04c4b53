//! The rmcp [`ClientHandler`]: one `on_*` per server notification, each mapped 1:1 to a
//! scenario event (`MCP.ServerEvents.*`) and sent to the session; the server's requests
//! (`elicitation/create`, `sampling/createMessage`) become events the scenario answers with
//! `respond`, and `roots/list` is answered from the connection config.

// Logging, sampling and roots are deprecated in the 2026-07-28 revision (SEP-2577); today's
// servers still use them.
#![allow(deprecated)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use std::time::Duration;

use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    CustomNotification, ElicitRequestParams, ElicitResult, Implementation, ListRootsResult,
    ProgressNotificationParam, ProgressToken, ResourceUpdatedNotificationParam,
};
use rmcp::service::{NotificationContext, RequestContext, RoleClient};
use rmcp::{ClientHandler, ErrorData};
use serde_json::{Value, json};

use super::McpEvent;
use super::config::ClientSettings;
use super::server_requests::{Ask, ServerRequests, Unanswered};

/// Progress tokens of in-flight requests: our request id, and whether the scenario asked
/// for progress events.
pub(crate) type ProgressRoutes = Arc<Mutex<HashMap<ProgressToken, (u64, bool)>>>;

/// Forwards server notifications of one client to its session.
#[derive(Clone)]
pub(crate) struct Handler {
    client: u32,
    info: ClientConfig,
    events: crate::host::ShedSender<McpEvent>,
    progress: ProgressRoutes,
    /// Server requests waiting for the scenario's answer.
    requests: ServerRequests,
    /// How long the scenario may take to answer one.
    answer_timeout: Duration,
    /// `roots` of the connection config (None: the capability is not advertised).
    roots: Option<Value>,
}

impl Handler {
    pub(crate) fn new(
        client: u32,
        settings: &ClientSettings,
        events: crate::host::ShedSender<McpEvent>,
        progress: ProgressRoutes,
        requests: ServerRequests,
    ) -> Self {
        let mut info = ClientConfig::new(
            capabilities(settings),
            Implementation::new(
                settings.client_name.clone(),
                settings.client_version.clone(),
            ),
        );
        if let Ok(version) = serde_json::from_value(json!(settings.protocol_version)) {
            info.protocol_version = version;
        }
        Self {
            client,
            info,
            events,
            progress,
            requests,
            answer_timeout: settings.request_timeout,
            roots: settings.roots.clone(),
        }
    }

    /// Parks a server request, tells the scenario, and waits for its answer.
    async fn ask(&self, ask: Ask, payload: Value, schema: Value) -> Result<Value, ErrorData> {
        let unanswered = |why: Unanswered| {
            let method = ask.method();
            let message = match why {
                Unanswered::TooMany => format!(
                    "{method}: {} requests already wait for the scenario's answer",
                    super::server_requests::MAX_WAITING
                ),
                Unanswered::TimedOut => format!(
                    "{method}: the scenario did not answer within {} s",
                    self.answer_timeout.as_secs_f64()
                ),
                Unanswered::SessionEnded => format!("{method}: the call ended before an answer"),
            };
            ErrorData::internal_error(message, None)
        };
        let (request_id, answer) = self.requests.park(ask, schema).map_err(unanswered)?;
        let event = McpEvent::ServerRequest {
            client: self.client,
            request_id,
            name: ask.event(),
            payload,
        };
        if self.events.send(event).is_err() {
            return Err(unanswered(Unanswered::SessionEnded));
        }
        match self
            .requests
            .wait(request_id, answer, self.answer_timeout)
            .await
        {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(message)) => Err(ErrorData::internal_error(message, None)),
            Err(why) => Err(unanswered(why)),
        }
    }

    fn notify(&self, name: &'static str, payload: serde_json::Value) {
        let _ = self.events.send(McpEvent::Notification {
            client: self.client,
            name,
            payload,
        });
    }
}

/// What the client offers in `initialize`: only what the scenario enabled.
fn capabilities(settings: &ClientSettings) -> ClientCapabilities {
    let mut capabilities = json!({});
    if settings.elicitation {
        capabilities["elicitation"] = json!({ "form": {} });
    }
    if settings.sampling {
        capabilities["sampling"] = json!({});
    }
    if settings.roots.is_some() {
        capabilities["roots"] = json!({ "listChanged": false });
    }
    serde_json::from_value(capabilities).unwrap_or_default()
}

/// A result the scenario's answer was checked to be.
fn typed<T: serde::de::DeserializeOwned>(method: &str, result: Value) -> Result<T, ErrorData> {
    serde_json::from_value(result).map_err(|_| {
        ErrorData::internal_error(
            format!("{method}: the scenario's answer does not fit the result"),
            None,
        )
    })
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        let ask = Ask::Elicitation;
        if self.info.capabilities.elicitation.is_none() {
            return Err(ErrorData::invalid_request(
                "elicitation/create: this client did not offer elicitation",
                None,
            ));
        }
        let payload = serde_json::to_value(&request).unwrap_or_default();
        let schema = payload.get("requestedSchema").cloned().unwrap_or_default();
        let result = self.ask(ask, payload, schema).await?;
        typed(ask.method(), result)
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        let ask = Ask::Sampling;
        if self.info.capabilities.sampling.is_none() {
            return Err(ErrorData::invalid_request(
                "sampling/createMessage: this client did not offer sampling",
                None,
            ));
        }
        let payload = serde_json::to_value(&params).unwrap_or_default();
        let result = self.ask(ask, payload, Value::Null).await?;
        typed(ask.method(), result)
    }

    async fn list_roots(
        &self,
        _: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        match &self.roots {
            Some(roots) => typed("roots/list", json!({ "roots": roots })),
            None => Err(ErrorData::invalid_request(
                "roots/list: this client did not offer roots",
                None,
            )),
        }
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        let route = self
            .progress
            .lock()
            .ok()
            .and_then(|routes| routes.get(&params.progress_token).copied());
        if let Some((request_id, true)) = route {
            let mut payload = serde_json::to_value(&params).unwrap_or_default();
            if let Some(map) = payload.as_object_mut() {
                map.insert("requestId".into(), json!(request_id));
            }
            self.notify("Progress", payload);
        }
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        self.notify(
            "LoggingMessage",
            serde_json::to_value(&params).unwrap_or_default(),
        );
    }

    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _: NotificationContext<RoleClient>,
    ) {
        self.notify(
            "ResourceUpdated",
            serde_json::to_value(&params).unwrap_or_default(),
        );
    }

    async fn on_resource_list_changed(&self, _: NotificationContext<RoleClient>) {
        self.notify("ResourcesListChanged", json!({}));
    }

    async fn on_tool_list_changed(&self, _: NotificationContext<RoleClient>) {
        self.notify("ToolsListChanged", json!({}));
    }

    async fn on_prompt_list_changed(&self, _: NotificationContext<RoleClient>) {
        self.notify("PromptsListChanged", json!({}));
    }

    async fn on_custom_notification(
        &self,
        notification: CustomNotification,
        _: NotificationContext<RoleClient>,
    ) {
        let mut payload = serde_json::to_value(&notification).unwrap_or_default();
        // rmcp writes an empty `_meta` into params that had none; the scenario sees what the
        // server sent.
        if let Some(params) = payload
            .get_mut("params")
            .and_then(serde_json::Value::as_object_mut)
            && params
                .get("_meta")
                .and_then(serde_json::Value::as_object)
                .is_some_and(serde_json::Map::is_empty)
        {
            params.remove("_meta");
        }
        self.notify("Unknown", payload);
    }
}
