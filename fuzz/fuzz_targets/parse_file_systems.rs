//! Fuzz target: `show file systems` parsers must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netswim_domain::Os;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for command in ["show file systems"] {
        for os in Os::ALL {
            let _ = netswim_parse::parse(os, command, &text);
        }
    }
});
