//! A TCP relay on 127.0.0.1 that counts the connections made through it: tests use it to see
//! whether a client keeps its HTTP connections alive.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Result;

/// How long a relayed connection may stay silent before the relay drops it.
const IDLE_LIMIT: Duration = Duration::from_secs(30);

/// Relays every connection to `127.0.0.1:target`; stops accepting on drop.
#[derive(Debug)]
pub struct CountingProxy {
    /// The port to connect to instead of the target's.
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl CountingProxy {
    /// Starts relaying to `127.0.0.1:target`.
    pub fn start(target: u16) -> Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (accepted, stop) = (accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                for client in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, target)) else {
                        continue;
                    };
                    relay(client, server);
                }
            })
        };
        Ok(Self {
            port,
            accepted,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Copies both ways until either side closes or stays silent for [`IDLE_LIMIT`].
fn relay(client: TcpStream, server: TcpStream) {
    let pairs = [
        (client.try_clone(), server.try_clone()),
        (server.try_clone(), client.try_clone()),
    ];
    for pair in pairs {
        let (Ok(mut from), Ok(mut to)) = pair else {
            return;
        };
        let _ = from.set_read_timeout(Some(IDLE_LIMIT));
        let _ = from.set_nodelay(true);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buffer) {
                if n == 0 || to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        });
    }
}
