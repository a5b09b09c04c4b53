//! # dialtone-bindings
//!
//! Everything a Dialtone call scenario sees: one isolated QuickJS runtime per session, the
//! session's event loop, its limits, and the VoxEngine-style JS API. It talks to calls only
//! through the [`host`] interface (events in, commands out); the `dialtone` runtime implements
//! the other side. This crate never depends on the runtime.
//!
//! # Layout
//!
//! - [`host`]: the host interface: [`host::SessionSpec`], [`host::HostEvent`] in,
//!   [`host::Outbound`] out, [`host::Limits`], [`host::EndReason`].
//! - [`engine`]: the session VM and event loop ([`engine::run_session`]), the timer queue, the
//!   JS error formatting, and the [`engine::SessionPool`] of JS worker threads.
//! - `api/`: one file per JS surface. Each surface is a small JS facade (`*.js`, deno_core
//!   style) over Rust ops (`*.rs`): `voxengine` (VoxEngine, AppEvents), `call` (Call,
//!   CallEvents), `logger`, `timers`, `modules` (Modules, require), `util` (uuidgen, base64),
//!   `mcp` + `mcp_client` (the `MCP` namespace and `MCP.Client`, loaded by
//!   `require(Modules.MCP)`).
//! - [`mcp`]: the MCP client core behind them: rmcp over streamable HTTP, our legacy-SSE
//!   transport, stdio; one task per client on its session's worker.
//! - `net`: `Net.httpRequest(Async)`: HTTP requests with VoxEngine's result codes and limits.
//! - `http_pool`: the process's HTTP clients (one per outbound policy) and the I/O runtime
//!   MCP and `Net` requests run on.
//! - [`child`]: child processes (stdio MCP servers, the speech engine) with a clean environment.
//! - [`outbound`]: where a session's outbound connections may go (host allow-list, no
//!   private or link-local addresses unless allowed): MCP, playback URLs, WebSockets.
//! - [`rate`]: a token bucket bounding what peers and scenarios can cause per second.
//! - [`tls`]: the TLS client settings every outgoing connection uses (read once per process).
//!
//! **Invariant: run-to-completion.** A session dispatches one host event or timer at a time,
//! then runs promise jobs until none is left, before it looks at the next one.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod api;
pub mod child;
pub mod engine;
pub mod host;
mod http_pool;
pub mod mcp;
mod net;
pub mod outbound;
pub mod rate;
pub mod tls;

pub use engine::{SessionPool, run_session, validate_script};
pub use host::{EndReason, HostEvent, Limits, Outbound, SessionSpec};
