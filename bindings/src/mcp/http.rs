//! The streamable-HTTP client rmcp drives: reqwest, with a bound on how long a server may take
//! to send **response headers**. A server that accepts the connection and never answers would
//! otherwise keep rmcp's worker task and its socket alive for as long as the server holds the
//! connection; with the bound, both end within the request timeout. Streams that have started
//! (SSE responses, the GET stream) are not bounded in time, but every request and stream ends
//! when the client's [`Lifeline`] does: a connect given up at `connectTimeout` leaves no
//! worker waiting on its POST. POST answers go through [`super::direct_result`]. The session's
//! GET stream is opened before `notifications/initialized` is posted ([`super::early_stream`]).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ClientNotification};
use rmcp::transport::common::client_side_sse::{ExponentialBackoff, SseRetryPolicy};
use rmcp::transport::streamable_http_client::{
    StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};

use super::direct_result;
use super::early_stream::{EarlyStream, Opening, SseStream};
use super::error::{SendFailure, classify_send_error};
use super::lifeline::Lifeline;
use crate::http_pool::on_io;

/// How rmcp retries an event stream that broke: at once, then after 2, 4 and 4 s. When the
/// last attempt could not reach the server, the transport is lost ([`Lifeline::give_up`]):
/// an idle client learns that its server is gone about 10 s after it went, not at its next
/// request. (rmcp's default retries forever, doubling the wait each time.)
#[derive(Debug)]
pub(crate) struct Reconnect {
    backoff: ExponentialBackoff,
    lifeline: Lifeline,
}

impl Reconnect {
    const ATTEMPTS: usize = 4;

    pub(crate) fn policy(lifeline: Lifeline) -> Arc<dyn SseRetryPolicy> {
        let mut backoff = ExponentialBackoff::default();
        backoff.max_times = Some(Self::ATTEMPTS);
        backoff.base_duration = Duration::from_secs(1);
        backoff.max_delay = Some(Duration::from_secs(4));
        Arc::new(Self { backoff, lifeline })
    }
}

impl SseRetryPolicy for Reconnect {
    fn retry(&self, failed_attempts: usize) -> Option<Duration> {
        let wait = self.backoff.retry(failed_attempts);
        if wait.is_none() {
            self.lifeline.give_up(failed_attempts);
        }
        wait
    }
}

/// reqwest with a response-header timeout, ending with its client.
#[derive(Clone)]
pub(crate) struct BoundedHttp {
    inner: reqwest::Client,
    header_timeout: Duration,
    lifeline: Lifeline,
    early_stream: EarlyStream,
}

impl BoundedHttp {
    pub(crate) fn new(
        inner: reqwest::Client,
        header_timeout: Duration,
        lifeline: Lifeline,
    ) -> Self {
        Self {
            inner,
            header_timeout,
            lifeline,
            early_stream: EarlyStream::default(),
        }
    }

