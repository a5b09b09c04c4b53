// A rejected promise nobody handles (here: a throwing async handler) ends the session.
async function fetchGreeting() {
  await null;
  throw new Error("greeting service unavailable");
}
VoxEngine.addEventListener(AppEvents.CallAlerting, async ({ call }) => {
  call.answer();
  const greeting = await fetchGreeting();
  call.say(greeting);
});
