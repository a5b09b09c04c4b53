//! The config model: applications, each with ordered routing rules; limits; where scenarios
//! live. Loaded from TOML (default `scenarios/dialtone.toml`), or from the copy embedded in
//! the binary when that file is absent, so `dialtone` runs anywhere on its defaults.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use dialtone_bindings::host::{Limits, Script};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Default config path, relative to the working directory.
pub const DEFAULT_CONFIG_PATH: &str = "scenarios/dialtone.toml";

/// The embedded default config and the scenarios it names.
const EMBEDDED_CONFIG: &str = include_str!("../../scenarios/dialtone.toml");
const EMBEDDED_SCENARIOS: &[(&str, &str)] = &[
    (
        "hello.voxengine.js",
        include_str!("../../scenarios/hello.voxengine.js"),
    ),
    (
        "dtmf-echo.voxengine.js",
        include_str!("../../scenarios/dtmf-echo.voxengine.js"),
    ),
];

/// Config errors: each names the file and what is wrong.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for the model.
    #[error("invalid config {origin}: {source}")]
    Parse {
        /// File name, or "(embedded)".
        origin: String,
        /// The TOML error.
        source: Box<toml::de::Error>,
    },
    /// A rule's pattern is not a valid regex.
    #[error(
        "application '{application}', rule '{rule}': invalid {which} pattern '{pattern}': {source}"
    )]
    Pattern {
        /// Application name.
        application: String,
        /// Rule name.
        rule: String,
        /// "include" or "exclude".
        which: &'static str,
        /// The pattern.
        pattern: String,
        /// The regex error.
        source: Box<regex::Error>,
    },
    /// Something else in the model is inconsistent.
    #[error("invalid config {origin}: {message}")]
    Invalid {
        /// File name, or "(embedded)".
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// A scenario file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Scenario {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listeners and media of `dialtone serve`.
    #[serde(default)]
    pub server: ServerConfig,
    /// Session limits (VoxEngine's values by default).
    #[serde(default)]
    pub limits: Limits,
    /// Applications; the one named `default` takes calls no other application claims.
    #[serde(default, rename = "application")]
    pub applications: Vec<Application>,
    /// `[voices]`: locale -> espeak-ng voice (`"en-AU" = "en-gb"`), over the built-in table.
    #[serde(default)]
    pub voices: std::collections::BTreeMap<String, String>,
    /// `[store]`: the embedded default, or the PostgreSQL database a cluster's nodes share.
    #[serde(default)]
    pub store: crate::store::StoreConfig,
    /// Where the file came from: its directory resolves scenario paths.
    #[serde(skip)]
    pub origin: Origin,
    /// With a shared store: the catalog version its applications came from and its scenario
    /// sources, read in place of files.
    #[serde(skip)]
    pub shared: Option<SharedScenarios>,
}

/// The scenario sources of one catalog version in the shared store.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SharedScenarios {
    /// The catalog version (0 before the first was written).
    pub version: i64,
    /// Scenario name -> source.
    pub sources: std::sync::Arc<BTreeMap<String, String>>,
}

impl std::fmt::Debug for SharedScenarios {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedScenarios")
            .field("version", &self.version)
            .field("scenarios", &self.sources.len())
            .finish()
    }
}

