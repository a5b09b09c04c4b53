//! A request's result taken straight from the SSE answer to its POST.
//!
//! Streamable-HTTP servers usually answer a POST with an SSE stream that holds just the
//! request's result and then ends. rmcp reads such a stream through its reconnecting SSE
//! machinery (one task per request) and then decodes the result by trying each of the
//! twenty-odd `ServerResult` types in turn; `tools/call` matches the sixteenth. A scenario gets
//! results as JSON anyway, so for the requests where rmcp does nothing with the typed result
//! (`tools/call`, `resources/list`, `resources/read`, `prompts/list`, `prompts/get`) the
//! stream is read here: when its first message is the request's own result, the POST is
//! answered as a JSON response carrying that result as `CustomResult` (the server's JSON,
//! unchanged). Anything else (progress, other notifications, an error, a different id) goes
//! to rmcp exactly as it came. So rmcp's typed helpers (`call_tool`, `read_resource` ...)
//! must not be used over this client: they would find `CustomResult` where they expect their
//! type. Dialtone sends raw requests and reads every result as JSON.

use std::time::Duration;

use futures::FutureExt;
use futures::stream::{BoxStream, StreamExt};
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, CustomResult, JsonRpcResponse, JsonRpcVersion2_0,
    NumberOrString, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_client::{SseError, StreamableHttpPostResponse};
use serde_json::Value;

/// How long the rest of a stream may take to end after the result (nothing should follow).
const FINISH_LIMIT: Duration = Duration::from_secs(10);

type Events = BoxStream<'static, Result<sse_stream::Sse, SseError>>;

/// The id of `message` when it is a request whose result may be taken directly.
pub(crate) fn eligible(message: &ClientJsonRpcMessage) -> Option<RequestId> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    matches!(
        request.request,
        ClientRequest::CallToolRequest(_)
            | ClientRequest::ReadResourceRequest(_)
            | ClientRequest::ListResourcesRequest(_)
            | ClientRequest::GetPromptRequest(_)
            | ClientRequest::ListPromptsRequest(_)
    )
    .then(|| request.id.clone())
}

/// Answers the POST of request `id` with its result when that is the first message of the
/// SSE answer; otherwise returns the answer as it came (the events read so far first).
pub(crate) async fn take(
    id: RequestId,
    response: StreamableHttpPostResponse,
) -> StreamableHttpPostResponse {
    let StreamableHttpPostResponse::Sse(mut events, session) = response else {
        return response;
    };
    let mut read = Vec::new();
    while let Some(item) = events.next().await {
        let Ok(event) = item else {
            read.push(item);
            break;
        };
        let is_message = matches!(event.event.as_deref(), None | Some("message"));
        let data = event.data.as_deref().unwrap_or_default();
        if data.trim().is_empty() || !is_message {
            // A priming event (an id for resuming, no data) or one rmcp handles itself.
            read.push(Ok(event));
            continue;
        }
        if let Some(result) = own_result(data, &id) {
            finish(events);
            return StreamableHttpPostResponse::Json(result, session);
        }
        read.push(Ok(event));
        break;
    }
    StreamableHttpPostResponse::Sse(futures::stream::iter(read).chain(events).boxed(), session)
}

/// `data` as the response to request `id`, when it is that request's result.
fn own_result(data: &str, id: &RequestId) -> Option<ServerJsonRpcMessage> {
    let mut message: Value = serde_json::from_str(data).ok()?;
    let fields = message.as_object_mut()?;
    let same_id = match (id, fields.get("id")?) {
        (NumberOrString::Number(n), Value::Number(m)) => m.as_i64() == Some(*n),
        (NumberOrString::String(s), Value::String(t)) => **s == **t,
        _ => false,
    };
    if !same_id || fields.contains_key("error") {
        return None;
    }
    let result = fields.remove("result")?;
    Some(ServerJsonRpcMessage::Response(JsonRpcResponse {
        jsonrpc: JsonRpcVersion2_0,
        id: id.clone(),
        result: ServerResult::CustomResult(CustomResult(result)),
    }))
}

