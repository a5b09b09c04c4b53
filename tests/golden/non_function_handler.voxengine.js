// A non-function handler throws TypeError at the addEventListener call, with a code; so does
// a misspelled event (undefined name).
VoxEngine.addEventListener(AppEvents.Started, () => {
  for (const [event, handler] of [[AppEvents.CallAlerting, "handler"], [AppEvents.CallAlertng, () => {}]]) {
    try {
      VoxEngine.addEventListener(event, handler);
    } catch (err) {
      Logger.write(`${err.name} ${err.code}: ${err.message}`);
    }
  }
  try {
    setTimeout("code string", 10);
  } catch (err) {
    Logger.write(`${err.name} ${err.code}: ${err.message}`);
  }
  VoxEngine.addEventListener(AppEvents.CallAlerting, null);
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError}`));
