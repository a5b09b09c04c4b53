//! Files only the server's user may read (secrets, user hashes), written whole or not at all:
//! to a temporary file with mode 0600, synced, then renamed over the old one.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` that way, creating its directory.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&temporary)?;
    out.write_all(bytes).and_then(|()| out.sync_all())?;
    std::fs::rename(&temporary, path)
}
