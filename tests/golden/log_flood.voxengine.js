// A scenario writes at most 100 log lines a second (bursts of as many): the excess is counted
// and summarized, once a second at most and when the session ends, never written.
for (let i = 1; i <= 130; i++) Logger.write(`line ${i}`);
setTimeout(() => {
  Logger.write("a second later");
  for (let i = 1; i <= 150; i++) Logger.write(`again ${i}`);
  VoxEngine.terminate();
}, 1000);
