//! OS detection from `show version` (or `display version`) output.

use netswim_domain::Os;

/// Detects the OS that printed `output` (a `show version`), if it can tell.
pub fn detect_os(_output: &str) -> Option<Os> {
    None
}
