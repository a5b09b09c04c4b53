//! The standalone GET stream of a streamable-HTTP session, opened before the client sends
//! `notifications/initialized`.
//!
//! Servers announce changes while they handle that notification: the TypeScript SDK's
//! `McpServer` sends `notifications/tools/list_changed` when tools are registered in its
//! `oninitialized` hook, as server-everything does. Over streamable HTTP a notification that
//! belongs to no request goes to the session's standalone GET stream, and rmcp opens that
//! stream only once the notification has been accepted, so the server had no stream to send
//! it on and the scenario never heard of it. [`super::http::BoundedHttp`] therefore opens the
//! stream first, waits up to [`EARLY_WAIT`] for the server to answer it, posts the
//! notification, and keeps the opened stream here until rmcp asks for the session's stream.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use rmcp::transport::streamable_http_client::{SseError, StreamableHttpError};

/// How long `notifications/initialized` waits for the server to answer the GET. A server that
/// is slower gets the notification anyway; its stream is still handed over when it answers.
pub(crate) const EARLY_WAIT: Duration = Duration::from_secs(2);

pub(crate) type SseStream = BoxStream<'static, Result<sse_stream::Sse, SseError>>;
pub(crate) type Opening =
    BoxFuture<'static, Result<SseStream, StreamableHttpError<reqwest::Error>>>;

/// A stream opened (or still opening) for a session.
struct Kept {
    session: Arc<str>,
    opening: Opening,
}

/// At most one kept stream.
#[derive(Clone, Default)]
pub(crate) struct EarlyStream {
    slot: Arc<Mutex<Option<Kept>>>,
}

impl EarlyStream {
    /// Opens the stream with `opening`, giving the server up to [`EARLY_WAIT`] to answer, and
    /// keeps it for `session`. A stream kept for an earlier session is dropped.
    pub(crate) async fn open(&self, session: Arc<str>, opening: Opening) {
        let mut opening = opening;
        let opening = match tokio::time::timeout(EARLY_WAIT, &mut opening).await {
            Ok(answer) => futures::future::ready(answer).boxed(),
            Err(_) => opening,
        };
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some(Kept { session, opening });
        }
    }

    /// The stream opened for `session`, once; `None` when none was.
    pub(crate) fn take(&self, session: Option<&str>) -> Option<Opening> {
        let mut slot = self.slot.lock().ok()?;
        match slot.take() {
            Some(kept) if Some(&*kept.session) == session => Some(kept.opening),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_events() -> SseStream {
        Box::pin(futures::stream::empty())
    }

    fn ended() -> Opening {
        futures::future::ready(Ok(no_events())).boxed()
    }

    #[tokio::test]
    async fn a_stream_goes_to_its_own_session_once() {
        let early = EarlyStream::default();
        early.open("a".into(), ended()).await;
        assert!(early.take(Some("b")).is_none(), "another session's stream");
        assert!(early.take(Some("a")).is_none(), "dropped on a mismatch");
        early.open("a".into(), ended()).await;
        assert!(early.take(None).is_none());
        early.open("a".into(), ended()).await;
        let opening = early.take(Some("a")).expect("kept for a");
        assert!(opening.await.is_ok());
        assert!(early.take(Some("a")).is_none(), "handed over once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_server_does_not_hold_the_notification() {
        let early = EarlyStream::default();
        let slow: Opening = async {
            tokio::time::sleep(EARLY_WAIT * 3).await;
            Ok(no_events())
        }
        .boxed();
        let started = tokio::time::Instant::now();
        early.open("a".into(), slow).await;
        assert_eq!(started.elapsed(), EARLY_WAIT);
        let opening = early.take(Some("a")).expect("still opening");
        assert!(opening.await.is_ok(), "the answer still arrives");
        assert_eq!(started.elapsed(), EARLY_WAIT * 3);
    }
}
