// What VoxEngine has and Dialtone does not (yet). Each fails with its name and where to read
// more, instead of "not a function" with a line and column. Part of the prelude, after the
// modules: a module's installer replaces its own members. Nothing here is frozen, so scenario
// libraries may still add to or replace these objects.

const NOT_YET = "is not available in Dialtone yet (see docs/api.md)";

function notAvailable(name) {
  return function () {
    throw codedError(Error, "ERR_NOT_AVAILABLE", `${name} ${NOT_YET}`);
  };
}

// VoxEngine members that come with a module: until it is required, say which.
function needsModule(name, module) {
  return function () {
    throw codedError(Error, "ERR_MODULE_NOT_LOADED", `${name} needs require(Modules.${module}) first`);
  };
}

for (const [name, module] of [["createConference", "Conference"], ["destroyConference", "Conference"], ["createASR", "ASR"], ["enqueueACDRequest", "ACD"]]) {
  if (!(name in VoxEngine)) VoxEngine[name] = needsModule(`VoxEngine.${name}`, module);
}
for (const name of ["createStreamingAgent", "callUserDirect",
                    "callWhatsappUser", "forwardCallToUserDirect", "allowWebSocketConnections"]) {
  if (!(name in VoxEngine)) VoxEngine[name] = notAvailable(`VoxEngine.${name}`);
}

// Helper globals and Crypto.
for (const name of ["str2bytes", "bytes2str", "bytes2hex", "hex2bytes", "getLocalTime", "levenshtein_distance"]) {
  if (!(name in global)) global[name] = notAvailable(name);
}
if (!("Crypto" in global)) {
  global.Crypto = {};
  for (const name of ["md5", "sha1", "sha256", "hmac_sha256"]) global.Crypto[name] = notAvailable(`Crypto.${name}`);
}
