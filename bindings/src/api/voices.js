// Voices: Language (the legacy names), VoiceList (providers' voices) and the Voice class.
// Loaded on first use (lazy.js). A voice reaches the host as a locale with an optional gender
// ("de-DE+male"), which the host maps to a local speech engine voice (docs/media.md).

// Legacy Language name prefix -> locale.
const LANGUAGE_LOCALES = Object.freeze({
  AU_ENGLISH: "en-AU", CA_ENGLISH: "en-CA", UK_ENGLISH: "en-GB", US_ENGLISH: "en-US",
  BR_PORTUGUESE: "pt-BR", CA_FRENCH: "fr-CA", CH_CHINESE: "zh-CN", HK_CHINESE: "zh-HK",
  TW_CHINESE: "zh-TW", EUR_CATALAN: "ca-ES", EUR_CZECH: "cs-CZ", EUR_DANISH: "da-DK",
  EUR_DUTCH: "nl-NL", EUR_FINNISH: "fi-FI", EUR_FRENCH: "fr-FR", EUR_GERMAN: "de-DE",
  EUR_ITALIAN: "it-IT", EUR_NORWEGIAN: "nb-NO", EUR_POLISH: "pl-PL", EUR_PORTUGUESE: "pt-PT",
  EUR_SPANISH: "es-ES", EUR_TURKISH: "tr-TR", HU_HUNGARIAN: "hu-HU", JP_JAPANESE: "ja-JP",
  KR_KOREAN: "ko-KR", RU_RUSSIAN: "ru-RU", SW_SWEDISH: "sv-SE", US_SPANISH: "es-US",
});
const FEMALE_ONLY = ["BR_PORTUGUESE", "HU_HUNGARIAN", "SW_SWEDISH"];

const Language = (() => {
  const members = {};
  for (const prefix of Object.keys(LANGUAGE_LOCALES)) {
    members[`${prefix}_FEMALE`] = `${prefix}_FEMALE`;
    if (!FEMALE_ONLY.includes(prefix)) members[`${prefix}_MALE`] = `${prefix}_MALE`;
  }
  return Object.freeze(members);
})();

const VOICE_TOKEN = Symbol("voice");

class Voice {
  #provider;
  #name;
  #locale;
  #gender;

  constructor(token, provider, name) {
    if (token !== VOICE_TOKEN) throw new TypeError("Illegal constructor: voices come from VoiceList");
    this.#provider = provider;
    this.#name = name;
    const match = /^([a-z]{2,3})_([A-Z]{2})_(.+)$/.exec(name);
    this.#locale = match ? `${match[1]}-${match[2]}` : null;
    const gender = /(?:^|_)(Female|Male)$/.exec(name);
    this.#gender = gender ? gender[1].toLowerCase() : null;
    Object.freeze(this);
  }

  get provider() { return this.#provider; }
  get name() { return this.#name; }
  get language() { return this.#locale; }
  get gender() { return this.#gender; }
  toString() { return `VoiceList.${this.#provider}.${this.#name}`; }
}

// VoiceList.<Provider>[.Neural].<name>: any provider and name give a Voice, as VoxEngine's
// lists are long and change; the locale comes from the name (en_US_Joanna -> en-US).
const VoiceList = (() => {
  const providers = new Map();
  const provider = (path) => {
    if (providers.has(path)) return providers.get(path);
    const voices = new Map();
    const proxy = new Proxy(Object.freeze({}), {
      get(_, key) {
        if (typeof key !== "string") return undefined;
        if (key === "Neural") return provider(`${path}.Neural`);
        if (!voices.has(key)) voices.set(key, new Voice(VOICE_TOKEN, path, key));
        return voices.get(key);
      },
    });
    providers.set(path, proxy);
    return proxy;
  };
  return new Proxy(Object.freeze({}), {
    get(_, key) { return typeof key === "string" ? provider(key) : undefined; },
  });
})();

// A voice as the scenario gave it (Voice, Language member, locale or engine voice name) ->
// what the host takes, or null for the default.
function voiceName(value) {
  if (value === undefined || value === null) return null;
  if (value instanceof Voice) {
    if (!value.language) return null;
    return value.gender ? `${value.language}+${value.gender}` : value.language;
  }
  const text = String(value);
  const legacy = /^(.*)_(FEMALE|MALE)$/.exec(text);
  if (legacy && LANGUAGE_LOCALES[legacy[1]]) {
    return `${LANGUAGE_LOCALES[legacy[1]]}+${legacy[2].toLowerCase()}`;
  }
  return text === "" ? null : text;
}

// The voice of say()/createTTSPlayer's second argument: a Voice, a Language member, or an
// object with `voice` (v26+) or `language` (older scenarios).
function voiceFromOptions(options) {
  if (options === undefined || options === null) return null;
  if (typeof options === "string" || options instanceof Voice) return voiceName(options);
  if (typeof options === "object") return voiceName(options.voice ?? options.language);
  return null;
}

global.Language = Language;
global.VoiceList = VoiceList;

// What the prelude takes from this part.
return { Language, VoiceList, voiceFromOptions };
