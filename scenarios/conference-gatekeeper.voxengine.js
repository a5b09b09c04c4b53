// A conference gatekeeper, written as for VoxEngine: the caller enters a four-digit PIN
// (an IVR state), the application's storage says which conference that PIN opens
// ("pin:2468" -> "room1"; set with `dialtone storage put default pin:2468 room1`), and the
// caller joins that conference room with callConference. Three wrong PINs hang up.
require(Modules.IVR);
require(Modules.ApplicationStorage);

VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  let attempts = 0;
  const pin = new IVRState("pin", {
    type: "inputfixed",
    inputLength: 4,
    timeout: 10000,
    prompt: { say: "Welcome. Please enter your four digit conference PIN." },
  }, async (input) => {
    const room = await ApplicationStorage.get(`pin:${input}`);
    if (!room) {
      Logger.write(`wrong PIN ${input}`);
      if (++attempts < 3) pin.enter(call);
      else call.hangup();
      return;
    }
    Logger.write(`PIN ${input}: joining ${room.value}`);
    const conference = VoxEngine.callConference(room.value, call.callerid(), call.displayName());
    VoxEngine.sendMediaBetween(call, conference);
    conference.addEventListener(CallEvents.Failed, (e) => {
      Logger.write(`the conference failed: ${e.code} ${e.reason}`);
      call.hangup();
    });
    conference.addEventListener(CallEvents.Disconnected, () => call.hangup());
  }, () => {
    Logger.write("no PIN entered");
    call.hangup();
  });
  call.addEventListener(CallEvents.Connected, () => pin.enter(call));
  call.addEventListener(CallEvents.Disconnected, () => VoxEngine.terminate());
  call.answer();
});
