//! Cisco IOS / IOS-XE `show issu state detail`.
//!
//! Grammar: `--- Starting local lock acquisition on R0 ---` (or `on switch 1`)
//! names a slot; `Slot being modified: R1` opens the block of an ISSU in
//! progress (`Loadversion time: ... on vty 0`, `Rollback: automatic,
//! remaining time before rollback: 00:29:53`, `Operating mode: sso, terminal
//! state reached`); Catalyst 9k prints `Current ISSU Status:` lines, a
//! `System Check  Status` table between `=====` rules, and for a running
//! ISSU `Added Image:` and `Completed operations:` tables. `No ISSU operation
//! is in progress` closes the output of an idle slot.

use std::sync::LazyLock;

use netswim_domain::facts::{Detail, Details, IssuSlotState, IssuState};
use regex::Regex;

use crate::ParseError;
use crate::boot::{captures, put, snake_key};

/// `--- Starting local lock acquisition on switch 1 ---`.
static LOCK: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^-+\s*starting local lock acquisition on\s+(?:switch\s+)?(\S+)\s*-+").ok()
});
/// `RP State = Active` (IOS per-slot blocks opened by `Slot = 1`).
static KEY_EQUALS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9 ()/_-]*?)\s*=\s*(.*)$").ok());
/// `Label: value` / `Install type  : value`.
static KEY_VALUE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9 ()/_-]*?)\s*:\s*(.*)$").ok());

/// Which table the lines belong to.
#[derive(Clone, PartialEq, Eq)]
enum Table {
    None,
    /// `Platform ISSU Support    Yes` rows.
    SystemCheck,
    /// Rows of a list table, stored under this key with these column names.
    Rows(String, Vec<String>),
}

/// Parses `show issu state detail` output.
pub fn parse_show_issu_state_detail(output: &str) -> Result<IssuState, ParseError> {
    let mut state = IssuState::default();
    let mut current: Option<usize> = None;
    let mut table = Table::None;
    let mut pending_table: Option<String> = None;
    let mut understood = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with("===") {
            table = Table::None;
            continue;
        }
        if line.starts_with("---") && line.chars().all(|c| c == '-') {
            continue;
        }
        if let Some(found) = captures(&LOCK, line) {
            let name = found.get(1).map_or("", |m| m.as_str());
            current = Some(slot_index(&mut state, name));
            table = Table::None;
            understood = true;
            continue;
        }
        let prompt = line
            .split_whitespace()
            .next()
            .is_some_and(|word| word.contains('#'));
        if line.starts_with("---") || line.starts_with("Finished ") || prompt {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("no issu operation is in progress") {
            let index = current_slot(&mut state, &mut current);
            if let Some(slot) = state.slots.get_mut(index) {
                put(&mut slot.details, "issu_in_progress", "no");
            }
            understood = true;
            table = Table::None;
            continue;
        }
        if let Some(found) = captures(&KEY_EQUALS, line) {
            let key = snake_key(found.get(1).map_or("", |m| m.as_str()));
            let value = found.get(2).map_or("", |m| m.as_str()).trim();
            if key == "slot" {
                current = Some(slot_index(&mut state, value));
            } else {
                let index = current_slot(&mut state, &mut current);
                if let Some(slot) = state.slots.get_mut(index) {
                    put(&mut slot.details, &key, value);
                }
            }
            understood = true;
            continue;
        }
        if let Some(name) = line.strip_prefix("Slot being modified:") {
            let index = slot_index(&mut state, name.trim());
            current = Some(index);
            if let Some(slot) = state.slots.get_mut(index) {
                put(&mut slot.details, "issu_in_progress", "yes");
            }
            understood = true;
            continue;
        }
        if lower.starts_with("system check") && lower.ends_with("status") {
            table = Table::SystemCheck;
            continue;
        }
        // A table title (`Added Image:`, `Completed operations:`) then its header.
        if let Some(title) = pending_table.take() {
            let columns: Vec<String> = line
                .split("  ")
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .map(snake_key)
                .collect();
            if columns.len() >= 2 {
                table = Table::Rows(title, columns);
                continue;
            }
        }
        let index = current_slot(&mut state, &mut current);
        let Some(slot) = state.slots.get_mut(index) else {
            continue;
        };
        match &table {
            Table::SystemCheck => {
                if let Some((check, status)) = split_columns(line) {
                    let checks = slot
                        .details
                        .entry("system_check".into())
                        .or_insert_with(|| Detail::Map(Details::new()));
                    if let Detail::Map(checks) = checks {
                        put(checks, &snake_key(&check), &status);
                    }
                    understood = true;
                    continue;
                }
            }
            Table::Rows(title, columns) => {
                if let Some(row) = table_row(line, columns) {
                    let rows = slot
                        .details
                        .entry(title.clone())
                        .or_insert_with(|| Detail::List(Vec::new()));
                    if let Detail::List(rows) = rows {
                        rows.push(Detail::Map(row));
                    }
                    continue;
                }
                table = Table::None;
            }
            Table::None => {}
        }
        let Some(found) = captures(&KEY_VALUE, line) else {
            continue;
        };
        let key = snake_key(found.get(1).map_or("", |m| m.as_str()));
        let value = found.get(2).map_or("", |m| m.as_str()).trim();
        if value.is_empty() {
            pending_table = Some(key);
            continue;
        }
        understood = true;
        add_setting(&mut slot.details, &key, value);
    }
    if !understood {
        return Err(ParseError::UnrecognisedOutput {
            command: "show issu state detail".into(),
            reason: "no lock acquisition, slot, ISSU status or `No ISSU operation` line".into(),
        });
    }
    finish(&mut state);
    Ok(state)
}

