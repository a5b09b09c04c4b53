//! The registrar: application users (`users.rs`) REGISTER their softphones on the server's SIP
//! port with digest authentication (RFC 3261 §10, §22; RFC 7616 MD5 or SHA-256, `qop=auth`),
//! and `VoxEngine.callUser` rings every address they registered. The realm is the name of the
//! application the SIP server serves; nonces are stateless (issue time + HMAC under a key made
//! at start) and go stale after [`NONCE_LIFETIME`].
//!
//! Bindings live in memory: at most [`MAX_BINDINGS_PER_USER`] per user (the oldest give way)
//! and [`MAX_BINDINGS`] in all (past it a REGISTER gets 503), each expiring after the interval
//! granted ([`MIN_EXPIRES`]..=[`MAX_EXPIRES`] s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rsipstack::sip::prelude::ToTypedHeader as _;
use rsipstack::sip::{Header, HeadersExt as _, StatusCode};
use rsipstack::transaction::transaction::Transaction;
use tokio::time::Instant;

use super::CallContext;
use crate::users::{Credentials, hex, md5_hex, sha256_hex};

/// Shortest registration granted, in seconds (shorter: 423 with Min-Expires).
pub const MIN_EXPIRES: u32 = 60;
/// Longest registration granted, in seconds.
pub const MAX_EXPIRES: u32 = 3600;
/// Registered addresses one user may have.
pub const MAX_BINDINGS_PER_USER: usize = 10;
/// Registered addresses in all.
pub const MAX_BINDINGS: usize = 10_000;
/// How long a nonce is good for.
const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// Longest Authorization header read.
const MAX_AUTHORIZATION: usize = 2048;
/// Longest Path (all of a REGISTER's Path headers) kept with a binding.
pub const MAX_PATH: usize = 1024;

/// One registered address of a user.
#[derive(Debug, Clone)]
struct Binding {
    contact: String,
    expires: Instant,
    /// The proxies the REGISTER came through (its Path headers, comma-joined; empty: none).
    path: String,
}

/// Where to reach one registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// Its Contact URI.
    pub contact: String,
    /// The Path its REGISTER came through (comma-separated URIs; empty when it came
    /// straight): a request to it is routed along these, in order.
    pub path: String,
}

/// Registered addresses by (application, user), and the nonce key.
#[derive(Debug)]
pub struct Registrar {
    key: ring::hmac::Key,
    bindings: Mutex<HashMap<(String, String), Vec<Binding>>>,
    /// The shared store the bindings are also written to, in a cluster.
    shared: std::sync::OnceLock<Arc<crate::store::PgPool>>,
}

impl Default for Registrar {
    fn default() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let key = ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng)
            .unwrap_or_else(|_| ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &nanos_now()));
        Self {
            key,
            bindings: Mutex::default(),
            shared: std::sync::OnceLock::new(),
        }
    }
}

fn nanos_now() -> [u8; 16] {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
        .to_le_bytes()
}

impl Registrar {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Vec<Binding>>> {
        self.bindings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The addresses user `name` of `application` registered and that have not expired,
    /// newest first.
    pub fn contacts(&self, application: &str, name: &str) -> Vec<String> {
        self.devices(application, name)
            .into_iter()
            .map(|d| d.contact)
            .collect()
    }

    /// The devices user `name` of `application` registered and that have not expired, newest
    /// first, each with the Path its REGISTER came through.
    pub fn devices(&self, application: &str, name: &str) -> Vec<Registered> {
        let now = Instant::now();
        let mut bindings = self.lock();
        let key = (application.to_owned(), name.to_owned());
        let Some(list) = bindings.get_mut(&key) else {
            return Vec::new();
        };
        list.retain(|b| b.expires > now);
        let devices = list
            .iter()
            .rev()
            .map(|b| Registered {
                contact: b.contact.clone(),
                path: b.path.clone(),
            })
            .collect();
        if list.is_empty() {
            bindings.remove(&key);
        }
        devices
    }

    /// Whether `contact` (a Contact header value) is an address user `name` of `application`
    /// registered and still holds: the same host and port.
    pub fn is_registered_contact(&self, application: &str, name: &str, contact: &str) -> bool {
        let Some((uri, _)) = split_contacts(contact)
            .first()
            .and_then(|c| parse_contact(c))
        else {
            return false;
        };
        let at = host_port(&uri);
        self.contacts(application, name)
            .iter()
            .any(|registered| host_port(registered) == at)
    }

