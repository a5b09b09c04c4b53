//! [`run_session`]: one scenario session from load to `Application.Terminated`.
//!
//! The canonical shape of a session's life:
//! 1. create the runtime with its limits (heap, stack, CPU budget per callback);
//! 2. evaluate the prelude, then each scenario script in order in the same realm;
//! 3. dispatch `Application.Started`;
//! 4. loop: take the next host event or due deadline, dispatch it as one *turn*, run promise
//!    jobs to quiescence, check for an end;
//! 5. finish: drop timers, hang up live calls, dispatch `Terminating` then `Terminated`, report
//!    [`Outbound::Ended`].
//!
//! **Every turn is bounded by the callback CPU budget, and every JS value the Rust side holds
//! is released before the runtime is dropped.**

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::Duration;

use rquickjs::context::EvalOptions;
use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};
use serde_json::json;
use tokio::time::{Instant, sleep_until};

use super::async_ops::Settled;
use super::js_error::Thrown;
use super::prelude;
use super::state::{CallPhase, SessionState};
use crate::api;
use crate::host::{
    CallCommand, CallEvent, EVENT_QUEUE_CAPACITY, EndReason, HostEvent, IncomingCall, LimitKind,
    LogLevel, Outbound, PlayerEvent, Received, SessionIo, SessionSpec, WebSocketEvent,
};
use crate::mcp::{McpEvent, Started};

/// Runs one session to its end and returns why it ended. The host also receives the reason as
/// [`Outbound::Ended`], after every other message of the session.
pub async fn run_session(spec: SessionSpec, io: SessionIo) -> EndReason {
    let SessionIo {
        mut events,
        outbound,
    } = io;
    let (state, mut mcp_events, mut settled) = SessionState::new(&spec, outbound);
    let state = Rc::new(state);
    let reason = match Session::load(&spec, state.clone()) {
        Ok(mut session) => {
            session
                .run(&mut events, &mut mcp_events, &mut settled)
                .await
        }
        Err(reason) => reason,
    };
    // MCP clients cancel what is in flight and close their transports (bounded per client).
    let clients = state.mcp.borrow_mut().close_all();
    for client in clients {
        let _ = client.await;
    }
    state.send(Outbound::Ended(reason.clone()));
    reason
}

/// Heap size of a session's first garbage collection (QuickJS then sets the next one at 1.5x
/// what is live).
const GC_THRESHOLD_BYTES: usize = 1 << 20;

type PendingRejections = Rc<RefCell<Vec<(Persistent<Value<'static>>, Thrown)>>>;

/// A loaded session. Field order is drop order: JS handles before the context and runtime.
struct Session {
    /// The prelude's entry points (`app`, `call`, `timer`, `clear`).
    dispatcher: Option<Persistent<Object<'static>>>,
    /// Promises rejected with no handler during the current turn.
    rejections: PendingRejections,
    ctx: Context,
    rt: Runtime,
    state: Rc<SessionState>,
    /// When the current turn started (None between turns): the CPU budget's clock.
    turn_started: Rc<Cell<Option<std::time::Instant>>>,
    /// The interrupt handler stopped the current turn.
    interrupted: Rc<Cell<bool>>,
    /// Since when the session has had no live call.
    no_call_since: Option<Instant>,
    /// When each connected call reaches `max_call_duration_s`.
    call_deadlines: std::collections::BTreeMap<String, Instant>,
    /// An end decided by the host or a session limit (not by JS).
    forced_end: Option<EndReason>,
    /// MCP clients whose `createClient` has resolved.
    mcp_connected: HashSet<u32>,
    /// Notifications a client received during its handshake, delivered after
    /// `ConnectorInformation` (the scenario adds its listeners once `createClient` resolves).
    mcp_early: HashMap<u32, Vec<McpEvent>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.rejections.borrow_mut().clear();
        self.dispatcher = None;
    }
}

fn script_options(name: &str) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.filename = Some(name.to_owned());
    options
}