/// Stores one `Key: value` line, splitting the values that pack several facts.
fn add_setting(details: &mut Details, key: &str, value: &str) {
    match key {
        // `20180430 20:31:25 on vty 0`.
        _ if key.ends_with("_time") && value.contains(" on ") => {
            if let Some((when, context)) = value.split_once(" on ") {
                put(details, key, when);
                put(details, "context", context);
            }
        }
        // `inactive, timer canceled by acceptversion` or
        // `automatic, remaining time before rollback: 00:29:53`.
        "rollback" => {
            let (state, rest) = value.split_once(',').unwrap_or((value, ""));
            put(details, "rollback_state", state);
            let rest = rest.trim();
            match rest.split_once("before rollback:") {
                Some((_, time)) => put(details, "rollback_time", time),
                None => put(details, "rollback_reason", rest),
            }
        }
        // `sso, terminal state reached`.
        "operating_mode" => {
            let (mode, rest) = value.split_once(',').unwrap_or((value, ""));
            put(details, key, mode);
            if rest.trim().eq_ignore_ascii_case("terminal state reached") {
                put(details, "terminal_state_reached", "yes");
            } else {
                put(details, "operating_mode_state", rest);
            }
        }
        _ => put(details, key, value),
    }
}

/// `Platform ISSU Support               Yes`: label and value split at the widest gap.
fn split_columns(line: &str) -> Option<(String, String)> {
    let (label, value) = line.rsplit_once("  ")?;
    let (label, value) = (label.trim(), value.trim());
    (!label.is_empty() && !value.is_empty()).then(|| (label.to_string(), value.to_string()))
}

/// A row of a titled table (`17.19.01.0.224242   Yes`), cells split on 2+ spaces.
fn table_row(line: &str, columns: &[String]) -> Option<Details> {
    let cells: Vec<&str> = line
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    if cells.len() != columns.len() {
        return None;
    }
    let mut row = Details::new();
    for (column, cell) in columns.iter().zip(cells) {
        put(&mut row, column, cell);
    }
    Some(row)
}

fn slot_index(state: &mut IssuState, name: &str) -> usize {
    if let Some(index) = state.slots.iter().position(|slot| slot.slot == name) {
        return index;
    }
    state.slots.push(IssuSlotState {
        slot: name.to_string(),
        details: Details::new(),
    });
    state.slots.len() - 1
}

/// The slot lines apply to; an unnamed one (`""`) when the output names none.
fn current_slot(state: &mut IssuState, current: &mut Option<usize>) -> usize {
    match current {
        Some(index) => *index,
        None => {
            let index = slot_index(state, "");
            *current = Some(index);
            index
        }
    }
}

