// callSIP in the console: the call object comes back at once, outgoing and PROGRESSING; the
// console places no outbound calls, so it fails with 501 and says why. Bad arguments of
// callSIP, callPSTN and callUser throw, in the scenario's words.
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const attempts = [
    () => VoxEngine.callSIP("not a sip address"),
    () => VoxEngine.callSIP("sips:bob@example.com"),
    () => VoxEngine.callSIP("sip:bob@example.com", { headers: { Via: "x" } }),
    () => VoxEngine.callSIP("sip:bob@example.com", { password: "pw" }),
    () => VoxEngine.callSIP("sip:bob@example.com", "1001", "Bob", "pw", "bob", { "VI-CallTimeout": "1000" }),
    () => VoxEngine.callSIP("sip:bob@example.com", { outProxy: "proxy example" }),
    () => VoxEngine.callPSTN("call me maybe", "1001"),
    () => VoxEngine.callPSTN({ number: "+15550100" }),
    () => VoxEngine.callUser({ username: "bob smith" }),
    () => VoxEngine.callUser(42),
  ];
  for (const attempt of attempts) {
    try { attempt(); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
  }
  const pstn = VoxEngine.callPSTN("+15550100", "15550199");
  Logger.write(`pstn: number=${pstn.number()} clientType=${pstn.clientType()}`);
  const out = VoxEngine.callSIP("sip:bob@example.com", { callerid: "1001" });
  Logger.write(`incoming=${out.incoming()} state=${out.state()}`);
  out.addEventListener(CallEvents.Failed, (e) => {
    Logger.write(`failed ${e.code}: ${e.reason}`);
    call.reject(e.code === 486 ? 486 : 480);
    VoxEngine.terminate();
  });
});
