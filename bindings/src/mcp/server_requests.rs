//! Requests a server sends its client (`elicitation/create`, `sampling/createMessage`), answered
//! by the scenario: the handler parks each one here and sends the session an
//! `ElicitationRequest` / `SamplingRequest` event; `mcpClient.respond(requestId, answer)` checks
//! the answer against what was asked and hands it back. An unanswered request ends with the
//! client's request timeout, or with the session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

/// Server requests a client may have waiting for the scenario at once.
pub(crate) const MAX_WAITING: usize = 16;

/// What the server asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ask {
    Elicitation,
    Sampling,
}

impl Ask {
    pub(crate) fn method(self) -> &'static str {
        match self {
            Ask::Elicitation => "elicitation/create",
            Ask::Sampling => "sampling/createMessage",
        }
    }

    /// The scenario event.
    pub(crate) fn event(self) -> &'static str {
        match self {
            Ask::Elicitation => "ElicitationRequest",
            Ask::Sampling => "SamplingRequest",
        }
    }
}

/// The scenario's answer: the JSON-RPC result, or the message of a JSON-RPC error.
pub(crate) type Answer = Result<Value, String>;

struct Waiting {
    ask: Ask,
    /// For elicitation: the requested schema, whose defaults fill an accepted answer.
    schema: Value,
    answer: oneshot::Sender<Answer>,
}

/// One client's server requests waiting for the scenario; shared by its handler (which parks
/// them) and its session's hub (which answers them).
#[derive(Clone, Default)]
pub(crate) struct ServerRequests {
    next: Arc<AtomicU64>,
    waiting: Arc<Mutex<HashMap<u64, Waiting>>>,
}

impl std::fmt::Debug for ServerRequests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerRequests").finish_non_exhaustive()
    }
}

/// Why a server request got no answer from the scenario.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unanswered {
    TooMany,
    TimedOut,
    SessionEnded,
}

impl ServerRequests {
    /// Parks a request; returns its id and where the answer arrives.
    pub(crate) fn park(
        &self,
        ask: Ask,
        schema: Value,
    ) -> Result<(u64, oneshot::Receiver<Answer>), Unanswered> {
        let mut waiting = self.waiting.lock().map_err(|_| Unanswered::SessionEnded)?;
        if waiting.len() >= MAX_WAITING {
            return Err(Unanswered::TooMany);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let (answer, receiver) = oneshot::channel();
        waiting.insert(
            id,
            Waiting {
                ask,
                schema,
                answer,
            },
        );
        Ok((id, receiver))
    }

    /// Waits for the answer to `id`, at most `timeout`.
    pub(crate) async fn wait(
        &self,
        id: u64,
        receiver: oneshot::Receiver<Answer>,
        timeout: Duration,
    ) -> Result<Answer, Unanswered> {
        let answer = tokio::time::timeout(timeout, receiver).await;
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.remove(&id);
        }
        match answer {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(Unanswered::SessionEnded),
            Err(_) => Err(Unanswered::TimedOut),
        }
    }

    /// `mcpClient.respond(requestId, answer)`: checks the answer against what was asked and
    /// hands it to the waiting request. The error is for the scenario author.
    pub(crate) fn respond(&self, id: u64, answer: Value) -> Result<(), String> {
        let mut waiting = self
            .waiting
            .lock()
            .map_err(|_| "respond: the client is closed".to_owned())?;
        let Some(entry) = waiting.get(&id) else {
            return Err(format!(
                "respond: no server request {id} is waiting (answered already, timed out, or never asked)"
            ));
        };
        let answer = match entry.ask {
            Ask::Elicitation => elicitation_answer(answer, &entry.schema)?,
            Ask::Sampling => sampling_answer(answer)?,
        };
        if let Some(entry) = waiting.remove(&id) {
            let _ = entry.answer.send(answer);
        }
        Ok(())
    }
}

/// `{action, content}` → the `ElicitResult` JSON, with the schema's defaults filled into an
/// accepted content that omits them (SEP-1034).
fn elicitation_answer(answer: Value, schema: &Value) -> Result<Answer, String> {
    let Value::Object(mut answer) = answer else {
        return Err("respond: the answer must be an object {action, content}".into());
    };
    let action = match answer.remove("action") {
        Some(Value::String(a)) if matches!(a.as_str(), "accept" | "decline" | "cancel") => a,
        _ => {
            return Err("respond: action must be \"accept\", \"decline\" or \"cancel\"".to_owned());
        }
    };
    let content = answer.remove("content");
    if action != "accept" {
        if content.is_some() {
            return Err(format!(
                "respond: content goes only with action \"accept\", not \"{action}\""
            ));
        }
        return Ok(Ok(json!({ "action": action })));
    }
    let mut content = match content {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(content)) => content,
        Some(_) => return Err("respond: content must be an object".to_owned()),
    };
    fill_defaults(&mut content, schema);
    Ok(Ok(json!({ "action": action, "content": content })))
}

