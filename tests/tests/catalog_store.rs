//! The catalog (applications, rules, scenarios) on both of its stores: the config file with
//! the scenario files beside it, and the shared PostgreSQL store's catalog versions. The same
//! suite of edits runs through the same `Editor` on each, and a catalog read back from the
//! store afterwards (a restarted node) holds what the edits left.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, ensure};
use dialtone::catalog::edit::{EditError, Editor};
use dialtone::catalog::shared::SharedCatalog;
use dialtone::catalog::{Catalog, CatalogCell};
use dialtone::config::{Config, Rule};
use dialtone::store::{PgPool, postgres};
use dialtone_tests::postgres::Postgres;

const CONFIG: &str = "[[application]]\nname = 'default'\n[[application.rule]]\nname = 'all'\npattern = '.*'\nscenarios = ['a.js']\n";

/// A directory with `dialtone.toml` ([`CONFIG`]) and scenario `a.js`.
fn config_dir(what: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dialtone-catalog-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("a.js"), "Logger.write('a');\n")?;
    std::fs::write(dir.join("dialtone.toml"), CONFIG)?;
    Ok(dir)
}

fn vip(scenario: &str) -> Rule {
    Rule {
        name: "vip".into(),
        pattern: "100".into(),
        exclude: None,
        scenarios: vec![scenario.into()],
    }
}

/// The edits every catalog store must take the same way. `missing` is the whole message of
/// the refusal of a rule naming a scenario the store does not hold; `reopen` reads the
/// catalog back from the store as a node starting now would.
fn catalog_suite(
    editor: &Editor,
    cell: &CatalogCell,
    missing: &str,
    reopen: &dyn Fn() -> Result<Catalog>,
) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let edit = |change: &dyn Fn(&mut Config) -> Result<(), EditError>| {
        runtime.block_on(editor.apply(cell, change))
    };
    // A rule added in front takes its destination; the others keep theirs.
    edit(&|config| {
        config.applications[0].rules.insert(0, vip("a.js"));
        Ok(())
    })?;
    let current = cell.current();
    assert_eq!(current.plan("default", "100")?.route.rule, "vip");
    assert_eq!(current.plan("default", "200")?.route.rule, "all");

    // A rule naming a scenario the store lacks is refused, and nothing changes.
    let refused = edit(&|config| {
        config.applications[0].rules[0] = vip("missing.js");
        Ok(())
    })
    .expect_err("missing scenario");
    assert_eq!(refused.to_string(), missing);
    assert!(
        Arc::ptr_eq(&current, &cell.current()),
        "the catalog changed"
    );

    // A pattern that is not a regex is refused with the router's words.
    let refused = edit(&|config| {
        config.applications[0].rules[0].pattern = "(".into();
        Ok(())
    })
    .expect_err("bad regex");
    assert_eq!(
        refused.to_string(),
        "application 'default', rule 'vip': invalid include pattern '(': regex parse error:\n    ^(?:()$\n     ^\nerror: unclosed group"
    );

    // A change's own refusal comes back as it was made.
    let refused = edit(&|_| Err(EditError::Conflict("no, thanks".into()))).expect_err("refused");
    assert_eq!(refused.to_string(), "no, thanks");

    // A second application and a removed rule; read back, the store holds exactly that.
    edit(&|config| {
        let mut second = config.applications[0].clone();
        second.name = "support".into();
        config.applications.push(second);
        config.applications[0].rules.retain(|r| r.name != "all");
        Ok(())
    })?;
    let reopened = reopen()?;
    assert_eq!(
        reopened.config.applications,
        cell.current().config.applications
    );
    let names: Vec<&str> = reopened
        .config
        .applications
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["default", "support"]);
    assert_eq!(reopened.plan("support", "200")?.route.rule, "all");
    ensure!(
        reopened.plan("default", "200").is_err(),
        "rule 'all' is gone"
    );
    Ok(())
}

fn file_catalog(path: &Path) -> Result<Catalog> {
    Ok(Catalog::new(Config::from_file(path)?)?)
}

#[test]
fn the_catalog_suite_passes_on_the_config_file() -> Result<()> {
    let dir = config_dir("file")?;
    let path = dir.join("dialtone.toml");
    let cell = CatalogCell::new(file_catalog(&path)?);
    let missing = format!(
        "application 'default', rule 'vip': cannot read scenario {}: No such file or directory (os error 2)",
        dir.join("missing.js").display()
    );
    catalog_suite(&Editor::default(), &cell, &missing, &|| file_catalog(&path))?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[test]
fn the_catalog_suite_passes_on_postgresql() -> Result<()> {
    let server = Postgres::start()?;
    postgres::migrate(&server.url())?;
    let pool = Arc::new(PgPool::connect(&server.url(), 4)?);
    let dir = config_dir("postgres")?;
    let path = dir.join("dialtone.toml");
    let shared = Arc::new(SharedCatalog::new(pool.clone(), "test-node"));
    // The first node seeds the store from its file; its scenario files go in with it.
    let config = shared.adopt(Config::from_file(&path)?)?;
    assert_eq!(config.shared.as_ref().map(|s| s.version), Some(1));
    std::fs::remove_file(dir.join("a.js"))?;
    let cell = CatalogCell::new(Catalog::new(config)?);
    let missing = "application 'default', rule 'vip': cannot read scenario missing.js: not in the shared store's catalog version 2";
    // A node starting later, with an empty config of its own, reads the store's catalog.
    let reopen = || -> Result<Catalog> {
        let empty = dir.join("empty.toml");
        std::fs::write(&empty, "")?;
        let node = SharedCatalog::new(pool.clone(), "later-node");
        Ok(Catalog::new(node.adopt(Config::from_file(&empty)?)?)?)
    };
    catalog_suite(&Editor::shared(shared), &cell, missing, &reopen)?;
    // Versions 1 (seed), 2 (vip), 3 (support): the refused edits wrote none.
    assert_eq!(
        cell.current().config.shared.as_ref().map(|s| s.version),
        Some(3)
    );
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
