//! AFL entry point for the `sdp` fuzz target ([`dialtone_tests::fuzz::sdp`]).

fn main() {
    afl::fuzz!(|data: &[u8]| dialtone_tests::fuzz::sdp(data));
}
