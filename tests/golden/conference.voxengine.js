// The Conference module in the console: require installs it; a conference starts, the call
// joins it (linked both ways), leaves it when it hangs up; bad arguments throw in words.
require(Modules.Conference);
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  const conf = VoxEngine.createConference({ hd_audio: false });
  conf.addEventListener(ConferenceEvents.Started, () => Logger.write(`${conf.id()} started`));
  conf.addEventListener(ConferenceEvents.EndpointAdded, (e) => Logger.write(`added ${e.endpointId} ${e.mode} ${e.direction}`));
  conf.addEventListener(ConferenceEvents.EndpointRemoved, (e) => {
    Logger.write(`removed ${e.endpointId}; ${conf.getList().length} left`);
    VoxEngine.destroyConference(conf);
  });
  conf.addEventListener(ConferenceEvents.Stopped, () => { Logger.write("stopped"); VoxEngine.terminate(); });
  call.addEventListener(CallEvents.Connected, () => {
    const endpoint = conf.add({ call, mode: "MIX", direction: "BOTH", displayName: "Caller" });
    Logger.write(`${endpoint.id()} ${endpoint.getDisplayName()} ${conf.get(endpoint.id()) === endpoint} ${endpoint.getCall() === call}`);
    for (const bad of [{}, { call, direction: "UP" }, { call, mode: "SFU" }]) {
      try { conf.add(bad); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
    }
    try { VoxEngine.destroyConference({}); } catch (e) { Logger.write(`${e.code}: ${e.message}`); }
  });
  call.answer();
});
// @hangup-after 2s
