// Drives Dialtone's /phone page in headless Debian Chromium (playwright-core, no browser
// download) the way a person would: type a number, click Call, listen, click keys, hang up or
// wait for the far end to. Prints one JSON line per call when it is over, then "DONE".
//
//   node browser_phone.mjs --base http://127.0.0.1:PORT --to NUMBER [--calls N] [--wav FILE]
//        [--keys 12#] [--talk SECONDS] [--hangup page|scenario|vanish] [--screenshot FILE] [--token ADMIN_TOKEN]
//
// With --calls N, N pages call NUMBER1 .. NUMBERN at once. With --token, /ui/sessions is open
// beside them and its live and recent lists and the call's timeline are printed. Every wait is bounded; the
// whole run is killed after 90 s.
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.BROWSER_PEERS, "package.json"));
const { chromium } = require("playwright-core");

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, arg, i, all) => {
    if (arg.startsWith("--")) pairs.push([arg.slice(2), all[i + 1] ?? ""]);
    return pairs;
  }, []),
);
const calls = Number(args.calls || 1);
const killer = setTimeout(() => { console.log(JSON.stringify({ error: "killed after 90 s" })); process.exit(2); }, 90_000);

const flags = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
  "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
];
if (args.wav) flags.push(`--use-file-for-fake-audio-capture=${args.wav}`);
// Marks this run's Chromium processes (Chromium ignores a switch it does not know), so
// --hangup vanish kills exactly them.
const marker = `--dialtone-test-run=${process.pid}`;
flags.push(marker);

async function until(page, predicate, arg, timeout, what) {
  try {
    await page.waitForFunction(predicate, arg, { timeout, polling: 100 });
  } catch (error) {
    const status = await page.textContent("#status").catch(() => "?");
    throw new Error(`${what} (status: ${status})`);
  }
}

async function oneCall(browser, number) {
  const page = await browser.newPage();
  const console_ = [];
  page.on("console", (m) => console_.push(m.text()));
  await page.goto(`${args.base}/phone`);
  await page.fill("#number", number);
  await page.fill("#caller", `chromium-${number}`);
  await page.click("#call");
  await until(page, () => window.phone.state === "connected", null, 15_000, "never connected");
  // The greeting (or whatever the scenario plays) is heard: energy on the remote track.
  await until(page, () => window.phone.peak > 0.01, null, 10_000, "heard nothing");
  // Chromium's analyser gives a spectrum only once its audio clock has moved past the last
  // analysis: wait for one (under load the first read can come before), then take the peak bin.
  await until(page, () => window.phone.dominantHz() > 0, null, 5_000, "no spectrum of what was heard");
  const heardHz = await page.evaluate(() => window.phone.dominantHz());
  // The receiver's own count of the audio energy heard, while the call is up.
  const energy = await page.evaluate(() => window.phone.heardEnergy());
  if (args.screenshot) {
    // The page as a person sees it during a call, for the docs.
    await page.screenshot({ path: args.screenshot, fullPage: true });
  }
  for (const key of args.keys || "") {
    await page.click(`#keypad button[data-key="${key}"]`);
  }
  if (args.keys) {
    await until(page, () => window.phone.sender.dtmf.toneBuffer === "", null, 5_000, "keys not sent");
  }
  if (args.talk) {
    // The microphone's audio has gone out for --talk seconds (50 packets a second).
    const packets = Number(args.talk) * 50;
    await until(page, async (n) => (await window.phone.sentPackets()) >= n, packets, 30_000, "audio not sent");
  }
  if (args.hangup === "vanish") {
    // The browser is about to die without a word (no DELETE, no DTLS close): report now.
    return { number, status: await page.textContent("#status"), peak: await page.evaluate(() => window.phone.peak) };
  }
  if (args.hangup === "page") await page.click("#hangup");
  await until(page, () => window.phone.state === "ended", null, 20_000, "the call did not end");
  const result = {
    number,
    status: await page.textContent("#status"),
    peak: await page.evaluate(() => window.phone.peak),
    energy,
    heardHz,
    log: await page.$$eval("#log li", (items) => items.map((li) => li.lastChild.textContent).reverse()),
  };
  await page.close();
  return result;
}

const numbers = Array.from({ length: calls }, (_, i) => (calls > 1 ? `${args.to}${i + 1}` : args.to));
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: flags });
try {
  // With --token, /ui/sessions is open beside the calls: a live call shows up in progress,
  // then in the recent list with its timeline.
  let sessions = null;
  if (args.token) {
    sessions = await browser.newPage();
    await sessions.goto(`${args.base}/ui/sessions`);
    await sessions.fill("#token", args.token);
    await sessions.click("#connect button");
  }
  const running = Promise.all(numbers.map((n) => oneCall(browser, n)));
  if (sessions) {
    await until(sessions, () => document.querySelector("#live tr.session") !== null, null, 20_000, "no live session");
    const live = await sessions.$$eval("#live tr.session", (rows) => rows.map((r) => r.textContent));
    console.log(JSON.stringify({ live }));
  }
  for (const result of await running) console.log(JSON.stringify(result));
  if (sessions) {
    await until(sessions, () => document.querySelector("#recent tr.session") !== null, null, 10_000, "no recent session");
    const recent = await sessions.$$eval("#recent tr.session", (rows) => rows.map((r) => r.textContent));
    await sessions.click("#recent tr.session");
    await until(sessions, () => [...document.querySelectorAll("#timeline li")].some((li) => li.textContent.includes("Disconnected")),
      null, 10_000, "no timeline with the call's end");
    const timeline = await sessions.$$eval("#timeline li", (items) => items.map((li) => li.lastChild.textContent));
    console.log(JSON.stringify({ recent, timeline }));
  }
  if (args.hangup === "vanish") {
    // SIGKILL to every process of this run's Chromium: its sockets go with it, unannounced.
    const { execFileSync } = await import("node:child_process");
    try { execFileSync("pkill", ["-KILL", "-f", "--", marker]); } catch (error) { /* none left */ }
    console.log("DONE");
    process.exit(0);
  }
  console.log("DONE");
} catch (error) {
  console.log(JSON.stringify({ error: String(error.message || error) }));
  process.exitCode = 1;
} finally {
  await browser.close();
  clearTimeout(killer);
}
