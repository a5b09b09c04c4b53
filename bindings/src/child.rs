//! Child processes started on a scenario's behalf (stdio MCP servers here; the host's speech
//! engine too) start with a clean environment: the host's own variables, such as
//! `DIALTONE_MASTER_KEY` and `DIALTONE_ADMIN_TOKEN`, never reach them. Only the few a program
//! needs to run are passed on, plus what the scenario's config names for it (`env`).

use std::ffi::OsStr;

/// Variables passed on from the host's environment.
pub const PASSED_ON: &[&str] = &["PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR"];

/// `program` as a command with a clean environment ([`PASSED_ON`] only).
pub fn clean_command(program: impl AsRef<OsStr>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command.env_clear();
    for name in PASSED_ON {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_variables_are_passed_on() {
        let command = clean_command("true");
        let names: Vec<String> = command
            .as_std()
            .get_envs()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| PASSED_ON.contains(&n.as_str())),
            "{names:?}"
        );
        assert!(
            names.contains(&"PATH".to_owned()),
            "PATH is passed on: {names:?}"
        );
    }
}
