//! Application users and secrets on both of their stores: the files of a data directory
//! (`users.json`, `secrets.json`) and the shared PostgreSQL store. The same suite runs on
//! each, and what it leaves is read back by a store opened afresh (a restarted node).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use dialtone::secrets::SecretStore;
use dialtone::store::{PgPool, postgres};
use dialtone::users::{UserStore, ha1};
use dialtone_tests::postgres::Postgres;

fn data_dir(what: &str) -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dialtone-accounts-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// What every user store must do the same way; `reopen` opens the store again.
fn users_suite(users: &UserStore, reopen: &dyn Fn() -> Result<Arc<UserStore>>) -> Result<()> {
    let (info, added) = users.set("default", "alice", "first-password", Some("Alice"))?;
    assert!(added);
    assert_eq!(info.display_name.as_deref(), Some("Alice"));
    let (_, added) = users.set("default", "alice", "second-password", None)?;
    assert!(!added, "a second set changes her");
    users.set("default", "bob", "bobs-password", None)?;
    users.set("support", "carol", "carols-password", None)?;

    let names = |store: &UserStore, app: &str| -> Vec<String> {
        store.list(app).into_iter().map(|u| u.name).collect()
    };
    assert_eq!(names(users, "default"), ["alice", "bob"]);
    let (md5, sha256) = ha1("alice", "default", "second-password");
    let credentials = users.credentials("default", "alice").expect("alice");
    assert_eq!((credentials.ha1_md5, credentials.ha1_sha256), (md5, sha256));

    let refused = users
        .set("default", "no spaces", "a-good-password", None)
        .expect_err("bad name");
    assert_eq!(
        refused.to_string(),
        "user name 'no spaces' must be 1-64 letters, digits, '.', '_' or '-'"
    );
    let refused = users
        .set("default", "dave", "short", None)
        .expect_err("short password");
    assert_eq!(
        refused.to_string(),
        "a password must be 8 to 128 characters on one line"
    );
    users.remove("default", "bob")?;
    let refused = users.remove("default", "bob").expect_err("gone");
    assert_eq!(
        refused.to_string(),
        "application 'default' has no user named 'bob'"
    );

    let again = reopen()?;
    assert_eq!(names(&again, "default"), ["alice"]);
    assert_eq!(names(&again, "support"), ["carol"]);
    assert_eq!(
        again
            .credentials("default", "alice")
            .and_then(|c| c.display_name),
        None,
        "the second set cleared her display name"
    );
    Ok(())
}

/// What every secret store must do the same way; `reopen` opens the store again.
fn secrets_suite(
    secrets: &SecretStore,
    reopen: &dyn Fn() -> Result<Arc<SecretStore>>,
) -> Result<()> {
    let (_, new) = secrets.set("default", "API_TOKEN", "t-1", Some("the CRM"))?;
    assert!(new);
    let (info, new) = secrets.set("default", "API_TOKEN", "t-2", None)?;
    assert!(!new);
    assert_eq!(info.description.as_deref(), Some("the CRM"), "kept");
    secrets.set("default", "ROOM_PIN", "4321", None)?;
    secrets.set("support", "API_TOKEN", "s-1", None)?;
    let refused = secrets
        .set("default", "1BAD", "x", None)
        .expect_err("bad name");
    assert_eq!(
        refused.to_string(),
        "secret name '1BAD' must match ^[A-Za-z][A-Za-z0-9_]{0,63}$"
    );
    assert!(secrets.remove("default", "ROOM_PIN")?);
    assert!(!secrets.remove("default", "ROOM_PIN")?);
    assert_eq!(secrets.remove_application("support")?, 1);

    let again = reopen()?;
    let values = again.values("default");
    assert_eq!(
        values.into_iter().collect::<Vec<_>>(),
        [("API_TOKEN".to_owned(), "t-2".to_owned())]
    );
    assert!(again.values("support").is_empty());
    Ok(())
}

#[test]
fn the_accounts_suite_passes_on_the_data_directory_files() -> Result<()> {
    let dir = data_dir("files")?;
    let users = UserStore::open(&dir)?;
    users_suite(&users, &|| Ok(Arc::new(UserStore::open(&dir)?)))?;
    let secrets = SecretStore::open(&dir)?;
    secrets_suite(&secrets, &|| Ok(Arc::new(SecretStore::open(&dir)?)))?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}

#[test]
fn the_accounts_suite_passes_on_postgresql() -> Result<()> {
    let server = Postgres::start()?;
    postgres::migrate(&server.url())?;
    let pool = || -> Result<Arc<PgPool>> { Ok(Arc::new(PgPool::connect(&server.url(), 2)?)) };
    let dir = data_dir("postgres")?;
    let users = UserStore::postgres(pool()?)?;
    users_suite(&users, &|| Ok(UserStore::postgres(pool()?)?))?;
    let secrets = SecretStore::open_shared(&dir, pool()?)?;
    // Another node: the same master key (the same data directory's master.key here).
    secrets_suite(&secrets, &|| Ok(SecretStore::open_shared(&dir, pool()?)?))?;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
