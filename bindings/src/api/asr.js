// Speech recognition: VoxEngine.createASR, the ASR class and ASREvents, loaded by
// require(Modules.ASR). An ASR is a media unit: link a call to it (call.sendMediaTo(asr)) and
// it reports what was said. The host's recognizer is local; ASRProfileList/ASRModelList
// members of any provider are accepted and map to it (the host warns about a language it
// does not have). Loaded on require (see lazy.js).

const ASREvents = Object.freeze({
  ASRError: "ASR.Error",
  Started: "ASR.Started",
  CaptureStarted: "ASR.CaptureStarted",
  SpeechCaptured: "ASR.SpeechCaptured",
  InterimResult: "ASR.InterimResult",
  Result: "ASR.Result",
  Stopped: "ASR.Stopped",
});

// ASRProfileList.<Provider>.<ll_CC> -> "provider:ll-CC"; ASRModelList.<Provider>.<model> ->
// "provider:model". VoxEngine's members carry no values, so any name is taken.
function asrNames(separator) {
  return new Proxy({}, {
    get(_, provider) {
      if (typeof provider !== "string") return undefined;
      return new Proxy({}, {
        get(__, name) {
          if (typeof name !== "string") return undefined;
          return `${provider.toLowerCase()}:${separator(name)}`;
        },
      });
    },
  });
}
const ASRProfileList = asrNames((name) => name.replace(/_/g, "-"));
const ASRModelList = asrNames((name) => name);

// Old scripts' {lang: ASRLanguage.X}: BCP-47 tags.
const ASRLanguage = Object.freeze({
  ENGLISH_US: "en-US", ENGLISH_UK: "en-GB", ENGLISH_AU: "en-AU", ENGLISH_CA: "en-CA",
  ENGLISH_IN: "en-IN", SPANISH_ES: "es-ES", SPANISH_US: "es-US", SPANISH_MX: "es-MX",
  FRENCH_FR: "fr-FR", FRENCH_CA: "fr-CA", GERMAN_DE: "de-DE", ITALIAN_IT: "it-IT",
  PORTUGUESE_PT: "pt-PT", PORTUGUESE_BR: "pt-BR", RUSSIAN_RU: "ru-RU", DUTCH_NL: "nl-NL",
  POLISH_PL: "pl-PL", TURKISH_TR: "tr-TR", JAPANESE_JP: "ja-JP", KOREAN_KR: "ko-KR",
  CHINESE_CN: "zh-CN", ARABIC_SA: "ar-SA", HINDI_IN: "hi-IN", SWEDISH_SE: "sv-SE",
});

const ASR_TOKEN = Symbol("asr");
const asrUnits = new Map();
let asrCount = 0;
let deliverToAsr; // set by ASR's static block

function asrLanguage(parameters) {
  const profile = parameters.profile;
  if (typeof profile === "string" && profile.includes(":")) return profile.slice(profile.indexOf(":") + 1);
  for (const key of ["lang", "language", "languageCode"]) {
    if (typeof parameters[key] === "string" && parameters[key] !== "") return parameters[key];
  }
  return null;
}

class ASR {
  #id;
  #language;
  #hints;
  #stopped = false;
  #listeners = new Listeners();

  constructor(token, parameters) {
    if (token !== ASR_TOKEN) throw new TypeError("Illegal constructor: use VoxEngine.createASR");
    const p = parameters;
    const hints = p.phraseHints === undefined || p.phraseHints === null ? (p.dict || []) : p.phraseHints;
    if (!Array.isArray(hints) || !hints.every((h) => typeof h === "string")) {
      throw codedError(TypeError, "ERR_INVALID_ARGUMENT", "VoxEngine.createASR: phraseHints must be an array of strings");
    }
    if (hints.length > 500) {
      throw codedError(RangeError, "ERR_INVALID_ARGUMENT", "VoxEngine.createASR: at most 500 phraseHints");
    }
    this.#id = `asr-${++asrCount}`;
    this.#language = asrLanguage(p);
    this.#hints = hints.slice();
    registerMediaUnit(this, this.#id, "asr");
    asrUnits.set(this.#id, this);
    ops.media(JSON.stringify({
      op: "createAsr",
      id: this.#id,
      language: this.#language,
      phraseHints: this.#hints,
      interimResults: Boolean(p.interimResults),
      singleUtterance: Boolean(p.singleUtterance),
    }));
  }

  id() { return this.#id; }
  language() { return this.#language; }
  dictionary() { return this.#hints.slice(); }
  toString() { return `ASR(${this.#id})`; }

  addEventListener(event, handler) {
    this.#listeners.add("ASR.addEventListener", event, handler);
  }
  removeEventListener(event, handler) {
    this.#listeners.remove("ASR.removeEventListener", event, handler);
  }

  stop() {
    if (this.#stopped) return;
    this.#stopped = true;
    ops.media(JSON.stringify({ op: "asrControl", id: this.#id, action: { action: "stop" } }));
  }

  static {
    deliverToAsr = (asr, name, fields) => {
      asr.#listeners.emit(name, { ...fields, name, asr });
      if (name === ASREvents.Stopped) {
        asr.#stopped = true;
        asr.#listeners.clear();
        asrUnits.delete(asr.#id);
      }
    };
  }
}

function createASR(parameters) {
  if (parameters !== undefined && parameters !== null && typeof parameters !== "object") {
    throw codedError(TypeError, "ERR_INVALID_ARGUMENT", `VoxEngine.createASR: parameters must be an object, got ${describe(parameters)}`);
  }
  return new ASR(ASR_TOKEN, parameters || {});
}

moduleInstallers.set(Modules.ASR, () => {
  VoxEngine.createASR = createASR;
  global.ASR = ASR;
  global.ASREvents = ASREvents;
  global.ASRProfileList = ASRProfileList;
  global.ASRModelList = ASRModelList;
  global.ASRLanguage = ASRLanguage;
});

registerUnitsById("asr", asrUnits, (asr, name, payload) => deliverToAsr(asr, name, payload));
