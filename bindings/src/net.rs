//! `Net.httpRequest` and `Net.httpRequestAsync`: HTTP requests from a scenario, with
//! VoxEngine's result shape and limits.
//!
//! - A request never fails the scenario: every outcome is an [`HttpResult`] whose `code` is
//!   the HTTP status, or one of VoxEngine's negative codes with `error` in words
//!   ([`NetError`]).
//! - A session has at most [`MAX_ACTIVE`] requests on the wire; the rest wait their turn, up to
//!   [`MAX_PENDING`] in all (past that `Net` throws, as VoxEngine does).
//! - `timeout` and `connectionTimeout` may only lower [`MAX_TIMEOUT`] and
//!   [`MAX_CONNECT_TIMEOUT`]; an answer is read up to [`MAX_RESPONSE_BYTES`].
//! - Requests go through the process's HTTP pool ([`crate::http_pool`]) under the
//!   application's outbound policy ([`crate::outbound`]), and run there to their end: a
//!   request sent just before the session ends still goes out (VoxEngine waits for them too).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use crate::outbound::{OutboundError, OutboundPolicy};

/// Requests of one session on the wire at once.
pub(crate) const MAX_ACTIVE: usize = 3;
/// Requests of one session on the wire or waiting their turn.
pub(crate) const MAX_PENDING: usize = 35;
/// The longest a request may take, and its default.
pub(crate) const MAX_TIMEOUT: Duration = Duration::from_secs(90);
/// The longest a connection may take to open, and its default.
pub(crate) const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(6);
/// The largest answer body read.
pub(crate) const MAX_RESPONSE_BYTES: usize = 2 * 1024 * 1024;
/// The User-Agent unless the scenario sets one (VoxEngine's, which servers may expect).
pub(crate) const USER_AGENT: &str =
    concat!("VoxEngine/1.0 (Dialtone ", env!("CARGO_PKG_VERSION"), ")");

/// One request as the JS facade hands it over (already checked and normalised there).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct HttpRequest {
    pub(crate) url: String,
    pub(crate) method: String,
    /// In order; a name may repeat.
    #[serde(default)]
    pub(crate) headers: Vec<(String, String)>,
    /// Appended to the URL's query.
    #[serde(default)]
    pub(crate) params: Vec<(String, String)>,
    #[serde(default)]
    pub(crate) body: Option<Body>,
    pub(crate) timeout_ms: u64,
    pub(crate) connect_timeout_ms: u64,
    #[serde(default)]
    pub(crate) raw_output: bool,
}

/// `postData`: text, or bytes (VoxEngine's `number[]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Body {
    Text(String),
    Bytes(Vec<u8>),
}

/// One answer header, as VoxEngine lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Header {
    pub(crate) key: String,
    pub(crate) value: String,
}

/// VoxEngine's `HttpRequestResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct HttpResult {
    pub(crate) code: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) data: Option<Vec<u8>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) headers: Vec<Header>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) raw_headers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
}

/// Why a request got no answer; each has VoxEngine's code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum NetError {
    #[error("malformed URL '{url}': {reason}")]
    BadUrl { url: String, reason: String },
    #[error("host not found: {0}")]
    HostNotFound(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("too many redirects: {0}")]
    Redirects(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("no answer within {0} s")]
    Timeout(f64),
    #[error("no connection within {0} s")]
    ConnectTimeout(f64),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("the answer is larger than {} MB", MAX_RESPONSE_BYTES / 1024 / 1024)]
    TooLarge,
}

impl NetError {
    /// VoxEngine's code for it.
    pub(crate) fn code(&self) -> i32 {
        match self {
            Self::BadUrl { .. } => -2,
            Self::HostNotFound(_) => -3,
            Self::Connect(_) => -4,
            Self::Redirects(_) => -5,
            Self::Network(_) => -6,
            Self::Timeout(_) | Self::ConnectTimeout(_) => -7,
            Self::Internal(_) => -8,
            Self::TooLarge => -9,
        }
    }

    fn into_result(self) -> HttpResult {
        HttpResult {
            code: self.code(),
            text: None,
            data: None,
            headers: Vec::new(),
            raw_headers: None,
            error: Some(self.to_string()),
        }
    }
}

/// A session's share of the wire: [`MAX_ACTIVE`] requests at once.
#[derive(Debug, Clone)]
pub(crate) struct NetSlots {
    active: Arc<Semaphore>,
}

