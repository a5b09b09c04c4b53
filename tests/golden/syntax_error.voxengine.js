// A scenario that does not compile never starts: the load error names file and line.
VoxEngine.addEventListener(AppEvents.Started, () => {
  Logger.write("unreachable";
});
