// The softphone: one call at a time over Dialtone's WebRTC signalling (POST the offer to
// /v1/webrtc/calls, the answer comes back in the 201; DELETE its Location hangs up; GET it
// with ?wait=1 learns when the far end hangs up). Nothing else.
"use strict";

const $ = (id) => document.getElementById(id);
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const GATHER_WAIT_MS = 3000;

const phone = {
  state: "idle",
  pc: null,
  location: null,
  sender: null,
  local: null,
  analyser: null,
  peak: 0,
  // The loudest frequency heard now, in Hz (0 before any audio).
  dominantHz() {
    const analyser = this.analyser;
    if (!analyser) return 0;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let best = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
    return best * analyser.context.sampleRate / analyser.fftSize;
  },
  // Audio packets sent so far, as the browser's own sender counts them.
  async sentPackets() {
    if (!this.pc) return 0;
    let packets = 0;
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "audio") packets += s.packetsSent || 0;
    });
    return packets;
  },
  // Audio heard so far, as the browser's own receiver counts it.
  async heardEnergy() {
    if (!this.pc) return 0;
    let energy = 0;
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") energy += s.totalAudioEnergy || 0;
    });
    return energy;
  },
};
window.phone = phone;

function log(text) {
  const li = document.createElement("li");
  const time = document.createElement("time");
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, document.createTextNode(text));
  $("log").prepend(li);
}

function setState(state, detail) {
  phone.state = state;
  const status = $("status");
  status.textContent = detail ? `${state}: ${detail}` : state;
  status.className = `status ${state}`;
  const live = state !== "idle" && state !== "ended";
  $("call").disabled = live;
  $("hangup").disabled = !live;
  $("mute").disabled = !live;
  for (const key of document.querySelectorAll("#keypad button")) key.disabled = state !== "connected";
  log(detail ? `${state}: ${detail}` : state);
}

// A signed-in application user (the call is from them), else the web-call token, else none.
function headers(extra) {
  const out = Object.assign({}, extra);
  const user = $("user").value.trim();
  const token = $("token").value.trim();
  if (user) {
    const pair = new TextEncoder().encode(`${user}:${$("password").value}`);
    out.Authorization = `Basic ${btoa(String.fromCharCode(...pair))}`;
  } else if (token) {
    out.Authorization = `Bearer ${token}`;
  }
  return out;
}

function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_WAIT_MS);
  });
}

function meter(stream) {
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const analyser = context.createAnalyser();
  analyser.fftSize = 4096;
  source.connect(analyser);
  phone.analyser = analyser;
  const samples = new Float32Array(analyser.fftSize);
  const draw = () => {
    if (phone.analyser !== analyser) { context.close(); return; }
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    const rms = Math.sqrt(sum / samples.length);
    phone.peak = Math.max(phone.peak, rms);
    $("level").style.width = `${Math.min(100, rms * 400)}%`;
    requestAnimationFrame(draw);
  };
  draw();
}

async function call() {
  const number = $("number").value.trim();
  if (!number) { log("enter a number"); return; }
  setState("calling", number);
  try {
    phone.local = await navigator.mediaDevices.getUserMedia({ audio: true });
    const pc = new RTCPeerConnection();
    phone.pc = pc;
    const track = phone.local.getAudioTracks()[0];
    phone.sender = pc.addTrack(track, phone.local);
    pc.addEventListener("track", (e) => {
      // Chrome feeds WebAudio from a remote track only while an element plays it too.
      $("remote").srcObject = e.streams[0];
      meter(e.streams[0]);
    });
    pc.addEventListener("connectionstatechange", () => {
      log(`connection ${pc.connectionState}`);
      if (pc.connectionState === "connected" && phone.state === "answered") setState("connected", number);
      if (pc.connectionState === "failed") finish("the connection failed");
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const query = new URLSearchParams({ to: number, from: $("caller").value.trim() });
    phone.pending = new AbortController();
    const response = await fetch(`/v1/webrtc/calls?${query}`, {
      method: "POST",
      headers: headers({ "Content-Type": "application/sdp" }),
      body: pc.localDescription.sdp,
      signal: phone.pending.signal,
    });
    phone.pending = null;
    const body = await response.text();
    if (response.status !== 201) { finish(`${response.status} ${body}`); return; }
    if (phone.pc !== pc) {
      // Hung up while the call was being answered: end it on the server too.
      fetch(response.headers.get("Location"), { method: "DELETE", headers: headers({}) }).catch(() => {});
      return;
    }
    phone.location = response.headers.get("Location");
    setState("answered", number);
    await pc.setRemoteDescription({ type: "answer", sdp: body });
    watch(phone.location);
  } catch (error) {
    finish(String(error && error.message || error));
  }
}

// Long-polls the call's Location until it ends: each GET answers once the state differs from
// the one seen before.
async function watch(location) {
  let seen = "";
  while (phone.location === location) {
    let state;
    try {
      const response = await fetch(`${location}?wait=${encodeURIComponent(seen)}`, { headers: headers({}) });
      // Hung up here meanwhile: the page already knows why the call ended.
      if (phone.location !== location) return;
      if (response.status === 404) { finish("ended"); return; }
      state = await response.json();
    } catch (error) {
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    if (phone.location !== location) return;
    if (state.state === "ended") { finish(state.reason || "ended"); return; }
    seen = state.state;
  }
}

async function hangUp() {
  // Still calling: stop waiting; the server cancels a call nobody waits for.
  if (phone.pending) phone.pending.abort();
  const location = phone.location;
  // The call's long poll answers "ended" once the DELETE lands; it is ours, not the far end's.
  phone.location = null;
  if (location) {
    await fetch(location, { method: "DELETE", headers: headers({}) }).catch(() => {});
  }
  finish("you hung up");
}

function finish(why) {
  if (phone.state === "ended" || phone.state === "idle") return;
  phone.location = null;
  phone.analyser = null;
  if (phone.pc) phone.pc.close();
  phone.pc = null;
  if (phone.local) for (const t of phone.local.getTracks()) t.stop();
  $("level").style.width = "0";
  setState("ended", why);
}

function press(key) {
  const dtmf = phone.sender && phone.sender.dtmf;
  if (!dtmf || !dtmf.canInsertDTMF) { log(`cannot send ${key}: no DTMF on this call`); return; }
  // Appended, not replacing keys still queued.
  dtmf.insertDTMF(dtmf.toneBuffer + key, 100, 70);
  log(`sent ${key}`);
}

function toggleMute() {
  const track = phone.local && phone.local.getAudioTracks()[0];
  if (!track) return;
  track.enabled = !track.enabled;
  $("mute").textContent = track.enabled ? "Mute" : "Unmute";
  log(track.enabled ? "unmuted" : "muted");
}

for (const key of KEYS) {
  const button = document.createElement("button");
  button.textContent = key;
  button.disabled = true;
  button.dataset.key = key;
  button.addEventListener("click", () => press(key));
  $("keypad").append(button);
}
$("call").addEventListener("click", call);
$("hangup").addEventListener("click", hangUp);
$("mute").addEventListener("click", toggleMute);
const wanted = new URLSearchParams(location.search).get("to");
if (wanted) $("number").value = wanted;
