// getSecretValue: a known secret, an unknown one (undefined plus a warning), an empty name.
// @secret MCP_SERVER_TOKEN=t0k3n
VoxEngine.addEventListener(AppEvents.Started, () => {
  Logger.write(`token: ${VoxEngine.getSecretValue("MCP_SERVER_TOKEN")}`);
  const url = VoxEngine.getSecretValue("MCP_SERVER_URL");
  Logger.write(`url is ${typeof url}`);
  Logger.write(`empty name: ${VoxEngine.getSecretValue("")}`);
  VoxEngine.terminate();
});
