//! Engine tests: a session driven by a scripted host on simulated time.

use std::collections::BTreeMap;

use crate::host::{
    self, CallCommand, CallEvent, EndReason, HostEvent, IncomingCall, LimitKind, Limits, LogLevel,
    Outbound, Script, SessionSpec,
};

fn spec(source: &str) -> SessionSpec {
    SessionSpec {
        session_id: "s-1".into(),
        application: "app".into(),
        rule: "rule".into(),
        scripts: vec![Script::compile("test.js", source)],
        secrets: BTreeMap::from([("TOKEN".to_string(), "s3cret".to_string())]),
        custom_data: String::new(),
        access_url: None,
        limits: Limits::default(),
        ..SessionSpec::default()
    }
}

fn alerting() -> HostEvent {
    HostEvent::CallAlerting(IncomingCall {
        id: "c1".into(),
        callerid: "100".into(),
        display_name: "Alice".into(),
        destination: "200".into(),
        to_uri: "sip:200@127.0.0.1".into(),
        from_uri: "sip:100@127.0.0.1".into(),
        headers: BTreeMap::new(),
        scheme: "sip".into(),
    })
}

/// Runs `spec` with `events` queued up front; the host goes away after 10 simulated minutes.
/// Returns the end reason and everything the session sent out.
async fn run(spec: SessionSpec, events: Vec<HostEvent>) -> (EndReason, Vec<Outbound>) {
    let (mut host, session) = host::channel();
    for event in events {
        host.events.send(event).expect("session is listening");
    }
    let sender = host.events;
    let host_gone = async move {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
        drop(sender);
        std::future::pending::<()>().await;
    };
    let reason = tokio::select! {
        reason = super::run_session(spec, session) => reason,
        () = host_gone => unreachable!("the session ends when the host goes away"),
    };
    let mut out = Vec::new();
    while let Ok(message) = host.outbound.try_recv() {
        out.push(message);
    }
    (reason, out)
}

