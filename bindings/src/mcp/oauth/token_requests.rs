//! The token requests rmcp does not make: the client-credentials grant with a
//! `private_key_jwt` assertion (RFC 7523), and enterprise-managed authorization (SEP-990):
//! the user's identity token exchanged at their IdP for an ID-JAG (RFC 8693), which the MCP
//! server's authorization server takes as a JWT bearer grant.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rmcp::transport::auth::{AuthError, AuthorizationMetadata, OAuthTokenResponse};
use url::Url;

use super::{ClientCredentials, EnterpriseCredentials, assertion};

/// A plain HTTP client under `outbound`, for the OAuth requests rmcp does not make.
pub(crate) fn plain_client(
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<reqwest::Client, String> {
    outbound
        .apply(reqwest::Client::builder())
        .tls_backend_preconfigured(super::super::client::tls_config().map_err(|e| e.to_string())?)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| super::super::error::describe(&e))
}

/// The client-credentials grant with a `private_key_jwt` assertion.
pub(super) async fn jwt_token(
    credentials: &ClientCredentials,
    metadata: &AuthorizationMetadata,
    endpoint: &Url,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<OAuthTokenResponse, AuthError> {
    let failed = |why: String| AuthError::ClientCredentialsError(why);
    let audience = metadata
        .issuer
        .clone()
        .unwrap_or_else(|| metadata.token_endpoint.clone());
    let assertion = assertion::client_assertion(
        &credentials.client_id,
        &audience,
        credentials.private_key_pem.as_deref().unwrap_or_default(),
        credentials.signing_algorithm.as_deref().unwrap_or("ES256"),
    )
    .map_err(failed)?;
    let scopes = credentials.scopes.join(" ");
    let mut fields = vec![
        ("grant_type", "client_credentials"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
        ("resource", endpoint.as_str()),
    ];
    if !scopes.is_empty() {
        fields.push(("scope", &scopes));
    }
    let body = form(&fields);
    let text = post_form(outbound, &metadata.token_endpoint, body, None).await?;
    serde_json::from_str(&text)
        .map_err(|_| failed("the token endpoint's answer is not a token response".into()))
}

/// Enterprise-managed authorization: the identity token exchanged at the IdP for an ID-JAG,
/// then the ID-JAG as a JWT bearer grant at the authorization server (client_secret_basic).
pub(super) async fn enterprise_token(
    credentials: &EnterpriseCredentials,
    metadata: &AuthorizationMetadata,
    endpoint: &Url,
    outbound: &Arc<crate::outbound::OutboundPolicy>,
) -> Result<OAuthTokenResponse, AuthError> {
    let failed = |why: String| AuthError::TokenExchangeFailed(why);
    let audience = metadata
        .issuer
        .clone()
        .unwrap_or_else(|| metadata.token_endpoint.clone());
    let exchange = form(&[
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id-jag",
        ),
        ("subject_token", &credentials.idp_id_token),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        ),
        ("audience", &audience),
        ("resource", endpoint.as_str()),
        ("client_id", &credentials.idp_client_id),
    ]);
    let text = post_form(outbound, &credentials.idp_token_endpoint, exchange, None).await?;
    let id_jag = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(str::to_owned))
        .ok_or_else(|| failed("the IdP's token exchange answer has no access_token".into()))?;
    let scopes = credentials.scopes.join(" ");
    let mut fields = vec![
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", id_jag.as_str()),
    ];
    if !scopes.is_empty() {
        fields.push(("scope", &scopes));
    }
    let basic = (
        credentials.client_id.as_str(),
        credentials.client_secret.as_str(),
    );
    let text = post_form(
        outbound,
        &metadata.token_endpoint,
        form(&fields),
        Some(basic),
    )
    .await?;
    serde_json::from_str(&text)
        .map_err(|_| failed("the token endpoint's answer is not a token response".into()))
}

fn form(fields: &[(&str, &str)]) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        form.append_pair(name, value);
    }
    form.finish()
}

/// POSTs a form to a token endpoint (with client_secret_basic when `basic` is given); the
/// answer's text, or an error quoting the start of a refusal.
async fn post_form(
    outbound: &Arc<crate::outbound::OutboundPolicy>,
    url: &str,
    body: String,
    basic: Option<(&str, &str)>,
) -> Result<String, AuthError> {
    let failed = |why: String| AuthError::TokenExchangeFailed(why);
    let http = plain_client(outbound).map_err(failed)?;
    let mut request = http
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body);
    if let Some((id, secret)) = basic {
        let encode = |s: &str| form(&[("", s)]).trim_start_matches('=').to_owned();
        let pair = format!("{}:{}", encode(id), encode(secret));
        let token = base64::engine::general_purpose::STANDARD.encode(pair);
        request = request.header("authorization", format!("Basic {token}"));
    }
    let response = request
        .send()
        .await
        .map_err(|e| failed(format!("{url}: {}", super::super::error::describe(&e))))?;
    let status = response.status();
    let text = response
        .text()
        .await
        .map_err(|e| failed(format!("{url}: {}", super::super::error::describe(&e))))?;
    if !status.is_success() {
        let mut clip = text.clone();
        clip.truncate(clip.char_indices().nth(200).map_or(clip.len(), |(i, _)| i));
        return Err(failed(format!(
            "{url} answered HTTP {}: {clip}",
            status.as_u16()
        )));
    }
    Ok(text)
}
