//! `mcpServerConnectionConfig`: what a scenario passes to `MCP.createClient`, validated into
//! [`ClientSettings`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::error::McpError;

/// Defaults (seconds) for `connectTimeout` and `requestTimeout`.
pub(crate) const DEFAULT_CONNECT_TIMEOUT_S: f64 = 10.0;
pub(crate) const DEFAULT_REQUEST_TIMEOUT_S: f64 = 60.0;
/// Largest result delivered to a scenario by default (the JS heap is 16 MiB).
pub(crate) const DEFAULT_MAX_RESULT_BYTES: usize = 2 << 20;

/// Headers the transports set themselves.
const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "content-type",
    "content-length",
    "host",
];

/// The config as the scenario wrote it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnectionConfig {
    pub(crate) transport: Option<String>,
    pub(crate) endpoint: Option<String>,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) client_name: Option<String>,
    pub(crate) client_version: Option<String>,
    pub(crate) connect_timeout: Option<f64>,
    pub(crate) request_timeout: Option<f64>,
    pub(crate) allowed_tools: Option<Vec<String>>,
    pub(crate) max_result_bytes: Option<usize>,
    pub(crate) protocol_version: Option<String>,
    pub(crate) command: Option<String>,
    pub(crate) args: Vec<String>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) cwd: Option<String>,
    pub(crate) elicitation: Option<bool>,
    pub(crate) sampling: Option<bool>,
    pub(crate) roots: Option<Vec<RootConfig>>,
    /// `{oauth: NAME}` or `{clientCredentials: NAME}`, read with the secrets by the hub.
    pub(crate) auth: Option<Value>,
    /// Fields that are not options (a misspelled one falls back to its default).
    pub(crate) unknown: BTreeMap<String, serde_json::Value>,
}

/// One of `roots`: what `roots/list` answers.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RootConfig {
    pub(crate) uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<String>,
}

/// Takes option `name` out of `map`: absent or null is None; a value of the wrong shape is
/// an error saying what the option takes.
fn option<T: DeserializeOwned>(
    map: &mut Map<String, Value>,
    name: &str,
    takes: &str,
) -> Result<Option<T>, McpError> {
    match map.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|_| {
                let mut got = value.to_string();
                if got.len() > 40 {
                    let cut = (0..=37)
                        .rev()
                        .find(|&i| got.is_char_boundary(i))
                        .unwrap_or(0);
                    got.truncate(cut);
                    got.push_str("...");
                }
                McpError::Config(format!(
                    "mcpServerConnectionConfig.{name} must be {takes}, got {got}"
                ))
            }),
    }
}

impl ConnectionConfig {
    /// Reads the config JSON the facade sends (always an object).
    pub(crate) fn from_json(text: &str) -> Result<Self, McpError> {
        let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(text) else {
            return Err(McpError::Config(
                "mcpServerConnectionConfig must be an object".into(),
            ));
        };
        let strings = "an object of strings";
        let config = Self {
            transport: option(&mut map, "transport", "a string")?,
            endpoint: option(&mut map, "endpoint", "a string")?,
            headers: option(&mut map, "headers", strings)?.unwrap_or_default(),
            client_name: option(&mut map, "clientName", "a string")?,
            client_version: option(&mut map, "clientVersion", "a string")?,
            connect_timeout: option(&mut map, "connectTimeout", "a number of seconds")?,
            request_timeout: option(&mut map, "requestTimeout", "a number of seconds")?,
            allowed_tools: option(&mut map, "allowedTools", "an array of tool names")?,
            max_result_bytes: option(&mut map, "maxResultBytes", "a non-negative integer")?,
            protocol_version: option(&mut map, "protocolVersion", "a string")?,
            command: option(&mut map, "command", "a string")?,
            args: option(&mut map, "args", "an array of strings")?.unwrap_or_default(),
            env: option(&mut map, "env", strings)?.unwrap_or_default(),
            cwd: option(&mut map, "cwd", "a string")?,
            elicitation: option(&mut map, "elicitation", "true or false")?,
            sampling: option(&mut map, "sampling", "true or false")?,
            roots: option(&mut map, "roots", "an array of {uri, name}")?,
            auth: option(&mut map, "auth", "an object")?,
            unknown: map.into_iter().collect(),
        };
        Ok(config)
    }
}

