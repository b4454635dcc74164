//! Cisco IOS / IOS-XE `show issu state detail`.

use netswim_domain::facts::IssuState;

use crate::ParseError;

/// Parses `show issu state detail` output.
pub fn parse_show_issu_state_detail(_output: &str) -> Result<IssuState, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show issu state detail".into(),
        reason: "parser not built yet".into(),
    })
}