impl Session {
    fn load(spec: &SessionSpec, state: Rc<SessionState>) -> Result<Self, EndReason> {
        // Logs the whole text (with the stack); the end reason keeps its first line.
        let load_error = |state: &SessionState, what: String| {
            state.log(LogLevel::Error, &format!("scenario failed to load: {what}"));
            EndReason::LoadError(what.lines().next().unwrap_or_default().to_owned())
        };
        let limits = spec.limits;
        let source_chars: usize = spec.scripts.iter().map(|s| s.source.chars().count()).sum();
        if source_chars > limits.max_source_chars {
            let kind = LimitKind::SourceSize(limits.max_source_chars);
            state.log(
                LogLevel::Error,
                &format!("limit exceeded: scenarios have {source_chars} characters: {kind}"),
            );
            return Err(EndReason::Limit(kind));
        }

        let rt = Runtime::new().map_err(|e| load_error(&state, format!("JS runtime: {e}")))?;
        rt.set_memory_limit(limits.heap_bytes);
        rt.set_max_stack_size(limits.stack_bytes);
        // No collection while the facade loads (about 420 KiB of fresh, live objects: a
        // collection then finds nothing and cost 5 % of a session's start, measured).
        rt.set_gc_threshold(GC_THRESHOLD_BYTES);
        let turn_started: Rc<Cell<Option<std::time::Instant>>> = Rc::default();
        let interrupted: Rc<Cell<bool>> = Rc::default();
        {
            let (started, interrupted) = (turn_started.clone(), interrupted.clone());
            let budget = Duration::from_millis(limits.callback_ms);
            rt.set_interrupt_handler(Some(Box::new(move || {
                let over = started.get().is_some_and(|t| t.elapsed() > budget);
                if over {
                    interrupted.set(true);
                }
                over
            })));
        }
        let rejections: PendingRejections = Rc::default();
        {
            let rejections = rejections.clone();
            rt.set_host_promise_rejection_tracker(Some(Box::new(
                move |ctx: Ctx<'_>, promise: Value<'_>, reason: Value<'_>, handled: bool| {
                    let mut pending = rejections.borrow_mut();
                    if handled {
                        pending.retain(|(p, _)| {
                            p.clone()
                                .restore(&ctx)
                                .map(|p| p != promise)
                                .unwrap_or(true)
                        });
                    } else {
                        let thrown = Thrown::from_value(&ctx, &reason);
                        pending.push((Persistent::save(&ctx, promise), thrown));
                    }
                },
            )));
        }
        let ctx = Context::full(&rt).map_err(|e| load_error(&state, format!("JS context: {e}")))?;

        let mut session = Session {
            dispatcher: None,
            rejections,
            ctx,
            rt,
            state: state.clone(),
            turn_started,
            interrupted,
            no_call_since: Some(Instant::now()),
            call_deadlines: std::collections::BTreeMap::new(),
            forced_end: None,
            mcp_connected: HashSet::new(),
            mcp_early: HashMap::new(),
        };

        let dispatcher = session.ctx.with(|ctx| -> Result<_, String> {
            let init = prelude::load(&ctx)?;
            let ops = api::install_ops(&ctx, &state).map_err(|e| e.to_string())?;
            let dispatcher: Object = init
                .call((ops, ctx.globals()))
                .map_err(|e| format!("initialising the prelude: {e}"))?;
            Ok(Persistent::save(&ctx, dispatcher))
        });
        match dispatcher {
            Ok(d) => session.dispatcher = Some(d),
            Err(e) => return Err(load_error(&state, e)),
        }

