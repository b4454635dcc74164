//! `show install ...` (IOS-XE summary/state, IOS-XR active, NX-OS active/all status).

use netswim_domain::Os;
use netswim_domain::facts::InstallFacts;

use crate::ParseError;

/// Parses `show install` output of a device running `os`.
pub fn parse_show_install(_os: Os, _output: &str) -> Result<InstallFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show install".into(),
        reason: "parser not built yet".into(),
    })
}
