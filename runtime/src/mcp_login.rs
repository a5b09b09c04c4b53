//! `dialtone mcp login APP NAME URL`: the interactive OAuth grant for an MCP server, made once
//! out of the call path and stored as the application's encrypted secret NAME, which a
//! scenario names in `auth: {oauth: "NAME"}`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use dialtone::config::Config;
use dialtone_bindings::mcp::oauth::login::{LoginRequest, login};
use url::Url;

use crate::remote::Remote;

/// `dialtone mcp login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// Application whose secret holds the grant.
    app: String,
    /// Secret name for the grant (what the scenario writes in `auth: {oauth: "NAME"}`).
    name: String,
    /// The MCP server's endpoint, as the scenario connects to it.
    url: String,
    /// A scope to ask for (repeatable); default: what the server's challenge or metadata names.
    #[arg(long = "scope")]
    scopes: Vec<String>,
    /// A client id registered with the authorization server beforehand.
    #[arg(long)]
    client_id: Option<String>,
    /// Environment variable holding that client's secret (never on the command line).
    #[arg(long, value_name = "VAR")]
    client_secret_env: Option<String>,
    /// https URL of a client ID metadata document, used when the server accepts URL client ids.
    #[arg(long)]
    client_metadata_url: Option<String>,
    /// Loopback port the browser is redirected to (default: any free port).
    #[arg(long, default_value_t = 0)]
    redirect_port: u16,
    /// Command that opens the authorization URL (the URL is its last argument); default: print
    /// it, and run xdg-open when there is a display.
    #[arg(long, value_name = "COMMAND")]
    open_with: Option<String>,
    /// How long to wait for the browser, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Config file (the application's outbound policy; its data_dir holds the store).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Store through this server (URL) instead of the one at the config's HTTP address.
    #[arg(long)]
    server: Option<String>,
}

pub(crate) fn login_command(args: LoginArgs) -> Result<std::process::ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    let remote = Remote::find(&config, args.server.as_deref())?;
    let Some(application) = config.application(&args.app) else {
        bail!(
            "no application named '{}' in {} (applications: {})",
            args.app,
            config.origin,
            config.application_names()
        );
    };
    if !dialtone::secrets::store::valid_name(&args.name) {
        bail!(
            "secret name '{}' must match ^[A-Za-z][A-Za-z0-9_]{{0,63}}$",
            args.name
        );
    }
    let server = Url::parse(&args.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .with_context(|| format!("'{}' is not an http:// or https:// URL", args.url))?;
    let client_secret = match &args.client_secret_env {
        Some(var) => Some(
            std::env::var(var).with_context(|| format!("--client-secret-env: {var} is not set"))?,
        ),
        None => None,
    };
    let outbound = Arc::new(application.outbound.policy(&args.app));
    let request = LoginRequest {
        server: server.clone(),
        scopes: args.scopes,
        client_id: args.client_id,
        client_secret,
        client_metadata_url: args.client_metadata_url,
        client_name: format!("Dialtone ({})", args.app),
        redirect_port: args.redirect_port,
        timeout: Duration::from_secs(args.timeout),
    };
    let runtime = tokio::runtime::Runtime::new().context("starting the login runtime")?;
    let open_with = args.open_with;
    let grant = runtime.block_on(login(request, &outbound, |url| {
        eprintln!("Open this URL in a browser to authorize Dialtone:\n\n  {url}\n");
        open(open_with.as_deref(), url);
    }))?;
    let value = serde_json::to_string(&grant).context("writing the grant")?;
    let description = format!("OAuth grant for {server}");
    crate::store_secret(
        &config,
        remote.as_ref(),
        &args.app,
        &args.name,
        &value,
        Some(&description),
    )?;
    println!(
        "authorized: application '{}' can now use {server} with auth: {{oauth: \"{}\"}}",
        args.app, args.name
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Opens `url` with `command` (split on whitespace, the URL appended), else with xdg-open
/// when there is a display. Failing to open is not an error: the URL was printed.
fn open(command: Option<&str>, url: &str) {
    let mut words: Vec<String> = match command {
        Some(command) => command.split_whitespace().map(str::to_owned).collect(),
        None if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some() =>
        {
            vec!["xdg-open".to_owned()]
        }
        None => return,
    };
    if words.is_empty() {
        return;
    }
    let program = words.remove(0);
    let spawned = std::process::Command::new(&program)
        .args(&words)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("could not run {program}: {e}; open the URL yourself");
    }
}
