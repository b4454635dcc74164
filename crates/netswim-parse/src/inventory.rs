//! `show inventory` (IOS, IOS-XE, IOS-XR, NX-OS).

use netswim_domain::facts::Inventory;

use crate::ParseError;

/// Parses `show inventory` output.
pub fn parse_show_inventory(_output: &str) -> Result<Inventory, ParseError> {
    Err(ParseError::UnrecognisedOutput {
        command: "show inventory".into(),
        reason: "parser not built yet".into(),
    })
}
