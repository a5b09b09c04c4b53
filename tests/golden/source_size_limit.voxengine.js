// Scenarios larger than the source limit are refused before they run.
// @limit max_source_chars=100
VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
