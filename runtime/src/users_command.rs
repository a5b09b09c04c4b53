//! `dialtone users add/list/rm APP NAME`: application users (SIP accounts), through the
//! running server's admin API when there is one, else in the data directory's user store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use dialtone::config::Config;
use dialtone::users::UserStore;
use reqwest::Method;

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    /// Add a user, or change its password; the password is read from stdin (never from the
    /// command line).
    Add {
        /// Application.
        app: String,
        /// SIP user name: 1-64 letters, digits, '.', '_' or '-'.
        name: String,
        /// The name shown to the people it calls.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// List an application's users (never their password hashes).
    List {
        /// Application.
        app: String,
    },
    /// Delete a user.
    Rm {
        /// Application.
        app: String,
        /// User name.
        name: String,
    },
}

pub(crate) fn run(
    what: UsersCommand,
    config: Option<PathBuf>,
    server: Option<&str>,
) -> Result<ExitCode> {
    let config = Config::load(config.as_deref())?;
    let app = match &what {
        UsersCommand::Add { app, .. }
        | UsersCommand::List { app }
        | UsersCommand::Rm { app, .. } => app.clone(),
    };
    let remote = crate::remote::for_application(&config, server, &app)?;
    // No server runs: the config's store itself (the data directory's, or PostgreSQL's).
    let local = || -> Result<std::sync::Arc<UserStore>> {
        Ok(match config.store.pool()? {
            Some(pool) => UserStore::postgres(pool)?,
            None => std::sync::Arc::new(UserStore::open(&config.server.data_dir)?),
        })
    };
    match what {
        UsersCommand::Add {
            app,
            name,
            display_name,
        } => {
            let password = read_password(&app, &name)?;
            let added = match &remote {
                Some(remote) => {
                    let mut body = serde_json::json!({ "password": password });
                    if let Some(display) = &display_name {
                        body["displayName"] = serde_json::json!(display);
                    }
                    let path = ["applications", &app, "users", &name];
                    let (status, _) = remote.call(Method::PUT, &path, &[], Some(body))?;
                    status == reqwest::StatusCode::CREATED
                }
                None => {
                    local()?
                        .set(&app, &name, &password, display_name.as_deref())?
                        .1
                }
            };
            println!(
                "user '{name}' of application '{app}' {}",
                if added { "added" } else { "updated" }
            );
        }
        UsersCommand::List { app } => {
            let list: Vec<serde_json::Value> = match &remote {
                Some(remote) => {
                    let (_, json) =
                        remote.call(Method::GET, &["applications", &app, "users"], &[], None)?;
                    serde_json::from_value(json)?
                }
                None => local()?
                    .list(&app)
                    .into_iter()
                    .map(serde_json::to_value)
                    .collect::<Result<_, _>>()?,
            };
            if list.is_empty() {
                println!("application '{app}' has no users");
            }
            for user in list {
                let text = |key: &str| user[key].as_str().unwrap_or_default().to_owned();
                println!(
                    "{:<24} modified {}  {}",
                    text("name"),
                    text("modified"),
                    text("display_name")
                );
            }
        }
        UsersCommand::Rm { app, name } => {
            match &remote {
                Some(remote) => {
                    let path = ["applications", &app, "users", &name];
                    remote.call(Method::DELETE, &path, &[], None)?;
                }
                None => local()?.remove(&app, &name)?,
            }
            println!("user '{name}' of application '{app}' deleted");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password(app: &str, name: &str) -> Result<String> {
    use std::io::{IsTerminal as _, Read as _};
    let mut value = String::new();
    if std::io::stdin().is_terminal() {
        eprint!("password of user '{name}' of application '{app}': ");
        std::io::stdin().read_line(&mut value)?;
    } else {
        std::io::stdin().read_to_string(&mut value)?;
    }
    let value = value.trim_end_matches(['\n', '\r']).to_owned();
    Ok(value)
}
