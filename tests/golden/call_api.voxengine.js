// Call getters, ring, answer with headers, StateChanged, event object fields.
// @header X-Customer: 42
// @header User-Agent: golden
// @from 15550100
// @to 15550199
VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
  const call = e.call;
  Logger.write(`alerting: headers=${JSON.stringify(e.headers)} from=${e.fromURI} to=${e.toURI} name=${e.displayName}`);
  Logger.write(`id=${call.id()} callerid=${call.callerid()} displayName=${call.displayName()} number=${call.number()}`);
  Logger.write(`state=${call.state()} incoming=${call.incoming()} string=${call} instanceof=${call instanceof Call}`);
  Logger.write(`customData='${call.customData()}' -> '${call.customData("vip")}'`);
  call.addEventListener(CallEvents.StateChanged, (s) => Logger.write(`state ${s.oldState} -> ${s.newState}, call.state()=${s.call.state()}`));
  call.addEventListener(CallEvents.Connected, (c) => {
    Logger.write(`connected: name=${c.name} id=${c.id} same call=${c.call === call}`);
    call.hangup({ "X-Reason": "done" });
  });
  call.addEventListener(CallEvents.Disconnected, (d) => {
    Logger.write(`disconnected: reason=${d.reason} duration=${d.duration} state=${call.state()}`);
    VoxEngine.terminate();
  });
  call.ring();
  call.answer({ "X-Answered-By": "golden" });
  try {
    new Call();
  } catch (err) {
    Logger.write(`new Call(): ${err}`);
  }
});
