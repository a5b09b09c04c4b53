//! # dialtone
//!
//! The Dialtone host: it owns calls and media, routes each inbound call to scenarios by the
//! ordered rules of an application, and runs those scenarios in `dialtone-bindings` sessions.
//!
//! # Layout
//!
//! - [`config`]: the TOML config model (server, applications, rules, limits) and its embedded
//!   default.
//! - [`router`]: anchored-regex routing of a destination to a rule, with per-rule diagnostics.
//! - [`catalog`]: the config compiled for routing; what a new call runs.
//! - [`call_model`]: one call leg's sans-IO state machine, which every kind of leg drives.
//! - [`console`]: `dialtone console`, a simulated inbound call leg plus transcript printing.
//! - [`sip`]: inbound SIP on rsipstack: datagrams checked before the stack (`sip::wire`), our
//!   TCP accept loop, one call task per INVITE, outbound legs, the registrar, SDP offer/answer.
//! - [`media`]: the session media graph and its units (WebSockets, players, recorders), audio
//!   files, G.711, RTP, the per-call paced RTP stream, TTS, voices.
//! - [`rtp_ports`]: RTP port allocation.
//! - [`secrets`]: where a session's per-application secrets come from.
//! - [`users`]: application users (SIP accounts) and their digest password hashes.
//! - [`serve`]: `dialtone serve`: SIP + HTTP + the session pool, started together.
//! - [`store`]: where shared state lives: the embedded default (SQLite, files) or PostgreSQL
//!   (`[store] url`), its connection pool and versioned migrations (`dialtone store migrate`).
//! - [`history`]: session history (sessions and their log lines), in SQLite or PostgreSQL.
//! - [`acd`]: ACD queues served by registered application users.
//! - [`app_storage`]: `ApplicationStorage`'s per-application keys, beside the history.
//! - [`http`]: `/health` and `/metrics`, and the HTTP accept loop.
//! - [`access`]: sessions' access URLs: HTTP requests to a session as `AppEvents.HttpRequest`.
//! - [`accept`]: TCP admission for SIP and HTTP (per-source and total caps, accept backoff).
//! - [`malformed_log`]: one short, escaped, rate-limited log line for SIP datagrams that do not parse.
//! - [`metrics`]: counters and latency histograms.
//! - [`private_file`]: mode-0600 files written atomically (secrets, user hashes).
//! - [`admin`]: the admin HTTP API (applications, rules, scenarios, secrets, sessions).
//! - [`webrtc`]: browser calls: WHIP-style signalling, a peer connection per call (Opus/PCMU,
//!   DTLS-SRTP) under the same call task as SIP, and the softphone and sessions pages.
//! - [`bench`]: `dialtone bench`, the benchmarks.
//! - `main.rs`: the `dialtone` CLI; `remote.rs` (binary only) is its admin API client.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod accept;
pub mod access;
pub mod acd;
pub mod admin;
pub mod app_storage;
pub mod bench;
pub mod call_model;
pub mod catalog;
pub mod config;
pub mod console;
pub mod history;
pub mod http;
pub mod malformed_log;
pub mod media;
pub mod metrics;
pub mod private_file;
pub mod router;
pub mod rtp_ports;
pub mod secrets;
pub mod serve;
pub mod sip;
pub mod store;
pub mod users;
pub mod webrtc;