/// The options of `mcpServerConnectionConfig`, as a scenario spells them.
const OPTIONS: &[&str] = &[
    "transport",
    "endpoint",
    "headers",
    "clientName",
    "clientVersion",
    "connectTimeout",
    "requestTimeout",
    "allowedTools",
    "maxResultBytes",
    "protocolVersion",
    "command",
    "args",
    "env",
    "cwd",
    "elicitation",
    "sampling",
    "roots",
    "auth",
];

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// Streamable HTTP.
    Http(Url),
    /// Legacy HTTP+SSE (2024-11-05).
    Sse(Url),
    /// A local server on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
        cwd: Option<String>,
    },
}

impl Target {
    /// The endpoint of an HTTP transport.
    pub(crate) fn url(&self) -> Option<&Url> {
        match self {
            Target::Http(url) | Target::Sse(url) => Some(url),
            Target::Stdio { .. } => None,
        }
    }

    /// `"http"`, `"sse"` or `"stdio"`.
    pub(crate) fn transport(&self) -> &'static str {
        match self {
            Target::Http(_) => "http",
            Target::Sse(_) => "sse",
            Target::Stdio { .. } => "stdio",
        }
    }

    /// The endpoint URL, or the command line for stdio.
    pub(crate) fn endpoint(&self) -> String {
        match self {
            Target::Http(url) | Target::Sse(url) => url.to_string(),
            Target::Stdio { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// A validated config.
#[derive(Debug, Clone)]
pub(crate) struct ClientSettings {
    pub(crate) target: Target,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) client_name: String,
    pub(crate) client_version: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) allowed_tools: Option<BTreeSet<String>>,
    pub(crate) max_result_bytes: usize,
    /// The protocol revision offered in `initialize`.
    pub(crate) protocol_version: String,
    /// Whether the scenario answers `elicitation/create` (the capability is offered).
    pub(crate) elicitation: bool,
    /// Whether the scenario answers `sampling/createMessage`.
    pub(crate) sampling: bool,
    /// What `roots/list` answers; None: the capability is not offered.
    pub(crate) roots: Option<Value>,
    /// OAuth, when the config asks for it (set by the hub, which has the secrets).
    pub(crate) auth: Option<super::oauth::AuthSettings>,
}

/// Protocol revisions Dialtone offers; the server picks what it speaks in `initialize`.
pub(crate) const PROTOCOL_VERSIONS: &[&str] =
    &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

fn seconds(name: &str, value: Option<f64>, default: f64) -> Result<Duration, McpError> {
    let value = value.unwrap_or(default);
    if !(value.is_finite() && value > 0.0 && value <= 86_400.0) {
        return Err(McpError::Config(format!(
            "{name} must be a number of seconds in (0, 86400], got {value}"
        )));
    }
    Ok(Duration::from_secs_f64(value))
}

fn url(transport: &str, endpoint: Option<&str>) -> Result<Url, McpError> {
    let endpoint = endpoint
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| McpError::Config(format!("mcpServerConnectionConfig.endpoint is required for the \"{transport}\" transport (is the secret holding it set?)")))?;
    let url = Url::parse(endpoint.trim())
        .map_err(|e| McpError::Config(format!("endpoint '{endpoint}' is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(McpError::Config(format!(
            "endpoint '{endpoint}' must be an http:// or https:// URL"
        )));
    }
    Ok(url)
}

impl ConnectionConfig {
    /// A warning naming the fields that are not options, if any: they are ignored, so a
    /// misspelled `requestTimout` would otherwise pass silently with the default timeout.
    pub(crate) fn ignored_fields(&self) -> Option<String> {
        if self.unknown.is_empty() {
            return None;
        }
        let names: Vec<String> = self.unknown.keys().map(|n| format!("'{n}'")).collect();
        Some(format!(
            "MCP.createClient: mcpServerConnectionConfig has no option {} (ignored); the options are {}",
            names.join(", "),
            OPTIONS.join(", ")
        ))
    }

