// Modules and require(). Part of the prelude.

const Modules = Object.freeze({
  ACD: "acd",
  AI: "ai",
  ApplicationStorage: "applicationstorage",
  ASR: "asr",
  Avatar: "avatar",
  Cartesia: "cartesia",
  Conference: "conference",
  ElevenLabs: "elevenlabs",
  Gemini: "gemini",
  IVR: "ivr",
  MCP: "mcp",
  OpenAI: "openai",
  PushService: "pushservice",
  Recorder: "recorder",
  SmartQueue: "smartqueue",
  StreamingAgent: "streamingagent",
  Ultravox: "ultravox",
  VoximplantAPI: "voximplantapi",
  Yandex: "yandex",
});

// name -> installer; each installs its globals once.
const moduleInstallers = new Map();
const loadedModules = new Set();

function require(name) {
  // Some published scenarios call require(Modules.WebSocket), a member Modules never had:
  // VoxEngine loads nothing and throws nothing for it, and neither do we.
  if (name === undefined) return;
  if (typeof name !== "string") {
    throw codedError(TypeError, "ERR_INVALID_MODULE",
      `require: expected a Modules member, got ${describe(name)} (is the Modules member spelled right?)`);
  }
  if (loadedModules.has(name)) return;
  if (!moduleInstallers.has(name) && lazyModuleNames.has(name)) loadLazyModule(name);
  const install = moduleInstallers.get(name);
  if (!install) {
    const member = Object.keys(Modules).find((key) => Modules[key] === name);
    const available = Object.keys(Modules).filter((key) => moduleInstallers.has(Modules[key]) || lazyModuleNames.has(Modules[key]))
      .map((key) => `Modules.${key}`).join(", ");
    throw member
      ? codedError(Error, "ERR_MODULE_UNSUPPORTED",
          `require: Modules.${member} is not available in Dialtone yet (see docs/api.md); available: ${available}`)
      : codedError(Error, "ERR_INVALID_MODULE",
          `require: unknown module '${name}'; available: ${available}`);
  }
  install();
  loadedModules.add(name);
}

global.Modules = Modules;
global.require = require;
