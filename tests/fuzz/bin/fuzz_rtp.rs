//! AFL entry point for the `rtp` fuzz target ([`dialtone_tests::fuzz::rtp`]).

fn main() {
    afl::fuzz!(|data: &[u8]| dialtone_tests::fuzz::rtp(data));
}
