//! The admin API's Bearer token: `server.admin_token`, else `DIALTONE_ADMIN_TOKEN`, else
//! `<data_dir>/admin.token`, generated (mode 0600) on the first `serve`. Only its SHA-256
//! digest is kept, and requests are compared in constant time.

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq as _;

/// The environment variable holding the admin token.
pub const TOKEN_ENV: &str = "DIALTONE_ADMIN_TOKEN";
/// The generated token's file in the data directory.
pub const TOKEN_FILE: &str = "admin.token";

/// Where the token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    /// `server.admin_token` in the config.
    Config,
    /// `DIALTONE_ADMIN_TOKEN`.
    Env,
    /// The token file.
    File(std::path::PathBuf),
}

impl std::fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenOrigin::Config => write!(f, "server.admin_token"),
            TokenOrigin::Env => write!(f, "{TOKEN_ENV}"),
            TokenOrigin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The token the admin API accepts.
pub struct AdminToken {
    digest: [u8; 32],
    /// Where it came from.
    pub origin: TokenOrigin,
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminToken")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

fn sha256(text: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

impl AdminToken {
    /// A token with this value.
    pub fn new(value: &str, origin: TokenOrigin) -> Self {
        Self {
            digest: sha256(value),
            origin,
        }
    }

    /// The configured token, or the token file's, creating one when there is none.
    pub fn resolve(configured: Option<&str>, data_dir: &Path) -> std::io::Result<Self> {
        if let Some((value, origin)) = find(configured, data_dir)? {
            return Ok(Self::new(&value, origin));
        }
        let path = data_dir.join(TOKEN_FILE);
        std::fs::create_dir_all(data_dir)?;
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| std::io::Error::other("no system randomness"))?;
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        file.write_all(format!("{value}\n").as_bytes())?;
        tracing::info!("created the admin API token {}", path.display());
        Ok(Self::new(&value, TokenOrigin::File(path)))
    }

    /// Whether `presented` is the token (constant time).
    pub fn accepts(&self, presented: &str) -> bool {
        bool::from(sha256(presented).ct_eq(&self.digest))
    }
}

/// The configured token value: config, environment, or token file; `None` when none exists.
pub fn find(
    configured: Option<&str>,
    data_dir: &Path,
) -> std::io::Result<Option<(String, TokenOrigin)>> {
    if let Some(value) = configured.filter(|v| !v.is_empty()) {
        return Ok(Some((value.to_owned(), TokenOrigin::Config)));
    }
    if let Ok(value) = std::env::var(TOKEN_ENV)
        && !value.is_empty()
    {
        return Ok(Some((value, TokenOrigin::Env)));
    }
    let path = data_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            Ok(Some((text.trim().to_owned(), TokenOrigin::File(path))))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_exact_token() {
        let token = AdminToken::new("s3cret-token", TokenOrigin::Config);
        assert!(token.accepts("s3cret-token"));
        assert!(!token.accepts("s3cret-token "));
        assert!(!token.accepts(""));
    }
}
