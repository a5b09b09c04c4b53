// The reference: the official TypeScript SDK's own Client, transports and OAuth code, run
// through the same conformance suite as Dialtone in the same test, so the two results can be
// read side by side. Same behaviour per scenario as client.voxengine.js: connect, list the
// tools, call the one the scenario serves, answer elicitation with an empty form (the SDK fills
// in the defaults when asked to), close. Run as: node sdk-client.mjs <server-url>.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import {
  ClientCredentialsProvider,
  PrivateKeyJwtProvider,
} from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const serverUrl = process.argv[process.argv.length - 1];
const scenario = process.env.MCP_CONFORMANCE_SCENARIO || "";
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || "{}");
const TOOL_ARGUMENTS = {
  add_numbers: { a: 5, b: 3 },
  test_client_elicitation_defaults: {},
  test_reconnection: {},
  "test-tool": {},
};
const REDIRECT = "http://localhost:3000/callback";

// An OAuth client provider with in-memory state. The suite's authorization server approves at
// once: "redirecting" is a GET of the authorization URL whose 302 carries the code.
class HeadlessProvider {
  #client;
  #tokens;
  #verifier;
  #code;
  constructor(clientMetadataUrl, preRegistered) {
    this.clientMetadataUrl = clientMetadataUrl;
    this.#client = preRegistered;
  }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return { client_name: "sdk-conformance-client", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  clientInformation() { return this.#client; }
  saveClientInformation(info) { this.#client = info; }
  tokens() { return this.#tokens; }
  saveTokens(tokens) { this.#tokens = tokens; }
  saveCodeVerifier(verifier) { this.#verifier = verifier; }
  codeVerifier() { return this.#verifier; }
  async redirectToAuthorization(url) {
    const response = await fetch(url, { redirect: "manual" });
    const location = response.headers.get("location");
    this.#code = location ? new URL(location).searchParams.get("code") : undefined;
  }
  takeCode() {
    const code = this.#code;
    this.#code = undefined;
    return code;
  }
}

// fetch that answers 401/403 challenges with the SDK's auth(), at most three times.
function oauthFetch(provider) {
  let attempts = 0;
  const send = (input, init) => {
    const headers = new Headers(init?.headers);
    const tokens = provider.tokens();
    if (tokens) headers.set("Authorization", `Bearer ${tokens.access_token}`);
    return fetch(input, { ...init, headers });
  };
  return async (input, init) => {
    let response = await send(input, init);
    while ((response.status === 401 || response.status === 403) && attempts < 3) {
      attempts += 1;
      const { resourceMetadataUrl, scope } = extractWWWAuthenticateParams(response);
      let result = await auth(provider, { serverUrl, resourceMetadataUrl, scope });
      if (result === "REDIRECT") {
        result = await auth(provider, { serverUrl, resourceMetadataUrl, scope, authorizationCode: provider.takeCode() });
      }
      if (result !== "AUTHORIZED") break;
      response = await send(input, init);
    }
    return response;
  };
}

function transportOptions() {
  if (scenario === "auth/client-credentials-basic") {
    return { authProvider: new ClientCredentialsProvider({ clientId: context.client_id, clientSecret: context.client_secret }) };
  }
  if (scenario === "auth/client-credentials-jwt") {
    return { authProvider: new PrivateKeyJwtProvider({ clientId: context.client_id, privateKey: context.private_key_pem, algorithm: context.signing_algorithm || "ES256" }) };
  }
  if (scenario.startsWith("auth/")) {
    const preRegistered = context.client_id ? { client_id: context.client_id, client_secret: context.client_secret } : undefined;
    const provider = new HeadlessProvider("https://conformance-test.local/client-metadata.json", preRegistered);
    return { fetch: oauthFetch(provider) };
  }
  return {};
}

const capabilities = scenario.startsWith("elicitation") ? { elicitation: { form: { applyDefaults: true } } } : {};
const client = new Client({ name: "sdk-conformance-client", version: "1.0.0" }, { capabilities });
if (capabilities.elicitation) {
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: {} }));
}
const transport = new StreamableHTTPClientTransport(new URL(serverUrl), transportOptions());
try {
  await client.connect(transport);
  const { tools } = await client.listTools();
  const name = tools.map((t) => t.name).find((n) => n in TOOL_ARGUMENTS);
  if (name !== undefined) await client.callTool({ name, arguments: TOOL_ARGUMENTS[name] });
} catch (error) {
  console.error(`sdk-client: ${error.message}`);
} finally {
  await transport.close().catch(() => {});
}
