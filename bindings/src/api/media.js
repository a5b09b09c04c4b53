// Media units and the links between them: sendMediaTo / stopMediaTo on every unit, and
// VoxEngine.sendMediaBetween / stopMediaBetween. Part of the prelude.
//
// The audio itself never reaches JS: the facade only tells the host which unit sends to which
// (ops.media), and the host moves 20 ms frames between them.

// unit object -> { id, kind }; filled by each unit class's constructor.
const mediaUnits = new WeakMap();

const ENCODINGS = ["PCM8", "PCM16", "ALAW", "ULAW", "OPUS"];

function registerMediaUnit(unit, id, kind) {
  mediaUnits.set(unit, { id, kind });
}

function mediaUnit(method, value) {
  const unit = value !== null && typeof value === "object" ? mediaUnits.get(value) : undefined;
  if (!unit) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `${method}: expected a media unit (a Call, a WebSocket, a player, a recorder, an ASR or a conference), got ${describe(value)}`);
  }
  return unit;
}

// SendMediaParameters -> what the host reads. Only WebSocket targets use them.
function sendMediaParams(method, params) {
  if (params === undefined || params === null) return {};
  if (typeof params !== "object" || Array.isArray(params)) {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
      `${method}: parameters must be an object ({tag, customParameters, encoding}), got ${describe(params)}`);
  }
  const out = {};
  if (params.tag !== undefined && params.tag !== null) out.tag = String(params.tag);
  if (params.customParameters !== undefined && params.customParameters !== null) {
    if (typeof params.customParameters !== "object" || Array.isArray(params.customParameters)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `${method}: customParameters must be an object of name -> string value`);
    }
    out.customParameters = {};
    for (const [name, value] of Object.entries(params.customParameters)) {
      out.customParameters[name] = String(value);
    }
  }
  if (params.encoding !== undefined && params.encoding !== null) {
    const encoding = String(params.encoding);
    if (!ENCODINGS.includes(encoding)) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT",
        `${method}: encoding must be a WebSocketAudioEncoding member (PCM8, PCM16, ALAW, ULAW), got '${encoding}'`);
    }
    if (encoding === "OPUS") {
      throw codedError(Error, "ERR_MEDIA_UNSUPPORTED",
        `${method}: the OPUS encoding is not available in Dialtone yet; use PCM8, PCM16, ULAW or ALAW`);
    }
    out.encoding = encoding;
  }
  return out;
}

function sendMedia(method, from, to, params) {
  const source = mediaUnit(method, from);
  const target = mediaUnit(method, to);
  const parsed = sendMediaParams(method, params);
  if (source.kind === "recorder" || source.kind === "asr") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: a ${source.kind === "asr" ? "speech recognizer" : "recorder"} cannot send media`);
  }
  if (target.kind === "player") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `${method}: a player cannot receive media`);
  }
  if (source.id === target.id) {
    throw codedError(Error, "ERR_INVALID_ARGUMENT", `${method}: a unit cannot send media to itself`);
  }
  ops.media(JSON.stringify({ op: "sendMedia", from: source.id, to: target.id, params: parsed }));
}

function stopMedia(method, from, to) {
  const source = mediaUnit(method, from);
  const target = mediaUnit(method, to);
  ops.media(JSON.stringify({ op: "stopMedia", from: source.id, to: target.id }));
}

function sendMediaBetween(a, b) {
  mediaUnit("VoxEngine.sendMediaBetween", a);
  mediaUnit("VoxEngine.sendMediaBetween", b);
  sendMedia("VoxEngine.sendMediaBetween", a, b);
  sendMedia("VoxEngine.sendMediaBetween", b, a);
}

function stopMediaBetween(a, b) {
  stopMedia("VoxEngine.stopMediaBetween", a, b);
  stopMedia("VoxEngine.stopMediaBetween", b, a);
}