/// `[server]`: where `dialtone serve` listens. Flags override each field.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// SIP address, on UDP and (if `sip_tcp`) TCP.
    pub sip: SocketAddr,
    /// Also listen for SIP on TCP, same address.
    pub sip_tcp: bool,
    /// HTTP address (health, metrics).
    pub http: SocketAddr,
    /// RTP ports, `"LOW-HIGH"` (even ports are used), or `"0"` for ports the OS picks.
    pub rtp_ports: String,
    /// Address written into SDP and Contact when it differs from the SIP listener's (NAT).
    pub media_address: Option<IpAddr>,
    /// The address browsers reach our media at, when a 1:1 NAT maps `media_address` to it:
    /// WebRTC answers give it in their candidates.
    pub public_address: Option<IpAddr>,
    /// Where recordings go.
    pub data_dir: PathBuf,
    /// Application that takes inbound SIP calls.
    pub application: String,
    /// Bearer token of the admin API (else `DIALTONE_ADMIN_TOKEN`, else a generated
    /// `<data_dir>/admin.token`).
    pub admin_token: Option<String>,
    /// Days of session history kept.
    pub history_days: u32,
    /// Most calls at once; past it an INVITE is answered 503 with Retry-After.
    pub max_calls: u32,
    /// A connected call whose caller sends no RTP for this long is hung up ("media timeout");
    /// 0 turns it off.
    pub media_timeout_s: u32,
    /// A SIP or HTTP connection that sends nothing for this long is closed (an HTTP request's
    /// headers must arrive within it too).
    pub tcp_idle_timeout_s: u32,
    /// Most TCP connections (SIP and HTTP, each) open from one address.
    pub max_connections_per_source: u32,
    /// Most TCP connections open in all (SIP and HTTP, each).
    pub max_tcp_connections: u32,
    /// The shortest SIP session interval (RFC 4028 `Session-Expires`) accepted; a shorter ask
    /// gets 422 with this as `Min-SE`.
    pub session_min_se_s: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            sip: SocketAddr::from(([127, 0, 0, 1], 5060)),
            sip_tcp: true,
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            rtp_ports: "10000-49999".into(),
            media_address: None,
            public_address: None,
            data_dir: PathBuf::from("dialtone-data"),
            application: "default".into(),
            admin_token: None,
            history_days: 30,
            max_calls: 1000,
            media_timeout_s: 60,
            tcp_idle_timeout_s: 120,
            max_connections_per_source: 64,
            max_tcp_connections: 4096,
            session_min_se_s: 90,
        }
    }
}

/// An application: routing rules, and (later) its secrets and users.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Unique name.
    pub name: String,
    /// Ordered rules; the first that matches wins.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
    /// What the application's MCP clients may do.
    #[serde(default, skip_serializing_if = "McpConfig::is_default")]
    pub mcp: McpConfig,
    /// Where its sessions may connect (MCP endpoints, playback URLs, WebSockets).
    #[serde(default, skip_serializing_if = "OutboundConfig::is_default")]
    pub outbound: OutboundConfig,
    /// Connected calls of this application are hung up after this many seconds (overrides
    /// `limits.max_call_duration_s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_call_duration_s: Option<u64>,
    /// The SIP trunk `VoxEngine.callPSTN` calls go through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk: Option<TrunkConfig>,
    /// Who may call from a browser.
    #[serde(default, skip_serializing_if = "WebRtcConfig::is_default")]
    pub webrtc: WebRtcConfig,
    /// ACD queues (`VoxEngine.enqueueACDRequest`).
    #[serde(default, rename = "queue", skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<QueueConfig>,
}

/// `[[application.queue]]`: an ACD queue served by application users.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// The name scenarios enqueue to.
    pub name: String,
    /// The application users who take its calls, in the order they are offered them.
    #[serde(default)]
    pub operators: Vec<String>,
    /// Most requests waiting; past it a request gets `QueueFull`.
    #[serde(default = "default_max_queue_size")]
    pub max_queue_size: u32,
}

fn default_max_queue_size() -> u32 {
    100
}

/// `[application.webrtc]`: browser calls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebRtcConfig {
    /// The application secret whose value a browser must send as `Authorization: Bearer`;
    /// without it, browser calls are taken only while the HTTP listener is on loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_secret: Option<String>,
}

impl WebRtcConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// `[application.mcp]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Whether scenarios may start local stdio MCP servers (`transport: "stdio"`).
    #[serde(default)]
    pub allow_stdio: bool,
}

impl McpConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The policy handed to sessions.
    pub fn policy(&self) -> dialtone_bindings::mcp::McpPolicy {
        dialtone_bindings::mcp::McpPolicy {
            allow_stdio: self.allow_stdio,
        }
    }
}

/// `[application.outbound]`: where an application's sessions may connect (server-side request
/// forgery). By default any public host, nothing in private, loopback or link-local networks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// When not empty, the only hosts that may be reached (`api.example.com`, or
    /// `*.example.com` for its subdomains); a listed host may be a private address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_hosts: Vec<String>,
    /// Whether loopback, private and link-local addresses may be reached.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private: bool,
}

