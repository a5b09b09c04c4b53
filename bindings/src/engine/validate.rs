//! Compiling a scenario without running it (the admin API's "validate").
//!
//! The source is evaluated as a global script, exactly as a session loads it, with `throw 0;`
//! put in front on the same line: QuickJS parses the whole script first, so a syntax error is
//! reported with its real line, and a script that parses stops at that first statement before
//! any of its own code runs. A leading `"use strict"` directive is kept in front so that strict
//! mode errors are still found.

use rquickjs::{Context, Runtime};

use super::js_error::Thrown;
use crate::host::Script;

/// Heap for the throwaway context that compiles one script.
const VALIDATE_HEAP_BYTES: usize = 64 << 20;

/// Why a script does not compile: the error and (in the text) where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

/// Compiles `script` as a session would, without running any of it.
pub fn validate_script(script: &Script) -> Result<(), CompileError> {
    let runtime = Runtime::new().map_err(|e| CompileError(format!("no JS runtime: {e}")))?;
    runtime.set_memory_limit(VALIDATE_HEAP_BYTES);
    let context =
        Context::full(&runtime).map_err(|e| CompileError(format!("no JS context: {e}")))?;
    let source = guarded(&script.source);
    context.with(|ctx| {
        let mut options = rquickjs::context::EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.filename = Some(script.name.clone());
        match ctx.eval_with_options::<(), _>(source, options) {
            Ok(()) => Ok(()),
            Err(e) if e.is_exception() => {
                let thrown = ctx.catch();
                if thrown.is_error() {
                    let thrown = Thrown::from_value(&ctx, &thrown);
                    Err(CompileError(first_line_columns(
                        &thrown.text(),
                        &script.name,
                        source_offset(&script.source),
                    )))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(CompileError(e.to_string())),
        }
    })
}

/// How many characters [`guarded`] put in front of the first line.
fn source_offset(source: &str) -> usize {
    guarded(source).chars().count() - source.trim_start_matches('\u{feff}').chars().count()
}

/// `text` with columns of `name:1:COL` positions moved back by `offset` (the guard).
fn first_line_columns(text: &str, name: &str, offset: usize) -> String {
    let marker = format!("{name}:1:");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&marker) {
        let (before, after) = rest.split_at(at + marker.len());
        out.push_str(before);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<usize>() {
            Ok(column) => out.push_str(&column.saturating_sub(offset).max(1).to_string()),
            Err(_) => out.push_str(&digits),
        }
        rest = &after[digits.len()..];
    }
    out.push_str(rest);
    out
}

/// `source` with a first statement that stops it before its own code runs.
fn guarded(source: &str) -> String {
    let trimmed = source.trim_start_matches('\u{feff}');
    for directive in ["\"use strict\"", "'use strict'"] {
        if trimmed.starts_with(directive) {
            return format!("{directive};throw 0;{trimmed}");
        }
    }
    format!("throw 0;{trimmed}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(source: &str) -> Script {
        Script::from_source("case.voxengine.js", source)
    }

    #[test]
    fn a_valid_script_compiles_and_none_of_it_runs() {
        let source = "globalThis.ran = true; while (true) {}\nfunction f() { return 1 }";
        assert_eq!(validate_script(&script(source)), Ok(()));
    }

    #[test]
    fn a_syntax_error_names_the_file_and_line() {
        let err = validate_script(&script("let a = 1;\nlet b = ;\n")).expect_err("invalid");
        assert!(err.0.starts_with("SyntaxError"), "{err}");
        assert!(err.0.contains("case.voxengine.js:2"), "{err}");
        let err = validate_script(&script("let x = ;")).expect_err("invalid");
        assert!(err.0.contains("case.voxengine.js:1:9"), "{err}");
    }

    #[test]
    fn strict_mode_errors_are_found_when_the_script_asks_for_strict_mode() {
        let err = validate_script(&script("'use strict';\nwith (Math) { max(1, 2) }"))
            .expect_err("with is not allowed in strict mode");
        assert!(err.0.starts_with("SyntaxError"), "{err}");
        assert_eq!(
            validate_script(&script("with (Math) { max(1, 2) }")),
            Ok(())
        );
    }
}
