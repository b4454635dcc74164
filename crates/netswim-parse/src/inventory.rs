//! `show inventory` (IOS, IOS-XE, IOS-XR, NX-OS).
//!
//! The output is a stream of `KEY: value` pairs separated by commas and line
//! breaks (`NAME: "1", DESCR: "WS-C3750X-48P"` / `PID: WS-C3750X-48P-S , VID:
//! V02 , SN: FDO1234X0YZ`); quoted values may hold commas, and every `NAME`
//! starts a new item, whatever the line layout.

use std::sync::LazyLock;

use netswim_domain::facts::{Inventory, InventoryItem};
use regex::Regex;

use crate::ParseError;

/// A key at the start of a line or after a comma: `NAME:`, `DESCR:`, `SN:`.
/// Compiled once; `None` (a pattern that failed to compile, tested) matches nothing.
pub(crate) static KEY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?:^|,)\s*(?P<key>[A-Za-z][A-Za-z ]{0,15}?)\s*:\s*").ok());

/// Parses `show inventory` output.
pub fn parse_show_inventory(output: &str) -> Result<Inventory, ParseError> {
    let mut inventory = Inventory::default();
    let mut current: Option<InventoryItem> = None;
    for line in output.lines() {
        for (key, value) in pairs(line) {
            if key == "name" {
                if let Some(item) = current.take() {
                    inventory.items.push(item);
                }
                current = Some(InventoryItem {
                    name: value,
                    ..InventoryItem::default()
                });
                continue;
            }
            // Pairs before the first NAME belong to nothing we can name.
            let Some(item) = current.as_mut() else {
                continue;
            };
            let value = Some(value).filter(|v| !v.is_empty());
            match key.as_str() {
                "descr" | "description" => item.description = value,
                "pid" => item.pid = value,
                "vid" => item.vid = value,
                "sn" | "serial" => item.serial = value,
                other => {
                    if let Some(value) = value {
                        item.details.insert(other.replace(' ', "_"), value.into());
                    }
                }
            }
        }
    }
    if let Some(item) = current.take() {
        inventory.items.push(item);
    }
    if inventory.items.is_empty() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show inventory".into(),
            reason: "no `NAME: \"...\"` item found (hint: pass the whole output)".into(),
        });
    }
    Ok(inventory)
}

/// The `KEY: value` pairs of one line, keys lower-cased, quotes removed.
fn pairs(line: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = line;
    // Only a line that starts with a key holds pairs (a timestamp line does not).
    let Some(first) = KEY.as_ref().and_then(|re| re.captures(rest)) else {
        return found;
    };
    if first.get(0).is_none_or(|m| m.start() != 0) {
        return found;
    }
    while let Some(caps) = KEY.as_ref().and_then(|re| re.captures(rest)) {
        let (Some(whole), Some(key)) = (caps.get(0), caps.name("key")) else {
            break;
        };
        if whole.start() != 0 {
            break;
        }
        let key = key.as_str().trim().to_ascii_lowercase();
        let after = rest.get(whole.end()..).unwrap_or("");
        let (value, remainder) = take_value(after);
        found.push((key, value));
        rest = remainder;
        if rest.trim().is_empty() {
            break;
        }
    }
    found
}

/// Splits the value at the start of `text` from what follows it (`, NEXT: ...`).
fn take_value(text: &str) -> (String, &str) {
    if let Some(quoted) = text.strip_prefix('"') {
        // The closing quote is the one followed by a comma or the end of the line.
        let mut search_from = 0;
        while let Some(offset) = quoted.get(search_from..).and_then(|t| t.find('"')) {
            let close = search_from + offset;
            let after = quoted.get(close + 1..).unwrap_or("");
            let after_trimmed = after.trim_start();
            if after_trimmed.is_empty() || after_trimmed.starts_with(',') {
                let value = quoted.get(..close).unwrap_or("").trim().to_string();
                return (value, after_trimmed);
            }
            search_from = close + 1;
        }
        // No closing quote: the rest of the line is the value.
        return (quoted.trim().trim_end_matches('"').trim().to_string(), "");
    }
    // An unquoted value ends where the next `, KEY:` begins.
    let mut search_from = 0;
    while let Some(offset) = text.get(search_from..).and_then(|t| t.find(',')) {
        let comma = search_from + offset;
        let after = text.get(comma..).unwrap_or("");
        if KEY
            .as_ref()
            .and_then(|re| re.find(after))
            .is_some_and(|m| m.start() == 0)
        {
            let value = text.get(..comma).unwrap_or("").trim().to_string();
            return (value, after);
        }
        search_from = comma + 1;
    }
    (text.trim().to_string(), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    type Row<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn check(input: &str, expected: &[Row]) {
        let inventory = parse_show_inventory(input).expect("parses");
        let got: Vec<_> = inventory
            .items
            .iter()
            .map(|item| {
                (
                    item.name.as_str(),
                    item.description.as_deref(),
                    item.pid.as_deref(),
                    item.vid.as_deref(),
                    item.serial.as_deref(),
                )
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn two_line_blocks_with_padded_values() {
        check(
            "NAME: \"1\", DESCR: \"WS-C3750X-48P\"\nPID: WS-C3750X-48P-S , VID: V02 , SN: FDO1234X0YZ\n\n\
             NAME: \"Switch 1 - Power Supply 0\", DESCR: \"FRU Power Supply\"\nPID: C3KX-PWR-715WAC    , VID: V01  , SN: LIT1234ABCD\n",
            &[
                (
                    "1",
                    Some("WS-C3750X-48P"),
                    Some("WS-C3750X-48P-S"),
                    Some("V02"),
                    Some("FDO1234X0YZ"),
                ),
                (
                    "Switch 1 - Power Supply 0",
                    Some("FRU Power Supply"),
                    Some("C3KX-PWR-715WAC"),
                    Some("V01"),
                    Some("LIT1234ABCD"),
                ),
            ],
        );
    }

    #[test]
    fn quoted_values_keep_their_commas_and_empty_values_are_absent() {
        check(
            "NAME: \"Chassis\", DESCR: \"Cisco 7206VXR, 6-slot chassis\"\nPID:                   , VID: 0xFF, SN: \n",
            &[(
                "Chassis",
                Some("Cisco 7206VXR, 6-slot chassis"),
                None,
                Some("0xFF"),
                None,
            )],
        );
    }

    #[test]
    fn one_line_items_and_xr_timestamp() {
        check(
            "Tue Jan 16 17:08:43.028 AEST\nNAME: \"0/RSP0/CPU0\", DESCR: \"ASR9K RSP\", PID: A9K-RSP440-SE, VID: V05, SN: FOC123\n\
             NAME: \"Rack 0\",  DESCR: \"Chassis\"\nPID: ASR-9006-AC-V2     ,  VID: V01 ,  SN: FOX456\n",
            &[
                (
                    "0/RSP0/CPU0",
                    Some("ASR9K RSP"),
                    Some("A9K-RSP440-SE"),
                    Some("V05"),
                    Some("FOC123"),
                ),
                (
                    "Rack 0",
                    Some("Chassis"),
                    Some("ASR-9006-AC-V2"),
                    Some("V01"),
                    Some("FOX456"),
                ),
            ],
        );
    }

    #[test]
    fn output_without_items_is_refused() {
        assert!(parse_show_inventory("nothing here\n").is_err());
    }
}
