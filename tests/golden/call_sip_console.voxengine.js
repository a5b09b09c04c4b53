// callSIP in the console: the call object comes back at once, outgoing and PROGRESSING; the
// console places no outbound calls, so it fails with 501 and says why. Bad arguments throw.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  for (const bad of [["not a sip address"], ["sips:bob@example.com"], ["sip:bob@example.com", { headers: { Via: "x" } }]]) {
    try { VoxEngine.callSIP(...bad); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
  }
  const out = VoxEngine.callSIP("sip:bob@example.com", { callerid: "1001" });
  Logger.write(`incoming=${out.incoming()} state=${out.state()}`);
  out.addEventListener(CallEvents.Failed, (e) => {
    Logger.write(`failed ${e.code}: ${e.reason}`);
    call.reject(e.code === 486 ? 486 : 480);
    VoxEngine.terminate();
  });
});
