// More than 100 active timers ends the session with the timer limit.
VoxEngine.addEventListener(AppEvents.Started, () => {
  for (let i = 1; i <= 101; i++) {
    setTimeout(() => {}, 1000);
    if (i % 50 === 0) Logger.write(`${i} timers`);
  }
  Logger.write("not reached");
});
VoxEngine.addEventListener(AppEvents.Terminating, (e) => Logger.write(`terminating: ${e.systemError}`));
