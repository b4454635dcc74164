//! Fuzz target: IOS `.tar` archive inspection must never panic on any bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netswim_domain::archive::inspect_ios_tar(data);
});
