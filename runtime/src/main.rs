//! The `dialtone` command line.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use dialtone::config::Config;
use dialtone::console::{
    self, CallerScript, ConsoleOptions, JsonTranscript, TextTranscript, Transcript,
};
use dialtone::router::{NoRoute, Router};
use dialtone::secrets::SecretStore;

/// mimalloc serves every allocation of the process, QuickJS's and the C libraries' included
/// (its `override` feature replaces malloc).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use reqwest::Method;

mod mcp_login;
mod remote;
mod storage_command;
mod store_command;
mod users_command;
use remote::Remote;

/// Dialtone: a self-hosted, VoxEngine-style scriptable telephony runtime.
#[derive(Debug, Parser)]
#[command(name = "dialtone", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer SIP calls with scenarios: SIP on UDP+TCP, health and metrics on HTTP.
    Serve(ServeArgs),
    /// Run scenarios against a simulated inbound call and print what happens.
    Console(ConsoleArgs),
    /// Show which application, rule and scenarios a call to a destination runs.
    Route {
        /// The dialed destination.
        #[arg(long)]
        to: String,
        /// The application (default: `default`).
        #[arg(long, default_value = "default")]
        app: String,
        /// Config file (default: scenarios/dialtone.toml, else the embedded default).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Ask this server (URL) instead of the one at the config's HTTP address.
        #[arg(long)]
        server: Option<String>,
    },
    /// Per-application secrets, encrypted at rest (through the admin API when a server runs).
    Secrets {
        #[command(subcommand)]
        what: SecretsCommand,
        /// Config file (its data_dir holds the store; its HTTP address finds the server).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Talk to this server (URL) instead of the one at the config's HTTP address.
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Application users: the SIP accounts softphones register with and callUser rings
    /// (through the admin API when a server runs).
    Users {
        #[command(subcommand)]
        what: users_command::UsersCommand,
        /// Config file (its data_dir holds the user store; its HTTP address finds the server).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Talk to this server (URL) instead of the one at the config's HTTP address.
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// An application's ApplicationStorage keys (through the admin API when a server runs).
    Storage {
        #[command(subcommand)]
        what: storage_command::StorageCommand,
        /// Config file (its data_dir holds the database; its HTTP address finds the server).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
        /// Talk to this server (URL) instead of the one at the config's HTTP address.
        #[arg(long, global = true)]
        server: Option<String>,
    },
    /// Session history: recent sessions, or one session's log lines.
    Sessions {
        /// Only this application.
        #[arg(long)]
        app: Option<String>,
        /// Only calls from this caller.
        #[arg(long)]
        caller: Option<String>,
        /// Only calls to this destination.
        #[arg(long)]
        to: Option<String>,
        /// Only this end kind (terminated, no_calls, load_error, uncaught_error, limit ...).
        #[arg(long)]
        reason: Option<String>,
        /// Most sessions shown.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print this session's log lines instead.
        #[arg(long, value_name = "SESSION_ID")]
        logs: Option<String>,
        /// Config file (its data_dir holds the history).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Ask this server (URL) instead of the one at the config's HTTP address.
        #[arg(long)]
        server: Option<String>,
    },
    /// The shared PostgreSQL store of a cluster (`[store] url`): its schema.
    Store {
        #[command(subcommand)]
        what: store_command::StoreCommand,
        /// Config file (its `[store] url` names the database).
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// MCP servers: OAuth grants for the ones that ask for authorization.
    Mcp {
        #[command(subcommand)]
        what: McpCommand,
    },
    /// Benchmarks (figures and ratios, not pass/fail).
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// Authorize Dialtone at an OAuth-protected MCP server (browser sign-in, once) and store
    /// the grant as the application's secret NAME, for `auth: {oauth: "NAME"}`.
    Login(mcp_login::LoginArgs),
}

#[derive(Debug, Subcommand)]
enum SecretsCommand {
    /// Set a secret; the value is read from stdin (never from the command line).
    Set {
        /// Application.
        app: String,
        /// Secret name, ^[A-Za-z][A-Za-z0-9_]{0,63}$.
        name: String,
        /// What it is for.
        #[arg(long)]
        description: Option<String>,
    },
    /// List an application's secrets: names, descriptions, dates (never values).
    List {
        /// Application.
        app: String,
    },
    /// Delete a secret.
    Rm {
        /// Application.
        app: String,
        /// Secret name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Start many sessions: start latency and memory per idle session.
    Sessions {
        /// How many sessions.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// JS worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
    /// SIPp at rising call rates against `serve`: failures, setup latency, RSS, SIPp's own ceiling.
    Sip {
        /// Call rates (calls per second), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "100,200,300,500,700")]
        rates: Vec<u32>,
        /// Seconds of call arrivals per rate.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
    },
    /// SIPp callers -> Dialtone (easyProcess to an outbound leg) -> SIPp callee at rising rates:
    /// failures, whole-bridge setup latency, RSS per bridged call, SIPp's own ceiling.
    Bridge {
        /// Call rates (calls per second), comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "50,100,200,300")]
        rates: Vec<u32>,
        /// Seconds of call arrivals per rate.
        #[arg(long, default_value_t = 5)]
        seconds: u32,
    },
    /// SIPp holding many answered calls with playback at once: failed calls, RSS per call, CPU
    /// per call-second.
    Calls {
        /// Calls placed (all up together when rate x hold reaches it).
        #[arg(long, default_value_t = 10_000)]
        concurrent: u32,
        /// Calls per second.
        #[arg(long, default_value_t = 500)]
        rate: u32,
        /// Seconds each call is held.
        #[arg(long, default_value_t = 20)]
        hold: u32,
    },
    /// Calls through Kamailio to 1, 2 and 3 nodes sharing PostgreSQL, beside calls straight to
    /// one node: calls per second, each node's and Kamailio's CPU per call as ratios, and the
    /// shared store's latency under that load.
    Cluster {
        /// Calls per second offered in each run.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Seconds of load per run.
        #[arg(long, default_value_t = 20)]
        seconds: u32,
    },
    /// SIPp at a steady rate for a long time (playback and a key press per call): failed calls,
    /// RSS every 30 s, leaked sessions, calls and file descriptors.
    Soak {
        /// Calls per second.
        #[arg(long, default_value_t = 200)]
        rate: u32,
        /// Seconds of call arrivals.
        #[arg(long, default_value_t = 600)]
        seconds: u32,
    },
    /// Concurrent SIP calls each streamed to a WebSocket and back: CPU, jitter, RSS per stream.
    Media {
        /// Concurrent calls.
        #[arg(long, default_value_t = 200)]
        calls: usize,
        /// Seconds measured once every call is up.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Concurrent WebRTC calls (webrtc-rs clients, Opus) then as many SIP calls (SIPp, PCMU):
    /// setup time, server CPU per stream, audio gaps, as ratios.
    Webrtc {
        /// Concurrent calls of each kind.
        #[arg(long, default_value_t = dialtone::bench::webrtc::CALLS_TARGET)]
        calls: usize,
        /// Seconds measured once every call is up.
        #[arg(long, default_value_t = 10)]
        seconds: u32,
    },
    /// Sequential MCP tools/call: Dialtone against the TS and Python SDK clients and raw floors.
    Mcp {
        /// Timed calls per client and round [default: 1000; with --concurrency: 50].
        #[arg(long)]
        count: Option<usize>,
        /// This many clients at once (a session each) against the TypeScript SDK with as many
        /// clients in one Node process: calls per second and client CPU per call.
        #[arg(long)]
        concurrency: Option<usize>,
        /// Rounds, each in a different client order; more rounds steady the ratios on a noisy machine.
        #[arg(long, default_value_t = dialtone::bench::mcp::ROUNDS)]
        rounds: usize,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Config file (default: scenarios/dialtone.toml, else the embedded default).
    #[arg(long)]
    config: Option<PathBuf>,
    /// SIP address for UDP and TCP [config: server.sip; default 127.0.0.1:5060].
    #[arg(long)]
    sip: Option<std::net::SocketAddr>,
    /// Do not listen for SIP on TCP.
    #[arg(long)]
    no_tcp: bool,
    /// HTTP address for /health and /metrics [config: server.http; default 127.0.0.1:8080].
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    /// RTP ports, LOW-HIGH, or 0 for OS-chosen ports [config: server.rtp_ports].
    #[arg(long)]
    rtp_ports: Option<String>,
    /// Address written into SDP when callers reach us on another one (NAT).
    #[arg(long)]
    media_address: Option<std::net::IpAddr>,
    /// Address browsers reach our media at through a 1:1 NAT [config: server.public_address].
    #[arg(long)]
    public_ip: Option<std::net::IpAddr>,
    /// Directory for recordings [config: server.data_dir].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Application that takes inbound calls [config: server.application].
    #[arg(long)]
    app: Option<String>,
    /// JS worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Debug, clap::Args)]
struct ConsoleArgs {
    /// Scenario files, evaluated in order in one realm.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,
    /// Application the session runs as.
    #[arg(long, default_value = "default")]
    app: String,
    /// Caller number.
    #[arg(long, default_value = "1001")]
    from: String,
    /// Dialed number.
    #[arg(long, default_value = "2000")]
    to: String,
    /// Caller display name.
    #[arg(long, default_value = "Console Caller")]
    display_name: String,
    /// A header of the simulated INVITE, 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// A secret the scenario can read, NAME=VALUE (repeatable; overrides the application's
    /// stored secret of that name).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
    /// The caller hangs up this long after the call starts (e.g. 10s, 500ms).
    #[arg(long, value_parser = console::parse_duration)]
    hangup_after: Option<std::time::Duration>,
    /// DTMF digits the caller presses once connected (',' pauses 1 s).
    #[arg(long, default_value = "")]
    dtmf: String,
    /// A WAV file the caller speaks once connected (what an ASR linked to the call hears).
    #[arg(long, value_name = "FILE.wav")]
    caller_audio: Option<PathBuf>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Simulated time: timers and media complete instantly, timestamps stay realistic.
    #[arg(long)]
    sim_time: bool,
    /// The session's custom data (`VoxEngine.customData()`, `AppEvents.Started.customData`).
    #[arg(long, default_value = "")]
    custom_data: String,
    /// Start the session without a call (as the admin API's POST .../sessions does): no
    /// CallAlerting; the scenario places its own calls.
    #[arg(long)]
    no_call: bool,
    /// Config file for limits (default: scenarios/dialtone.toml, else the embedded default).
    #[arg(long)]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dialtone: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve_command(args),
        Command::Console(args) => console_command(args),
        Command::Route {
            to,
            app,
            config,
            server,
        } => route_command(&to, &app, config, server.as_deref()),
        Command::Secrets {
            what,
            config,
            server,
        } => secrets_command(what, config, server.as_deref()),
        Command::Users {
            what,
            config,
            server,
        } => users_command::run(what, config, server.as_deref()),
        Command::Storage {
            what,
            config,
            server,
        } => storage_command::run(what, config, server.as_deref()),
        Command::Sessions {
            app,
            caller,
            to,
            reason,
            limit,
            logs,
            config,
            server,
        } => {
            let filter = dialtone::history::SessionFilter {
                application: app,
                caller,
                destination: to,
                reason,
                limit: Some(limit),
                ..Default::default()
            };
            sessions_command(filter, logs, config, server.as_deref())
        }
        Command::Store { what, config } => store_command::run(what, config),
        Command::Mcp {
            what: McpCommand::Login(args),
        } => mcp_login::login_command(args),
        Command::Bench { what } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = match what {
                BenchCommand::Mcp {
                    count,
                    rounds,
                    concurrency: None,
                } => runtime
                    .block_on(dialtone::bench::mcp::mcp(
                        count.unwrap_or(1000).max(1),
                        rounds.max(1),
                    ))?
                    .to_string(),
                BenchCommand::Mcp {
                    count,
                    rounds,
                    concurrency: Some(clients),
                } => runtime
                    .block_on(dialtone::bench::mcp_concurrent::mcp_concurrent(
                        clients.clamp(1, 10_000),
                        count.unwrap_or(50).max(1),
                        rounds.max(1),
                    ))?
                    .to_string(),
                BenchCommand::Sip { rates, seconds } => runtime
                    .block_on(dialtone::bench::sip::sip(&rates, seconds.max(1)))?
                    .to_string(),
                BenchCommand::Bridge { rates, seconds } => runtime
                    .block_on(dialtone::bench::bridge::bridge(&rates, seconds.max(1)))?
                    .to_string(),
                BenchCommand::Calls {
                    concurrent,
                    rate,
                    hold,
                } => runtime
                    .block_on(dialtone::bench::calls::calls(
                        concurrent.clamp(1, 100_000),
                        rate.clamp(1, 10_000),
                        hold.clamp(1, 3600),
                    ))?
                    .to_string(),
                BenchCommand::Cluster { rate, seconds } => {
                    dialtone::bench::cluster::cluster(rate.clamp(1, 2000), seconds.clamp(1, 600))?
                        .to_string()
                }
                BenchCommand::Soak { rate, seconds } => {
                    let report = runtime.block_on(dialtone::bench::soak::soak(
                        rate.max(1),
                        seconds.max(1),
                        std::time::Duration::from_secs(30),
                        |line| println!("{line}"),
                    ))?;
                    let failed = !report.problems().is_empty();
                    println!("{report}");
                    return Ok(if failed {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    });
                }
                BenchCommand::Media { calls, seconds } => runtime
                    .block_on(dialtone::bench::media::media(calls.max(1), seconds.max(1)))?
                    .to_string(),
                BenchCommand::Webrtc { calls, seconds } => runtime
                    .block_on(dialtone::bench::webrtc::webrtc(
                        calls.max(1),
                        seconds.max(1),
                    ))?
                    .to_string(),
                BenchCommand::Sessions { count, threads } => runtime
                    .block_on(dialtone::bench::sessions(count.max(1), threads))?
                    .to_string(),
            };
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{EnvFilter, filter_fn};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let env =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rsipstack=warn,webrtc=warn,rtc=warn,rtc_ice=error,rtc_dtls=warn,rtc_srtp=warn,rtc_sctp=warn"));
    // rsipstack drops a SIP message it cannot parse with a debug event carrying all of it; that
    // event is ours to show, once a second at most and as a short escaped excerpt.
    let malformed = dialtone::malformed_log::MalformedSipLog::new(std::io::stderr())
        .with_filter(filter_fn(dialtone::malformed_log::is_malformed_sip));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(env),
        )
        .with(malformed)
        .try_init();
}

fn serve_command(args: ServeArgs) -> Result<ExitCode> {
    init_tracing();
    let mut config = Config::load(args.config.as_deref())?;
    let server = &mut config.server;
    if let Some(sip) = args.sip {
        server.sip = sip;
    }
    if args.no_tcp {
        server.sip_tcp = false;
    }
    if let Some(http) = args.http {
        server.http = http;
    }
    if let Some(ports) = args.rtp_ports {
        server.rtp_ports = ports;
    }
    if let Some(ip) = args.public_ip {
        server.public_address = Some(ip);
    }
    if let Some(ip) = args.media_address {
        server.media_address = Some(ip);
    }
    if let Some(dir) = args.data_dir {
        server.data_dir = dir;
    }
    if let Some(app) = args.app {
        server.application = app;
    }
    let origin = config.origin.to_string();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let options = dialtone::serve::ServeOptions {
            js_threads: args.threads,
            ..Default::default()
        };
        let server =
            std::sync::Arc::new(dialtone::serve::Server::start_with(config, options).await?);
        tracing::info!("dialtone serve: config {origin}; SIGHUP reloads it; Ctrl-C stops");
        let reloader = tokio::spawn(reload_on_sighup(server.clone()));
        shutdown_signal().await;
        reloader.abort();
        let _ = reloader.await;
        let Ok(server) = std::sync::Arc::try_unwrap(server) else {
            bail!("the server is still in use at shutdown");
        };
        tracing::info!(
            "shutting down: no new calls; every session ends its calls (up to 10 s); a second signal exits at once"
        );
        tokio::select! {
            () = server.shutdown(std::time::Duration::from_secs(10)) => {}
            () = shutdown_signal() => {
                tracing::warn!("second signal: exiting now");
                return Ok(ExitCode::from(130));
            }
        }
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

/// Reloads the config file on every SIGHUP; a bad file is logged and changes nothing.
async fn reload_on_sighup(server: std::sync::Arc<dialtone::serve::Server>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangup.recv().await.is_some() {
            if let Err(e) = server.reload().await {
                tracing::error!("reload on SIGHUP refused, calls keep the current config: {e}");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = server;
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

fn split_pair<'a>(text: &'a str, separator: char, what: &str) -> Result<(&'a str, &'a str)> {
    match text.split_once(separator) {
        Some((name, value)) if !name.trim().is_empty() => Ok((name.trim(), value)),
        _ => bail!("invalid {what} '{text}'"),
    }
}

fn console_command(args: ConsoleArgs) -> Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    let mut headers = BTreeMap::new();
    for header in &args.headers {
        let (name, value) = split_pair(header, ':', "--header (expected 'Name: value')")?;
        headers.insert(name.to_owned(), value.trim().to_owned());
    }
    let mut secrets = stored_secrets(&config, &args.app)?;
    for secret in &args.secrets {
        let (name, value) = split_pair(secret, '=', "--secret (expected NAME=VALUE)")?;
        secrets.insert(name.to_owned(), value.to_owned());
    }
    let options = ConsoleOptions {
        scenarios: args.scenarios,
        application: args.app.clone(),
        from: args.from,
        display_name: args.display_name,
        to: args.to,
        headers,
        secrets,
        caller: CallerScript {
            hangup_after: args.hangup_after,
            dtmf: args.dtmf,
            audio: args.caller_audio,
        },
        limits: config.limits,
        mcp: config
            .application(&args.app)
            .map(|a| a.mcp.policy())
            .unwrap_or_default(),
        simulated_time: args.sim_time,
        secret_store: existing_store(&config)?,
        custom_data: args.custom_data,
        no_call: args.no_call,
        storage: Some(std::sync::Arc::new(dialtone::app_storage::AppStore::lazy(
            &config.server.data_dir,
        ))),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(args.sim_time)
        .build()
        .context("starting the console runtime")?;
    let stdout = std::io::stdout().lock();
    let mut transcript: Box<dyn Transcript> = if args.json {
        Box::new(JsonTranscript(stdout))
    } else {
        Box::new(TextTranscript(stdout))
    };
    let local = tokio::task::LocalSet::new();
    let reason = runtime.block_on(local.run_until(console::run(&options, transcript.as_mut())))?;
    drop(transcript);
    if reason.is_normal() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("dialtone console: session ended abnormally: {reason}");
        Ok(ExitCode::FAILURE)
    }
}

/// The application's secrets from the data directory's store, if there is one.
fn stored_secrets(config: &Config, app: &str) -> Result<BTreeMap<String, String>> {
    let data_dir = &config.server.data_dir;
    if !data_dir.join(dialtone::secrets::STORE_FILE).exists() {
        return Ok(BTreeMap::new());
    }
    let store = SecretStore::open(data_dir)?;
    Ok(store.values(app))
}

/// The config's secret store when no server runs: the data directory's, or the shared
/// PostgreSQL store's.
fn local_secrets(config: &Config) -> Result<std::sync::Arc<SecretStore>> {
    Ok(match config.store.pool()? {
        Some(pool) => SecretStore::open_shared(&config.server.data_dir, pool)?,
        None => std::sync::Arc::new(SecretStore::open(&config.server.data_dir)?),
    })
}

/// The data directory's secret store, when there is one (the console does not create one).
fn existing_store(
    config: &Config,
) -> Result<Option<std::sync::Arc<dyn dialtone::secrets::SecretSource>>> {
    let data_dir = &config.server.data_dir;
    if !data_dir.join(dialtone::secrets::STORE_FILE).exists() {
        return Ok(None);
    }
    Ok(Some(std::sync::Arc::new(SecretStore::open(data_dir)?)))
}

fn secrets_command(
    what: SecretsCommand,
    config: Option<PathBuf>,
    server: Option<&str>,
) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
    let remote = Remote::find(&config, server)?;
    let app_of = |what: &SecretsCommand| match what {
        SecretsCommand::Set { app, .. }
        | SecretsCommand::List { app }
        | SecretsCommand::Rm { app, .. } => app.clone(),
    };
    if remote.is_none() && config.application(&app_of(&what)).is_none() {
        bail!(
            "no application named '{}' in {} (applications: {})",
            app_of(&what),
            config.origin,
            config.application_names()
        );
    }
    match what {
        SecretsCommand::Set {
            app,
            name,
            description,
        } => {
            let value = read_secret_value(&app, &name)?;
            store_secret(
                &config,
                remote.as_ref(),
                &app,
                &name,
                &value,
                description.as_deref(),
            )?;
        }
        SecretsCommand::List { app } => {
            let list: Vec<serde_json::Value> = match &remote {
                Some(remote) => {
                    let path = ["applications", &app, "secrets"];
                    let (_, json) = remote.call(Method::GET, &path, &[], None)?;
                    serde_json::from_value(json)?
                }
                None => {
                    let store = local_secrets(&config)?;
                    store
                        .list(&app)
                        .into_iter()
                        .map(serde_json::to_value)
                        .collect::<Result<_, _>>()?
                }
            };
            if list.is_empty() {
                println!("application '{app}' has no secrets");
            }
            for secret in list {
                let text = |key: &str| secret[key].as_str().unwrap_or_default().to_owned();
                println!(
                    "{:<24} modified {}  created {}  {}",
                    text("name"),
                    text("modified"),
                    text("created"),
                    text("description")
                );
            }
        }
        SecretsCommand::Rm { app, name } => match &remote {
            Some(remote) => {
                let path = ["applications", &app, "secrets", &name];
                remote.call(Method::DELETE, &path, &[], None)?;
                println!("secret '{name}' of application '{app}' deleted");
            }
            None => {
                let store = local_secrets(&config)?;
                if !store.remove(&app, &name)? {
                    bail!("application '{app}' has no secret named '{name}'");
                }
                println!("secret '{name}' of application '{app}' deleted");
            }
        },
    }
    Ok(ExitCode::SUCCESS)
}

/// Sets a secret through the running server's admin API, else in the store; says where.
fn store_secret(
    config: &Config,
    remote: Option<&Remote>,
    app: &str,
    name: &str,
    value: &str,
    description: Option<&str>,
) -> Result<()> {
    match remote {
        Some(remote) => {
            let mut body = serde_json::json!({ "value": value });
            if let Some(d) = description {
                body["description"] = serde_json::json!(d);
            }
            let path = ["applications", app, "secrets", name];
            remote.call(Method::PUT, &path, &[], Some(body))?;
            println!(
                "secret '{name}' of application '{app}' set (server {})",
                remote.base()
            );
        }
        None => {
            let store = local_secrets(config)?;
            store.set(app, name, value, description)?;
            println!(
                "secret '{name}' of application '{app}' set (store in {})",
                config.server.data_dir.display()
            );
        }
    }
    Ok(())
}

/// The secret value from stdin: one line at a prompt on a terminal, else all of stdin (one
/// trailing newline dropped).
fn read_secret_value(app: &str, name: &str) -> Result<String> {
    use std::io::{IsTerminal as _, Read as _};
    let mut value = String::new();
    if std::io::stdin().is_terminal() {
        eprint!("value of secret '{name}' of application '{app}': ");
        std::io::stdin().read_line(&mut value)?;
    } else {
        std::io::stdin().read_to_string(&mut value)?;
    }
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}

fn sessions_command(
    filter: dialtone::history::SessionFilter,
    logs: Option<String>,
    config: Option<PathBuf>,
    server: Option<&str>,
) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
    let remote = Remote::find(&config, server)?;
    // No server runs: the config's store itself (the data directory's, or PostgreSQL's).
    let history = || -> Result<dialtone::history::History> {
        let days = config.server.history_days;
        Ok(match config.store.pool()? {
            Some(pool) => dialtone::history::History::open_postgres(pool, days)?,
            None => dialtone::history::History::open(&config.server.data_dir, days)?,
        })
    };
    if let Some(id) = logs {
        let lines: Vec<serde_json::Value> = match &remote {
            Some(remote) => {
                let (_, json) = remote.call(Method::GET, &["sessions", &id, "logs"], &[], None)?;
                serde_json::from_value(json)?
            }
            None => match history()?.logs(&id)? {
                Some(lines) => lines
                    .into_iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?,
                None => bail!("no session '{id}'"),
            },
        };
        for line in lines {
            println!(
                "{} {:<5} {}",
                line["at"].as_str().unwrap_or_default(),
                line["level"].as_str().unwrap_or_default(),
                line["text"].as_str().unwrap_or_default()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<serde_json::Value> = match &remote {
        Some(remote) => {
            let limit = filter.limit.unwrap_or(20).to_string();
            let mut query = vec![("limit", limit.as_str())];
            for (key, value) in [
                ("application", &filter.application),
                ("caller", &filter.caller),
                ("destination", &filter.destination),
                ("reason", &filter.reason),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let (_, json) = remote.call(Method::GET, &["sessions"], &query, None)?;
            serde_json::from_value(json)?
        }
        None => history()?
            .list(&filter)?
            .into_iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?,
    };
    for row in rows {
        let text = |key: &str| row[key].as_str().unwrap_or("-").to_owned();
        println!(
            "{}  {}  {}/{}  {} -> {}  {}s  {}",
            text("id"),
            text("started_at"),
            text("application"),
            text("rule"),
            text("caller"),
            text("destination"),
            row["duration"]
                .as_f64()
                .map_or("-".into(), |d| format!("{d:.1}")),
            text("end_reason")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn route_command(
    to: &str,
    app: &str,
    config: Option<PathBuf>,
    server: Option<&str>,
) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
    if let Some(remote) = Remote::find(&config, server)? {
        let body = serde_json::json!({ "destination": to, "application": app });
        let (_, answer) = remote.call(Method::POST, &["route-test"], &[], Some(body))?;
        let list = |key: &str| {
            answer[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        if answer["matched"].as_bool() == Some(true) {
            println!(
                "destination '{to}' -> application '{app}', rule '{}'",
                answer["rule"].as_str().unwrap_or_default()
            );
            println!(
                "scenarios (evaluated in this order): {}",
                list("scenarios").join(", ")
            );
            if let Some(problem) = answer["problem"].as_str() {
                println!("problem: {problem}");
            }
            println!("server: {}", remote.base());
            return Ok(ExitCode::SUCCESS);
        }
        println!("{}", answer["reason"].as_str().unwrap_or_default());
        for miss in list("misses") {
            println!("  {miss}");
        }
        println!("server: {}", remote.base());
        return Ok(ExitCode::FAILURE);
    }
    let router = Router::new(&config)?;
    match router.route(app, to) {
        Ok(route) => {
            println!(
                "destination '{to}' -> application '{}', rule '{}'",
                route.application, route.rule
            );
            println!(
                "scenarios (evaluated in this order): {}",
                route.scenarios.join(", ")
            );
            println!("config: {}", config.origin);
            Ok(ExitCode::SUCCESS)
        }
        Err(NoRoute::NoMatch { misses, .. }) => {
            println!(
                "destination '{to}' matched no rule of application '{app}' (a SIP call would get 404)"
            );
            if misses.is_empty() {
                println!("  the application has no rules");
            }
            for miss in misses {
                println!("  {miss}");
            }
            println!("config: {}", config.origin);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            println!(
                "{e}; applications in {}: {}",
                config.origin,
                config.application_names()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
