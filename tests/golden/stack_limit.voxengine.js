// Unbounded recursion ends the session with the stack limit.
function down(n) {
  return down(n + 1) + 1;
}
VoxEngine.addEventListener(AppEvents.Started, () => down(0));
