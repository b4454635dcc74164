//! `show switch [detail]` of Catalyst stacks (IOS, IOS-XE).

use netswim_domain::facts::StackFacts;

use crate::ParseError;

/// Parses `show switch` output.
pub fn parse_show_switch(_output: &str) -> Result<StackFacts, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show switch".into(),
        reason: "parser not built yet".into(),
    })
}
