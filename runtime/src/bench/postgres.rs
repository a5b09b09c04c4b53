//! A throwaway PostgreSQL server on 127.0.0.1 for `bench cluster` and the store tests: a fresh
//! cluster in a temp directory (`initdb`, trust authentication on loopback, no fsync), started with `pg_ctl`
//! on a free port and stopped, with its files removed, on drop.
//!
//! PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user the
//! Debian package creates and every command runs through `runuser -u postgres`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::mcp::BenchError;

type Result<T> = std::result::Result<T, BenchError>;

fn failed(what: impl std::fmt::Display) -> BenchError {
    BenchError::Peer(what.to_string())
}

/// A running server; [`Postgres::url`] reaches its `dialtone` database.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    as_postgres: bool,
    port: u16,
}

/// The directory of the newest installed PostgreSQL's programs (Debian keeps them under
/// /usr/lib/postgresql/<version>/bin, off PATH).
fn bin_dir() -> Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| {
            failed("PostgreSQL is not installed (no /usr/lib/postgresql): tests/run installs it")
        })?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| failed("no PostgreSQL server programs under /usr/lib/postgresql/*/bin"))
}

/// A number no other call in this process returns (for temp directory names).
pub fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    /// Creates a cluster and starts it (waiting until it takes connections), with a
    /// `dialtone` database.
    pub fn start() -> Result<Self> {
        let bin = bin_dir()?;
        let as_postgres = is_root();
        stop_orphans(&bin, as_postgres);
        let dir =
            std::env::temp_dir().join(format!("dialtone-pg-{}-{}", std::process::id(), unique()));
        std::fs::create_dir_all(&dir)?;
        let mut server = Self {
            bin,
            dir,
            as_postgres,
            port: 0,
        };
        if as_postgres {
            server.check(
                Command::new("chown")
                    .args(["postgres:postgres"])
                    .arg(&server.dir),
            )?;
        }
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "--no-locale".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-U".as_ref(),
                "dialtone".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // A port free a moment ago can be taken before the server binds it: try a few.
        let mut last = None;
        for _ in 0..5 {
            server.port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            match server.restart() {
                Ok(()) => {
                    last = None;
                    break;
                }
                Err(e) => {
                    let log =
                        std::fs::read_to_string(server.dir.join("server.log")).unwrap_or_default();
                    last = Some(failed(format!("{e}\n{log}")));
                }
            }
        }
        if let Some(e) = last {
            return Err(e);
        }
        let port = server.port.to_string();
        server.run(
            "createdb",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                "dialtone".as_ref(),
                "dialtone".as_ref(),
            ],
        )?;
        Ok(server)
    }

    /// [`Postgres::start`], with this build's schema migrated in.
    pub fn start_migrated() -> Result<Self> {
        let server = Self::start()?;
        crate::store::postgres::migrate(&server.url()).map_err(failed)?;
        Ok(server)
    }

    /// `postgres://dialtone@127.0.0.1:<port>/dialtone`.
    pub fn url(&self) -> String {
        format!("postgres://dialtone@127.0.0.1:{}/dialtone", self.port)
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs one of the server's programs (as `postgres` when we are root).
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<Output> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        command.args(args).current_dir(&self.dir);
        self.check(&mut command)
    }

    fn check(&self, command: &mut Command) -> Result<Output> {
        let output = command
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| failed(format!("running {}: {e}", command.get_program().display())))?;
        if !output.status.success() {
            return Err(failed(format!(
                "{} failed: {}{}",
                command.get_program().display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(output)
    }

    /// Stops the server now (fast shutdown: connections are cut), as a node's database
    /// going away.
    pub fn stop(&self) -> Result<()> {
        let data = self.data();
        self.run(
            "pg_ctl",
            &[
                "stop".as_ref(),
                "-w".as_ref(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
            ],
        )
        .map(drop)
    }

    /// Starts the server (again, once stopped) on its port and data, waiting until it takes
    /// connections.
    pub fn restart(&self) -> Result<()> {
        let data = self.data();
        let log = self.dir.join("server.log");
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -F -c max_connections=200",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "start".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
            ],
        )
        .map(drop)
    }

    /// The cluster's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Whether process `pid` runs (a zombie, dead but not yet reaped, does not).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // "pid (comm) state ...": the state follows the last ')'.
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
    })
}

/// Stops and removes the clusters of test processes that died without dropping theirs (a test
/// binary killed or aborted): their directories name their process.
fn stop_orphans(bin: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("dialtone-pg-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || alive(pid) {
            continue;
        }
        let orphan = Postgres {
            bin: bin.to_owned(),
            dir: entry.path(),
            as_postgres,
            port: 0,
        };
        drop(orphan);
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if self.data().join("postmaster.pid").exists() {
            let data = self.data();
            let _ = self.run(
                "pg_ctl",
                &[
                    "stop".as_ref(),
                    "-w".as_ref(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-D".as_ref(),
                    data.as_os_str(),
                ],
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
