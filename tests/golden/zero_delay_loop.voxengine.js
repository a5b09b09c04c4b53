// A callback that re-arms itself with setTimeout(f, 0) cannot hold the clock still: from five
// timer callbacks deep a timer waits at least 4 ms (HTML's rule), and timers set while due ones
// run wait for the next round, so the session still reaches its limits (here the unanswered
// call and no-call timeouts) on simulated time as on real time.
let fired = 0;
const spin = () => {
  fired += 1;
  setTimeout(spin, 0);
};
spin();
VoxEngine.addEventListener(AppEvents.Terminating, () => Logger.write(`fired ${fired} times`));
