// An uncaught exception in a handler is logged with its JS stack and ends the session.
function lookup(customer) {
  return customer.profile.name;
}
VoxEngine.addEventListener(AppEvents.CallAlerting, ({ call }) => {
  call.answer();
  call.addEventListener(CallEvents.Connected, () => {
    Logger.write("connected, looking up the customer");
    lookup(undefined);
  });
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError}`));
