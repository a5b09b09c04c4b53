//! The rmcp [`ClientHandler`]: one `on_*` per server notification, each mapped 1:1 to a
//! scenario event (`MCP.ServerEvents.*`) and sent to the session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rmcp::ClientHandler;
#[allow(deprecated)]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CustomNotification, Implementation,
    ProgressNotificationParam, ProgressToken, ResourceUpdatedNotificationParam,
};
use rmcp::service::{NotificationContext, RoleClient};
use serde_json::json;

use super::McpEvent;
use super::config::ClientSettings;

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
}

impl Handler {
    pub(crate) fn new(
        client: u32,
        settings: &ClientSettings,
        events: crate::host::ShedSender<McpEvent>,
        progress: ProgressRoutes,
    ) -> Self {
        let mut info = ClientConfig::new(
            ClientCapabilities::default(),
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

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        self.info.clone()
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

    // Logging is deprecated in the 2026-07-28 revision (SEP-2577); today's servers still send it.
    #[allow(deprecated)]
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
