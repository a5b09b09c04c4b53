//! A short soak (`dialtone bench soak` at 20 calls a second for 15 s, where the command's
//! default is 200 for 10 minutes): every call answered, played to, given a key press and hung
//! up; no call fails, every key press reaches its scenario, and once the load drains no call,
//! session or file descriptor (socket, RTP port) is left behind.

use std::time::Duration;

use anyhow::Result;

#[test]
fn a_short_soak_fails_no_call_and_leaks_nothing() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = runtime.block_on(dialtone::bench::soak::soak(
        20,
        15,
        Duration::from_secs(5),
        |line| eprintln!("{line}"),
    ))?;
    eprintln!("{report}");
    assert_eq!(report.problems(), Vec::<String>::new(), "{report}");
    assert_eq!(report.keys, report.calls, "{report}");
    Ok(())
}
