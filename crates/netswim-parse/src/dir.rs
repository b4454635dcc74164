//! `dir` listings of every OS (IOS, IOS-XE, IOS-XR, NX-OS, VRP) and Junos `file list`.

use netswim_domain::Os;
use netswim_domain::facts::DirListing;

use crate::ParseError;

/// Parses `dir` output of a device running `os`.
pub fn parse_dir(_os: Os, _output: &str) -> Result<DirListing, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "dir".into(),
        reason: "parser not built yet".into(),
    })
}
