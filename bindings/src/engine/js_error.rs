//! Turning a thrown JS value into a log text and deciding which [`EndReason`] it means.

use rquickjs::{Coerced, Ctx, Object, Value};

use super::EndReason;
use crate::host::{LimitKind, Limits};

/// A thrown value, rendered for the session log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Thrown {
    /// `Name: message`, or the value as a string.
    pub(crate) summary: String,
    /// The JS stack, when the value is an Error.
    pub(crate) stack: Option<String>,
    /// The engine limit the error's kind says QuickJS raised, if any.
    engine_limit: Option<EngineLimit>,
}

/// What QuickJS throws when a limit is hit: an `InternalError` "out of memory" for the heap,
/// a `RangeError` "Maximum call stack size exceeded" for the stack. A scenario cannot make
/// the first (the prelude removes the `InternalError` global); `new Error("out of memory")`
/// is an ordinary scenario error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EngineLimit {
    Heap,
    Stack,
}

impl Thrown {
    pub(crate) fn from_value<'js>(ctx: &Ctx<'js>, value: &Value<'js>) -> Self {
        if let Some(object) = value.as_object().filter(|_| value.is_error()) {
            return Self::from_error(object);
        }
        let summary = ctx
            .json_stringify(value.clone())
            .ok()
            .flatten()
            .and_then(|s| s.to_string().ok())
            .filter(|_| value.is_object())
            .or_else(|| value.get::<Coerced<String>>().ok().map(|Coerced(s)| s))
            .unwrap_or_else(|| format!("a thrown {}", value.type_name()));
        Self {
            summary,
            stack: None,
            engine_limit: None,
        }
    }

    /// An error of the engine itself rather than a thrown value (an allocation that failed
    /// is the heap limit).
    pub(crate) fn from_engine_error(error: &rquickjs::Error) -> Self {
        Self {
            summary: error.to_string(),
            stack: None,
            engine_limit: matches!(error, rquickjs::Error::Allocation).then_some(EngineLimit::Heap),
        }
    }

    fn from_error(error: &Object<'_>) -> Self {
        let name: String = error
            .get::<_, Coerced<String>>("name")
            .map(|Coerced(s)| s)
            .unwrap_or_else(|_| "Error".into());
        let message: String = error
            .get::<_, Coerced<String>>("message")
            .map(|Coerced(s)| s)
            .unwrap_or_default();
        let stack = error
            .get::<_, Option<String>>("stack")
            .ok()
            .flatten()
            .map(|s| scenario_frames(&s))
            .filter(|s| !s.is_empty());
        let engine_limit = match (name.as_str(), message.as_str()) {
            ("InternalError", "out of memory") => Some(EngineLimit::Heap),
            ("RangeError", "Maximum call stack size exceeded")
            | ("InternalError", "stack overflow") => Some(EngineLimit::Stack),
            _ => None,
        };
        let summary = if message.is_empty() {
            name
        } else {
            format!("{name}: {message}")
        };
        Self {
            summary,
            stack,
            engine_limit,
        }
    }

    /// One log text: summary, then the stack lines.
    pub(crate) fn text(&self) -> String {
        match &self.stack {
            Some(stack) => format!("{}\n{stack}", self.summary),
            None => self.summary.clone(),
        }
    }

    /// The limit this error signals, if QuickJS raised it for one.
    pub(crate) fn limit(&self, limits: &Limits, interrupted: bool) -> Option<LimitKind> {
        if interrupted {
            return Some(LimitKind::CallbackTime(limits.callback_ms));
        }
        match self.engine_limit? {
            EngineLimit::Heap => Some(LimitKind::Heap(limits.heap_bytes)),
            EngineLimit::Stack => Some(LimitKind::Stack(limits.stack_bytes)),
        }
    }

    /// The end reason and log text for this error, thrown `context` (e.g. "in a handler for X").
    pub(crate) fn into_end(
        self,
        context: &str,
        limits: &Limits,
        interrupted: bool,
    ) -> (EndReason, String) {
        match self.limit(limits, interrupted) {
            Some(kind) => {
                let mut text = format!("limit exceeded {context}: {kind}");
                if let Some(stack) = &self.stack {
                    text = format!("{text}\n{stack}");
                }
                (EndReason::Limit(kind), text)
            }
            None => {
                let text = self.text();
                (
                    EndReason::UncaughtError(self.summary),
                    format!(
                        "uncaught {text_kind} {context}: {text}",
                        text_kind = "error"
                    ),
                )
            }
        }
    }
}

/// The stack without the facade's own frames: scenario authors see their code only. The
/// facade is loaded from bytecode without debug info, so its frames read `(<null>:0:1)`.
fn scenario_frames(stack: &str) -> String {
    let prelude = format!("({}", super::prelude::PRELUDE_NAME);
    stack
        .lines()
        .filter(|line| {
            !line.contains(&prelude) && !line.contains("(<null>:") && !line.trim().is_empty()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::scenario_frames;

    #[test]
    fn prelude_frames_are_dropped() {
        let stack = "    at codedError (dialtone:prelude:63:26)\n    at <anonymous> (a.voxengine.js:4:5)\n    at emit (<null>:0:1)\n";
        assert_eq!(
            scenario_frames(stack),
            "    at <anonymous> (a.voxengine.js:4:5)"
        );
    }
}
