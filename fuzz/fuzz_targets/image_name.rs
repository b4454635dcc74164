//! Fuzz target: image file-name decoding must never panic.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netswim_domain::image::parse_image_name(&String::from_utf8_lossy(data));
});
