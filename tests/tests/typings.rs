//! `scenarios/types/dialtone.d.ts` against a live session: every global, namespace member and
//! enum value it declares must exist with that value, and no enum may have undeclared members.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result};
use dialtone::console::ConsoleOptions;
use dialtone_tests::{golden, workspace_root};

/// What the typings declare: dotted paths, with the string value for enum members.
fn declared(typings: &str) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    // Stack of (name, kind, depth at which its body opened).
    let mut scopes: Vec<(String, &str, usize)> = Vec::new();
    let mut depth = 0usize;
    for raw in typings.lines() {
        let line = raw.trim();
        if line.starts_with("//") || line.starts_with("/*") || line.starts_with('*') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let prefix: String = scopes.iter().map(|(n, _, _)| format!("{n}.")).collect();
        let in_interface = scopes
            .iter()
            .any(|(_, k, _)| *k == "interface" || *k == "class");
        match words.as_slice() {
            [
                "declare",
                kind @ ("enum" | "namespace" | "class" | "function"),
                name,
                ..,
            ]
            | [
                kind @ ("enum" | "namespace" | "class" | "function"),
                name,
                ..,
            ] if !in_interface => {
                let name = name
                    .split(['(', '<', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                out.insert(format!("{prefix}{name}"), None);
                if *kind != "function" && line.ends_with('{') {
                    scopes.push((name, kind, depth));
                }
            }
            ["interface", ..] | ["type", ..] if line.ends_with('{') => {
                scopes.push((String::new(), "interface", depth));
            }
            [method, ..]
                if scopes.last().is_some_and(|(_, k, _)| *k == "class")
                    && method.contains('(')
                    && !method.starts_with("private") =>
            {
                let class = scopes
                    .iter()
                    .map(|(n, _, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                let name = method.split('(').next().unwrap_or_default();
                out.insert(format!("{class}.prototype.{name}"), None);
            }
            [member, "=", value, ..] if scopes.last().is_some_and(|(_, k, _)| *k == "enum") => {
                let value = value.trim_end_matches(',').trim_matches('"').to_owned();
                out.insert(format!("{prefix}{member}"), Some(value));
            }
            _ => {}
        }
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if scopes.last().is_some_and(|(_, _, d)| *d == depth) {
                        scopes.pop();
                    }
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn parser_reads_enums_namespaces_and_functions() {
    let sample = "declare enum E {\n  A = \"a\",\n}\ndeclare namespace N {\n  function f(x: number): void;\n  enum Inner {\n    B = \"b\",\n  }\n}\ninterface I {\n  g(): void;\n}\ndeclare function h(): void;\ndeclare class C {\n  private constructor();\n  m(a: string): void;\n}\n";
    let found = declared(sample);
    let expected: BTreeMap<String, Option<String>> = [
        ("E", None),
        ("E.A", Some("a")),
        ("N", None),
        ("N.f", None),
        ("N.Inner", None),
        ("N.Inner.B", Some("b")),
        ("h", None),
        ("C", None),
        ("C.prototype.m", None),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.map(str::to_owned)))
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn every_declared_global_exists_in_a_fresh_session() -> Result<()> {
    let typings = std::fs::read_to_string(workspace_root().join("scenarios/types/dialtone.d.ts"))?;
    let names = declared(&typings);
    assert!(
        names.len() > 90,
        "typings parse found only {} names",
        names.len()
    );
    let enums: Vec<&String> = names
        .keys()
        .filter(|k| {
            names
                .iter()
                .any(|(m, v)| v.is_some() && m.starts_with(&format!("{k}.")))
        })
        .collect();
    let script = format!(
        r#"
require(Modules.MCP);
require(Modules.Conference);
require(Modules.ApplicationStorage);
require(Modules.IVR);
require(Modules.ASR);
require(Modules.ACD);
const declared = {declared};
const enums = {enums};
const problems = [];
const lookup = (path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), globalThis);
for (const [path, value] of Object.entries(declared)) {{
  const actual = lookup(path);
  if (actual === undefined) problems.push(`missing at runtime: ${{path}}`);
  else if (value !== null && actual !== value) problems.push(`${{path}} is '${{actual}}', typings say '${{value}}'`);
}}
for (const name of enums) {{
  for (const key of Object.keys(lookup(name) || {{}})) {{
    if (!(`${{name}}.${{key}}` in declared)) problems.push(`not in the typings: ${{name}}.${{key}}`);
  }}
}}
Logger.write(JSON.stringify(problems));
VoxEngine.addEventListener(AppEvents.Started, () => VoxEngine.terminate());
"#,
        declared = serde_json::to_string(&names)?,
        enums = serde_json::to_string(&enums)?,
    );
    let dir = std::env::temp_dir().join(format!("dialtone-typings-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("typings_check.voxengine.js");
    std::fs::write(&path, script)?;
    let options = ConsoleOptions {
        scenarios: vec![path],
        ..ConsoleOptions::default()
    };
    let transcript = golden::transcript(&options)?;
    std::fs::remove_dir_all(&dir)?;
    let line = transcript
        .lines()
        .find(|l| l.contains("  log    ["))
        .with_context(|| format!("no result line in:\n{transcript}"))?;
    let problems: Vec<String> =
        serde_json::from_str(line.split("  log    ").nth(1).unwrap_or("[]"))?;
    assert!(
        problems.is_empty(),
        "typings and runtime differ:\n{}",
        problems.join("\n")
    );
    assert!(
        transcript.contains("end    terminated by the scenario"),
        "{transcript}"
    );
    Ok(())
}
