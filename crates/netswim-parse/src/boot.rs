//! `show boot`, `show bootvar`, `show boot system` (IOS, IOS-XE, NX-OS).

use netswim_domain::Os;
use netswim_domain::facts::BootFacts;

use crate::ParseError;

/// Parses `show boot` output of a device running `os`.
pub fn parse_show_boot(_os: Os, _output: &str) -> Result<BootFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show boot".into(),
        reason: "parser not built yet".into(),
    })
}