fn logs(out: &[Outbound]) -> Vec<String> {
    out.iter()
        .filter_map(|m| match m {
            Outbound::Log { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

fn events(out: &[Outbound]) -> Vec<String> {
    out.iter()
        .filter_map(|m| match m {
            Outbound::Event { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn started_then_alerting_then_commands_reach_the_host() {
    let source = r#"
        VoxEngine.addEventListener(AppEvents.Started, (e) => Logger.write("started " + e.sessionId));
        VoxEngine.addEventListener(AppEvents.CallAlerting, ({call, callerid}) => {
            Logger.write(`from ${callerid} to ${call.number()} state ${call.state()}`);
            call.answer({"X-Test": 1});
            VoxEngine.terminate();
        });
    "#;
    let (reason, out) = run(spec(source), vec![alerting()]).await;
    assert_eq!(reason, EndReason::Terminated);
    assert_eq!(
        logs(&out),
        ["started s-1", "from 100 to 200 state ALERTING"]
    );
    assert_eq!(
        events(&out),
        [
            "Application.Started",
            "Application.CallAlerting",
            "Call.StateChanged",
            "Application.Terminating",
            "Application.Terminated"
        ]
    );
    let answer = out.iter().find_map(|m| match m {
        Outbound::Call { command, .. } => Some(command.clone()),
        _ => None,
    });
    assert_eq!(
        answer,
        Some(CallCommand::Answer {
            headers: BTreeMap::from([("X-Test".to_string(), "1".to_string())])
        })
    );
    assert_eq!(out.last(), Some(&Outbound::Ended(EndReason::Terminated)));
}

#[tokio::test(start_paused = true)]
async fn uncaught_error_in_handler_still_fires_terminating() {
    let source = r#"
        VoxEngine.addEventListener(AppEvents.Terminating, () => Logger.write("terminating"));
        VoxEngine.addEventListener(AppEvents.CallAlerting, () => { null.x; });
    "#;
    let (reason, out) = run(spec(source), vec![alerting()]).await;
    assert!(
        matches!(reason, EndReason::UncaughtError(ref m) if m.starts_with("TypeError")),
        "{reason:?}"
    );
    let logs = logs(&out);
    assert!(
        logs[0].contains("in a handler for Application.CallAlerting"),
        "{logs:?}"
    );
    assert!(
        logs[0].contains("test.js:3"),
        "stack names the script line: {logs:?}"
    );
    assert_eq!(logs[1], "terminating");
    // The alerting call is hung up by the engine.
    assert!(out.iter().any(|m| matches!(
        m,
        Outbound::Call {
            command: CallCommand::Hangup { .. },
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn unhandled_rejection_ends_the_session() {
    let source = r#"
        VoxEngine.addEventListener(AppEvents.CallAlerting, async () => { throw new Error("late"); });
    "#;
    let (reason, out) = run(spec(source), vec![alerting()]).await;
    assert_eq!(
        reason,
        EndReason::UncaughtError("unhandled promise rejection: Error: late".into())
    );
    assert!(logs(&out)[0].starts_with(
        "unhandled promise rejection in a handler for Application.CallAlerting: Error: late"
    ));
}

#[tokio::test(start_paused = true)]
async fn handled_rejection_is_not_reported() {
    let source = r#"
        const p = Promise.reject(new Error("x"));
        setTimeout(() => { p.catch(() => Logger.write("caught")); VoxEngine.terminate(); }, 0);
    "#;
    // The rejection is unhandled at the end of the top-level turn: that ends the load.
    let (reason, _) = run(spec(source), vec![]).await;
    assert!(matches!(reason, EndReason::UncaughtError(_)));
    let source = r#"
        const p = Promise.reject(new Error("x"));
        p.catch(() => Logger.write("caught"));
        VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
    "#;
    let (reason, out) = run(spec(source), vec![]).await;
    assert_eq!(reason, EndReason::Terminated);
    assert_eq!(logs(&out), ["caught"]);
}

#[tokio::test(start_paused = true)]
async fn runaway_loop_hits_the_cpu_limit_and_the_runtime_stays_usable() {
    let mut spec = spec(
        r#"
        VoxEngine.addEventListener(AppEvents.Terminated, () => Logger.write("still alive"));
        VoxEngine.addEventListener(AppEvents.Started, () => { for (;;) {} });
    "#,
    );
    spec.limits.callback_ms = 50;
    let (reason, out) = run(spec, vec![]).await;
    assert_eq!(reason, EndReason::Limit(LimitKind::CallbackTime(50)));
    let logs = logs(&out);
    assert!(logs[0].contains("callback CPU time"), "{logs:?}");
    assert_eq!(logs.last().map(String::as_str), Some("still alive"));
}

#[tokio::test(start_paused = true)]
async fn timers_fire_in_order_on_simulated_time() {
    let source = r#"
        const t0 = Date.now();
        setTimeout(() => Logger.write("b"), 200);
        setTimeout(() => Logger.write("a"), 100);
        let n = 0;
        const i = setInterval(() => { Logger.write("tick " + (++n)); if (n === 3) { clearInterval(i); VoxEngine.terminate(); } }, 150);
    "#;
    let (reason, out) = run(spec(source), vec![]).await;
    assert_eq!(reason, EndReason::Terminated);
    assert_eq!(logs(&out), ["a", "tick 1", "b", "tick 2", "tick 3"]);
}

#[tokio::test(start_paused = true)]
async fn missing_secret_warns_and_known_secret_is_returned_but_never_logged() {
    let source = r#"
        const token = VoxEngine.getSecretValue("TOKEN");
        Logger.write(`Bearer ${token} has ${token.length} chars, reversed ${[...token].reverse().join("")}`);
        Logger.write(String(VoxEngine.getSecretValue("NOPE")));
        VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
    "#;
    let (_, out) = run(spec(source), vec![]).await;
    let levels: Vec<_> = out
        .iter()
        .filter_map(|m| match m {
            Outbound::Log { level, text } => Some((*level, text.clone())),
            _ => None,
        })
        .collect();
    // The scenario has the real value; the log line it writes has it masked.
    assert_eq!(
        levels[0],
        (
            LogLevel::Info,
            "Bearer *** has 6 chars, reversed terc3s".into()
        )
    );
    assert_eq!(levels[1].0, LogLevel::Warn);
    assert!(
        levels[1]
            .1
            .contains("no secret named 'NOPE' in application 'app'")
    );
    assert_eq!(levels[2], (LogLevel::Info, "undefined".into()));
}

#[tokio::test(start_paused = true)]
async fn no_call_timeout_and_unanswered_call_limit() {
    let (reason, out) = run(spec(""), vec![alerting()]).await;
    // The call is never answered: rejected with 480 after 60 s. The host never confirms, so the
    // call stays live, and the session ends only when the host goes away.
    assert!(out.iter().any(|m| matches!(
        m,
        Outbound::Call {
            command: CallCommand::Reject { code: 480, .. },
            ..
        }
    )));
    assert_eq!(reason, EndReason::Shutdown("the host went away".into()));

    let (reason, out) = run(
        spec(""),
        vec![
            alerting(),
            HostEvent::Call {
                call_id: "c1".into(),
                event: CallEvent::Failed {
                    code: 487,
                    reason: "cancelled".into(),
                    headers: Default::default(),
                },
            },
        ],
    )
    .await;
    assert_eq!(reason, EndReason::NoCalls);
    assert!(logs(&out).iter().any(|l| l.contains("no-call timeout")));
}

#[test]
fn a_session_hitting_a_limit_leaves_its_neighbours_alone() {
    let pool = crate::SessionPool::new(1).expect("pool");
    let runtime = tokio::runtime::Runtime::new().expect("io runtime");
    let mut runaway = spec("VoxEngine.addEventListener(AppEvents.Started, () => { for (;;) {} });");
    runaway.limits.callback_ms = 100;
    let calm = spec(
        "VoxEngine.addEventListener(AppEvents.Started, () => setTimeout(() => VoxEngine.terminate(), 50));",
    );
    let (host_a, session_a) = host::channel();
    let (host_b, session_b) = host::channel();
    let ended_a = pool.spawn(runaway, session_a).expect("spawn");
    let ended_b = pool.spawn(calm, session_b).expect("spawn");
    let (a, b) = runtime.block_on(async { (ended_a.await, ended_b.await) });
    assert_eq!(
        a.expect("ended"),
        EndReason::Limit(LimitKind::CallbackTime(100))
    );
    assert_eq!(b.expect("ended"), EndReason::Terminated);
    drop((host_a, host_b));
    pool.shutdown();
}

#[test]
fn a_pool_session_reports_reach_the_host_while_it_waits_and_before_its_commands() {
    let pool = crate::SessionPool::new(1).expect("pool");
    let runtime = tokio::runtime::Runtime::new().expect("io runtime");
    let waits = spec(
        r#"VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
             Logger.write("before answer");
             call.answer();
             Logger.write("then waiting");
             setTimeout(() => VoxEngine.terminate(), 60000);
           });"#,
    );
    let (mut host, session) = host::channel();
    let ended = pool.spawn(waits, session).expect("spawn");
    host.events.send(alerting()).expect("session is listening");
    let seen = runtime.block_on(async {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while !seen.iter().any(|s: &String| s == "then waiting") {
            let message = tokio::time::timeout_at(deadline, host.outbound.recv())
                .await
                .expect("the held log line arrived while the session waits on its timer")
                .expect("session still running");
            match message {
                Outbound::Log { text, .. } => seen.push(text),
                Outbound::Call {
                    command: CallCommand::Answer { .. },
                    ..
                } => seen.push("answer".into()),
                _ => {}
            }
        }
        seen
    });
    assert_eq!(seen, ["before answer", "answer", "then waiting"]);
    drop(host);
    assert!(matches!(
        runtime.block_on(ended).expect("ended"),
        EndReason::Shutdown(_)
    ));
    pool.shutdown();
}
