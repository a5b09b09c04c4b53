//! Reports a pool worker's sessions send the host (log lines, events, MCP metrics) wait until
//! the worker is about to go idle, then go out together.
//!
//! Each message to the host wakes a thread of the host's runtime. Sent the moment a scenario
//! logs, that wake-up lands in the middle of the session's turn, before the I/O the turn
//! started (an MCP request, say) has been written: on a small machine the woken thread takes
//! the core that the turn or its peer needs next. Held until the worker parks, the same
//! messages cost one wake-up per idle period, after the turn's I/O is on the wire.
//!
//! Order is kept: a message that is not a report (a call command, the end of a session)
//! first sends everything held. Only threads that [`enable`] hold messages, and their
//! runtime must call [`flush`] before it parks (the session pool's workers do); elsewhere
//! (the console, tests) every message goes out at once. A worker too busy to park still sends
//! what it holds once [`MAX_HELD`] reports wait or the oldest has waited [`MAX_AGE`] (checked
//! whenever one of its sessions sends).

use std::cell::RefCell;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use crate::host::Outbound;

/// Most reports held before they go out without waiting for the worker to idle.
pub(crate) const MAX_HELD: usize = 256;
/// Longest a report waits on a worker that does not park.
pub(crate) const MAX_AGE: Duration = Duration::from_millis(20);

#[derive(Default)]
struct Held {
    /// When the oldest held report was made.
    since: Option<Instant>,
    queue: Vec<(UnboundedSender<Outbound>, Outbound)>,
}

thread_local! {
    /// `None` on threads that do not hold reports.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Makes this thread hold reports; its runtime must call [`flush`] before parking.
pub(crate) fn enable() {
    HELD.with(|held| {
        held.borrow_mut().get_or_insert_with(Held::default);
    });
}

/// Sends `message` to `host`, or holds it when it is a report and this thread holds reports.
pub(crate) fn send(host: &UnboundedSender<Outbound>, message: Outbound) {
    let report = matches!(
        message,
        Outbound::Log { .. } | Outbound::Event { .. } | Outbound::McpRequest { .. }
    );
    let now = HELD.with(|held| match held.borrow_mut().as_mut() {
        Some(held) if report && held.queue.len() < MAX_HELD => {
            let since = *held.since.get_or_insert_with(Instant::now);
            held.queue.push((host.clone(), message));
            (since.elapsed() >= MAX_AGE).then_some(None)
        }
        _ => Some(Some(message)),
    });
    if let Some(message) = now {
        flush();
        if let Some(message) = message {
            let _ = host.send(message);
        }
    }
}

/// Sends everything this thread holds, in order.
pub(crate) fn flush() {
    let queue = HELD.with(|held| {
        held.borrow_mut().as_mut().map(|held| {
            held.since = None;
            std::mem::take(&mut held.queue)
        })
    });
    for (host, message) in queue.into_iter().flatten() {
        let _ = host.send(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{CallCommand, LogLevel};

    fn log(text: &str) -> Outbound {
        Outbound::Log {
            level: LogLevel::Info,
            text: text.into(),
        }
    }

    fn texts(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Outbound>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(message) = rx.try_recv() {
            out.push(match message {
                Outbound::Log { text, .. } => text,
                Outbound::Call { .. } => "call".into(),
                other => format!("{other:?}"),
            });
        }
        out
    }

    #[test]
    fn threads_that_do_not_hold_send_at_once() {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || send(&tx, log("now")))
            .join()
            .expect("thread");
        assert_eq!(texts(&mut rx), ["now"]);
    }

    /// Runs `f` on a fresh thread that holds reports, as a pool worker does.
    fn on_holding_thread<T: Send + 'static>(
        f: impl FnOnce(
            &UnboundedSender<Outbound>,
            &mut tokio::sync::mpsc::UnboundedReceiver<Outbound>,
        ) -> T
        + Send
        + 'static,
    ) -> T {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            enable();
            f(&tx, &mut rx)
        })
        .join()
        .expect("thread")
    }

    #[test]
    fn reports_wait_for_flush_and_commands_keep_their_place() {
        let (held, after_command, after_flush) = on_holding_thread(|tx, rx| {
            send(tx, log("a"));
            send(tx, log("b"));
            let held = texts(rx);
            send(
                tx,
                Outbound::Call {
                    call_id: "c".into(),
                    command: CallCommand::Answer {
                        headers: Default::default(),
                    },
                },
            );
            let after_command = texts(rx);
            send(tx, log("c"));
            flush();
            (held, after_command, texts(rx))
        });
        assert_eq!(held, Vec::<String>::new());
        assert_eq!(after_command, ["a", "b", "call"]);
        assert_eq!(after_flush, ["c"]);
    }

    #[test]
    fn a_report_older_than_max_age_goes_out_with_the_next_one() {
        let (before, after) = on_holding_thread(|tx, rx| {
            send(tx, log("old"));
            let before = texts(rx);
            std::thread::sleep(MAX_AGE);
            send(tx, log("new"));
            (before, texts(rx))
        });
        assert_eq!(before, Vec::<String>::new());
        assert_eq!(after, ["old", "new"]);
    }

    #[test]
    fn at_most_max_held_wait() {
        let sent = on_holding_thread(|tx, rx| {
            for i in 0..=MAX_HELD {
                send(tx, log(&i.to_string()));
            }
            texts(rx).len()
        });
        assert_eq!(sent, MAX_HELD + 1);
    }
}
