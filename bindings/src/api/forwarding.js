// VoxEngine.easyProcess and VoxEngine.forwardCallTo{SIP,PSTN,User}: two legs bridged, as
// VoxEngine does it. Loaded on first use (lazy.js); uses the Call class and callSip/callPstn/callUser
// (call.js).

// Bridges `inbound` (an alerting call) to `outbound` (a call being placed): their media are
// linked at once; the outbound leg's Ringing rings the inbound call, its AudioStarted starts
// early media, its Connected answers; when either leg fails or disconnects the other is hung
// up and the session ends. `onEstablished(inbound, outbound)` runs when the inbound call is
// connected.
function easyProcess(inbound, outbound, onEstablished, direct) {
  if (!(inbound instanceof Call) || !(outbound instanceof Call)) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "VoxEngine.easyProcess: both arguments must be calls");
  }
  if (onEstablished !== undefined && onEstablished !== null && typeof onEstablished !== "function") {
    throw codedError(TypeError, "ERR_INVALID_HANDLER", `VoxEngine.easyProcess: onEstablished must be a function, got ${describe(onEstablished)}`);
  }
  sendMediaBetween(inbound, outbound);
  let over = false;
  const end = (other) => {
    if (over) return;
    over = true;
    other.hangup();
    ops.terminate();
  };
  outbound.addEventListener(CallEvents.Ringing, () => inbound.ring());
  outbound.addEventListener(CallEvents.AudioStarted, () => inbound.startEarlyMedia());
  outbound.addEventListener(CallEvents.Connected, () => inbound.answer());
  outbound.addEventListener(CallEvents.Failed, () => end(inbound));
  outbound.addEventListener(CallEvents.Disconnected, () => end(inbound));
  inbound.addEventListener(CallEvents.Connected, () => {
    if (onEstablished) onEstablished(inbound, outbound);
  });
  inbound.addEventListener(CallEvents.Disconnected, () => end(outbound));
  inbound.addEventListener(CallEvents.Failed, () => end(outbound));
}

// Forwards every inbound call to the SIP address it was sent to (its To URI), from its caller.
function forwardCallToSIP(onEstablished) {
  VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
    const outbound = callSip(e.toURI, { callerid: e.callerid, displayName: e.displayName });
    easyProcess(e.call, outbound, onEstablished);
  });
}

// Forwards every inbound call to the number it dialed (after `numberTransform`, when given)
// over the application's SIP trunk, from its caller.
function forwardCallToPSTN(numberTransform, onEstablished) {
  if (numberTransform !== undefined && numberTransform !== null && typeof numberTransform !== "function") {
    throw codedError(TypeError, "ERR_INVALID_HANDLER", `VoxEngine.forwardCallToPSTN: numberTransform must be a function, got ${describe(numberTransform)}`);
  }
  VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
    const number = numberTransform ? numberTransform(e.destination) : e.destination;
    const outbound = callPstn(number, e.callerid);
    easyProcess(e.call, outbound, onEstablished);
  });
}

// Forwards every inbound call to the application user it dialed, from its caller.
function forwardCallToUser(onEstablished) {
  VoxEngine.addEventListener(AppEvents.CallAlerting, (e) => {
    const outbound = callUser({ username: e.destination, callerid: e.callerid, displayName: e.displayName });
    easyProcess(e.call, outbound, onEstablished);
  });
}

// What the prelude takes from this part.
return { easyProcess, forwardCallToSIP, forwardCallToPSTN, forwardCallToUser };
