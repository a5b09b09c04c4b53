// forwardCallToSIP: the inbound call is forwarded to its To URI through easyProcess. The
// console places no outbound calls, so the forward fails (501) and easyProcess turns the
// caller away and ends the session.
VoxEngine.forwardCallToSIP(() => Logger.write("established"));
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.addEventListener(CallEvents.Disconnected, (e) => Logger.write(`caller: ${e.reason}`));
});