        for script in &spec.scripts {
            session.arm();
            let outcome = session.ctx.with(|ctx| {
                let ran = match &script.compiled {
                    Some(compiled) => super::bytecode::run(&ctx, compiled),
                    None => ctx.eval_with_options::<(), _>(
                        script.source.as_str(),
                        script_options(&script.name),
                    ),
                };
                match ran {
                    Ok(()) => None,
                    Err(e) => Some(caught(&ctx, e)),
                }
            });
            if let Some(thrown) = outcome {
                session.disarm();
                let reason = match thrown.limit(&limits, session.interrupted.get()) {
                    Some(kind) => {
                        state.log(
                            LogLevel::Error,
                            &format!("limit exceeded while loading {}: {kind}", script.name),
                        );
                        EndReason::Limit(kind)
                    }
                    None => load_error(&state, format!("{}: {}", script.name, thrown.text())),
                };
                return Err(reason);
            }
            session.drain_jobs(&format!("in the top level of {}", script.name));
            session.disarm();
            if let Some(reason) = state.failure() {
                return Err(reason);
            }
        }
        Ok(session)
    }

    async fn run(
        &mut self,
        events: &mut crate::host::HostEventReceiver,
        mcp_events: &mut crate::host::ShedReceiver<McpEvent>,
        settled: &mut tokio::sync::mpsc::Receiver<Settled>,
    ) -> EndReason {
        let mut started = json!({
            "sessionId": self.state.session_id,
            "applicationName": self.state.application,
            "ruleName": self.state.rule,
            "customData": self.state.custom_data(),
        });
        if let Some(url) = &self.state.access_url {
            // No TLS on the access URL yet: the "secure" one is the same.
            started["accessURL"] = json!(url);
            started["accessSecureURL"] = json!(url);
        }
        self.dispatch_app("Application.Started", started, None);
        loop {
            if let Some(reason) = self.end_reason() {
                return self.finish(reason);
            }
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                event = events.recv() => match event {
                    Some(event) => self.on_host_event(event),
                    None => self.forced_end = Some(EndReason::Shutdown("the host went away".into())),
                },
                Some(received) = mcp_events.recv() => match received {
                    Received::Item(event) => self.on_mcp_event(event),
                    Received::Dropped(count) => self.state.log(
                        LogLevel::Warn,
                        &format!("{count} MCP notifications were dropped: the session fell behind ({EVENT_QUEUE_CAPACITY} events were waiting)"),
                    ),
                },
                Some(settled) = settled.recv() => self.on_settled(settled),
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.on_deadline(Instant::now());
                }
            }
        }
    }

    fn end_reason(&self) -> Option<EndReason> {
        self.state.end_reason().or_else(|| self.forced_end.clone())
    }

    fn next_deadline(&self) -> Option<Instant> {
        let limits = &self.state.limits;
        let timers = self.state.timers.borrow_mut().next_deadline();
        let no_call = self.no_call_since.map(|t| t + limits.no_call_timeout());
        let unanswered = self
            .state
            .calls
            .borrow()
            .values()
            .filter_map(|phase| match phase {
                CallPhase::Alerting { deadline } => *deadline,
                _ => None,
            })
            .min();
        let too_long = self.call_deadlines.values().min().copied();
        [timers, no_call, unanswered, too_long]
            .into_iter()
            .flatten()
            .min()
    }

    fn on_host_event(&mut self, event: HostEvent) {
        match event {
            HostEvent::CallAlerting(call) => self.on_call_alerting(call),
            HostEvent::Call { call_id, event } => self.on_call_event(call_id, event),
            HostEvent::WebSocket { id, event } => self.on_websocket_event(id, event),
            HostEvent::Player { id, event } => self.on_player_event(id, event),
            HostEvent::Recorder { id, event } => {
                let fields = event.fields();
                self.on_unit_event("recorder", id, event.name(), fields);
            }
            HostEvent::Acd { request, event } => {
                let fields = event.fields();
                self.on_unit_event("acd", request, event.name(), fields);
            }
            HostEvent::Asr { id, event } => {
                let fields = event.fields();
                self.on_unit_event("asr", id, event.name(), fields);
            }
            HostEvent::Warning { text } => self.state.log(LogLevel::Warn, &text),
            HostEvent::HttpRequest(request) => self.on_http_request(request),
            HostEvent::Shutdown { reason } => {
                self.state.log(
                    LogLevel::Warn,
                    &format!("session shut down by the host: {reason}"),
                );
                self.forced_end = Some(EndReason::Shutdown(reason));
            }
        }
    }

    /// `AppEvents.HttpRequest`: the handlers run; the first value one returns (awaited when a
    /// promise) is the answer (`dispatch.js`).
    fn on_http_request(&mut self, request: crate::host::HttpRequest) {
        let id = request.id;
        let mut payload = serde_json::to_value(&request).unwrap_or_default();
        if let Some(fields) = payload.as_object_mut() {
            fields.insert("name".into(), json!("Application.HttpRequest"));
        }
        self.state.send(Outbound::Event {
            name: "Application.HttpRequest".into(),
            payload: payload.clone(),
        });
        let fields = payload.to_string();
        self.turn("in a handler for Application.HttpRequest", |_, d| {
            let entry: Function = d.get("httpRequest")?;
            entry.call::<_, ()>((id as f64, fields.as_str()))
        });
    }

    fn on_call_alerting(&mut self, call: IncomingCall) {
        let deadline = Instant::now() + self.state.limits.unanswered_call_timeout();
        self.state.calls.borrow_mut().insert(
            call.id.clone(),
            CallPhase::Alerting {
                deadline: Some(deadline),
            },
        );
        self.no_call_since = None;
        let mut payload = serde_json::to_value(&call).unwrap_or_default();
        if let Some(fields) = payload.as_object_mut() {
            fields.insert("call".into(), json!(call.id));
        }
        self.dispatch_app("Application.CallAlerting", payload, Some(&call));
    }

    fn on_call_event(&mut self, call_id: String, event: CallEvent) {
        {
            let mut calls = self.state.calls.borrow_mut();
            let Some(phase) = calls.get_mut(&call_id) else {
                return;
            };
            if *phase == CallPhase::Ended {
                return;
            }
            if event.is_final() {
                *phase = CallPhase::Ended;
                self.call_deadlines.remove(&call_id);
            } else if matches!(event, CallEvent::Connected { .. }) {
                *phase = CallPhase::Connected;
                let max = self.state.limits.max_call_duration_s;
                if max > 0 {
                    let until = Instant::now() + Duration::from_secs(max);
                    self.call_deadlines.insert(call_id.clone(), until);
                }
            }
        }
        if !self.state.has_live_call() {
            self.no_call_since = Some(Instant::now());
        }
        let name = event.name();
        let mut payload = serde_json::to_value(&event).unwrap_or_default();
        if let Some(fields) = payload.as_object_mut() {
            fields.remove("event");
            fields.insert("call".into(), json!(call_id));
        }
        self.state.send(Outbound::Event {
            name: name.into(),
            payload: payload.clone(),
        });
        let json = payload.to_string();
        self.turn(&format!("in a handler for {name}"), |_, d| {
            let deliver: Function = d.get("call")?;
            deliver.call::<_, ()>((call_id.as_str(), name, json.as_str()))
        });
    }

    fn on_websocket_event(&mut self, id: String, event: WebSocketEvent) {
        let fields = event.fields();
        self.on_unit_event("websocket", id, event.name(), fields);
    }

    fn on_player_event(&mut self, id: String, event: PlayerEvent) {
        let sequence = self.state.sequence_players.borrow().contains(&id);
        let (entry, prefix) = if sequence {
            ("sequencePlayer", "SequencePlayer")
        } else {
            ("player", "Player")
        };
        if matches!(event, PlayerEvent::Stopped) {
            self.state.sequence_players.borrow_mut().remove(&id);
        }
        let name = format!("{prefix}.{}", event.short_name());
        self.on_unit_event(entry, id, &name, event.fields());
    }

    /// Reports an event of a media unit (its id under `entry`, e.g. `websocket`) and
    /// dispatches it to the facade's entry point of that name, as one turn.
    fn on_unit_event(
        &mut self,
        entry: &'static str,
        id: String,
        name: &str,
        fields: serde_json::Value,
    ) {
        let json = fields.to_string();
        let mut payload = fields;
        if let Some(map) = payload.as_object_mut() {
            map.insert(entry.into(), json!(id));
        }
        self.state.send(Outbound::Event {
            name: name.into(),
            payload,
        });
        self.turn(&format!("in a handler for {name}"), |_, d| {
            let deliver: Function = d.get(entry)?;
            deliver.call::<_, ()>((id.as_str(), name, json.as_str()))
        });
    }

    /// Tells the host how an MCP connect or request went (metrics).
    fn report_mcp(&self, what: Started, ok: bool) {
        let finished = self.state.mcp.borrow_mut().finished(what);
        if let Some((method, elapsed)) = finished {
            self.state.send(Outbound::McpRequest {
                method,
                ok,
                elapsed,
            });
        }
    }

    fn on_mcp_event(&mut self, event: McpEvent) {
        match event {
            McpEvent::Connected { client, info } => {
                self.report_mcp(Started::Connect(client), true);
                // The promise resolves in one turn (its continuation adds the listeners), and
                // ConnectorInformation follows in the next, then what arrived meanwhile.
                self.mcp_connected.insert(client);
                self.mcp_turn("connected", client, "", None, serde_json::Value::Null);
                if self.end_reason().is_none() {
                    let reported = "MCP.ServerEvents.ConnectorInformation";
                    self.mcp_turn(
                        "notification",
                        client,
                        "ConnectorInformation",
                        Some(reported),
                        info,
                    );
                }
                for early in self.mcp_early.remove(&client).unwrap_or_default() {
                    // A ConnectorInformation handler may have ended the session.
                    if self.end_reason().is_some() {
                        break;
                    }
                    self.on_mcp_event(early);
                }
            }
            McpEvent::Notification { client, .. } | McpEvent::ServerRequest { client, .. }
                if !self.mcp_connected.contains(&client) =>
            {
                self.mcp_early.entry(client).or_default().push(event);
            }
            McpEvent::ConnectFailed {
                client,
                code,
                message,
            } => {
                self.report_mcp(Started::Connect(client), false);
                self.mcp_early.remove(&client);
                let payload = json!({ "code": code, "message": message });
                self.mcp_turn(
                    "failed",
                    client,
                    "",
                    Some("MCP.createClient rejected"),
                    payload,
                );
            }
            McpEvent::Result {
                client,
                request_id,
                name,
                payload,
                json,
            } => {
                self.report_mcp(Started::Request(request_id), name != "MCPError");
                // The result is written as JSON once, by the client; JS gets it wrapped.
                let js = format!(r#"{{"requestId":{request_id},"payload":{json}}}"#);
                drop(json); // a result may be megabytes: keep one copy through the turn
                let reported = format!("MCP.ServerEvents.{name}");
                let fields = json!({ "requestId": request_id, "payload": payload });
                self.report_mcp_event(&reported, client, fields);
                self.deliver_mcp("result", client, name, &js);
            }
            McpEvent::Notification {
                client,
                name,
                payload,
            } => {
                let reported = format!("MCP.ServerEvents.{name}");
                self.mcp_turn("notification", client, name, Some(&reported), payload);
            }
            McpEvent::GrantRefreshed { name, value, .. } => {
                self.state.set_secret(&name, &value);
                self.state.send(Outbound::SecretUpdate { name, value });
            }
            McpEvent::ServerRequest {
                client,
                request_id,
                name,
                payload,
            } => {
                let fields = json!({ "requestId": request_id, "payload": payload });
                let reported = format!("MCP.ServerEvents.{name}");
                self.mcp_turn("request", client, name, Some(&reported), fields);
            }
            McpEvent::Closed {
                client,
                code,
                reason,
            } => {
                self.state.mcp.borrow_mut().forget(client);
                let payload = json!({ "code": code, "reason": reason, "wasClean": false });
                self.mcp_turn("closed", client, "", Some("MCP.onWebSocketClose"), payload);
            }
        }
    }

    /// Reports an MCP event to the host as `reported` (with the client id), then delivers it
    /// to the facade as one turn.
    fn mcp_turn(
        &mut self,
        kind: &'static str,
        client: u32,
        name: &'static str,
        reported: Option<&str>,
        payload: serde_json::Value,
    ) {
        let js = if payload.is_null() {
            String::new()
        } else {
            payload.to_string()
        };
        if let Some(reported) = reported {
            self.report_mcp_event(reported, client, payload);
        }
        self.deliver_mcp(kind, client, name, &js);
    }

    /// Tells the host about an MCP event: `payload`'s fields (or `payload` itself, when it is
    /// not an object) with the client id.
    fn report_mcp_event(&self, reported: &str, client: u32, payload: serde_json::Value) {
        let mut fields = serde_json::Map::new();
        fields.insert("client".into(), json!(client));
        match payload {
            serde_json::Value::Object(map) => fields.extend(map),
            other => {
                fields.insert("payload".into(), other);
            }
        }
        self.state.send(Outbound::Event {
            name: reported.to_owned(),
            payload: serde_json::Value::Object(fields),
        });
    }

    /// Runs the facade's MCP entry point with one event (`payload` is JSON text) as one turn.
    fn deliver_mcp(&mut self, kind: &'static str, client: u32, name: &'static str, payload: &str) {
        let context = match kind {
            "connected" => "in an MCP connected handler",
            "failed" => "in an MCP failed handler",
            "result" => "in an MCP result handler",
            "notification" => "in an MCP notification handler",
            "closed" => "in an MCP closed handler",
            _ => "in an MCP handler",
        };
        self.turn(context, |_, d| {
            let mcp: Function = d.get("mcp")?;
            mcp.call::<_, ()>((kind, client, name, payload))
        });
    }

    /// Hangs up the connected calls that reached `max_call_duration_s`.
    /// An async op finished: its promise settles (a failure rejects it with its code).
    fn on_settled(&mut self, settled: Settled) {
        let (ok, payload) = match settled.outcome {
            Ok(value) => (true, value.to_string()),
            Err(failure) => (
                false,
                json!({"code": failure.code, "message": failure.message}).to_string(),
            ),
        };
        self.turn("in a promise's continuation", |_, d| {
            let settle: Function = d.get("settle")?;
            settle.call::<_, ()>((settled.id, ok, payload.as_str()))
        });
    }

    fn hang_up_long_calls(&mut self, now: Instant) {
        let due: Vec<String> = self
            .call_deadlines
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for call_id in due {
            self.call_deadlines.remove(&call_id);
            self.state.log(
                LogLevel::Warn,
                &format!(
                    "call {call_id} reached the maximum call duration ({} s): hanging up",
                    self.state.limits.max_call_duration_s
                ),
            );
            self.state.send(Outbound::Call {
                call_id,
                command: CallCommand::Hangup {
                    headers: Default::default(),
                },
            });
        }
    }

    fn on_deadline(&mut self, now: Instant) {
        self.hang_up_long_calls(now);
        // Timers set while this batch runs wait for the next one: the loop looks at host
        // events in between, and a callback re-arming itself cannot starve it.
        let batch = self.state.timers.borrow().mark();
        loop {
            if self.end_reason().is_some() {
                return;
            }
            let due = self.state.timers.borrow_mut().pop_due(now, batch);
            let Some((id, done, nesting)) = due else {
                break;
            };
            self.state.timer_nesting.set(Some(nesting));
            self.turn("in a timer callback", |_, d| {
                let fire: Function = d.get("timer")?;
                fire.call::<_, ()>((id, done))
            });
            self.state.timer_nesting.set(None);
        }
        let limits = self.state.limits;
        let expired: Vec<String> = self
            .state
            .calls
            .borrow_mut()
            .iter_mut()
            .filter_map(|(id, phase)| match phase {
                CallPhase::Alerting { deadline: Some(at) } if *at <= now => {
                    *phase = CallPhase::Alerting { deadline: None };
                    Some(id.clone())
                }
                _ => None,
            })
            .collect();
        for call_id in expired {
            self.state.log(
                LogLevel::Warn,
                &format!(
                    "call {call_id} was not answered within {} s (unanswered-call limit): rejecting it with 480",
                    limits.unanswered_call_timeout_s
                ),
            );
            self.state.send(Outbound::Call {
                call_id,
                command: CallCommand::Reject {
                    code: 480,
                    headers: Default::default(),
                },
            });
        }
        if self.state.has_live_call() {
            // An outbound call keeps a session without an inbound one alive.
            self.no_call_since = None;
        }
        if let Some(since) = self.no_call_since
            && since + limits.no_call_timeout() <= now
        {
            self.state.log(
                LogLevel::Info,
                &format!(
                    "no call for {} s: ending the session (no-call timeout)",
                    limits.no_call_timeout_s
                ),
            );
            self.forced_end = Some(EndReason::NoCalls);
        }
    }

    fn finish(&mut self, reason: EndReason) -> EndReason {
        self.state.set_ending();
        self.state.timers.borrow_mut().clear_all();
        let live: Vec<String> = self
            .state
            .calls
            .borrow()
            .iter()
            .filter(|(_, phase)| {
                matches!(
                    phase,
                    CallPhase::Alerting { .. } | CallPhase::Dialing | CallPhase::Connected
                )
            })
            .map(|(id, _)| id.clone())
            .collect();
        for call_id in live {
            self.state.send(Outbound::Call {
                call_id,
                command: CallCommand::Hangup {
                    headers: Default::default(),
                },
            });
        }
        let payload = if reason.is_normal() {
            json!({})
        } else {
            json!({ "systemError": reason.to_string() })
        };
        self.dispatch_app("Application.Terminating", payload.clone(), None);
        self.dispatch_app("Application.Terminated", payload, None);
        self.state.log_dropped_untold();
        self.turn("while clearing the session", |_, d| {
            let clear: Function = d.get("clear")?;
            clear.call::<_, ()>(())
        });
        reason
    }

    fn dispatch_app(
        &mut self,
        name: &str,
        payload: serde_json::Value,
        call: Option<&IncomingCall>,
    ) {
        self.state.send(Outbound::Event {
            name: name.into(),
            payload: payload.clone(),
        });
        let mut fields = payload;
        if let Some(map) = fields.as_object_mut() {
            map.remove("call");
        }
        let fields = fields.to_string();
        let call = call.and_then(|c| serde_json::to_string(c).ok());
        self.turn(&format!("in a handler for {name}"), |_, d| {
            let app: Function = d.get("app")?;
            app.call::<_, ()>((name, fields.as_str(), call.as_deref()))
        });
    }

    /// Runs `f` with the entry points as one turn: CPU budget armed, promise jobs drained,
    /// errors and unhandled rejections turned into the session's failure.
    fn turn<F>(&mut self, context: &str, f: F)
    where
        F: for<'js> FnOnce(&Ctx<'js>, &Object<'js>) -> rquickjs::Result<()>,
    {
        let Some(dispatcher) = self.dispatcher.clone() else {
            return;
        };
        self.arm();
        let thrown = self.ctx.with(|ctx| {
            let result = dispatcher.restore(&ctx).and_then(|d| f(&ctx, &d));
            result.err().map(|e| caught(&ctx, e))
        });
        if let Some(thrown) = thrown {
            self.fail(thrown, context);
        }
        self.drain_jobs(context);
        self.disarm();
    }

    fn arm(&self) {
        self.interrupted.set(false);
        self.turn_started.set(Some(std::time::Instant::now()));
    }

    fn disarm(&self) {
        self.turn_started.set(None);
    }

    /// Records `thrown` as the session's failure. Only the first failure of a session is
    /// logged: later errors are consequences of it (a limit's exception unwinding, say).
    fn fail(&self, thrown: Thrown, context: &str) {
        if self.state.failure().is_some() {
            return;
        }
        let (reason, text) = thrown.into_end(context, &self.state.limits, self.interrupted.get());
        self.state.fail(reason, &text);
    }

    /// Runs promise jobs until none is left, then fails on any rejection nobody handled.
    fn drain_jobs(&mut self, context: &str) {
        loop {
            match self.rt.execute_pending_job() {
                Ok(true) => {}
                Ok(false) => break,
                Err(job) => {
                    let thrown = job.0.with(|ctx| {
                        let value = ctx.catch();
                        Thrown::from_value(&ctx, &value)
                    });
                    self.fail(thrown, context);
                }
            }
        }
        let unhandled: Vec<Thrown> = self
            .rejections
            .borrow_mut()
            .drain(..)
            .map(|(_, t)| t)
            .collect();
        for thrown in unhandled {
            let text = thrown.text();
            self.state.fail(
                EndReason::UncaughtError(format!(
                    "unhandled promise rejection: {}",
                    thrown.summary
                )),
                &format!("unhandled promise rejection {context}: {text}"),
            );
        }
    }
}

/// The thrown value behind an `rquickjs::Error`, rendered.
fn caught(ctx: &Ctx<'_>, error: rquickjs::Error) -> Thrown {
    if error.is_exception() {
        let value = ctx.catch();
        Thrown::from_value(ctx, &value)
    } else {
        Thrown::from_engine_error(&error)
    }
}
