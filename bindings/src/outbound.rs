//! Where a session's outbound requests may go (server-side request forgery): one policy for
//! every connection a scenario can cause, MCP endpoints, playback URLs and WebSockets alike.
//!
//! - When the application lists `allow_hosts`, only those hosts (exact, or `*.example.com` for
//!   its subdomains) are reached.
//! - Addresses inside the box's networks (loopback, private, link-local (cloud metadata at
//!   169.254.169.254 among them), carrier-grade NAT, unique-local, unspecified, multicast) are
//!   refused unless the application sets `allow_private`, or lists the host by name.
//!
//! The check is on the addresses a name resolves to, and the connection goes to an address
//! that passed, so a name that resolves to a public address once and a private one the next
//! time (DNS rebinding) gains nothing. Redirects are checked the same way.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use thiserror::Error;
use url::Url;

/// Why an outbound connection is refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboundError {
    /// The host is not on the application's allow-list.
    #[error(
        "{host} is not among the hosts application '{application}' may reach (its [application.outbound] allow_hosts)"
    )]
    HostNotAllowed {
        /// The host.
        host: String,
        /// The application.
        application: String,
    },
    /// The address is inside the box's networks.
    #[error(
        "{host} is {ip}, a loopback, private or link-local address, which application '{application}' may not reach (set allow_private = true or list the host in its [application.outbound] allow_hosts)"
    )]
    PrivateAddress {
        /// The host as written.
        host: String,
        /// The address it is or resolved to.
        ip: IpAddr,
        /// The application.
        application: String,
    },
    /// The name does not resolve.
    #[error("cannot resolve {host}: {reason}")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's words.
        reason: String,
    },
    /// The URL has no host.
    #[error("{url} names no host")]
    NoHost {
        /// The URL.
        url: String,
    },
}

/// What an application's sessions may connect to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutboundPolicy {
    /// The application, for messages.
    pub application: String,
    /// When not empty, the only hosts that may be reached (lowercase; `*.suffix` for
    /// subdomains).
    pub allow_hosts: Vec<String>,
    /// Whether loopback, private and link-local addresses may be reached.
    pub allow_private: bool,
}

impl Default for OutboundPolicy {
    /// Any public host; nothing inside the box's networks.
    fn default() -> Self {
        Self {
            application: String::new(),
            allow_hosts: Vec::new(),
            allow_private: false,
        }
    }
}

impl OutboundPolicy {
    /// Everything, private networks included (`dialtone console`, run by the scenario's
    /// author on their own machine).
    pub fn open() -> Self {
        Self {
            allow_private: true,
            ..Self::default()
        }
    }

    /// Whether `host` is on the allow-list (by name, so private addresses are allowed for it).
    /// Addresses compare as addresses (`0:0::1` is `::1`).
    fn listed(&self, host: &str) -> bool {
        let host = canonical_host(host);
        let host = host.as_str();
        self.allow_hosts
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|head| head.ends_with('.') && head.len() > 1),
                None => pattern == host,
            })
    }

    /// Whether `host` may be reached at all (the allow-list only).
    pub fn check_host(&self, host: &str) -> Result<(), OutboundError> {
        if self.allow_hosts.is_empty() || self.listed(host) {
            Ok(())
        } else {
            Err(OutboundError::HostNotAllowed {
                host: host.to_owned(),
                application: self.application.clone(),
            })
        }
    }

    /// Whether `host`, at address `ip`, may be reached.
    pub fn check_address(&self, host: &str, ip: IpAddr) -> Result<(), OutboundError> {
        if self.allow_private || !is_internal(ip) || self.listed(host) {
            Ok(())
        } else {
            Err(OutboundError::PrivateAddress {
                host: host.to_owned(),
                ip,
                application: self.application.clone(),
            })
        }
    }

    /// What can be checked before resolving: the allow-list, and a host that is an address.
    pub fn check_url(&self, url: &Url) -> Result<(), OutboundError> {
        let host = match url.host() {
            Some(host) => host,
            None => {
                return Err(OutboundError::NoHost {
                    url: url.to_string(),
                });
            }
        };
        let name = host.to_string();
        self.check_host(&name)?;
        match host {
            url::Host::Ipv4(ip) => self.check_address(&name, IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => self.check_address(&name, IpAddr::V6(ip)),
            url::Host::Domain(_) => Ok(()),
        }
    }

    /// The addresses of `host` this policy lets a connection go to (an error when none).
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, OutboundError> {
        self.check_host(host)?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let found: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| OutboundError::Resolve {
                    host: host.to_owned(),
                    reason: e.to_string(),
                })?
                .collect(),
        };
        let mut refused = None;
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|a| match self.check_address(host, a.ip()) {
                Ok(()) => true,
                Err(e) => {
                    refused.get_or_insert(e);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), refused) {
            (false, _) => Ok(allowed),
            (true, Some(e)) => Err(e),
            (true, None) => Err(OutboundError::Resolve {
                host: host.to_owned(),
                reason: "no addresses".into(),
            }),
        }
    }

    /// A reqwest client builder whose connections and redirects follow this policy.
    pub fn apply(self: &Arc<Self>, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let redirects = self.clone();
        // No proxy: a proxy would resolve the names itself, past the policy.
        builder
            .no_proxy()
            .dns_resolver(PolicyResolver(self.clone()))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= MAX_REDIRECTS {
                    return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
                }
                match redirects.check_url(attempt.url()) {
                    Ok(()) => attempt.follow(),
                    Err(e) => attempt.error(e),
                }
            }))
    }
}

