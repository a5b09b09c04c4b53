//! The fuzz corpus (`tests/fuzz/corpus/<target>/`), replayed through the fuzz targets: every
//! input AFL kept, seeds and any crash it once found, must pass each target's checks. The long
//! runs are `tests/fuzz/run` (figures in docs/operations.md).

use anyhow::{Context as _, Result};
use dialtone_tests::fuzz::TARGETS;

#[test]
fn every_corpus_input_passes_its_target() -> Result<()> {
    let root = dialtone_tests::workspace_root().join("tests/fuzz/corpus");
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let mut inputs = 0;
        for entry in std::fs::read_dir(&dir).with_context(|| format!("{}", dir.display()))? {
            let path = entry?.path();
            if !path.is_file() {
                continue;
            }
            let data = std::fs::read(&path)?;
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(
                outcome.is_ok(),
                "{name}: {} fails its checks",
                path.display()
            );
            inputs += 1;
        }
        assert!(inputs > 0, "{name}: the corpus is empty");
    }
    Ok(())
}
