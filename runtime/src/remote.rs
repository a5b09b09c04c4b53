//! (Binary only.) The CLI's client of a running server's admin API: `dialtone secrets`,
//! `route` and `sessions` use it when a server answers on the config's HTTP address, and
//! work on the files directly otherwise.

use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use dialtone::admin::token;
use dialtone::config::Config;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running server's admin API.
pub(crate) struct Remote {
    base: String,
    token: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

/// The running server for a command about application `app`, or none (then the local files
/// are used, and `app` must be in the config).
pub(crate) fn for_application(
    config: &Config,
    server: Option<&str>,
    app: &str,
) -> Result<Option<Remote>> {
    let remote = Remote::find(config, server)?;
    if remote.is_none() && config.application(app).is_none() {
        bail!(
            "no application named '{app}' in {} (applications: {})",
            config.origin,
            config.application_names()
        );
    }
    Ok(remote)
}

impl Remote {
    /// The server at `server` (default: the config's `server.http`), if one answers `/health`.
    pub(crate) fn find(config: &Config, server: Option<&str>) -> Result<Option<Self>> {
        let base = match server {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", dialtone::http::reachable(config.server.http)),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _inside = runtime.enter();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(1))
            .build()?;
        drop(_inside);
        let health = runtime.block_on(async { http.get(format!("{base}/health")).send().await });
        match health {
            Ok(response) if response.status().is_success() => {}
            _ if server.is_some() => bail!("no Dialtone server answers at {base}"),
            _ => return Ok(None),
        }
        let Some((token, _)) = token::find(
            config.server.admin_token.as_deref(),
            &config.server.data_dir,
        )?
        else {
            bail!(
                "a server runs at {base} but there is no admin token here: set {} (or server.admin_token)",
                token::TOKEN_ENV
            );
        };
        Ok(Some(Self {
            base,
            token,
            http,
            runtime,
        }))
    }

    /// Where it is.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Sends a request to the path made of `segments` (each percent-encoded) with `query`;
    /// the JSON answer, or an error carrying the API's message.
    pub(crate) fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(StatusCode, Value)> {
        let mut url = reqwest::Url::parse(&self.base)?;
        url.path_segments_mut()
            .map_err(|()| anyhow::anyhow!("{} cannot take a path", self.base))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let path = url.path().to_owned();
        let mut request = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self
            .runtime
            .block_on(async { request.send().await })
            .with_context(|| format!("calling {}{path}", self.base))?;
        let status = response.status();
        let text = self.runtime.block_on(response.text()).unwrap_or_default();
        let json: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_client_error() || status.is_server_error() {
            let message = json["error"]
                .as_str()
                .map_or_else(|| json.to_string(), str::to_owned);
            bail!("{} {path}: {message}", status.as_u16());
        }
        Ok((status, json))
    }
}
