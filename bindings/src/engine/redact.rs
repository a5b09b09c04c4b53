//! Secret redaction: every value of the session's application secrets becomes `***` in what
//! the session tells the host (log lines, dispatched events, end reasons), so neither the
//! session log, the tracing output nor the history can leak a secret the scenario printed.

use std::borrow::Cow;

use serde_json::Value;

/// What a secret value is replaced with.
pub const MASK: &str = "***";

/// Replaces secret values in text and JSON.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Non-empty values, longest first, so a value containing another is masked whole.
    values: Vec<String>,
}

impl Redactor {
    /// A redactor for these secret values (empty values are ignored).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a String>) -> Self {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| !v.is_empty())
            .cloned()
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Self { values }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret value masked.
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for value in &self.values {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), MASK));
            }
        }
        out
    }

    /// Masks every string (and object key) inside `json`.
    pub fn json(&self, json: &mut Value) {
        if self.is_empty() {
            return;
        }
        match json {
            Value::String(s) => {
                if let Cow::Owned(masked) = self.text(s) {
                    *s = masked;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut value) in entries {
                    self.json(&mut value);
                    map.insert(self.text(&key).into_owned(), value);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_value_first() {
        let values = ["abc".to_string(), "abcdef".to_string(), String::new()];
        let r = Redactor::new(&values);
        assert_eq!(r.text("x abcdef y abc z"), "x *** y *** z");
        assert!(matches!(r.text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_strings_and_keys_inside_json() {
        let values = ["tok3n".to_string()];
        let r = Redactor::new(&values);
        let mut json = serde_json::json!({"a": ["Bearer tok3n", 1], "tok3n": {"b": "tok3n"}});
        r.json(&mut json);
        assert_eq!(
            json,
            serde_json::json!({"a": ["Bearer ***", 1], "***": {"b": "***"}})
        );
    }
}
