//! Inbound routing: an application's ordered rules, each a regex anchored to the whole dialed
//! destination with an optional exclude regex; the first matching rule wins. Pure functions.

use regex::Regex;

use crate::config::{Config, ConfigError};

/// A compiled rule.
#[derive(Debug, Clone)]
struct CompiledRule {
    name: String,
    pattern: String,
    include: Regex,
    exclude: Option<(String, Regex)>,
    scenarios: Vec<String>,
}

/// A compiled application.
#[derive(Debug, Clone)]
struct CompiledApp {
    name: String,
    rules: Vec<CompiledRule>,
}

/// Routes destinations to rules.
#[derive(Debug, Clone)]
pub struct Router {
    apps: Vec<CompiledApp>,
}

/// Where a call goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Application name.
    pub application: String,
    /// Rule name.
    pub rule: String,
    /// Scenario files, in evaluation order.
    pub scenarios: Vec<String>,
}

/// Why one rule did not take the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The pattern does not match the whole destination.
    Pattern {
        /// Rule name.
        rule: String,
        /// The rule's pattern.
        pattern: String,
    },
    /// The pattern matches, but so does the exclude pattern.
    Excluded {
        /// Rule name.
        rule: String,
        /// The rule's exclude pattern.
        exclude: String,
    },
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::Pattern { rule, pattern } => {
                write!(
                    f,
                    "rule '{rule}': pattern '{pattern}' does not match the whole destination"
                )
            }
            Miss::Excluded { rule, exclude } => {
                write!(
                    f,
                    "rule '{rule}': pattern matches, but exclude '{exclude}' matches too"
                )
            }
        }
    }
}

/// No rule took the call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoRoute {
    /// The application does not exist.
    #[error("no application named '{0}'")]
    UnknownApplication(String),
    /// A session was asked for by rule name, and the application has no such rule.
    #[error("application '{application}' has no rule named '{rule}' (rules: {known})")]
    UnknownRule {
        /// Application name.
        application: String,
        /// The rule asked for.
        rule: String,
        /// The application's rules, comma-separated.
        known: String,
    },
    /// Every rule missed (the list says why, rule by rule; empty when there are no rules).
    #[error("destination '{destination}' matched no rule of application '{application}'")]
    NoMatch {
        /// Application name.
        application: String,
        /// The destination.
        destination: String,
        /// Why each rule missed, in rule order.
        misses: Vec<Miss>,
    },
}

impl Router {
    /// Compiles every rule of `config`.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        let mut apps = Vec::with_capacity(config.applications.len());
        for app in &config.applications {
            let mut rules = Vec::with_capacity(app.rules.len());
            for rule in &app.rules {
                let compile = |which: &'static str, pattern: &str| {
                    Regex::new(&format!("^(?:{pattern})$")).map_err(|source| ConfigError::Pattern {
                        application: app.name.clone(),
                        rule: rule.name.clone(),
                        which,
                        pattern: pattern.to_owned(),
                        source: Box::new(source),
                    })
                };
                let include = compile("include", &rule.pattern)?;
                let exclude = match &rule.exclude {
                    Some(p) => Some((p.clone(), compile("exclude", p)?)),
                    None => None,
                };
                rules.push(CompiledRule {
                    name: rule.name.clone(),
                    pattern: rule.pattern.clone(),
                    include,
                    exclude,
                    scenarios: rule.scenarios.clone(),
                });
            }
            apps.push(CompiledApp {
                name: app.name.clone(),
                rules,
            });
        }
        Ok(Self { apps })
    }

    /// The rule of `application` that takes a call to `destination`.
    pub fn route(&self, application: &str, destination: &str) -> Result<Route, NoRoute> {
        let app = self
            .apps
            .iter()
            .find(|a| a.name == application)
            .ok_or_else(|| NoRoute::UnknownApplication(application.to_owned()))?;
        let mut misses = Vec::new();
        for rule in &app.rules {
            if !rule.include.is_match(destination) {
                misses.push(Miss::Pattern {
                    rule: rule.name.clone(),
                    pattern: rule.pattern.clone(),
                });
                continue;
            }
            if let Some((exclude, regex)) = &rule.exclude
                && regex.is_match(destination)
            {
                misses.push(Miss::Excluded {
                    rule: rule.name.clone(),
                    exclude: exclude.clone(),
                });
                continue;
            }
            return Ok(Route {
                application: app.name.clone(),
                rule: rule.name.clone(),
                scenarios: rule.scenarios.clone(),
            });
        }
        Err(NoRoute::NoMatch {
            application: app.name.clone(),
            destination: destination.to_owned(),
            misses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Origin;

    fn router(rules: &str) -> Router {
        let text = format!("[[application]]\nname = 'default'\n{rules}");
        Router::new(&Config::parse(&text, Origin::Embedded).expect("valid config"))
            .expect("valid rules")
    }

    const RULES: &str = r#"
[[application.rule]]
name = "support"
pattern = "123"
scenarios = ["support.js"]
[[application.rule]]
name = "e164"
pattern = '\+?[1-9]\d{1,14}'
exclude = '\+?1900\d*'
scenarios = ["lib.js", "pstn.js"]
[[application.rule]]
name = "catch-all"
pattern = ".*"
scenarios = ["fallback.js"]
"#;

    #[test]
    fn pattern_is_anchored_to_the_whole_destination() {
        let r = router(RULES);
        assert_eq!(
            r.route("default", "123").map(|x| x.rule),
            Ok("support".into())
        );
        // 1234 does not match "123": anchored, so it falls to the next rule.
        assert_eq!(
            r.route("default", "1234").map(|x| x.rule),
            Ok("e164".into())
        );
    }

    #[test]
    fn first_match_wins_in_order_and_scenarios_keep_their_order() {
        let r = router(RULES);
        let route = r.route("default", "+4930123456").expect("routes");
        assert_eq!(route.rule, "e164");
        assert_eq!(route.scenarios, ["lib.js", "pstn.js"]);
        assert_eq!(
            r.route("default", "alice").map(|x| x.rule),
            Ok("catch-all".into())
        );
    }

    #[test]
    fn exclude_skips_a_matching_rule() {
        let r = router(RULES);
        assert_eq!(
            r.route("default", "19005550100").map(|x| x.rule),
            Ok("catch-all".into())
        );
    }

    #[test]
    fn no_match_explains_every_rule() {
        let r = router(&RULES.replace("pattern = \".*\"", "pattern = \"x\""));
        let err = r.route("default", "19005550100").expect_err("no rule");
        let NoRoute::NoMatch { misses, .. } = &err else {
            panic!("expected NoMatch, got {err:?}")
        };
        let lines: Vec<String> = misses.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "rule 'support': pattern '123' does not match the whole destination",
                "rule 'e164': pattern matches, but exclude '\\+?1900\\d*' matches too",
                "rule 'catch-all': pattern 'x' does not match the whole destination",
            ]
        );
        assert_eq!(
            r.route("nope", "1"),
            Err(NoRoute::UnknownApplication("nope".into()))
        );
    }

    #[test]
    fn invalid_pattern_is_a_config_error_naming_the_rule() {
        let text = "[[application]]\nname='a'\n[[application.rule]]\nname='bad'\npattern='('\nscenarios=['x.js']\n";
        let err = Router::new(&Config::parse(text, Origin::Embedded).expect("parses"))
            .expect_err("bad regex");
        assert!(
            err.to_string()
                .starts_with("application 'a', rule 'bad': invalid include pattern '('"),
            "{err}"
        );
    }
}
