//! One test per golden case in `tests/golden/`. Every case file must be listed here: the
//! `every_case_is_listed` test fails on a case without a test.

use dialtone_tests::golden;

macro_rules! golden_cases {
    ($($case:ident),* $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($case)),*];
        $(
            #[test]
            fn $case() -> anyhow::Result<()> {
                golden::check(stringify!($case))
            }
        )*
    };
}

golden_cases!(
    hello,
    app_events,
    voxengine_library,
    call_sip_console,
    forward_call_to_sip,
    started_without_call,
    conference,
    call_api,
    call_reject,
    playback_file,
    say_replace_stop,
    tones,
    record,
    caller_hangup,
    caller_cancel,
    unanswered_call,
    timers,
    timer_limit,
    runaway_loop,
    heap_limit,
    stack_limit,
    throw_in_handler,
    unhandled_rejection,
    non_function_handler,
    secrets,
    terminate_in_handler,
    missing_api,
    require_modules,
    util_globals,
    logger_cap,
    multi_script,
    syntax_error,
    top_level_throw,
    source_size_limit,
    players,
    limit_lookalikes,
    zero_delay_loop,
    log_flood,
    max_call_duration,
    ivr_menu,
    ivr_timeouts,
    lazy_parts,
);

#[test]
fn every_case_is_listed() -> anyhow::Result<()> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(golden::golden_dir())? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(case) = name.strip_suffix(".voxengine.js") {
            found.push(case.to_owned());
        }
    }
    found.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "golden/ cases and golden_cases! differ");
    Ok(())
}