/// Facts implied by the whole output: while one slot is being modified the
/// others are not, and a modified slot that lists no runversion has not run it.
fn finish(state: &mut IssuState) {
    let any_modified = state.slots.iter().any(|slot| {
        slot.details
            .get("issu_in_progress")
            .and_then(Detail::as_text)
            == Some("yes")
    });
    for slot in &mut state.slots {
        let modified = slot
            .details
            .get("issu_in_progress")
            .and_then(Detail::as_text)
            == Some("yes");
        if modified {
            let ran = slot.details.contains_key("runversion_time");
            put(
                &mut slot.details,
                "runversion_executed",
                if ran { "yes" } else { "no" },
            );
        } else if any_modified {
            put(&mut slot.details, "issu_in_progress", "no");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(details: &'a Details, key: &str) -> Option<&'a str> {
        details.get(key).and_then(Detail::as_text)
    }

    #[test]
    fn every_pattern_compiles() {
        assert!(LOCK.is_some());
        assert!(KEY_VALUE.is_some());
        assert!(KEY_EQUALS.is_some());
    }

    #[test]
    fn ios_slot_blocks_of_key_equals_lines() {
        let out = "                          Slot = 1\n                      RP State = Active\n                    ISSU State = Init\n                 Boot Variable = bootdisk:s72033-adventerprisek9-mz.122-33.SXI.bin,12;\n                Operating Mode = Stateful Switchover\n\n                          Slot = 2\n                      RP State = Standby\n                    ISSU State = Init\n";
        let state = parse_show_issu_state_detail(out).unwrap();
        assert_eq!(state.slots.len(), 2);
        assert_eq!(state.slots[0].slot, "1");
        assert_eq!(text(&state.slots[0].details, "rp_state"), Some("Active"));
        assert_eq!(
            text(&state.slots[0].details, "operating_mode"),
            Some("Stateful Switchover")
        );
        assert_eq!(text(&state.slots[1].details, "issu_state"), Some("Init"));
    }

    #[test]
    fn asr_loadversion_block_is_split_into_facts() {
        let out =
            include_str!("../tests/corpus/genie/iosxe/ShowIssuStateDetail/golden_output_3.raw");
        let state = parse_show_issu_state_detail(out).unwrap();
        assert_eq!(state.slots.len(), 2);
        assert_eq!(state.slots[0].slot, "R0");
        assert_eq!(
            text(&state.slots[0].details, "issu_in_progress"),
            Some("no")
        );
        let r1 = &state.slots[1].details;
        assert_eq!(text(r1, "issu_in_progress"), Some("yes"));
        assert_eq!(text(r1, "loadversion_time"), Some("20180430 19:13:51"));
        assert_eq!(text(r1, "context"), Some("vty 0"));
        assert_eq!(text(r1, "rollback_state"), Some("automatic"));
        assert_eq!(text(r1, "rollback_time"), Some("00:29:53"));
        assert_eq!(text(r1, "operating_mode"), Some("sso"));
        assert_eq!(text(r1, "terminal_state_reached"), Some("yes"));
        assert_eq!(text(r1, "runversion_executed"), Some("no"));
    }

    #[test]
    fn cat9k_system_check_and_operations_tables_are_kept() {
        let out =
            include_str!("../tests/corpus/genie/iosxe/rv1/ShowIssuStateDetail/golden_output_9.raw");
        let state = parse_show_issu_state_detail(out).unwrap();
        let slot = &state.slots[0];
        assert_eq!(slot.slot, "");
        assert_eq!(
            text(&slot.details, "current_issu_status"),
            Some("In Progress")
        );
        let Some(Detail::Map(checks)) = slot.details.get("system_check") else {
            panic!("system check missing");
        };
        assert_eq!(text(checks, "operational_mode"), Some("HA-STANDALONE"));
        let Some(Detail::List(operations)) = slot.details.get("completed_operations") else {
            panic!("operations missing");
        };
        assert_eq!(operations.len(), 5);
        assert_eq!(
            text(&slot.details, "running_image"),
            Some("bootflash:packages.conf")
        );
        assert_eq!(slot.details.get("issu_in_progress"), None);
    }

    #[test]
    fn idle_switch_reports_no_operation() {
        let out = "--- Starting local lock acquisition on switch 1 ---\nFinished local lock acquisition on switch 1\n\nNo ISSU operation is in progress\n";
        let state = parse_show_issu_state_detail(out).unwrap();
        assert_eq!(state.slots[0].slot, "1");
        assert_eq!(
            text(&state.slots[0].details, "issu_in_progress"),
            Some("no")
        );
    }

    #[test]
    fn unrelated_text_is_rejected() {
        assert!(parse_show_issu_state_detail("hello\n").is_err());
    }
}
