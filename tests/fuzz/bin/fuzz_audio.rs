//! AFL entry point for the `audio` fuzz target ([`dialtone_tests::fuzz::audio`]).

fn main() {
    afl::fuzz!(|data: &[u8]| dialtone_tests::fuzz::audio(data));
}
