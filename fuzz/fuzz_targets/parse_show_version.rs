//! Fuzz target: every OS's `show version` / `display version` parser and OS detection must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netswim_domain::Os;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for command in ["show version", "display version"] {
        for os in Os::ALL {
            let _ = netswim_parse::parse(os, command, &text);
        }
    }
    let _ = netswim_parse::detect_os(&text);
});