impl OutboundConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The policy handed to the sessions of application `name`.
    pub fn policy(&self, name: &str) -> dialtone_bindings::outbound::OutboundPolicy {
        dialtone_bindings::outbound::OutboundPolicy {
            application: name.to_owned(),
            allow_hosts: self
                .allow_hosts
                .iter()
                .map(|h| match h.strip_prefix("*.") {
                    Some(domain) => format!("*.{}", canonical_host(domain)),
                    None => canonical_host(h),
                })
                .collect(),
            allow_private: self.allow_private,
        }
    }
}

use dialtone_bindings::outbound::canonical_host;

mod trunk;
pub use trunk::TrunkConfig;

/// A routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Name, unique within the application.
    pub name: String,
    /// Regex matched against the whole destination.
    pub pattern: String,
    /// Regex that, when it matches the whole destination, skips the rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<String>,
    /// Scenario files, evaluated in order in one realm.
    pub scenarios: Vec<String>,
}

/// Where a config came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Origin {
    /// The copy compiled into the binary.
    #[default]
    Embedded,
    /// A file on disk.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Embedded => write!(f, "(embedded default)"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Config {
    /// Loads `path`, or the default file, or the embedded default when neither exists.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        match path {
            Some(path) => Self::from_file(path),
            None if Path::new(DEFAULT_CONFIG_PATH).is_file() => {
                Self::from_file(Path::new(DEFAULT_CONFIG_PATH))
            }
            None => Self::embedded(),
        }
    }

    /// The embedded default config.
    pub fn embedded() -> Result<Self, ConfigError> {
        Self::parse(EMBEDDED_CONFIG, Origin::Embedded)
    }

    /// Reads and validates a config file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text, Origin::File(path.to_owned()))
    }

    /// Parses and validates config text.
    pub fn parse(text: &str, origin: Origin) -> Result<Self, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            origin: origin.to_string(),
            source: Box::new(source),
        })?;
        config.origin = origin;
        config.validate()?;
        Ok(config)
    }

    /// Checks names are unique and every rule names scenarios.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            origin: self.origin.to_string(),
            message,
        };
        self.limits.validate().map_err(invalid)?;
        if self.server.media_timeout_s > 3_600 {
            return Err(invalid(format!(
                "server.media_timeout_s must be between 0 (off) and 3600 (got {})",
                self.server.media_timeout_s
            )));
        }
        let server = &self.server;
        for (name, value, range) in [
            ("tcp_idle_timeout_s", server.tcp_idle_timeout_s, 1..=3_600),
            (
                "max_connections_per_source",
                server.max_connections_per_source,
                1..=100_000,
            ),
            (
                "max_tcp_connections",
                server.max_tcp_connections,
                1..=1_000_000,
            ),
            ("session_min_se_s", server.session_min_se_s, 1..=86_400),
        ] {
            if !range.contains(&value) {
                return Err(invalid(format!(
                    "server.{name} must be between {} and {} (got {value})",
                    range.start(),
                    range.end()
                )));
            }
        }
        if !(1..=100_000).contains(&self.server.max_calls) {
            return Err(invalid(format!(
                "server.max_calls must be between 1 and 100000 (got {})",
                self.server.max_calls
            )));
        }
        let mut names = BTreeMap::new();
        for app in &self.applications {
            if !valid_name(&app.name) {
                return Err(invalid(format!(
                    "application name '{}' must match {NAME_RULE}",
                    app.name
                )));
            }
            if let Some(host) = app
                .outbound
                .allow_hosts
                .iter()
                .find(|h| !valid_host_pattern(h))
            {
                return Err(invalid(format!(
                    "application '{}': allow_hosts entry {host:?} must be a host name, an IP address (no port, no brackets) or *.domain",
                    app.name
                )));
            }
            if app.outbound.allow_hosts.len() > 256 {
                return Err(invalid(format!(
                    "application '{}': at most 256 allow_hosts",
                    app.name
                )));
            }
            if app.max_call_duration_s.is_some_and(|s| s > 7 * 86_400) {
                return Err(invalid(format!(
                    "application '{}': max_call_duration_s must be between 0 (no maximum) and 604800",
                    app.name
                )));
            }
            if let Some(Err(why)) = app.trunk.as_ref().map(TrunkConfig::check) {
                return Err(invalid(format!("application '{}': {why}", app.name)));
            }
            let mut queues = BTreeMap::new();
            for queue in &app.queues {
                if !valid_name(&queue.name) || queues.insert(queue.name.as_str(), ()).is_some() {
                    return Err(invalid(format!(
                        "application '{}': queue name '{}' must match {NAME_RULE} and be unique",
                        app.name, queue.name
                    )));
                }
                if !(1..=10_000).contains(&queue.max_queue_size) || queue.operators.len() > 1_000 {
                    return Err(invalid(format!(
                        "application '{}': queue '{}' needs max_queue_size between 1 and 10000 and at most 1000 operators",
                        app.name, queue.name
                    )));
                }
            }
            if let Some(rule) = app.rules.iter().find(|r| !valid_name(&r.name)) {
                return Err(invalid(format!(
                    "application '{}': rule name '{}' must match {NAME_RULE}",
                    app.name, rule.name
                )));
            }
            if names.insert(app.name.as_str(), ()).is_some() {
                return Err(invalid(format!(
                    "application '{}' is defined twice",
                    app.name
                )));
            }
            let mut rules = BTreeMap::new();
            for rule in &app.rules {
                if rules.insert(rule.name.as_str(), ()).is_some() {
                    return Err(invalid(format!(
                        "application '{}': rule '{}' is defined twice",
                        app.name, rule.name
                    )));
                }
                if rule.scenarios.is_empty() {
                    return Err(invalid(format!(
                        "application '{}', rule '{}': no scenarios",
                        app.name, rule.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// The directory scenario paths are relative to (the config file's), or `None` for the
    /// embedded config.
    pub fn dir(&self) -> Option<PathBuf> {
        match &self.origin {
            Origin::File(path) => Some(
                path.parent()
                    .filter(|dir| !dir.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            ),
            Origin::Embedded => None,
        }
    }

    /// The application named `name`.
    pub fn application(&self, name: &str) -> Option<&Application> {
        self.applications.iter().find(|a| a.name == name)
    }

    /// The applications' names, comma-separated (for messages about a missing one).
    pub fn application_names(&self) -> String {
        self.applications
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The shared store's catalog version this config came from (0 without a shared store).
    pub fn catalog_version(&self) -> i64 {
        self.shared.as_ref().map_or(0, |s| s.version)
    }

    /// Reads the scenario sources a rule names: from the shared store's catalog version, from
    /// disk next to the config file, or from the embedded copies for the embedded config (not
    /// compiled: the catalog compiles them).
    pub fn load_scenarios(&self, names: &[String]) -> Result<Vec<Script>, ConfigError> {
        names.iter().map(|name| self.load_scenario(name)).collect()
    }

    /// Reads one scenario source (see [`Config::load_scenarios`]).
    pub fn load_scenario(&self, name: &str) -> Result<Script, ConfigError> {
        if let Some(shared) = &self.shared {
            return shared
                .sources
                .get(name)
                .map(|source| Script::from_source(name, source.as_str()))
                .ok_or_else(|| ConfigError::Scenario {
                    path: PathBuf::from(name),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!(
                            "not in the shared store's catalog version {}",
                            shared.version
                        ),
                    ),
                });
        }
        match self.dir() {
            None => EMBEDDED_SCENARIOS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, source)| Script::from_source(*n, *source))
                .ok_or_else(|| ConfigError::Scenario {
                    path: PathBuf::from(name),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "not embedded in the binary",
                    ),
                }),
            Some(dir) => read_script(&dir.join(name)),
        }
    }
}

/// `applications` as the `[[application]]` tables of a config file.
pub fn write_applications_toml(applications: &[Application]) -> Result<String, toml::ser::Error> {
    #[derive(Serialize)]
    struct Tables<'a> {
        application: &'a [Application],
    }
    toml::to_string(&Tables {
        application: applications,
    })
}

/// Reads `[[application]]` tables written by [`write_applications_toml`] (not validated).
pub fn parse_applications(text: &str) -> Result<Vec<Application>, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Tables {
        #[serde(default)]
        application: Vec<Application>,
    }
    toml::from_str::<Tables>(text)
        .map(|tables| tables.application)
        .map_err(|e| e.message().to_owned())
}

/// A scenario file name: `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}\.js$`, no directories.
pub fn valid_scenario_name(name: &str) -> bool {
    name.strip_suffix(".js")
        .is_some_and(|stem| is_name(stem, 128))
        && !name.contains("..")
}

/// What application and rule names look like.
pub const NAME_RULE: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";

/// Whether `name` is a valid application or rule name ([`NAME_RULE`]).
pub fn valid_name(name: &str) -> bool {
    is_name(name, 64)
}

/// `name` is 1 to `max` characters of `[A-Za-z0-9_.-]`, starting with a letter or digit.
pub fn is_name(name: &str, max: usize) -> bool {
    name.len() <= max
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Reads one scenario file (not compiled); its stack-trace name is the file name.
pub fn read_script(path: &Path) -> Result<Script, ConfigError> {
    let source = std::fs::read_to_string(path).map_err(|source| ConfigError::Scenario {
        path: path.to_owned(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(Script::from_source(name, source))
}

/// An `allow_hosts` entry: a host name, an IPv4 or IPv6 address (no port, no brackets), or
/// `*.` and a domain.
fn valid_host_pattern(pattern: &str) -> bool {
    if pattern.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = pattern.strip_prefix("*.").unwrap_or(pattern);
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_has_the_default_application() {
        let config = Config::embedded().expect("embedded config is valid");
        let app = config.application("default").expect("default application");
        assert!(!app.rules.is_empty());
        let scripts = config
            .load_scenarios(&app.rules[0].scenarios)
            .expect("embedded scenarios");
        assert!(scripts[0].source.contains("AppEvents.CallAlerting"));
    }

    #[test]
    fn unknown_fields_and_duplicate_rules_are_rejected() {
        let err = Config::parse("[[application]]\nname='a'\nfoo=1\n", Origin::Embedded)
            .expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `foo`"), "{err}");
        let text = "[[application]]\nname='a'\n[[application.rule]]\nname='r'\npattern='.*'\nscenarios=['x.js']\n[[application.rule]]\nname='r'\npattern='1'\nscenarios=['x.js']\n";
        let err = Config::parse(text, Origin::Embedded).expect_err("duplicate rule");
        assert!(
            err.to_string().contains("rule 'r' is defined twice"),
            "{err}"
        );
    }

    #[test]
    fn limits_default_to_voxengine_values_and_can_be_set() {
        let config =
            Config::parse("[limits]\ncallback_ms = 250\n", Origin::Embedded).expect("valid");
        assert_eq!(config.limits.callback_ms, 250);
        assert_eq!(config.limits.heap_bytes, 16 << 20);
        assert_eq!(config.limits.max_timers, 100);
        for (text, expected) in [
            (
                "[limits]\ncallback_ms = 0\n",
                "limits.callback_ms must be between 10 and 60000 (got 0)",
            ),
            (
                "[limits]\nno_call_timeout_s = 9223372036854775807\n",
                "limits.no_call_timeout_s must be between 1 and 86400 (got 9223372036854775807)",
            ),
        ] {
            let error = Config::parse(text, Origin::Embedded).expect_err(text);
            assert_eq!(
                error.to_string(),
                format!("invalid config (embedded default): {expected}")
            );
        }
    }

    #[test]
    fn a_voices_table_maps_locales_to_espeak_voices() {
        let config =
            Config::parse("[voices]\n\"xx-YY\" = \"eo\"\n", Origin::Embedded).expect("valid");
        let table = crate::media::voices::VoiceTable::new(&config.voices);
        assert_eq!(
            table.resolve(Some("xx-YY+female")).voice,
            Some("eo+f3".into())
        );
        assert!(Config::embedded().expect("embedded").voices.is_empty());
    }
}
