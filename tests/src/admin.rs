//! A small client of the admin HTTP API for tests: JSON in, (status, JSON) out.

use std::time::Duration;

use anyhow::Result;
use reqwest::Method;
use serde_json::Value;

/// The admin API of a server.
#[derive(Debug)]
pub struct Api {
    base: String,
    /// The whole `Authorization` value sent, if any.
    authorization: Option<String>,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// A response: status code and body (JSON, or the text as a JSON string, or null).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl Api {
    /// The API at `http` using `token` (none: no Authorization header).
    pub fn new(http: std::net::SocketAddr, token: Option<&str>) -> Result<Self> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let inside = runtime.enter();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()?;
        drop(inside);
        Ok(Self {
            base: format!("http://{http}"),
            authorization: token.map(|t| format!("Bearer {t}")),
            http: client,
            runtime,
        })
    }

    /// The API at `http` sending exactly `authorization` (e.g. a lowercase scheme).
    pub fn with_authorization(http: std::net::SocketAddr, authorization: &str) -> Result<Self> {
        let mut api = Self::new(http, None)?;
        api.authorization = Some(authorization.to_owned());
        Ok(api)
    }

    /// Sends `method path` with an optional JSON body.
    pub fn json(&self, method: Method, path: &str, body: Option<Value>) -> Result<Reply> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request)
    }

    /// Sends `method path` with a text body.
    pub fn text(&self, method: Method, path: &str, body: &str) -> Result<Reply> {
        self.text_with_headers(method, path, &[], body)
    }

    /// Sends `method path` with `headers` and a text body.
    pub fn text_with_headers(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<Reply> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "text/plain")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        self.send(request)
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Result<Reply> {
        self.json(Method::GET, path, None)
    }

    fn send(&self, request: reqwest::RequestBuilder) -> Result<Reply> {
        self.runtime.block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            let body = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            Ok(Reply { status, body })
        })
    }
}
