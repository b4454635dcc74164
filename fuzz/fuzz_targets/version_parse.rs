//! Fuzz target: version parsing, display and comparison must never panic,
//! and display must parse back to an equal version.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netswim_domain::Os;
use netswim_domain::version::{Version, VersionOrdering};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (left, right) = text.split_once('|').unwrap_or((&text, "15.2(7)E8"));
    for os in Os::ALL {
        if let (Ok(a), Ok(b)) = (Version::parse(os, left), Version::parse(os, right)) {
            assert_eq!(a.compare(&b), b.compare(&a).reverse());
            let shown = a.to_string();
            if let Ok(again) = Version::parse(os, &shown) {
                assert_eq!(again.compare(&a), VersionOrdering::Equal, "{shown}");
            }
        }
    }
});
