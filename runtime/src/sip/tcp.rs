//! SIP over TCP: our accept loop in front of rsipstack's connections. The stack's own listener
//! retries a failed accept at once (when descriptors run out it spins and logs as fast as the
//! CPU allows) and takes any number of connections from one address; here each connection
//! passes a [`Gate`] first and accept errors back off. The stack then reads the connection as
//! its own, closing it after the idle timeout it is given.

use std::net::SocketAddr;
use std::sync::Arc;

use rsipstack::transaction::endpoint::EndpointInner;
use rsipstack::transport::tcp::TcpConnection;
use rsipstack::transport::{SipAddr, SipConnection, TcpListenerConnection};
use tokio_util::sync::CancellationToken;

use crate::accept::{self, Gate};

/// Binds the TCP listener (before the endpoint starts, so a taken port is a start-up error).
pub(super) fn bind(at: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let listener = std::net::TcpListener::bind(at)?;
    listener.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(listener)
}

/// Registers `listener`'s address with the stack (so Via and Contact name it) and hands every
/// admitted connection to the stack. Call after the endpoint's listeners are served: a listener
/// registered before would be bound a second time by the stack.
pub(super) async fn serve(
    listener: tokio::net::TcpListener,
    endpoint: Arc<EndpointInner>,
    gate: Arc<Gate>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    // A wildcard bind is advertised (Via, Contact) as the address peers can reach.
    let at = SipConnection::resolve_bind_address(listener.local_addr()?);
    let registered = TcpListenerConnection::new(at, None)
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    endpoint
        .transport_layer
        .add_transport(SipConnection::TcpListener(registered));
    let local = SipAddr {
        r#type: Some(rsipstack::sip::Transport::Tcp),
        addr: at.into(),
    };
    tokio::spawn(async move {
        loop {
            let (stream, from) = tokio::select! {
                () = cancel.cancelled() => break,
                accepted = accept::accept(&gate, &listener) => accepted,
            };
            let Some(permit) = gate.admit(from) else {
                continue;
            };
            let token = cancel.child_token();
            let connection =
                match TcpConnection::from_stream(stream, local.clone(), Some(token.clone())) {
                    Ok(connection) => connection,
                    Err(e) => {
                        tracing::debug!("SIP TCP connection from {from}: {e}");
                        continue;
                    }
                };
            endpoint
                .transport_layer
                .add_connection(SipConnection::Tcp(connection));
            // The stack cancels a connection's token when it retires it (closed, idle, or
            // shut down): then its place is free.
            tokio::spawn(async move {
                token.cancelled().await;
                drop(permit);
            });
        }
    });
    Ok(())
}
