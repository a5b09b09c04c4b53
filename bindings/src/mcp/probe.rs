//! The library floor of `dialtone bench mcp`: rmcp's streamable-HTTP client over the HTTP
//! client scenarios get (reqwest, [`super::direct_result`]), connected the way `createClient`
//! connects, sending `tools/call echo` straight from Rust: no session, no JS, no events. It
//! sends raw requests, as the scenarios' client does. The difference between
//! this and the Dialtone scenario is what Dialtone's own layers cost; the difference between
//! this and a hand-written HTTP exchange is what rmcp, reqwest and hyper cost.

use std::time::Instant;

use rmcp::model::{CallToolRequest, CallToolRequestParams, ClientRequest, JsonObject};
use serde_json::json;

use super::client::{connect_to, http_client};
use super::config::ConnectionConfig;
use super::handler::{Handler, ProgressRoutes};
use super::lifeline::Lifeline;

/// Connects to the streamable-HTTP `endpoint`, offering protocol `revision`, and makes `warmup + count` sequential
/// `tools/call echo`; returns the ms of each of the last `count`. Run it on a current-thread
/// runtime to compare it with a session's worker.
pub async fn rmcp_echo(
    endpoint: &str,
    revision: &str,
    count: usize,
    warmup: usize,
) -> Result<Vec<f64>, String> {
    let connect = async {
        let config = ConnectionConfig::from_json(
            &json!({ "transport": "http", "endpoint": endpoint, "protocolVersion": revision })
                .to_string(),
        )?;
        let settings = config.validate("bench", false)?;
        let (events, _) = crate::host::shed_queue();
        let handler = Handler::new(
            0,
            &settings,
            events,
            ProgressRoutes::default(),
            Default::default(),
        );
        let lifeline = Lifeline::default();
        connect_to(
            handler,
            &settings.target,
            &settings,
            &http_client(&std::sync::Arc::new(crate::outbound::OutboundPolicy::open()))?,
            &lifeline,
            None,
        )
        .await
    };
    let service = connect.await.map_err(|e| e.to_string())?;
    let mut arguments = JsonObject::new();
    arguments.insert("message".into(), json!("hi"));
    let mut times = Vec::with_capacity(count);
    for call in 0..warmup + count {
        let started = Instant::now();
        let params = CallToolRequestParams::new("echo").with_arguments(arguments.clone());
        service
            .send_request(ClientRequest::CallToolRequest(CallToolRequest::new(params)))
            .await
            .map_err(|e| format!("tools/call echo failed: {e}"))?;
        if call >= warmup {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let _ = service.cancel().await;
    Ok(times)
}
