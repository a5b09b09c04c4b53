// setTimeout / clearTimeout / setInterval / clearInterval, with arguments and ordering.
VoxEngine.addEventListener(AppEvents.Started, () => {
  const order = [];
  setTimeout((a, b) => order.push(`timeout ${a}${b}`), 300, "x", "y");
  const cancelled = setTimeout(() => order.push("cancelled timeout ran"), 100);
  clearTimeout(cancelled);
  setTimeout(() => order.push("zero delay"), 0);
  let ticks = 0;
  const interval = setInterval(() => {
    ticks += 1;
    order.push(`tick ${ticks}`);
    if (ticks === 3) clearInterval(interval);
  }, 150);
  // setInterval has a 100 ms floor.
  const fast = setInterval(() => {
    order.push("fast");
    clearInterval(fast);
  }, 1);
  setTimeout(() => {
    Logger.write(order.join(", "));
    Logger.write(`ids are numbers: ${typeof interval}`);
    VoxEngine.terminate();
  }, 1000);
});
