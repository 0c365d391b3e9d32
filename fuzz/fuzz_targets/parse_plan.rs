//! libFuzzer target: parse + plan + checks + expansion of arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rbuild_fuzz::exercise(data);
});