/// `host` as the allow-list holds it: lowercase, without brackets or a trailing dot, an
/// address in its canonical form.
pub fn canonical_host(host: &str) -> String {
    let host = host
        .trim_end_matches('.')
        .trim_start_matches('[')
        .trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    }
}

/// Redirects followed at most.
const MAX_REDIRECTS: usize = 10;

/// reqwest's resolver, filtered by the policy.
struct PolicyResolver(Arc<OutboundPolicy>);

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = policy.resolve(&host, 0).await?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` lies inside the box's own networks rather than on the internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_internal_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_internal_v4(v4),
            None => is_internal_v6(ip),
        },
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        // Carrier-grade NAT (RFC 6598).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments (RFC 6890), benchmarking (RFC 2544).
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let last_v4 = Ipv4Addr::from_bits((u32::from(s[6]) << 16) | u32::from(s[7]));
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, the old site-local fec0::/10.
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        // IPv4-compatible ::/96 (deprecated, still routed to the IPv4 address by some stacks).
        || (s[..6] == [0; 6] && is_internal_v4(last_v4))
        // NAT64: the well-known prefix carrying an internal IPv4 address, and the local-use
        // 64:ff9b:1::/48 (any address in it).
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && is_internal_v4(last_v4))
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1)
        // 6to4 2002::/16 carrying an internal IPv4 address.
        || (s[0] == 0x2002
            && is_internal_v4(Ipv4Addr::from_bits(
                (u32::from(s[1]) << 16) | u32::from(s[2]),
            )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(hosts: &[&str], private: bool) -> OutboundPolicy {
        OutboundPolicy {
            application: "shop".into(),
            allow_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
            allow_private: private,
        }
    }

    #[test]
    fn internal_addresses_are_known() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::a9fe:a9fe",
            "64:ff9b:1::1",
            "fec0::1",
            "2002:a00:1::1",
        ] {
            assert!(is_internal(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(!is_internal(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[test]
    fn the_metadata_address_is_refused_with_a_message_that_says_what_to_do() {
        let url = Url::parse("http://169.254.169.254/latest/meta-data/").expect("url");
        assert_eq!(
            policy(&[], false).check_url(&url).map_err(|e| e.to_string()),
            Err("169.254.169.254 is 169.254.169.254, a loopback, private or link-local address, which application 'shop' may not reach (set allow_private = true or list the host in its [application.outbound] allow_hosts)".to_owned())
        );
        assert_eq!(policy(&[], true).check_url(&url), Ok(()));
    }

    #[test]
    fn the_allow_list_admits_only_its_hosts_and_their_subdomains() {
        let policy = policy(
            &["api.example.com", "*.example.org", "127.0.0.1", "::1"],
            false,
        );
        let ok = |u: &str| policy.check_url(&Url::parse(u).expect("url"));
        assert_eq!(ok("https://api.example.com/mcp"), Ok(()));
        assert_eq!(ok("https://API.Example.com./mcp"), Ok(()));
        assert_eq!(ok("wss://a.b.example.org/"), Ok(()));
        assert_eq!(
            ok("http://127.0.0.1:8080/"),
            Ok(()),
            "listed, so private is fine"
        );
        assert_eq!(
            ok("https://example.org/").map_err(|e| e.to_string()),
            Err("example.org is not among the hosts application 'shop' may reach (its [application.outbound] allow_hosts)".to_owned())
        );
        assert!(ok("https://evil.com/").is_err());
        assert!(ok("https://notexample.org/").is_err());
        assert!(ok("http://10.0.0.1/").is_err());
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let refused = policy(&[], false).resolve("localhost", 80).await;
        assert!(
            matches!(refused, Err(OutboundError::PrivateAddress { .. })),
            "{refused:?}"
        );
        let allowed = policy(&[], true).resolve("localhost", 80).await;
        assert!(allowed.is_ok_and(|a| !a.is_empty()));
    }
}
