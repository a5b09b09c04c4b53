// Scenarios of one rule share one realm: this one uses the library evaluated before it.
// @prepend multi_script.lib.js
VoxEngine.addEventListener(AppEvents.Started, () => {
  Logger.write(`${greet("caller")} (library ${LIBRARY_VERSION})`);
  VoxEngine.terminate();
});
