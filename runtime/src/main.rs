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
    /// Sequential MCP tools/call: Dialtone against the TS and Python SDK clients and a raw floor.
    Mcp {
        /// Calls per client.
        #[arg(long, default_value_t = 1000)]
        count: usize,
    },
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
            what: BenchCommand::Sessions { count, threads },
        } => {
            let runtime = tokio::runtime::Runtime::new()?;
            let report = runtime.block_on(dialtone::bench::sessions(count.max(1), threads))?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
    }
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
