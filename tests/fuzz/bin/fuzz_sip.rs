//! AFL entry point for the `sip` fuzz target ([`dialtone_tests::fuzz::sip`]).

fn main() {
    afl::fuzz!(|data: &[u8]| dialtone_tests::fuzz::sip(data));
}
