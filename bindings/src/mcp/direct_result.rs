//! A request's result taken straight from the SSE answer to its POST.
//!
//! Streamable-HTTP servers usually answer a POST with an SSE stream that holds just the
//! request's result and then ends. rmcp reads such a stream through its reconnecting SSE
//! machinery (one task per request) and decodes the result by trying each of the twenty-odd
//! `ServerResult` types in turn, building an error for every miss; `tools/call` matches the
//! sixteenth. For `tools/call`, `resources/list|read` and `prompts/list|get` the stream is
//! read here instead: when its first message, within [`PEEK_LIMIT`], is the request's own
//! result, the POST is answered as a JSON response holding that result decoded as the one type
//! the request expects (what rmcp's own decoding picks for it; a result that does not fit stays
//! JSON, as rmcp's last resort `CustomResult`). Anything else (progress or other notifications
//! first, an error, another id, a slow first message) goes to rmcp exactly as it came, so slow
//! requests keep rmcp's handling: its progress-reset timeout and its POST slots.

use std::time::Duration;

use futures::FutureExt;
use futures::stream::{BoxStream, StreamExt};
use rmcp::model::{
    CallToolResult, ClientJsonRpcMessage, ClientRequest, CustomResult, GetPromptResult,
    JsonRpcResponse, JsonRpcVersion2_0, ListPromptsResult, ListResourcesResult, NumberOrString,
    ReadResourceResult, RequestId, ServerJsonRpcMessage, ServerResult,
};
use rmcp::transport::streamable_http_client::{SseError, StreamableHttpPostResponse};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// How long the first message may take to be taken here; later ones go through rmcp.
const PEEK_LIMIT: Duration = Duration::from_millis(200);
/// How long the rest of a stream may take to end after the result (as rmcp allows).
const FINISH_LIMIT: Duration = Duration::from_millis(50);

type Events = BoxStream<'static, Result<sse_stream::Sse, SseError>>;

/// A request whose result may be taken directly: its id and the result type it expects.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Direct {
    id: RequestId,
    expects: Expects,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expects {
    CallTool,
    ReadResource,
    ListResources,
    GetPrompt,
    ListPrompts,
}

impl Expects {
    fn decode(self, result: Value) -> ServerResult {
        fn typed<T: DeserializeOwned>(result: Value, wrap: fn(T) -> ServerResult) -> ServerResult {
            match T::deserialize(&result) {
                Ok(typed) => wrap(typed),
                Err(_) => ServerResult::CustomResult(CustomResult(result)),
            }
        }
        match self {
            Self::CallTool => typed::<CallToolResult>(result, ServerResult::CallToolResult),
            Self::ReadResource => {
                typed::<ReadResourceResult>(result, ServerResult::ReadResourceResult)
            }
            Self::ListResources => {
                typed::<ListResourcesResult>(result, ServerResult::ListResourcesResult)
            }
            Self::GetPrompt => typed::<GetPromptResult>(result, ServerResult::GetPromptResult),
            Self::ListPrompts => {
                typed::<ListPromptsResult>(result, ServerResult::ListPromptsResult)
            }
        }
    }
}

/// `message` as a [`Direct`] request, when it is one.
pub(crate) fn eligible(message: &ClientJsonRpcMessage) -> Option<Direct> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    let expects = match request.request {
        ClientRequest::CallToolRequest(_) => Expects::CallTool,
        ClientRequest::ReadResourceRequest(_) => Expects::ReadResource,
        ClientRequest::ListResourcesRequest(_) => Expects::ListResources,
        ClientRequest::GetPromptRequest(_) => Expects::GetPrompt,
        ClientRequest::ListPromptsRequest(_) => Expects::ListPrompts,
        _ => return None,
    };
    Some(Direct {
        id: request.id.clone(),
        expects,
    })
}

/// Answers the POST of `request` with its result when that is the first message of the SSE
/// answer and comes within [`PEEK_LIMIT`]; otherwise returns the answer as it came (the
/// events read so far first).
pub(crate) async fn take(
    request: Direct,
    response: StreamableHttpPostResponse,
) -> StreamableHttpPostResponse {
    let StreamableHttpPostResponse::Sse(mut events, session) = response else {
        return response;
    };
    let mut read = Vec::new();
    let peek = first_message(&request, &mut events, &mut read);
    if let Ok(Some(result)) = tokio::time::timeout(PEEK_LIMIT, peek).await {
        finish(events);
        return StreamableHttpPostResponse::Json(result, session);
    }
    StreamableHttpPostResponse::Sse(futures::stream::iter(read).chain(events).boxed(), session)
}