    /// Validates the config; `allow_stdio` is the application's policy.
    pub(crate) fn validate(
        self,
        application: &str,
        allow_stdio: bool,
    ) -> Result<ClientSettings, McpError> {
        let transport = self.transport.clone().ok_or_else(|| {
            McpError::Config(
                "mcpServerConnectionConfig.transport is required (\"http\", \"sse\" or \"stdio\")"
                    .into(),
            )
        })?;
        let target = match transport.as_str() {
            "http" => Target::Http(url("http", self.endpoint.as_deref())?),
            "sse" => Target::Sse(url("sse", self.endpoint.as_deref())?),
            "stdio" => {
                if !allow_stdio {
                    return Err(McpError::StdioForbidden(application.to_owned()));
                }
                let command = self
                    .command
                    .clone()
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| McpError::Config("mcpServerConnectionConfig.command is required for the \"stdio\" transport".into()))?;
                Target::Stdio {
                    command,
                    args: self.args.clone(),
                    env: self.env.clone(),
                    cwd: self.cwd.clone(),
                }
            }
            other => {
                return Err(McpError::Config(format!(
                    "unknown transport '{other}' (use \"http\", \"sse\" or \"stdio\")"
                )));
            }
        };
        for name in self.headers.keys() {
            let lower = name.to_ascii_lowercase();
            if RESERVED_HEADERS.contains(&lower.as_str()) {
                return Err(McpError::Config(format!(
                    "header '{name}' is set by the transport and cannot be overridden"
                )));
            }
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(McpError::Config(format!(
                    "'{name}' is not a valid HTTP header name"
                )));
            }
        }
        for (name, value) in &self.headers {
            if http::HeaderValue::from_str(value).is_err() {
                return Err(McpError::Config(format!(
                    "the value of header '{name}' is not a valid HTTP header value"
                )));
            }
        }
        let protocol_version = match self.protocol_version {
            None => PROTOCOL_VERSIONS[0].to_owned(),
            Some(v) if PROTOCOL_VERSIONS.contains(&v.as_str()) => v,
            Some(v) => {
                return Err(McpError::Config(format!(
                    "protocolVersion '{v}' is not one of {}",
                    PROTOCOL_VERSIONS.join(", ")
                )));
            }
        };
        let roots = match self.roots {
            None => None,
            Some(roots) => {
                if let Some(bad) = roots.iter().find(|r| Url::parse(&r.uri).is_err()) {
                    return Err(McpError::Config(format!(
                        "roots: '{}' is not a URI (a root is {{uri: \"file:///path\", name}})",
                        bad.uri
                    )));
                }
                Some(serde_json::to_value(roots).unwrap_or_default())
            }
        };
        Ok(ClientSettings {
            target,
            headers: self.headers,
            client_name: self.client_name.unwrap_or_else(|| "dialtone".into()),
            client_version: self
                .client_version
                .unwrap_or_else(|| env!("CARGO_PKG_VERSION").into()),
            connect_timeout: seconds(
                "connectTimeout",
                self.connect_timeout,
                DEFAULT_CONNECT_TIMEOUT_S,
            )?,
            request_timeout: seconds(
                "requestTimeout",
                self.request_timeout,
                DEFAULT_REQUEST_TIMEOUT_S,
            )?,
            allowed_tools: self.allowed_tools.map(|t| t.into_iter().collect()),
            max_result_bytes: self.max_result_bytes.unwrap_or(DEFAULT_MAX_RESULT_BYTES),
            protocol_version,
            elicitation: self.elicitation.unwrap_or(false),
            sampling: self.sampling.unwrap_or(false),
            roots,
            auth: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ClientSettings, McpError> {
        ConnectionConfig::from_json(json)?.validate("app", false)
    }

    #[test]
    fn defaults_and_transports() {
        let s =
            parse(r#"{"transport":"http","endpoint":"http://127.0.0.1:1/mcp"}"#).expect("valid");
        assert_eq!(s.target.transport(), "http");
        assert_eq!(s.connect_timeout, Duration::from_secs(10));
        assert_eq!(s.request_timeout, Duration::from_secs(60));
        assert_eq!(s.protocol_version, "2025-11-25");
        assert_eq!(s.client_name, "dialtone");
        assert!(matches!(
            parse(r#"{"transport":"sse","endpoint":"https://h/sse"}"#).map(|s| s.target),
            Ok(Target::Sse(_))
        ));
    }

    #[test]
    fn clear_errors() {
        let cases = [
            (
                r#"{"endpoint":"http://h"}"#,
                "mcpServerConnectionConfig.transport is required (\"http\", \"sse\" or \"stdio\")",
            ),
            (
                r#"{"transport":"ws","endpoint":"http://h"}"#,
                "unknown transport 'ws' (use \"http\", \"sse\" or \"stdio\")",
            ),
            (
                r#"{"transport":"http"}"#,
                "mcpServerConnectionConfig.endpoint is required for the \"http\" transport (is the secret holding it set?)",
            ),
            (
                r#"{"transport":"http","endpoint":"ftp://h"}"#,
                "endpoint 'ftp://h' must be an http:// or https:// URL",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","headers":{"Mcp-Session-Id":"x"}}"#,
                "header 'Mcp-Session-Id' is set by the transport and cannot be overridden",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","requestTimeout":-1}"#,
                "requestTimeout must be a number of seconds in (0, 86400], got -1",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","maxResultBytes":-1}"#,
                "mcpServerConnectionConfig.maxResultBytes must be a non-negative integer, got -1",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","headers":{"X-Key":7}}"#,
                "mcpServerConnectionConfig.headers must be an object of strings, got {\"X-Key\":7}",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","allowedTools":"echo"}"#,
                "mcpServerConnectionConfig.allowedTools must be an array of tool names, got \"echo\"",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","elicitation":"yes"}"#,
                "mcpServerConnectionConfig.elicitation must be true or false, got \"yes\"",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","roots":[{"path":"/srv"}]}"#,
                "mcpServerConnectionConfig.roots must be an array of {uri, name}, got [{\"path\":\"/srv\"}]",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","roots":[{"uri":"srv"}]}"#,
                "roots: 'srv' is not a URI (a root is {uri: \"file:///path\", name})",
            ),
            (
                r#"{"transport":"http","endpoint":"http://h","clientName":"x".repeat(1)}"#,
                "mcpServerConnectionConfig must be an object",
            ),
            (
                r#"{"transport":"stdio","command":"x"}"#,
                "the stdio transport is not allowed for application 'app' (set allow_stdio = true in its [application.mcp] config)",
            ),
        ];
        for (json, message) in cases {
            let error = parse(json).expect_err(json);
            assert_eq!(
                error.to_string(),
                format!("MCP.createClient: {message}"),
                "{json}"
            );
            let code = if json.contains("stdio") {
                "ERR_MCP_STDIO_FORBIDDEN"
            } else {
                "ERR_MCP_CONFIG"
            };
            assert_eq!(error.code(), code, "{json}");
        }
        let long = r#"{"transport":"http","endpoint":"http://h","args":"a very long value that goes on and on and on"}"#;
        assert_eq!(
            parse(long).expect_err("not an array").to_string(),
            "MCP.createClient: mcpServerConnectionConfig.args must be an array of strings, got \"a very long value that goes on and o...",
        );
    }

    #[test]
    fn fields_that_are_not_options_are_named() {
        let config = |json: &str| ConnectionConfig::from_json(json).expect("json");
        // Every option in OPTIONS is a field: none of them lands in `unknown`.
        let every = r#"{"transport":"http","endpoint":"http://h","headers":{},"clientName":"a",
            "clientVersion":"1","connectTimeout":1,"requestTimeout":1,"allowedTools":[],
            "maxResultBytes":1,"protocolVersion":"2025-06-18","command":"c","args":[],"env":{},
            "cwd":"/","elicitation":true,"sampling":false,"roots":[],"auth":{}}"#;
        let keys: BTreeSet<String> =
            serde_json::from_str::<BTreeMap<String, serde_json::Value>>(every)
                .expect("json")
                .into_keys()
                .collect();
        assert_eq!(keys, OPTIONS.iter().map(|o| (*o).to_owned()).collect());
        let every = config(every);
        assert!(every.unknown.is_empty(), "{:?}", every.unknown);
        assert_eq!(every.ignored_fields(), None);

        let typo = config(
            r#"{"transport":"http","endpoint":"http://h/mcp","requestTimout":5,"connectTimeout":2}"#,
        );
        let warning = typo.ignored_fields().expect("a warning");
        assert!(
            warning.starts_with(
                "MCP.createClient: mcpServerConnectionConfig has no option 'requestTimout' (ignored); the options are transport, endpoint,"
            ),
            "{warning}"
        );
        let settings = typo.validate("app", false).expect("valid");
        assert_eq!(settings.connect_timeout, Duration::from_secs(2));
        assert_eq!(settings.request_timeout, Duration::from_secs(60));
    }
}
