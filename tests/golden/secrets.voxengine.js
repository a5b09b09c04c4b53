// getSecretValue: a known secret (masked in the log, readable by the scenario), an unknown one
// (undefined plus a warning), an empty name.
// @secret MCP_SERVER_TOKEN=t0k3n
VoxEngine.addEventListener(AppEvents.Started, () => {
  const token = VoxEngine.getSecretValue("MCP_SERVER_TOKEN");
  Logger.write(`token: ${token}, ${token.length} chars, upper-case ${token.toUpperCase()}`);
  const url = VoxEngine.getSecretValue("MCP_SERVER_URL");
  Logger.write(`url is ${typeof url}`);
  Logger.write(`empty name: ${VoxEngine.getSecretValue("")}`);
  VoxEngine.terminate();
});
