//! Taking TCP connections (SIP and HTTP) so that no one source, and no shortage of file
//! descriptors, can take the listener down: a cap on connections per source address and in all,
//! and a backoff when `accept` fails (out of descriptors, the loop would otherwise spin and log
//! as fast as the CPU allows).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

/// First wait after a failed accept; doubled on each further failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// Longest wait after a failed accept.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// At most one log line per this interval for refused connections and accept errors.
const LOG_INTERVAL: Duration = Duration::from_secs(1);

/// The connections of one listener, counted per source address.
#[derive(Debug)]
pub struct Gate {
    /// "SIP" or "HTTP", for log lines.
    name: &'static str,
    per_source: usize,
    total: usize,
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open: HashMap<IpAddr, usize>,
    total: usize,
    last_log: Option<Instant>,
    unlogged: u64,
}

/// One admitted connection; dropping it gives its place back.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.gate.lock();
        state.total = state.total.saturating_sub(1);
        if let Some(n) = state.open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                state.open.remove(&self.ip);
            }
        }
    }
}

impl Gate {
    /// A gate letting `per_source` connections from one address and `total` in all.
    pub fn new(name: &'static str, per_source: usize, total: usize) -> Arc<Self> {
        Arc::new(Self {
            name,
            per_source,
            total,
            state: Mutex::new(GateState::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for a connection from `from`, or `None` (logged, at most once a second) when
    /// that source or the listener is full.
    pub fn admit(self: &Arc<Self>, from: SocketAddr) -> Option<Permit> {
        let ip = from.ip();
        let mut state = self.lock();
        let from_source = state.open.get(&ip).copied().unwrap_or(0);
        let why = if from_source >= self.per_source {
            format!("{from_source} connections from {ip} are open (the most from one address)")
        } else if state.total >= self.total {
            format!("{} connections are open (the most in all)", state.total)
        } else {
            *state.open.entry(ip).or_insert(0) += 1;
            state.total += 1;
            return Some(Permit {
                gate: self.clone(),
                ip,
            });
        };
        if let Some(unlogged) = log_due(&mut state) {
            let more = if unlogged > 0 {
                format!(" ({unlogged} more refused since the last line)")
            } else {
                String::new()
            };
            tracing::warn!(
                "{}: refused a connection from {from}: {why}{more}",
                self.name
            );
        }
        None
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().total
    }
}

/// Whether a log line is due (then how many went unlogged before it); else counts one more.
fn log_due(state: &mut GateState) -> Option<u64> {
    let now = Instant::now();
    if state
        .last_log
        .is_some_and(|last| now.duration_since(last) < LOG_INTERVAL)
    {
        state.unlogged += 1;
        return None;
    }
    state.last_log = Some(now);
    Some(std::mem::take(&mut state.unlogged))
}

/// The next connection on `listener`. A failed accept (no descriptors left, say) is logged at
/// most once a second and waited out with a growing backoff instead of retried at once.
pub async fn accept(gate: &Gate, listener: &TcpListener) -> (TcpStream, SocketAddr) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        match listener.accept().await {
            Ok(accepted) => return accepted,
            Err(e) => {
                {
                    let mut state = gate.lock();
                    if let Some(unlogged) = log_due(&mut state) {
                        let more = if unlogged > 0 {
                            format!("; {unlogged} more failures since the last line")
                        } else {
                            String::new()
                        };
                        tracing::error!(
                            "{}: cannot accept a connection: {e} (waiting {} ms{more})",
                            gate.name,
                            backoff.as_millis()
                        );
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ip: [u8; 4], port: u16) -> SocketAddr {
        SocketAddr::from((ip, port))
    }

    #[test]
    fn one_source_is_capped_and_its_places_come_back() {
        let gate = Gate::new("SIP", 2, 10);
        let a = gate.admit(at([10, 0, 0, 1], 1)).expect("first");
        let _b = gate.admit(at([10, 0, 0, 1], 2)).expect("second");
        assert!(gate.admit(at([10, 0, 0, 1], 3)).is_none(), "third refused");
        let _other = gate.admit(at([10, 0, 0, 2], 1)).expect("another source");
        drop(a);
        let _c = gate.admit(at([10, 0, 0, 1], 4)).expect("a place came back");
        assert_eq!(gate.open(), 3);
    }

    #[test]
    fn the_total_is_capped() {
        let gate = Gate::new("HTTP", 5, 2);
        let _a = gate.admit(at([10, 0, 0, 1], 1)).expect("first");
        let _b = gate.admit(at([10, 0, 0, 2], 1)).expect("second");
        assert!(gate.admit(at([10, 0, 0, 3], 1)).is_none());
    }
}