/// Fields of `schema.properties` with a `default` that `content` lacks get the default.
pub(crate) fn fill_defaults(content: &mut Map<String, Value>, schema: &Value) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        if let Some(default) = property.get("default")
            && !content.contains_key(name)
        {
            content.insert(name.clone(), default.clone());
        }
    }
}

/// `{role, content, model, stopReason}` → the `CreateMessageResult` JSON; `{error}` → a
/// JSON-RPC error with that message.
#[allow(deprecated)] // sampling: deprecated by SEP-2577, still in use
fn sampling_answer(answer: Value) -> Result<Answer, String> {
    let Value::Object(answer) = answer else {
        return Err(
            "respond: the answer must be an object {role, content, model} or {error}".into(),
        );
    };
    if let Some(error) = answer.get("error") {
        return match error.as_str() {
            Some(message) if !message.is_empty() => Ok(Err(message.to_owned())),
            _ => Err("respond: error must be a non-empty string".into()),
        };
    }
    let result = Value::Object(answer);
    match serde_json::from_value::<rmcp::model::CreateMessageResult>(result.clone()) {
        Ok(_) => Ok(Ok(result)),
        Err(_) => Err(
            "respond: a sampling answer needs role (\"assistant\"), content ({type: \"text\", text}) and model"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Value {
        json!({ "type": "object", "properties": {
            "name": { "type": "string", "default": "John Doe" },
            "age": { "type": "integer", "default": 30 },
            "email": { "type": "string" },
        }})
    }

    #[tokio::test]
    async fn an_accepted_answer_gets_the_schema_defaults() {
        let requests = ServerRequests::default();
        let (id, receiver) = requests.park(Ask::Elicitation, schema()).expect("parked");
        requests
            .respond(id, json!({ "action": "accept", "content": { "age": 41 } }))
            .expect("valid");
        let answer = requests
            .wait(id, receiver, Duration::from_secs(1))
            .await
            .expect("answered");
        assert_eq!(
            answer,
            Ok(json!({ "action": "accept", "content": { "name": "John Doe", "age": 41 } }))
        );
        assert_eq!(
            requests.respond(id, json!({ "action": "decline" })),
            Err("respond: no server request 1 is waiting (answered already, timed out, or never asked)".into())
        );
    }

    #[test]
    fn answers_are_checked_with_whole_messages() {
        let requests = ServerRequests::default();
        let (elicit, _r1) = requests.park(Ask::Elicitation, schema()).expect("parked");
        let (sample, _r2) = requests.park(Ask::Sampling, Value::Null).expect("parked");
        let cases = [
            (
                elicit,
                json!("yes"),
                "respond: the answer must be an object {action, content}",
            ),
            (
                elicit,
                json!({ "action": "ok" }),
                "respond: action must be \"accept\", \"decline\" or \"cancel\"",
            ),
            (
                elicit,
                json!({ "action": "decline", "content": {} }),
                "respond: content goes only with action \"accept\", not \"decline\"",
            ),
            (
                elicit,
                json!({ "action": "accept", "content": 5 }),
                "respond: content must be an object",
            ),
            (
                sample,
                json!([]),
                "respond: the answer must be an object {role, content, model} or {error}",
            ),
            (
                sample,
                json!({ "error": "" }),
                "respond: error must be a non-empty string",
            ),
            (
                sample,
                json!({ "role": "assistant" }),
                "respond: a sampling answer needs role (\"assistant\"), content ({type: \"text\", text}) and model",
            ),
        ];
        for (id, answer, message) in cases {
            assert_eq!(requests.respond(id, answer), Err(message.to_owned()));
        }
        // A refused answer leaves the request waiting for a good one.
        let good = json!({ "role": "assistant", "content": { "type": "text", "text": "hi" }, "model": "m" });
        assert_eq!(requests.respond(sample, good), Ok(()));
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_16_wait_and_an_unanswered_one_times_out() {
        let requests = ServerRequests::default();
        let mut parked = Vec::new();
        for _ in 0..MAX_WAITING {
            parked.push(requests.park(Ask::Sampling, Value::Null).expect("parked"));
        }
        assert!(matches!(
            requests.park(Ask::Sampling, Value::Null),
            Err(Unanswered::TooMany)
        ));
        let (id, receiver) = parked.remove(0);
        let outcome = requests.wait(id, receiver, Duration::from_secs(60)).await;
        assert_eq!(outcome, Err(Unanswered::TimedOut));
        assert!(requests.park(Ask::Sampling, Value::Null).is_ok());
    }
}
