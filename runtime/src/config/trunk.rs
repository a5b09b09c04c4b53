//! `[application.trunk]`: the SIP trunk an application's `VoxEngine.callPSTN` calls go
//! through. The password is not in the config: it names an application secret.

use serde::{Deserialize, Serialize};

/// A SIP trunk (UDP).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Where the INVITEs go: `host[:port]` (port 5060 when absent).
    pub address: String,
    /// The host of the Request-URI and To (`sip:NUMBER@domain`); the address's host when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The digest user name the trunk challenges for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The application secret holding the digest password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    /// The caller id of calls whose scenario gives none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callerid: Option<String>,
}

impl TrunkConfig {
    /// What is wrong with it, in the operator's words.
    pub fn check(&self) -> Result<(), String> {
        let host_port = |text: &str| {
            let (host, port) = match text.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                _ => (text, None),
            };
            !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
                && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
        };
        if !host_port(&self.address) {
            return Err(format!(
                "trunk address '{}' must be host[:port] (UDP)",
                self.address
            ));
        }
        if let Some(domain) = &self.domain
            && !host_port(domain)
        {
            return Err(format!("trunk domain '{domain}' must be a host name"));
        }
        if self.password_secret.is_some() && self.username.is_none() {
            return Err("trunk password_secret needs a username".into());
        }
        for (what, value) in [
            ("username", &self.username),
            ("callerid", &self.callerid),
            ("password_secret", &self.password_secret),
        ] {
            if value.as_deref().is_some_and(|v| {
                v.is_empty()
                    || v.len() > 128
                    || v.chars().any(|c| c.is_control() || c == ' ' || c == '"')
            }) {
                return Err(format!(
                    "trunk {what} must be 1-128 characters without spaces or quotes"
                ));
            }
        }
        Ok(())
    }

    /// The Request-URI of a call to `number`.
    pub fn uri_for(&self, number: &str) -> String {
        let host = self.domain.as_deref().unwrap_or(&self.address);
        format!("sip:{number}@{host}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunk(address: &str) -> TrunkConfig {
        TrunkConfig {
            address: address.into(),
            domain: None,
            username: None,
            password_secret: None,
            callerid: None,
        }
    }

    #[test]
    fn a_trunk_is_checked_and_builds_request_uris() {
        assert_eq!(trunk("sip.example.net:5070").check(), Ok(()));
        assert_eq!(
            trunk("sip.example.net:0").check(),
            Err("trunk address 'sip.example.net:0' must be host[:port] (UDP)".into())
        );
        let mut with_secret = trunk("10.0.0.1");
        with_secret.password_secret = Some("TRUNK_PASSWORD".into());
        assert_eq!(
            with_secret.check(),
            Err("trunk password_secret needs a username".into())
        );
        assert_eq!(
            trunk("10.0.0.1:5070").uri_for("+15550100"),
            "sip:+15550100@10.0.0.1:5070"
        );
        let mut with_domain = trunk("10.0.0.1:5070");
        with_domain.domain = Some("carrier.example".into());
        assert_eq!(
            with_domain.uri_for("15550100"),
            "sip:15550100@carrier.example"
        );
    }
}
