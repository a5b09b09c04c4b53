//! TLS client settings shared by every outgoing connection a scenario causes (MCP over
//! HTTPS here; the host's `wss://` media WebSockets use them too).

use std::sync::{Arc, OnceLock};

/// The platform's roots (on Linux the system bundle, or `SSL_CERT_FILE` / `SSL_CERT_DIR`),
/// TLS 1.2 and 1.3, ALPN offering HTTP/2 and HTTP/1.1 (a WebSocket client replaces the ALPN
/// list with HTTP/1.1 alone). Read once per process: loading the roots parses every
/// certificate of the system bundle, which cost each new session's first `createClient`
/// about 19 million instructions.
pub fn client_config() -> Result<rustls::ClientConfig, String> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let verifier = rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| format!("cannot load the system's root certificates: {e}"))?;
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Ok(config)
        })
        .clone()
}
