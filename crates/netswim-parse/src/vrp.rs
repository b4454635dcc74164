//! Huawei VRP `display version`, `display startup`, `display patch-information`.

use netswim_domain::facts::{PatchFacts, StartupFacts, VersionFacts};

use crate::ParseError;

/// Parses `display version` output.
pub fn parse_display_version(_output: &str) -> Result<VersionFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "display version".into(),
        reason: "parser not built yet".into(),
    })
}

/// Parses `display startup` output.
pub fn parse_display_startup(_output: &str) -> Result<StartupFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "display startup".into(),
        reason: "parser not built yet".into(),
    })
}

/// Parses `display patch-information` output.
pub fn parse_display_patch_information(_output: &str) -> Result<PatchFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "display patch-information".into(),
        reason: "parser not built yet".into(),
    })
}