/// Reads up to the first message: the request's result, or `None` with everything read kept
/// in `read`. Cancel-safe: an event is in `read` as soon as it is out of the stream.
async fn first_message(
    request: &Direct,
    events: &mut Events,
    read: &mut Vec<Result<sse_stream::Sse, SseError>>,
) -> Option<ServerJsonRpcMessage> {
    while let Some(item) = events.next().await {
        let Ok(event) = item else {
            read.push(item);
            return None;
        };
        let is_message = matches!(event.event.as_deref(), None | Some("message"));
        let data = event.data.as_deref().unwrap_or_default();
        if data.trim().is_empty() || !is_message {
            // A priming event (an id for resuming, no data) or one rmcp handles itself.
            read.push(Ok(event));
            continue;
        }
        if let Some(result) = own_result(data, request) {
            return Some(result);
        }
        read.push(Ok(event));
        return None;
    }
    None
}

/// `data` as the response to `request`, when it is that request's result.
fn own_result(data: &str, request: &Direct) -> Option<ServerJsonRpcMessage> {
    let mut message: Value = serde_json::from_str(data).ok()?;
    let fields = message.as_object_mut()?;
    let same_id = match (&request.id, fields.get("id")?) {
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
        id: request.id.clone(),
        result: request.expects.decode(result),
    }))
}

/// Reads the stream to its end so its connection goes back to the pool: at once when the end
/// came with the result (the usual case), else on a task bounded by [`FINISH_LIMIT`], after
/// which the connection is dropped.
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

    fn call(id: RequestId) -> Direct {
        Direct {
            id,
            expects: Expects::CallTool,
        }
    }

    #[tokio::test]
    async fn the_requests_own_result_becomes_a_json_answer_decoded_as_rmcp_decodes_it() {
        let results = [
            r#"{"content":[{"type":"text","text":"Echo: hi","extra":1}],"isError":false}"#,
            r#"{"content":[],"structuredContent":{"sum":3}}"#,
            r#"{"unexpected":"shape"}"#,
        ];
        for result in results {
            let message = format!(r#"{{"jsonrpc":"2.0","id":7,"result":{result}}}"#);
            let events = vec![priming(), event(&message)];
            let StreamableHttpPostResponse::Json(taken, session) =
                take(call(NumberOrString::Number(7)), answer(events)).await
            else {
                panic!("expected a JSON answer");
            };
            assert_eq!(session.as_deref(), Some("s"));
            let by_rmcp: ServerJsonRpcMessage = serde_json::from_str(&message).expect("rmcp");
            assert_eq!(
                serde_json::to_value(&taken).expect("json"),
                serde_json::to_value(&by_rmcp).expect("json"),
                "{result}"
            );
        }
    }

    #[tokio::test]
    async fn anything_else_reaches_rmcp_as_it_came() {
        let progress = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":0,"progress":1}}"#;
        let other_id = r#"{"jsonrpc":"2.0","id":8,"result":{}}"#;
        let error = r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"bad"}}"#;
        let result = r#"{"jsonrpc":"2.0","id":7,"result":{}}"#;
        for first in [progress, other_id, error, "not json"] {
            let response = take(
                call(NumberOrString::Number(7)),
                answer(vec![priming(), event(first), event(result)]),
            )
            .await;
            assert_eq!(remaining(response).await, ["", first, result], "{first}");
        }
        let by_name = take(
            call(NumberOrString::String("r-1".into())),
            answer(vec![event(
                r#"{"jsonrpc":"2.0","id":"r-1","result":{"content":[]}}"#,
            )]),
        )
        .await;
        assert!(matches!(by_name, StreamableHttpPostResponse::Json(..)));
        let empty = take(call(NumberOrString::Number(7)), answer(vec![priming()])).await;
        assert_eq!(remaining(empty).await, [""]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_first_message_is_left_to_rmcp_with_nothing_lost() {
        let result = r#"{"jsonrpc":"2.0","id":7,"result":{"content":[]}}"#;
        let late = futures::stream::once(async {
            tokio::time::sleep(PEEK_LIMIT * 2).await;
            event(result)
        });
        let events = futures::stream::iter(vec![priming()]).chain(late).boxed();
        let response = take(
            call(NumberOrString::Number(7)),
            StreamableHttpPostResponse::Sse(events, None),
        )
        .await;
        assert_eq!(remaining(response).await, ["", result]);
    }

    #[test]
    fn tool_calls_and_resource_and_prompt_requests_are_eligible_not_tools_list_or_initialize() {
        let request = |method: &str, params: Value| -> ClientJsonRpcMessage {
            serde_json::from_value(serde_json::json!({
                "jsonrpc": "2.0", "id": 3, "method": method, "params": params
            }))
            .expect("message")
        };
        let tool = request("tools/call", serde_json::json!({ "name": "echo" }));
        assert_eq!(eligible(&tool), Some(call(NumberOrString::Number(3))));
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