    /// A fresh nonce: issue time and its HMAC.
    fn nonce(&self) -> String {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let tag = ring::hmac::sign(&self.key, secs.to_string().as_bytes());
        format!("{secs:x}.{}", hex16(tag.as_ref()))
    }

    /// Whether `nonce` is ours; `Err(true)` when ours but too old (stale).
    fn check_nonce(&self, nonce: &str) -> Result<(), bool> {
        let (secs, tag) = nonce.split_once('.').ok_or(false)?;
        let secs = u64::from_str_radix(secs, 16).map_err(|_| false)?;
        let expected = ring::hmac::sign(&self.key, secs.to_string().as_bytes());
        if hex16(expected.as_ref()) != tag {
            return Err(false);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        if now.saturating_sub(secs) > NONCE_LIFETIME.as_secs() {
            return Err(true);
        }
        Ok(())
    }

    /// Applies a checked REGISTER's contacts; the bindings in force after it, with their
    /// remaining seconds, or the status to answer.
    fn update(
        &self,
        application: &str,
        name: &str,
        changes: &[(String, u32)],
        path: &str,
        remove_all: bool,
    ) -> Result<Vec<(String, u64)>, StatusCode> {
        let now = Instant::now();
        let mut bindings = self.lock();
        let total: usize = bindings.values().map(Vec::len).sum();
        let key = (application.to_owned(), name.to_owned());
        let list = bindings.entry(key.clone()).or_default();
        list.retain(|b| b.expires > now);
        if remove_all {
            list.clear();
        }
        for (contact, expires) in changes {
            list.retain(|b| &b.contact != contact);
            if *expires == 0 {
                continue;
            }
            if total >= MAX_BINDINGS {
                return Err(StatusCode::ServiceUnavailable);
            }
            if list.len() >= MAX_BINDINGS_PER_USER {
                list.remove(0);
            }
            list.push(Binding {
                contact: contact.clone(),
                expires: now + Duration::from_secs(u64::from(*expires)),
                path: path.to_owned(),
            });
        }
        let current = list
            .iter()
            .map(|b| {
                (
                    b.contact.clone(),
                    b.expires.saturating_duration_since(now).as_secs(),
                )
            })
            .collect();
        if list.is_empty() {
            bindings.remove(&key);
        }
        drop(bindings);
        if let Some(pool) = self.shared.get()
            && (remove_all || !changes.is_empty())
        {
            let user = (application.to_owned(), name.to_owned());
            let path = path.to_owned();
            super::shared_registrations::save(
                pool.clone(),
                user,
                changes.to_vec(),
                path,
                remove_all,
            );
        }
        Ok(current)
    }

    /// Writes every binding to `pool` from now on as well (a cluster's shared store).
    pub(super) fn share(&self, pool: Arc<crate::store::PgPool>) {
        let _ = self.shared.set(pool);
    }

    /// Replaces one user's bindings (or, for `None`, everyone's) with what the shared store
    /// holds: what every node registered.
    pub(super) fn replace(
        &self,
        user: Option<&(String, String)>,
        rows: Vec<super::shared_registrations::Row>,
    ) {
        let mut bindings = self.lock();
        match user {
            Some(key) => {
                bindings.remove(key);
            }
            None => bindings.clear(),
        }
        for row in rows {
            let list = bindings.entry((row.application, row.name)).or_default();
            if list.len() < MAX_BINDINGS_PER_USER {
                list.push(Binding {
                    contact: row.contact,
                    expires: super::shared_registrations::deadline(row.left_ms),
                    path: row.path,
                });
            }
        }
    }
}

/// The first 16 bytes of an HMAC, as hex: what a nonce carries.
fn hex16(bytes: &[u8]) -> String {
    hex(bytes.get(..16).unwrap_or(bytes))
}

/// Answers one REGISTER.
pub(crate) fn handle(mut tx: Transaction, context: Arc<CallContext>) {
    tokio::spawn(async move {
        let (status, headers) = answer(&tx, &context);
        if let Err(e) = tx.reply_with(status, headers, None).await {
            tracing::debug!("reply to REGISTER: {e}");
        }
    });
}

/// The status and headers of the answer to a REGISTER.
fn answer(tx: &Transaction, context: &CallContext) -> (StatusCode, Vec<Header>) {
    let application = context.catalog.current().config.server.application.clone();
    let request = &tx.original;
    let Some(user) = request
        .to_header()
        .ok()
        .and_then(|to| to.typed().ok())
        .and_then(|to| to.uri.auth.map(|auth| auth.user))
    else {
        return (StatusCode::BadRequest, Vec::new());
    };
    let registrar = &context.registrar;
    let challenge = |stale: bool| {
        let value = format!(
            "Digest realm=\"{application}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"{}",
            registrar.nonce(),
            if stale { ", stale=true" } else { "" }
        );
        (
            StatusCode::Unauthorized,
            vec![Header::Other("WWW-Authenticate".into(), value)],
        )
    };
    let Some(authorization) = request.headers.iter().find_map(|h| match h {
        Header::Authorization(a) => Some(a.value().to_owned()),
        _ => None,
    }) else {
        return challenge(false);
    };
    let Some(auth) = DigestResponse::parse(&authorization) else {
        return (StatusCode::BadRequest, Vec::new());
    };
    if auth.realm != application {
        return challenge(false);
    }
    match registrar.check_nonce(&auth.nonce) {
        Ok(()) => {}
        Err(stale) => return challenge(stale),
    }
    let credentials = context.users.credentials(&application, &auth.username);
    let valid = auth.username == user
        && credentials
            .as_ref()
            .is_some_and(|c| auth.matches(c, request.method.to_string().as_str()));
    if !valid {
        tracing::info!(
            "REGISTER of '{user}' in application '{application}' refused: wrong user name or password"
        );
        return (StatusCode::Forbidden, Vec::new());
    }
    let default_expires = request
        .expires_header()
        .and_then(|e| e.value().trim().parse::<u32>().ok())
        .unwrap_or(MAX_EXPIRES);
    let Some(path) = path_of(request) else {
        return (StatusCode::BadRequest, Vec::new());
    };
    let mut remove_all = false;
    let mut changes = Vec::new();
    for header in request.contact_headers() {
        for contact in split_contacts(header.value()) {
            if contact.trim() == "*" {
                remove_all = true;
                continue;
            }
            let Some((uri, expires)) = parse_contact(contact) else {
                return (StatusCode::BadRequest, Vec::new());
            };
            let expires = expires.unwrap_or(default_expires);
            if expires != 0 && expires < MIN_EXPIRES {
                return (
                    StatusCode::IntervalTooBrief,
                    vec![Header::Other("Min-Expires".into(), MIN_EXPIRES.to_string())],
                );
            }
            changes.push((uri, expires.min(MAX_EXPIRES)));
        }
    }
    match registrar.update(&application, &user, &changes, &path, remove_all) {
        Ok(current) => {
            if !changes.is_empty() || remove_all {
                tracing::info!(
                    "user '{user}' of application '{application}' registered {} address(es)",
                    current.len()
                );
            }
            let mut headers: Vec<Header> = current
                .into_iter()
                .map(|(contact, left)| {
                    Header::Other("Contact".into(), format!("<{contact}>;expires={left}"))
                })
                .collect();
            // RFC 3327: the registrar returns the Path it stored.
            if !path.is_empty() {
                headers.push(Header::Other("Path".into(), path));
            }
            (StatusCode::OK, headers)
        }
        Err(status) => {
            tracing::warn!(
                "REGISTER of '{user}': the registrar holds {MAX_BINDINGS} addresses, the most it may"
            );
            (
                status,
                vec![Header::Other("Retry-After".into(), "60".into())],
            )
        }
    }
}

/// A REGISTER's Path headers (RFC 3327), comma-joined in order (empty when it has none); none
/// when they are longer than [`MAX_PATH`] or not a list of SIP URIs.
fn path_of(request: &rsipstack::sip::Request) -> Option<String> {
    let values: Vec<&str> = request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Path(path) => Some(path.value()),
            Header::Other(name, value) if name.eq_ignore_ascii_case("Path") => Some(value),
            _ => None,
        })
        .collect();
    let path = values.join(", ");
    if path.len() > MAX_PATH {
        return None;
    }
    if !path.is_empty() {
        // Each entry a SIP URI with a host (the INVITE to the device goes to the first).
        let routes = rsipstack::sip::typed::Route::parse_header_list(&path).ok()?;
        let sip = |route: &rsipstack::sip::typed::Route| {
            route.uri.scheme.is_some()
                && rsipstack::transport::SipAddr::try_from(&route.uri).is_ok()
        };
        if routes.is_empty() || !routes.iter().all(sip) {
            return None;
        }
    }
    Some(path)
}

