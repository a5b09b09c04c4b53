//! # dialtone
//!
//! The Dialtone host: it owns calls and media, routes each inbound call to scenarios by the
//! ordered rules of an application, and runs those scenarios in `dialtone-bindings` sessions.
//!
//! # Layout
//!
//! - [`config`]: the TOML config model (applications, rules, limits) and its embedded default.
//! - [`router`]: anchored-regex routing of a destination to a rule, with per-rule diagnostics.
//! - [`console`]: `dialtone console`, a simulated inbound call leg plus transcript printing.
//! - [`media`]: audio files (WAV headers, durations).
//! - [`bench`]: `dialtone bench`, the benchmarks.
//! - `main.rs`: the `dialtone` CLI.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod config;
pub mod console;
pub mod media;
pub mod router;
