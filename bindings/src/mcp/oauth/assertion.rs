//! `private_key_jwt` for the client-credentials extension (RFC 7523): a short-lived JWT signed
//! with the client's key is the client's proof at the token endpoint. rmcp has this behind a
//! feature whose future is not `Send`; this is the small part we need, signed with `ring`.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
    RSA_PKCS1_SHA256, RsaKeyPair,
};
use serde_json::json;

/// How long an assertion is valid.
const LIFETIME_S: u64 = 60;

/// A signed client assertion for `client_id` (issuer and subject) to `audience` (the
/// authorization server's issuer). The error says what is wrong with the key.
pub(crate) fn client_assertion(
    client_id: &str,
    audience: &str,
    private_key_pem: &str,
    algorithm: &str,
) -> Result<String, String> {
    let der = pem_body(private_key_pem)?;
    let rng = SystemRandom::new();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let header = json!({ "alg": algorithm, "typ": "JWT" });
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "iat": now, "exp": now + LIFETIME_S, "jti": uuid::Uuid::new_v4().to_string(),
    });
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing_input = format!(
        "{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string())
    );
    let unreadable = |kind: &str| format!("private_key_pem is not a PKCS#8 {kind} key");
    let signature = match algorithm {
        "ES256" | "ES384" => {
            let curve = if algorithm == "ES256" {
                &ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let key =
                EcdsaKeyPair::from_pkcs8(curve, &der, &rng).map_err(|_| unreadable(algorithm))?;
            key.sign(&rng, signing_input.as_bytes())
                .map_err(|_| "signing the client assertion failed".to_owned())?
                .as_ref()
                .to_vec()
        }
        "RS256" => {
            let key = RsaKeyPair::from_pkcs8(&der).map_err(|_| unreadable("RSA"))?;
            let mut signature = vec![0; key.public().modulus_len()];
            key.sign(
                &RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "signing the client assertion failed".to_owned())?;
            signature
        }
        other => {
            return Err(format!(
                "signing_algorithm '{other}' is not one of ES256, ES384, RS256"
            ));
        }
    };
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// The DER inside a `-----BEGIN PRIVATE KEY-----` PEM.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err(
            "private_key_pem must be a PEM '-----BEGIN PRIVATE KEY-----' (PKCS#8) block".into(),
        );
    }
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| "private_key_pem is not valid base64 inside its PEM markers".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};

    #[test]
    fn an_es256_assertion_verifies_with_the_public_key() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref())
        );
        let jwt = client_assertion("client-1", "https://as.example", &pem, "ES256").expect("jwt");
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let claims: serde_json::Value =
            serde_json::from_slice(&b64.decode(parts[1]).expect("b64")).expect("json");
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://as.example");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("key");
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.public_key().as_ref());
        let signed = format!("{}.{}", parts[0], parts[1]);
        public
            .verify(signed.as_bytes(), &b64.decode(parts[2]).expect("b64"))
            .expect("the signature verifies");
        assert_eq!(
            client_assertion("c", "a", "not a pem", "ES256"),
            Err(
                "private_key_pem must be a PEM '-----BEGIN PRIVATE KEY-----' (PKCS#8) block".into()
            )
        );
        assert_eq!(
            client_assertion("c", "a", &pem, "HS256"),
            Err("signing_algorithm 'HS256' is not one of ES256, ES384, RS256".into())
        );
    }
}
