//! Which espeak-ng voice speaks a scenario's voice. Scenarios name voices the VoxEngine way
//! (`VoiceList.Amazon.en_US_Joanna`, `Language.EUR_GERMAN_MALE`, `{language}`); the facade
//! turns each into a locale with an optional gender (`de-DE+male`), and this table turns that
//! into an espeak-ng voice (`de+m3`). The config's `[voices]` table adds or replaces entries
//! (`"en-AU" = "en-gb"`). A locale the table does not know speaks with the default voice and
//! says so in one warning; it is never silent.

use std::collections::BTreeMap;

/// Locale (lowercase) -> espeak-ng voice, from espeak-ng 1.51's voice list.
const BUILTIN: &[(&str, &str)] = &[
    ("en", "en-us"),
    ("en-us", "en-us"),
    ("en-gb", "en-gb"),
    ("en-au", "en-gb"),
    ("en-ca", "en-us"),
    ("en-in", "en-gb"),
    ("fr", "fr-fr"),
    ("fr-fr", "fr-fr"),
    ("fr-ca", "fr-fr"),
    ("fr-be", "fr-be"),
    ("es", "es"),
    ("es-es", "es"),
    ("es-us", "es-419"),
    ("es-mx", "es-419"),
    ("pt", "pt"),
    ("pt-pt", "pt"),
    ("pt-br", "pt-br"),
    ("zh", "cmn"),
    ("zh-cn", "cmn"),
    ("cmn-cn", "cmn"),
    ("zh-tw", "cmn"),
    ("zh-hk", "yue"),
    ("nb", "nb"),
    ("nb-no", "nb"),
    ("no", "nb"),
    ("sv", "sv"),
    ("sv-se", "sv"),
    ("da", "da"),
    ("da-dk", "da"),
    ("de", "de"),
    ("de-de", "de"),
    ("it", "it"),
    ("it-it", "it"),
    ("nl", "nl"),
    ("nl-nl", "nl"),
    ("pl", "pl"),
    ("pl-pl", "pl"),
    ("ru", "ru"),
    ("ru-ru", "ru"),
    ("tr", "tr"),
    ("tr-tr", "tr"),
    ("ja", "ja"),
    ("ja-jp", "ja"),
    ("ko", "ko"),
    ("ko-kr", "ko"),
    ("hi", "hi"),
    ("hi-in", "hi"),
    ("ro", "ro"),
    ("ro-ro", "ro"),
    ("cs", "cs"),
    ("cs-cz", "cs"),
    ("fi", "fi"),
    ("fi-fi", "fi"),
    ("hu", "hu"),
    ("hu-hu", "hu"),
    ("ca", "ca"),
    ("ca-es", "ca"),
];

/// The voice espeak-ng speaks with, and a warning when the scenario's voice was not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The espeak-ng voice; `None` for the engine's default.
    pub voice: Option<String>,
    /// For the session log: what was asked and what speaks instead.
    pub warning: Option<String>,
}

/// Locale -> espeak-ng voice.
#[derive(Debug, Clone)]
pub struct VoiceTable {
    map: BTreeMap<String, String>,
    default: String,
}

impl Default for VoiceTable {
    fn default() -> Self {
        Self::new(&BTreeMap::new())
    }
}

impl VoiceTable {
    /// The built-in table with `overrides` (locale -> espeak-ng voice) on top.
    pub fn new(overrides: &BTreeMap<String, String>) -> Self {
        let mut map: BTreeMap<String, String> = BUILTIN
            .iter()
            .map(|(locale, voice)| ((*locale).to_owned(), (*voice).to_owned()))
            .collect();
        for (locale, voice) in overrides {
            map.insert(normalize(locale), voice.clone());
        }
        Self {
            map,
            default: "en-us".into(),
        }
    }

    /// The espeak-ng voice for `voice`: a locale (`en-US`, `en_US`), optionally with
    /// `+female` or `+male`, or an espeak-ng voice name, passed through as it is.
    pub fn resolve(&self, voice: Option<&str>) -> Resolved {
        let Some(asked) = voice.filter(|v| !v.is_empty()) else {
            return Resolved {
                voice: None,
                warning: None,
            };
        };
        let (locale, gender) = match asked.rsplit_once('+') {
            Some((locale, "female")) => (locale, Some("+f3")),
            Some((locale, "male")) => (locale, Some("+m3")),
            _ => (asked, None),
        };
        if !is_locale(locale) {
            // An espeak-ng voice name such as `en-us`, `de` or `en+f3`.
            return Resolved {
                voice: Some(asked.to_owned()),
                warning: None,
            };
        }
        let key = normalize(locale);
        let language = key.split('-').next().unwrap_or_default();
        let found = self
            .map
            .get(&key)
            .or_else(|| self.map.get(language))
            .cloned();
        let gender = gender.unwrap_or_default();
        match found {
            Some(base) => Resolved {
                voice: Some(format!("{base}{gender}")),
                warning: None,
            },
            None => Resolved {
                voice: Some(format!("{}{gender}", self.default)),
                warning: Some(format!(
                    "no espeak-ng voice for '{asked}'; speaking with '{}' instead (map it in the config's [voices] table)",
                    self.default
                )),
            },
        }
    }
}

/// `en-US`, `en_US`, `cmn-CN`: a language and a region, both letters.
fn is_locale(text: &str) -> bool {
    let mut parts = text.split(['-', '_']);
    let language = parts.next().unwrap_or_default();
    let region = parts.next();
    parts.next().is_none()
        && (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_lowercase())
        && region.is_some_and(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()))
}

fn normalize(locale: &str) -> String {
    locale.replace('_', "-").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_map_to_espeak_voices_with_gender() {
        let table = VoiceTable::default();
        let voice = |v: &str| table.resolve(Some(v)).voice;
        assert_eq!(voice("en-US"), Some("en-us".into()));
        assert_eq!(voice("de-DE+male"), Some("de+m3".into()));
        assert_eq!(voice("pt_BR+female"), Some("pt-br+f3".into()));
        assert_eq!(
            voice("de-AT"),
            Some("de".into()),
            "by language when the region is unknown"
        );
        assert_eq!(
            voice("en+f3"),
            Some("en+f3".into()),
            "espeak names pass through"
        );
        assert_eq!(table.resolve(None).voice, None);
    }

    #[test]
    fn an_unknown_locale_falls_back_with_a_warning() {
        let resolved = VoiceTable::default().resolve(Some("xx-YY+male"));
        assert_eq!(resolved.voice, Some("en-us+m3".into()));
        assert_eq!(
            resolved.warning.as_deref(),
            Some(
                "no espeak-ng voice for 'xx-YY+male'; speaking with 'en-us' instead (map it in the config's [voices] table)"
            )
        );
        let table = VoiceTable::new(&BTreeMap::from([("xx-YY".to_owned(), "eo".to_owned())]));
        assert_eq!(table.resolve(Some("xx-YY")).voice, Some("eo".into()));
    }
}