impl Default for NetSlots {
    fn default() -> Self {
        Self {
            active: Arc::new(Semaphore::new(MAX_ACTIVE)),
        }
    }
}

/// Sends `request` under `outbound` once one of the session's slots is free, on the process's
/// I/O runtime; the returned future only waits for the result (dropping it leaves the request
/// to finish on its own).
pub(crate) fn send(
    request: HttpRequest,
    outbound: Arc<OutboundPolicy>,
    slots: &NetSlots,
) -> impl std::future::Future<Output = HttpResult> + 'static {
    let active = slots.active.clone();
    let task = crate::http_pool::detached(async move {
        let Ok(_slot) = active.acquire_owned().await else {
            return NetError::Internal("the session's request slots are gone".into()).into_result();
        };
        match exchange(request, &outbound).await {
            Ok(result) => result,
            Err(e) => e.into_result(),
        }
    });
    async move {
        task.await.unwrap_or_else(|_| {
            NetError::Internal("the request task ended without an answer".into()).into_result()
        })
    }
}

async fn exchange(
    request: HttpRequest,
    outbound: &Arc<OutboundPolicy>,
) -> Result<HttpResult, NetError> {
    let url = target(&request)?;
    outbound.check_url(&url).map_err(policy_error)?;
    let timeout = Duration::from_millis(request.timeout_ms).min(MAX_TIMEOUT);
    let connect_timeout =
        Duration::from_millis(request.connect_timeout_ms).min(MAX_CONNECT_TIMEOUT);
    let client = crate::http_pool::client(outbound, Some(connect_timeout))
        .map_err(|e| NetError::Internal(e.to_string()))?;
    let method =
        reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| NetError::BadUrl {
            url: request.url.clone(),
            reason: format!("'{}' is not an HTTP method", request.method),
        })?;
    let mut builder = client.request(method, url).timeout(timeout);
    let mut has_agent = false;
    for (name, value) in &request.headers {
        has_agent |= name.eq_ignore_ascii_case("user-agent");
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !has_agent {
        builder = builder.header("User-Agent", USER_AGENT);
    }
    builder = match request.body {
        Some(Body::Text(text)) => builder.body(text),
        Some(Body::Bytes(bytes)) => builder.body(bytes),
        None => builder,
    };
    let seconds = |d: Duration| d.as_secs_f64();
    let classify = |e: reqwest::Error| classify(&e, seconds(timeout), seconds(connect_timeout));
    let mut response = builder.send().await.map_err(classify)?;
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(NetError::TooLarge);
    }
    let code = i32::from(response.status().as_u16());
    let mut headers = Vec::new();
    let mut raw = String::new();
    for (name, value) in response.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        raw.push_str(&format!("{}: {value}\r\n", name.as_str()));
        headers.push(Header {
            key: name.as_str().to_owned(),
            value,
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(NetError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let (text, data) = if request.raw_output {
        (String::from_utf8(body.clone()).ok(), Some(body))
    } else {
        (Some(String::from_utf8_lossy(&body).into_owned()), None)
    };
    Ok(HttpResult {
        code,
        text,
        data,
        headers,
        raw_headers: Some(raw),
        error: None,
    })
}

/// The URL with `params` appended; http and https only.
fn target(request: &HttpRequest) -> Result<url::Url, NetError> {
    let bad = |reason: String| NetError::BadUrl {
        url: request.url.clone(),
        reason,
    };
    let mut url = url::Url::parse(&request.url).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("'{}' is not http or https", url.scheme())));
    }
    if !request.params.is_empty() {
        let mut query = url.query_pairs_mut();
        for (name, value) in &request.params {
            query.append_pair(name, value);
        }
    }
    Ok(url)
}

fn policy_error(e: OutboundError) -> NetError {
    match e {
        OutboundError::Resolve { .. } => NetError::HostNotFound(e.to_string()),
        other => NetError::Connect(other.to_string()),
    }
}

