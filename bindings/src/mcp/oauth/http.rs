//! The HTTP client rmcp's OAuth code uses (discovery, registration, token requests): reqwest
//! under the application's outbound policy, with our TLS settings, bounded answers, and
//! redirects followed only when rmcp asks for it.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use rmcp::transport::auth::{
    OAuthHttpClient, OAuthHttpClientFuture, OAuthHttpRedirectPolicy, OAuthHttpRequest,
};

/// Largest OAuth answer read (metadata documents and token responses are small).
const MAX_BODY: usize = 256 * 1024;
/// How long one OAuth request may take when rmcp names no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// reqwest clients for rmcp's OAuth requests.
pub(crate) struct PolicyHttp {
    follow: reqwest::Client,
    stop: reqwest::Client,
}

/// Why an OAuth request failed, in words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OAuthHttpError {
    #[error("{url}: {detail}")]
    Request { url: String, detail: String },
    #[error("{url} answered more than {MAX_BODY} bytes")]
    TooLarge { url: String },
}

impl PolicyHttp {
    pub(crate) fn new(
        outbound: &Arc<crate::outbound::OutboundPolicy>,
    ) -> Result<Self, super::super::McpError> {
        let build = |builder: reqwest::ClientBuilder| {
            builder
                .tls_backend_preconfigured(super::super::client::tls_config()?)
                .build()
                .map_err(|e| {
                    super::super::McpError::Config(format!(
                        "cannot build the OAuth HTTP client: {}",
                        super::super::error::plain(&e.to_string())
                    ))
                })
        };
        Ok(Self {
            follow: build(outbound.apply(reqwest::Client::builder()))?,
            stop: build(
                outbound
                    .apply(reqwest::Client::builder())
                    .redirect(reqwest::redirect::Policy::none()),
            )?,
        })
    }
}

impl OAuthHttpClient for PolicyHttp {
    fn execute(&self, request: OAuthHttpRequest) -> OAuthHttpClientFuture<'_> {
        Box::pin(async move {
            let client = match request.redirect_policy {
                OAuthHttpRedirectPolicy::Stop => &self.stop,
                _ => &self.follow,
            };
            let (parts, body) = request.request.into_parts();
            let url = parts.uri.to_string();
            let failed = |e: reqwest::Error| OAuthHttpError::Request {
                url: url.clone(),
                detail: super::super::error::describe(&e),
            };
            let mut builder = client
                .request(parts.method, url.as_str())
                .timeout(request.timeout.unwrap_or(DEFAULT_TIMEOUT))
                .body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = crate::http_pool::on_io(builder.send())
                .await
                .map_err(|gone| OAuthHttpError::Request {
                    url: url.clone(),
                    detail: gone.to_string(),
                })?
                .map_err(failed)?;
            let mut answer = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                answer = answer.header(name, value);
            }
            let mut body = Vec::new();
            let mut chunks = response.bytes_stream();
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(failed)?;
                if body.len() + chunk.len() > MAX_BODY {
                    return Err(OAuthHttpError::TooLarge { url: url.clone() }.into());
                }
                body.extend_from_slice(&chunk);
            }
            answer.body(body).map_err(|e| {
                OAuthHttpError::Request {
                    url: url.clone(),
                    detail: e.to_string(),
                }
                .into()
            })
        })
    }
}
