//! Fuzz target: ISSU (JUNOSe detail, IOS state detail) and FTP-server parsers must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netswim_domain::Os;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for command in ["show issu detail", "show issu state detail", "show ftp-server"] {
        for os in Os::ALL {
            let _ = netswim_parse::parse(os, command, &text);
        }
    }
});