/// Reads the stream to its end so its connection goes back to the pool: at once when the end
/// came with the result (the usual case), else on a task bounded by [`FINISH_LIMIT`].
fn finish(mut events: Events) {
    loop {
        match events.next().now_or_never() {
            Some(Some(_)) => continue,
            Some(None) => return,
            None => break,
        }
    }
    tokio::spawn(async move {
        let rest = async { while events.next().await.is_some() {} };
        let _ = tokio::time::timeout(FINISH_LIMIT, rest).await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: &str) -> Result<sse_stream::Sse, SseError> {
        Ok(sse_stream::Sse {
            event: Some("message".into()),
            data: Some(data.into()),
            id: None,
            retry: None,
        })
    }

    fn priming() -> Result<sse_stream::Sse, SseError> {
        Ok(sse_stream::Sse {
            event: None,
            data: Some(String::new()),
            id: Some("e-1".into()),
            retry: None,
        })
    }

    fn answer(events: Vec<Result<sse_stream::Sse, SseError>>) -> StreamableHttpPostResponse {
        StreamableHttpPostResponse::Sse(futures::stream::iter(events).boxed(), Some("s".into()))
    }

    async fn remaining(response: StreamableHttpPostResponse) -> Vec<String> {
        let StreamableHttpPostResponse::Sse(events, _) = response else {
            panic!("expected the stream back");
        };
        events
            .map(|e| e.expect("event").data.unwrap_or_default())
            .collect()
            .await
    }

    #[tokio::test]
    async fn the_requests_own_result_becomes_a_json_answer_with_the_servers_json() {
        let result = r#"{"content":[{"type":"text","text":"Echo: hi","extra":1}],"isError":false}"#;
        let events = vec![
            priming(),
            event(&format!(r#"{{"jsonrpc":"2.0","id":7,"result":{result}}}"#)),
        ];
        let StreamableHttpPostResponse::Json(message, session) =
            take(NumberOrString::Number(7), answer(events)).await
        else {
            panic!("expected a JSON answer");
        };
        assert_eq!(session.as_deref(), Some("s"));
        let ServerJsonRpcMessage::Response(response) = message else {
            panic!("expected a response");
        };
        assert_eq!(response.id, NumberOrString::Number(7));
        assert_eq!(
            serde_json::to_value(&response.result).expect("json"),
            serde_json::from_str::<Value>(result).expect("json")
        );
    }

    #[tokio::test]
    async fn anything_else_reaches_rmcp_as_it_came() {
        let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":0,"progress":1}}"#;
        let other_id = r#"{"jsonrpc":"2.0","id":8,"result":{}}"#;
        let error = r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"bad"}}"#;
        let result = r#"{"jsonrpc":"2.0","id":7,"result":{}}"#;
        for first in [progress, other_id, error, "not json"] {
            let response = take(
                NumberOrString::Number(7),
                answer(vec![priming(), event(first), event(result)]),
            )
            .await;
            assert_eq!(remaining(response).await, ["", first, result], "{first}");
        }
        let by_name = take(
            NumberOrString::String("r-1".into()),
            answer(vec![event(
                r#"{"jsonrpc":"2.0","id":"r-1","result":{"ok":true}}"#,
            )]),
        )
        .await;
        assert!(matches!(by_name, StreamableHttpPostResponse::Json(..)));
        let empty = take(NumberOrString::Number(7), answer(vec![priming()])).await;
        assert_eq!(remaining(empty).await, [""]);
    }

    #[test]
    fn only_requests_whose_typed_result_rmcp_does_not_use_are_eligible() {
        let request = |method: &str, params: Value| -> ClientJsonRpcMessage {
            serde_json::from_value(serde_json::json!({
                "jsonrpc": "2.0", "id": 3, "method": method, "params": params
            }))
            .expect("message")
        };
        let call = request("tools/call", serde_json::json!({ "name": "echo" }));
        assert_eq!(eligible(&call), Some(NumberOrString::Number(3)));
        let list = request("tools/list", serde_json::json!({}));
        assert_eq!(eligible(&list), None);
        let initialize = request(
            "initialize",
            serde_json::json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": { "name": "t", "version": "1" }
            }),
        );
        assert_eq!(eligible(&initialize), None);
    }
}
