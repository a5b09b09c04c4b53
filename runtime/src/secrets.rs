//! Where a session's secrets come from. A call asks for its application's secrets when its
//! session starts, and sees no other application's.

use std::collections::BTreeMap;

/// A provider of per-application secrets.
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    /// All secrets of `application`, by name.
    fn secrets(&self, application: &str) -> BTreeMap<String, String>;
}

/// Secrets held in memory, by application then name (tests, embedding).
#[derive(Debug, Default, Clone)]
pub struct StaticSecrets(pub BTreeMap<String, BTreeMap<String, String>>);

impl SecretSource for StaticSecrets {
    fn secrets(&self, application: &str) -> BTreeMap<String, String> {
        self.0.get(application).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_sees_only_its_own() {
        let source = StaticSecrets(BTreeMap::from([(
            "a".to_string(),
            BTreeMap::from([("TOKEN".to_string(), "x".to_string())]),
        )]));
        assert_eq!(source.secrets("a").len(), 1);
        assert!(source.secrets("b").is_empty());
    }
}