/// reqwest's error in VoxEngine's terms: the outbound policy's refusal, a name that does not
/// resolve, a timeout, a refused connection, a redirect loop.
fn classify(e: &reqwest::Error, timeout_s: f64, connect_timeout_s: f64) -> NetError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut innermost: &(dyn std::error::Error + 'static) = e;
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<OutboundError>() {
            return policy_error(refused.clone());
        }
        innermost = inner;
        source = inner.source();
    }
    // The root cause says it best ("connection refused"); reqwest's wrappers repeat the URL.
    let words = crate::mcp::error::describe(innermost);
    if e.is_timeout() {
        if e.is_connect() {
            return NetError::ConnectTimeout(connect_timeout_s);
        }
        return NetError::Timeout(timeout_s);
    }
    if e.is_redirect() {
        return NetError::Redirects(words);
    }
    if e.is_connect() {
        return NetError::Connect(words);
    }
    if e.is_builder() || e.is_request() && e.url().is_none() {
        return NetError::Internal(words);
    }
    NetError::Network(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> HttpRequest {
        HttpRequest {
            url: url.into(),
            method: "GET".into(),
            headers: Vec::new(),
            params: Vec::new(),
            body: None,
            timeout_ms: 90_000,
            connect_timeout_ms: 6_000,
            raw_output: false,
        }
    }

    #[test]
    fn params_join_the_query_and_only_http_urls_are_taken() {
        let mut with_params = request("http://example.com/a?x=1");
        with_params.params = vec![("q".into(), "a b&c".into()), ("n".into(), "2".into())];
        assert_eq!(
            target(&with_params).map(|u| u.to_string()),
            Ok("http://example.com/a?x=1&q=a+b%26c&n=2".to_owned())
        );
        let bad = target(&request("ftp://example.com/")).expect_err("ftp");
        assert_eq!(
            (bad.code(), bad.to_string()),
            (
                -2,
                "malformed URL 'ftp://example.com/': 'ftp' is not http or https".to_owned()
            )
        );
        let bad = target(&request("not a url")).expect_err("not a URL");
        assert_eq!(
            (bad.code(), bad.to_string()),
            (
                -2,
                "malformed URL 'not a url': relative URL without a base".to_owned()
            )
        );
    }

    #[test]
    fn every_error_has_its_voxengine_code_and_words() {
        let cases = [
            (
                NetError::HostNotFound("cannot resolve x: no".into()),
                -3,
                "host not found: cannot resolve x: no",
            ),
            (
                NetError::Connect("connection refused".into()),
                -4,
                "cannot connect: connection refused",
            ),
            (
                NetError::Redirects("more than 10 redirects".into()),
                -5,
                "too many redirects: more than 10 redirects",
            ),
            (
                NetError::Network("the connection was reset".into()),
                -6,
                "network error: the connection was reset",
            ),
            (NetError::Timeout(1.5), -7, "no answer within 1.5 s"),
            (
                NetError::ConnectTimeout(6.0),
                -7,
                "no connection within 6 s",
            ),
            (NetError::Internal("x".into()), -8, "internal error: x"),
            (NetError::TooLarge, -9, "the answer is larger than 2 MB"),
        ];
        for (error, code, words) in cases {
            assert_eq!((error.code(), error.to_string().as_str()), (code, words));
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_applications_outbound_policy_refuses_with_code_minus_4() {
        let policy = Arc::new(OutboundPolicy {
            application: "shop".into(),
            ..OutboundPolicy::default()
        });
        // An address is refused before anything is sent; a name once it resolves.
        let by_address = exchange(request("http://127.0.0.1:9/x"), &policy).await;
        let by_name = exchange(request("http://localhost:9/x"), &policy).await;
        let said = |r: Result<HttpResult, NetError>| {
            let e = r.expect_err("refused");
            (e.code(), e.to_string())
        };
        assert_eq!(
            said(by_address),
            (
                -4,
                "cannot connect: 127.0.0.1 is 127.0.0.1, a loopback, private or link-local address, which application 'shop' may not reach (set allow_private = true or list the host in its [application.outbound] allow_hosts)".to_owned()
            )
        );
        let (code, words) = said(by_name);
        assert_eq!(code, -4);
        assert!(
            words.starts_with("cannot connect: localhost is ")
                && words.ends_with(", a loopback, private or link-local address, which application 'shop' may not reach (set allow_private = true or list the host in its [application.outbound] allow_hosts)"),
            "{words}"
        );
    }

    #[test]
    fn a_result_carries_only_what_it_has() {
        let failed = NetError::TooLarge.into_result();
        assert_eq!(
            serde_json::to_value(&failed).expect("json"),
            serde_json::json!({"code": -9, "error": "the answer is larger than 2 MB"})
        );
    }
}
