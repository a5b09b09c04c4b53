// What VoxEngine has and Dialtone does not yet fails naming it (and a module's members before
// its require say which require); scenario code may still add to the facade.
const tries = [
  ["Net.sendMail", () => Net.sendMail("smtp.example.com", "a@example.com", "b@example.com", "hi", "body", () => {})],
  ["Net.sendMailAsync", () => Net.sendMailAsync("smtp.example.com", "a@example.com", "b@example.com", "hi", "body")],
  ["VoxEngine.createASR", () => VoxEngine.createASR({})],
  ["Crypto.sha256", () => Crypto.sha256("text")],
  ["str2bytes", () => str2bytes("text")],
  ["VoxEngine.enqueueACDRequest", () => VoxEngine.enqueueACDRequest("sales", "15550100")],
  ["VoxEngine.createConference", () => VoxEngine.createConference()],
];
for (const [what, attempt] of tries) {
  try {
    attempt();
    Logger.write(`${what}: no error`);
  } catch (err) {
    Logger.write(`${what}: ${err.name} ${err.code}: ${err.message}`);
  }
}
require(Modules.Conference);
Logger.write(`after require: typeof VoxEngine.createConference() = ${typeof VoxEngine.createConference()}`);
// A library (like easyprocess.js) may add its own helpers to the facade.
VoxEngine.myHelper = () => "mine";
Net.httpRequestAsync = async () => ({ code: 200, text: "stubbed by the scenario" });
Net.httpRequestAsync("x").then((r) => {
  Logger.write(`${VoxEngine.myHelper()}; ${r.code} ${r.text}`);
  VoxEngine.terminate();
});
