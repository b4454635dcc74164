//! `show file systems` (IOS, IOS-XE, IOS-XR, NX-OS).

use netswim_domain::facts::FileSystems;

use crate::ParseError;

/// Parses `show file systems` output.
pub fn parse_show_file_systems(_output: &str) -> Result<FileSystems, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show file systems".into(),
        reason: "parser not built yet".into(),
    })
}
