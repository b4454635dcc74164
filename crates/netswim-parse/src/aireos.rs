//! Cisco AireOS WLC `show boot`, `show ap image all`, `show ap bundle all` (and IOS-XE `show ap image`).

use netswim_domain::facts::{ApBundles, ApImages, BootFacts};

use crate::ParseError;

/// Parses `show boot` output.
pub fn parse_show_boot(_output: &str) -> Result<BootFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show boot".into(),
        reason: "parser not built yet".into(),
    })
}

/// Parses `show ap image all` output.
pub fn parse_show_ap_image(_output: &str) -> Result<ApImages, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show ap image all".into(),
        reason: "parser not built yet".into(),
    })
}

/// Parses `show ap bundle all` output.
pub fn parse_show_ap_bundle(_output: &str) -> Result<ApBundles, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show ap bundle all".into(),
        reason: "parser not built yet".into(),
    })
}
