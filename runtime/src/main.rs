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
    },
    /// Benchmarks (figures and ratios, not pass/fail).
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
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
    /// Sequential MCP tools/call: Dialtone against the TS and Python SDK clients and a raw floor.
    Mcp {
        /// Calls per client.
        #[arg(long, default_value_t = 1000)]
        count: usize,
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
    /// A secret the scenario can read, NAME=VALUE (repeatable).
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    secrets: Vec<String>,
    /// The caller hangs up this long after the call starts (e.g. 10s, 500ms).
    #[arg(long, value_parser = console::parse_duration)]
    hangup_after: Option<std::time::Duration>,
    /// DTMF digits the caller presses once connected (',' pauses 1 s).
    #[arg(long, default_value = "")]
    dtmf: String,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    /// Simulated time: timers and media complete instantly, timestamps stay realistic.
    #[arg(long)]
    sim_time: bool,
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
        Command::Route { to, app, config } => route_command(&to, &app, config),
        Command::Bench {
            what: BenchCommand::Mcp { count },
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(dialtone::bench::mcp::mcp(count.max(1)))?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: BenchCommand::Sip { rates, seconds },
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(dialtone::bench::sip::sip(&rates, seconds.max(1)))?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            what: BenchCommand::Sessions { count, threads },
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(dialtone::bench::sessions(count.max(1), threads))?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::filter::{EnvFilter, FilterExt as _, filter_fn};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let env =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,rsipstack=warn"));
    // rsipstack drops a SIP message it cannot parse with a debug line; that line is ours to show.
    let malformed = filter_fn(|meta| {
        meta.target().starts_with("rsipstack::transport")
            && meta.fields().field("raw_message").is_some()
            && meta.fields().field("error").is_some()
    });
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(env.or(malformed)),
        )
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
        let server = dialtone::serve::Server::start_with(config, options).await?;
        tracing::info!("dialtone serve: config {origin}; Ctrl-C stops");
        shutdown_signal().await;
        tracing::info!("shutting down: no new calls; waiting up to 10 s for calls in progress");
        server.shutdown(std::time::Duration::from_secs(10)).await;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
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
    let mut secrets = BTreeMap::new();
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
        },
        limits: config.limits,
        mcp: config
            .application(&args.app)
            .map(|a| a.mcp.policy())
            .unwrap_or_default(),
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

fn route_command(to: &str, app: &str, config: Option<PathBuf>) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
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
                config
                    .applications
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            Ok(ExitCode::FAILURE)
        }
    }
}
