// Allocating past the 16 MiB heap ends the session with the heap limit.
VoxEngine.addEventListener(AppEvents.Started, () => {
  const hoard = [];
  for (;;) hoard.push(new Array(64 * 1024).fill(7));
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError}`));
