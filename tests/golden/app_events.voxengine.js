// AppEvents: Started payload, listener add/remove, Terminating/Terminated.
const never = () => Logger.write("removed handler ran");
VoxEngine.addEventListener(AppEvents.Started, never);
VoxEngine.removeEventListener(AppEvents.Started, never);
VoxEngine.addEventListener(AppEvents.Started, (e) => {
  Logger.write(`started: ${e.name} session=${e.sessionId} app=${e.applicationName} rule=${e.ruleName}`);
  Logger.write(`customData='${VoxEngine.customData()}' -> '${VoxEngine.customData("order-42")}'`);
});
VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => Logger.write("first alerting handler"));
VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
  Logger.write(`second alerting handler: ${e.name} ${e.callerid} -> ${e.destination} (${e.scheme})`);
  VoxEngine.removeEventListener(AppEvents.CallAlerting);
  e.call.reject(486);
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.name} systemError=${e.systemError}`));
VoxEngine.addEventListener(AppEvents.Terminated, (e) => Logger.write(`terminated: ${e.name}`));
// Ends through the no-call timeout after the call is over.
