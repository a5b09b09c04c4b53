//! The streamable-HTTP client rmcp drives: reqwest, with a bound on how long a server may take
//! to send **response headers**. A server that accepts the connection and never answers would
//! otherwise keep rmcp's worker task and its socket alive for as long as the server holds the
//! connection; with the bound, both end within the request timeout. Streams that have started
//! (SSE responses, the GET stream) are not bounded in time, but every request and stream ends
//! when the client's [`Lifeline`] does: a connect given up at `connectTimeout` leaves no
//! worker waiting on its POST. POST answers go through [`super::direct_result`].

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
};

use super::direct_result;
use super::lifeline::Lifeline;

/// reqwest with a response-header timeout, ending with its client.
#[derive(Clone)]
pub(crate) struct BoundedHttp {
    inner: reqwest::Client,
    header_timeout: Duration,
    lifeline: Lifeline,
}

type SseStream = BoxStream<'static, Result<sse_stream::Sse, SseError>>;

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
        post: impl Future<
            Output = Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>,
        > + Send
        + 'a,
    ) -> BoxFuture<'a, Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>>>
    {
        let post = post.boxed();
        async move {
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
        let post = self
            .inner
            .post_message(uri, message, session_id, auth_header, custom_headers);
        self.answer(direct, post)
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
        let post = self.inner.post_message_with_max_sse_event_size(
            uri,
            message,
            session_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        );
        self.answer(direct, post)
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        self.bounded(
            "DELETE",
            self.inner
                .delete_session(uri, session_id, auth_header, custom_headers),
        )
        .await
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<SseStream, StreamableHttpError<Self::Error>> {
        let get =
            self.inner
                .get_stream(uri, session_id, last_event_id, auth_header, custom_headers);
        Ok(self.until_ended(self.bounded("GET", get).await?))
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
        let get = self.inner.get_stream_with_max_sse_event_size(
            uri,
            session_id,
            last_event_id,
            auth_header,
            custom_headers,
            max_sse_event_size,
        );
        Ok(self.until_ended(self.bounded("GET", get).await?))
    }
}