/// The fields of a digest `Authorization` header.
#[derive(Debug, Default, PartialEq, Eq)]
struct DigestResponse {
    username: String,
    realm: String,
    nonce: String,
    uri: String,
    response: String,
    algorithm: String,
    qop: Option<String>,
    nc: String,
    cnonce: String,
}

impl DigestResponse {
    /// Reads `Digest k=v, k="v", ...`; none when it is not a digest answer we can check.
    fn parse(header: &str) -> Option<Self> {
        if header.len() > MAX_AUTHORIZATION {
            return None;
        }
        let mut rest = header.trim().strip_prefix("Digest")?;
        let mut out = Self::default();
        loop {
            rest = rest.trim_start_matches([',', ' ', '\t']);
            if rest.is_empty() {
                break;
            }
            let eq = rest.find('=')?;
            let key = rest[..eq].trim();
            let after = &rest[eq + 1..];
            let (value, next) = match after.strip_prefix('"') {
                Some(quoted) => {
                    let close = quoted.find('"')?;
                    (&quoted[..close], &quoted[close + 1..])
                }
                None => {
                    let close = after.find(',').unwrap_or(after.len());
                    (after[..close].trim(), &after[close..])
                }
            };
            match key.to_ascii_lowercase().as_str() {
                "username" => out.username = value.to_owned(),
                "realm" => out.realm = value.to_owned(),
                "nonce" => out.nonce = value.to_owned(),
                "uri" => out.uri = value.to_owned(),
                "response" => out.response = value.to_ascii_lowercase(),
                "algorithm" => out.algorithm = value.to_owned(),
                "qop" => out.qop = Some(value.to_owned()),
                "nc" => out.nc = value.to_owned(),
                "cnonce" => out.cnonce = value.to_owned(),
                _ => {}
            }
            rest = next;
        }
        (!out.username.is_empty() && !out.nonce.is_empty() && !out.response.is_empty())
            .then_some(out)
    }

