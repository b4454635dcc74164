//! Cisco IOS and IOS-XE `show version` (also classic autonomous/lightweight AP output).

use netswim_domain::facts::VersionFacts;

use crate::ParseError;

/// Parses `show version` output.
pub fn parse_show_version(_output: &str) -> Result<VersionFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show version".into(),
        reason: "parser not built yet".into(),
    })
}
