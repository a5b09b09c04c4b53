//! The master key that encrypts secrets at rest: 32 bytes from `DIALTONE_MASTER_KEY` (64 hex
//! digits or base64), else from `<data_dir>/master.key`, created with mode 0600 on first use.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use super::SecretError;

/// The environment variable holding the master key.
pub const KEY_ENV: &str = "DIALTONE_MASTER_KEY";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "master.key";

/// Where the key came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `DIALTONE_MASTER_KEY`.
    Env,
    /// A key file.
    File(PathBuf),
}

impl std::fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyOrigin::Env => write!(f, "{KEY_ENV}"),
            KeyOrigin::File(path) => write!(f, "key file {}", path.display()),
        }
    }
}

/// An AES-256-GCM key.
pub struct MasterKey {
    key: LessSafeKey,
    /// Where it came from.
    pub origin: KeyOrigin,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    /// The key from the environment, else the key file; `None` when neither exists.
    pub fn find(data_dir: &Path) -> Result<Option<Self>, SecretError> {
        if let Ok(text) = std::env::var(KEY_ENV) {
            return Self::parse(&text, KeyOrigin::Env).map(Some);
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&text, KeyOrigin::File(path)).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SecretError::Io { path, source }),
        }
    }

    /// Creates a new random key file (mode 0600) in `data_dir`.
    pub fn create(data_dir: &Path) -> Result<Self, SecretError> {
        let path = data_dir.join(KEY_FILE);
        let io = |source| SecretError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SecretError::Crypto("no system randomness".into()))?;
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        file.write_all(format!("{text}\n").as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io)?;
        tracing::info!("created the secrets master key {}", path.display());
        Self::from_bytes(&bytes, KeyOrigin::File(path))
    }

    /// Parses 64 hex digits or base64 of 32 bytes.
    pub fn parse(text: &str, origin: KeyOrigin) -> Result<Self, SecretError> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or_default())
                .collect::<Vec<u8>>()
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .unwrap_or_default()
        };
        if bytes.len() != 32 {
            return Err(SecretError::BadKey {
                origin,
                why: "expected 32 bytes as 64 hex digits or base64".into(),
            });
        }
        Self::from_bytes(&bytes, origin)
    }

    fn from_bytes(bytes: &[u8], origin: KeyOrigin) -> Result<Self, SecretError> {
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| SecretError::BadKey {
            origin: origin.clone(),
            why: "not an AES-256 key".into(),
        })?;
        Ok(Self {
            key: LessSafeKey::new(key),
            origin,
        })
    }

    /// Encrypts with a fresh random nonce: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SecretError::Crypto("no system randomness".into()))?;
        let mut buffer = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buffer,
            )
            .map_err(|_| SecretError::Crypto("encryption failed".into()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&buffer);
        Ok(sealed)
    }

    /// Decrypts what [`MasterKey::seal`] made; `None` when the key or the AAD do not match.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut buffer)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; 32], KeyOrigin::Env).expect("key")
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts_that_open_only_with_the_same_aad() {
        let k = key(7);
        let a = k.seal(b"value", b"app\0NAME").expect("seal");
        let b = k.seal(b"value", b"app\0NAME").expect("seal");
        assert_ne!(a, b, "fresh nonce per value");
        assert_eq!(k.open(&a, b"app\0NAME").as_deref(), Some(&b"value"[..]));
        assert_eq!(k.open(&a, b"other\0NAME"), None);
        assert_eq!(key(8).open(&a, b"app\0NAME"), None);
    }

    #[test]
    fn parses_hex_and_base64_and_rejects_other_lengths() {
        let hex = "ab".repeat(32);
        assert!(MasterKey::parse(&hex, KeyOrigin::Env).is_ok());
        let b64 = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(MasterKey::parse(&b64, KeyOrigin::Env).is_ok());
        let err = MasterKey::parse("short", KeyOrigin::Env).expect_err("bad");
        assert!(err.to_string().contains(KEY_ENV), "{err}");
    }
}