    async fn bounded<T>(
        &self,
        what: &str,
        future: impl Future<Output = Result<T, StreamableHttpError<reqwest::Error>>>,
    ) -> Result<T, StreamableHttpError<reqwest::Error>> {
        let failed =
            |kind, text: String| Err(StreamableHttpError::Io(std::io::Error::new(kind, text)));
        tokio::select! {
            result = tokio::time::timeout(self.header_timeout, future) => match result {
                Ok(result) => result,
                Err(_) => failed(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no response to the {what} within {} s",
                        self.header_timeout.as_secs_f64()
                    ),
                ),
            },
            () = self.lifeline.ended().cancelled() => failed(
                std::io::ErrorKind::Interrupted,
                format!("the {what} was abandoned: its MCP client has ended"),
            ),
        }
    }

    /// `stream`, ending when the client does.
    fn until_ended(&self, stream: SseStream) -> SseStream {
        stream
            .take_until(self.lifeline.ended().clone().cancelled_owned())
            .boxed()
    }

    /// A POST: its answer within the bound, then its result taken directly when `direct`.
    ///
    /// Boxed, and `post` too: rmcp builds its per-POST future around this one and moves it
    /// before polling; inline, this one is about 6.5 KB (reqwest's 2 KB of it), and the copies
    /// cost about 3 % of a call's instructions (callgrind: 300 000 per echo call inline, 292 000
    /// boxed).
    fn answer<'a>(
        &'a self,
        direct: Option<direct_result::Direct>,
        early: Option<(Arc<str>, Opening)>,
        post: impl Future<
            Output = Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>,
        > + Send
        + 'a,
    ) -> BoxFuture<'a, Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>>
    {
        let post = post.boxed();
        async move {
            if let Some((session, opening)) = early {
                self.early_stream.open(session, opening).await;
            }
            let response = self.bounded("POST", post).await?;
            let response = match direct {
                Some(request) => direct_result::take(request, response).await,
                None => response,
            };
            Ok(match response {
                StreamableHttpPostResponse::Sse(stream, session) => {
                    StreamableHttpPostResponse::Sse(self.until_ended(stream), session)
                }
                other => other,
            })
        }
        .boxed()
    }

    /// For `notifications/initialized` in a session: the opening of the session's GET stream,
    /// to be kept in [`EarlyStream`] before the notification is posted.
    fn early_opening(
        &self,
        message: &ClientJsonRpcMessage,
        uri: &Arc<str>,
        session_id: &Option<Arc<str>>,
        auth_header: &Option<String>,
        custom_headers: &HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: Option<usize>,
    ) -> Option<(Arc<str>, Opening)> {
        let ClientJsonRpcMessage::Notification(notification) = message else {
            return None;
        };
        if !matches!(
            notification.notification,
            ClientNotification::InitializedNotification(_)
        ) {
            return None;
        }
        let session = session_id.clone()?;
        let request = StreamRequest {
            uri: uri.clone(),
            session_id: Some(session.clone()),
            last_event_id: None,
            auth_header: auth_header.clone(),
            custom_headers: custom_headers.clone(),
            max_sse_event_size,
        };
        let this = self.clone();
        let opening = async move { this.open_stream(request).await };
        Some((session, opening.boxed()))
    }

    /// A GET stream: its answer within the bound, then ending with the client.
    async fn open_stream(
        &self,
        request: StreamRequest,
    ) -> Result<SseStream, StreamableHttpError<reqwest::Error>> {
        let StreamRequest {
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        } = request;
        let inner = self.inner.clone();
        let get = io(async move {
            match max_sse_event_size {
                Some(max) => {
                    inner
                        .get_stream_with_max_sse_event_size(
                            uri,
                            session_id,
                            last_event_id,
                            auth_header,
                            custom_headers,
                            max,
                        )
                        .await
                }
                None => {
                    inner
                        .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
                        .await
                }
            }
        });
        let opened = self.bounded("GET", get).await;
        self.lifeline.note_stream_attempt(match &opened {
            Err(e) => match classify_send_error(e) {
                SendFailure::Lost(why) => Some(why),
                SendFailure::Answered { .. } => None,
            },
            Ok(_) => None,
        });
        Ok(self.until_ended(opened?))
    }

    /// The session's stream: the one opened early, else a new one.
    async fn stream(
        &self,
        request: StreamRequest,
    ) -> Result<SseStream, StreamableHttpError<reqwest::Error>> {
        if request.last_event_id.is_none()
            && let Some(opening) = self.early_stream.take(request.session_id.as_deref())
        {
            return opening.await;
        }
        self.open_stream(request).await
    }
}

/// `request` on the process's HTTP I/O runtime ([`crate::http_pool`]).
async fn io<T: Send + 'static>(
    request: impl Future<Output = Result<T, StreamableHttpError<reqwest::Error>>> + Send + 'static,
) -> Result<T, StreamableHttpError<reqwest::Error>> {
    on_io(request)
        .await
        .unwrap_or_else(|gone| Err(StreamableHttpError::Io(gone.into())))
}

/// What rmcp passes to open a GET stream.
struct StreamRequest {
    uri: Arc<str>,
    session_id: Option<Arc<str>>,
    last_event_id: Option<String>,
    auth_header: Option<String>,
    custom_headers: HashMap<HeaderName, HeaderValue>,
    /// `None` when rmcp did not give one (reqwest's default applies).
    max_sse_event_size: Option<usize>,
}

impl StreamableHttpClient for BoundedHttp {
    type Error = reqwest::Error;

    fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>>>
    + Send
    + '_ {
        let direct = direct_result::eligible(&message);
        let early = self.early_opening(
            &message,
            &uri,
            &session_id,
            &auth_header,
            &custom_headers,
            None,
        );
        let inner = self.inner.clone();
        let post = io(async move {
            inner
                .post_message(uri, message, session_id, auth_header, custom_headers)
                .await
        });
        self.answer(direct, early, post)
    }

    fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> impl Future<Output = Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>>>
    + Send
    + '_ {
        let direct = direct_result::eligible(&message);
        let early = self.early_opening(
            &message,
            &uri,
            &session_id,
            &auth_header,
            &custom_headers,
            Some(max_sse_event_size),
        );
        let inner = self.inner.clone();
        let post = io(async move {
            inner
                .post_message_with_max_sse_event_size(
                    uri,
                    message,
                    session_id,
                    auth_header,
                    custom_headers,
                    max_sse_event_size,
                )
                .await
        });
        self.answer(direct, early, post)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        let inner = self.inner.clone();
        let delete = io(async move {
            inner
                .delete_session(uri, session_id, auth_header, custom_headers)
                .await
        });
        self.bounded("DELETE", delete).await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<SseStream, StreamableHttpError<Self::Error>> {
        self.stream(StreamRequest {
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size: None,
        })
        .await
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<SseStream, StreamableHttpError<Self::Error>> {
        self.stream(StreamRequest {
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size: Some(max_sse_event_size),
        })
        .await
    }
}
