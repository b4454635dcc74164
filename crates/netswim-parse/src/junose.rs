//! Juniper JUNOSe `show issu detail` and `show ftp-server`.

use netswim_domain::facts::{FtpServerFacts, IssuDetail};

use crate::ParseError;

/// Parses `show issu detail` output.
pub fn parse_show_issu_detail(_output: &str) -> Result<IssuDetail, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show issu detail".into(),
        reason: "parser not built yet".into(),
    })
}

/// Parses `show ftp-server` output.
pub fn parse_show_ftp_server(_output: &str) -> Result<FtpServerFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show ftp-server".into(),
        reason: "parser not built yet".into(),
    })
}
