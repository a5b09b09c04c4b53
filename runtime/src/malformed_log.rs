//! The log line for SIP datagrams that do not parse. rsipstack drops such a message with a
//! debug event carrying the whole raw message; written as is, every bad datagram became a log
//! line several times its size (its control bytes escaped), so a peer sending garbage could
//! fill the disk. This layer takes those events instead: at most one line a second, naming
//! the source, the parse error and a short escaped excerpt, and how many were dropped since the
//! last line.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Characters of the raw message shown.
const EXCERPT_CHARS: usize = 120;
/// At most one line per this interval.
const INTERVAL: Duration = Duration::from_secs(1);

/// Whether `event` is rsipstack's "could not parse this datagram" event.
pub fn is_malformed_sip(meta: &tracing::Metadata<'_>) -> bool {
    (meta.target().starts_with("rsipstack::transport") || meta.target() == crate::sip::WIRE_TARGET)
        && meta.fields().field("raw_message").is_some()
        && meta.fields().field("error").is_some()
}

#[derive(Default)]
struct Fields {
    src: String,
    error: String,
    raw: String,
    verdict: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "src" => self.src = text,
            "error" => self.error = text,
            "raw_message" => self.raw = text,
            "verdict" => self.verdict = text,
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "src" => self.src = value.to_owned(),
            "error" => self.error = value.to_owned(),
            "raw_message" => self.raw = value.to_owned(),
            "verdict" => self.verdict = value.to_owned(),
            _ => {}
        }
    }
}

#[derive(Debug, Default)]
struct State {
    last: Option<Instant>,
    suppressed: u64,
}

/// A layer that writes rate-limited, escaped lines for malformed SIP datagrams to `W`.
pub struct MalformedSipLog<W> {
    state: Mutex<State>,
    out: Mutex<W>,
}

impl<W> MalformedSipLog<W> {
    /// Writes its lines to `out`.
    pub fn new(out: W) -> Self {
        Self {
            state: Mutex::new(State::default()),
            out: Mutex::new(out),
        }
    }
}

/// `text` with control characters and non-ASCII escaped, cut to `max` characters.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (shown, c) in text.chars().enumerate() {
        if shown == max {
            let _ = write!(out, "… ({} more characters)", text.chars().count() - max);
            break;
        }
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            let _ = write!(out, "{}", c.escape_default());
        }
    }
    out
}

impl<S: Subscriber, W: std::io::Write + 'static> Layer<S> for MalformedSipLog<W> {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !is_malformed_sip(event.metadata()) {
            return;
        }
        let now = Instant::now();
        let suppressed = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state
                .last
                .is_some_and(|last| now.duration_since(last) < INTERVAL)
            {
                state.suppressed += 1;
                return;
            }
            state.last = Some(now);
            std::mem::take(&mut state.suppressed)
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        // The raw message comes Debug-quoted from rsipstack; show its text, escaped by us.
        let raw = fields.raw.trim_matches('"');
        // Our checks say whether they answered (`refused`) or not (`dropped`); rsipstack's
        // parser only drops.
        let what = match fields.verdict.as_str() {
            "refused" => "refused a SIP request",
            "dropped" => "dropped a SIP message",
            _ => "dropped a SIP message that does not parse",
        };
        let mut line = format!(
            "WARN {what} from {} ({}): {}",
            fields.src,
            excerpt(&fields.error, EXCERPT_CHARS),
            excerpt(raw, EXCERPT_CHARS)
        );
        if suppressed > 0 {
            let _ = write!(line, " ({suppressed} more in the last second, not shown)");
        }
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(out, "{line}");
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_flood_of_garbage_gives_one_short_escaped_line_a_second() {
        let buffer = Buffer::default();
        let subscriber = tracing_subscriber::registry().with(MalformedSipLog::new(buffer.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let garbage = format!("INVITE \u{1b}[31m\r\n{}", "x".repeat(5000));
            for _ in 0..1000 {
                // The same shape as rsipstack's event (target rsipstack::transport::udp).
                tracing::debug!(
                    target: "rsipstack::transport::udp",
                    src = "127.0.0.1:5999",
                    error = "invalid method",
                    raw_message = ?garbage,
                    "error parsing SIP message"
                );
            }
        });
        let text = String::from_utf8(buffer.0.lock().expect("lock").clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(lines[0].len() < 400, "short: {}", lines[0].len());
        assert!(
            lines[0].starts_with(
                "WARN dropped a SIP message that does not parse from 127.0.0.1:5999 (invalid method): INVITE \\u{1b}[31m"
            ),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains('\u{1b}'), "no raw control bytes");
    }
}