    /// Whether the response is right for the user's HA1 and `method`.
    fn matches(&self, credentials: &Credentials, method: &str) -> bool {
        let (ha1, hash): (&str, fn(&str) -> String) =
            match self.algorithm.to_ascii_uppercase().as_str() {
                "" | "MD5" => (&credentials.ha1_md5, md5_hex),
                "SHA-256" => (&credentials.ha1_sha256, sha256_hex),
                _ => return false,
            };
        let ha2 = hash(&format!("{method}:{}", self.uri));
        let expected = match self.qop.as_deref() {
            Some("auth") => hash(&format!(
                "{ha1}:{}:{}:{}:auth:{ha2}",
                self.nonce, self.nc, self.cnonce
            )),
            None => hash(&format!("{ha1}:{}:{ha2}", self.nonce)),
            Some(_) => return false,
        };
        expected == self.response
    }
}

/// The contacts of one Contact header value (comma-separated, commas inside `<>` or quotes
/// kept).
fn split_contacts(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '<' if !quoted => depth += 1,
            '>' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out.into_iter().filter(|c| !c.trim().is_empty()).collect()
}

/// The `host:port` of a SIP URI (lowercase), without user and parameters.
fn host_port(uri: &str) -> String {
    let rest = uri.split_once(':').map_or(uri, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split([';', '?', '>'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// A contact's URI and its `expires` parameter.
fn parse_contact(contact: &str) -> Option<(String, Option<u32>)> {
    let contact = contact.trim();
    let (uri, params) = match (contact.find('<'), contact.find('>')) {
        (Some(open), Some(close)) if open < close => {
            (&contact[open + 1..close], &contact[close + 1..])
        }
        _ => match contact.split_once(';') {
            Some((uri, params)) => (uri, params),
            None => (contact, ""),
        },
    };
    let uri = uri.trim();
    if !(uri.starts_with("sip:") || uri.starts_with("sips:")) || uri.len() > 512 {
        return None;
    }
    let expires = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("expires"))
        .and_then(|(_, v)| v.trim().parse().ok());
    Some((uri.to_owned(), expires))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::ha1;

    #[test]
    fn a_digest_answer_is_checked_against_the_stored_hash() {
        // RFC 2617 §3.5's example, with its password "Circle Of Life".
        let header = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let auth = DigestResponse::parse(header).expect("a digest answer");
        assert_eq!(auth.username, "Mufasa");
        assert_eq!(auth.nc, "00000001");
        let (ha1_md5, ha1_sha256) = ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
        let right = Credentials {
            ha1_md5,
            ha1_sha256,
            display_name: None,
        };
        assert!(auth.matches(&right, "GET"));
        let (ha1_md5, ha1_sha256) = ha1("Mufasa", "testrealm@host.com", "wrong");
        let wrong = Credentials {
            ha1_md5,
            ha1_sha256,
            display_name: None,
        };
        assert!(!auth.matches(&wrong, "GET"));
        assert_eq!(DigestResponse::parse("Basic dXNlcjpwYXNz"), None);
        assert_eq!(DigestResponse::parse(&"x".repeat(4000)), None);
    }

    #[test]
    fn nonces_are_ours_and_contacts_are_read() {
        let registrar = Registrar::default();
        let nonce = registrar.nonce();
        assert_eq!(registrar.check_nonce(&nonce), Ok(()));
        assert_eq!(registrar.check_nonce("1.deadbeef"), Err(false));
        assert_eq!(
            split_contacts(r#"<sip:a@1.2.3.4;ob>;expires=60, "B, Jr" <sip:b@h>"#).len(),
            2
        );
        assert_eq!(
            parse_contact("<sip:alice@127.0.0.1:5070;ob>;expires=300"),
            Some(("sip:alice@127.0.0.1:5070;ob".into(), Some(300)))
        );
        assert_eq!(parse_contact("<mailto:a@b>"), None);
        assert_eq!(host_port("sip:alice@127.0.0.1:5070;ob"), "127.0.0.1:5070");
        assert_eq!(host_port("sip:PBX.example"), "pbx.example");
    }

    #[test]
    fn a_register_path_is_kept_in_order_and_bounded() {
        let register = |paths: &[&str]| {
            let mut raw = String::from(
                "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
                 From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: c1\r\n\
                 CSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:5070>\r\n",
            );
            for path in paths {
                raw.push_str(&format!("Path: {path}\r\n"));
            }
            raw.push_str("Content-Length: 0\r\n\r\n");
            rsipstack::sip::Request::try_from(raw.as_bytes()).expect("parses")
        };
        assert_eq!(path_of(&register(&[])), Some(String::new()));
        assert_eq!(
            path_of(&register(&[
                "<sip:10.0.0.1:5060;lr;received=sip:192.0.2.7:4000>",
                "<sip:10.0.0.2;lr>"
            ])),
            Some(
                "<sip:10.0.0.1:5060;lr;received=sip:192.0.2.7:4000>, <sip:10.0.0.2;lr>".to_owned()
            )
        );
        assert_eq!(path_of(&register(&["not a uri"])), None);
        let long = format!("<sip:{}.example;lr>", "a".repeat(MAX_PATH));
        assert_eq!(path_of(&register(&[&long])), None);
    }

    #[tokio::test]
    async fn bindings_expire_are_bounded_and_removed() {
        let registrar = Registrar::default();
        let many: Vec<(String, u32)> = (0..12).map(|i| (format!("sip:a@h:{i}"), 60)).collect();
        let current = registrar
            .update("app", "alice", &many, "", false)
            .expect("room");
        assert_eq!(current.len(), MAX_BINDINGS_PER_USER);
        assert_eq!(registrar.contacts("app", "alice")[0], "sip:a@h:11");
        registrar
            .update("app", "alice", &[("sip:a@h:11".into(), 0)], "", false)
            .expect("room");
        assert_eq!(registrar.contacts("app", "alice").len(), 9);
        registrar
            .update("app", "alice", &[], "", true)
            .expect("room");
        assert!(registrar.contacts("app", "alice").is_empty());
    }
}
