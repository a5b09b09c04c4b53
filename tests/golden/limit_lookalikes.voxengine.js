// Limits are recognised by the error QuickJS raises, not by message text: a scenario that
// throws an Error saying "out of memory" has an uncaught error, not a heap limit, and it cannot
// raise QuickJS's own InternalError (the constructor is gone, as in V8).
Logger.write(`typeof InternalError: ${typeof InternalError}`);
VoxEngine.addEventListener(AppEvents.Started, () => {
  throw new Error("out of memory");
});
