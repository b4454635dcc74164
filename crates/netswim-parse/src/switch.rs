//! `show switch [detail]` of Catalyst stacks (IOS, IOS-XE).
//!
//! Grammar: `Switch/Stack Mac Address : <mac> [- Local Mac Address]` and
//! `Mac persistency wait time: <time>` lines, then the member table
//! (`Switch#  Role  Mac Address  Priority  Version  State`, the local member
//! starred `*1`, the version cell blank on provisioned members), then with
//! `detail` the `Stack Port Status  Neighbors` table (`1  Ok  Ok  3  2`).

use std::sync::LazyLock;

use netswim_domain::facts::{Detail, Details, StackFacts, SwitchMember};
use regex::Regex;

use crate::ParseError;
use crate::boot::{captures, put};

/// A member row: `*1  Active  04bd.9715.5140  5  V02  Ready`.
static MEMBER_ROW: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^\s*\*?\s*(\d+)\s+(\S+)\s+([0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})\s+(\d+)\s+(.*?)\s*$",
    )
    .ok()
});
/// A stack-port row: `1  Ok  Ok  3  2` / `1 DOWN DOWN None None`.
static PORT_ROW: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$").ok());

/// Which table the lines belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    None,
    Members,
    Ports,
}

/// Parses `show switch` output.
pub fn parse_show_switch(output: &str) -> Result<StackFacts, ParseError> {
    let mut facts = StackFacts::default();
    let mut table = Table::None;
    // Where the `State` column starts in the member header, to tell a blank
    // version cell from a present one.
    let mut state_column: Option<usize> = None;
    let mut saw_header = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() || line.chars().all(|c| c == '-' || c == '=') {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("switch/stack mac address") {
            let value = line.split_once(':').map_or("", |(_, value)| value).trim();
            let (mac, source) = match value.split_once(" - ") {
                Some((mac, source)) => (mac.trim(), source.trim()),
                None => (value, ""),
            };
            put(&mut facts.details, "mac_address", mac);
            put(&mut facts.details, "mac_address_source", source);
            continue;
        }
        if lower.starts_with("mac persistency wait time") {
            let value = line.split_once(':').map_or("", |(_, value)| value);
            put(&mut facts.details, "mac_persistency_wait_time", value);
            continue;
        }
        if lower.starts_with("stack port status") {
            table = Table::Ports;
            continue;
        }
        if lower.starts_with("switch#") {
            if lower.contains("role") {
                table = Table::Members;
                saw_header = true;
                state_column = raw_line.find("State");
            }
            continue;
        }
        if lower.starts_with("h/w") {
            continue;
        }
        match table {
            Table::Members | Table::None => {
                if let Some(member) = member_row(raw_line, state_column) {
                    facts.members.push(member);
                }
            }
            Table::Ports => add_port_row(&mut facts, line),
        }
    }
    if facts.members.is_empty() && !saw_header {
        return Err(ParseError::UnrecognisedOutput {
            command: "show switch".into(),
            reason: "no `Switch#  Role  Mac Address  Priority` member table".into(),
        });
    }
    Ok(facts)
}

fn member_row(raw_line: &str, state_column: Option<usize>) -> Option<SwitchMember> {
    let found = captures(&MEMBER_ROW, raw_line)?;
    let rest_match = found.get(5)?;
    let rest = rest_match.as_str();
    let mut member = SwitchMember {
        member: found.get(1)?.as_str().parse().ok()?,
        role: found.get(2).map(|m| m.as_str().to_string()),
        mac: found.get(3).map(|m| m.as_str().to_string()),
        priority: found.get(4).and_then(|m| m.as_str().parse().ok()),
        ..SwitchMember::default()
    };
    if raw_line.trim_start().starts_with('*') {
        put(&mut member.details, "local", "yes");
    }
    let mut words = rest.split_whitespace();
    let first = words.next();
    let remaining: Vec<&str> = words.collect();
    // The first word is the version unless it sits under the State column
    // (blank version cell) or is the only word (no version printed).
    let first_is_state = match state_column {
        Some(column) => rest_match.start() + 2 >= column,
        None => remaining.is_empty(),
    };
    match (first, first_is_state) {
        (Some(first), true) => {
            let state = std::iter::once(first)
                .chain(remaining.iter().copied())
                .collect::<Vec<_>>()
                .join(" ");
            member.state = Some(state);
        }
        (Some(first), false) => {
            member.version = Some(first.to_string());
            member.state = Some(remaining.join(" ")).filter(|state| !state.is_empty());
        }
        (None, _) => {}
    }
    Some(member)
}

/// `1  Ok  Ok  3  2`: the stack port status and neighbour of ports 1 and 2.
fn add_port_row(facts: &mut StackFacts, line: &str) {
    let Some(found) = captures(&PORT_ROW, line) else {
        return;
    };
    let Some(number) = found.get(1).and_then(|m| m.as_str().parse::<u32>().ok()) else {
        return;
    };
    let text = |index: usize| found.get(index).map_or("", |m| m.as_str());
    let mut ports = Details::new();
    for (port, status, neighbor) in [("1", text(2), text(4)), ("2", text(3), text(5))] {
        let mut port_details = Details::new();
        put(&mut port_details, "stack_port_status", status);
        put(&mut port_details, "neighbors_num", neighbor);
        ports.insert(port.to_string(), Detail::Map(port_details));
    }
    if let Some(member) = facts.members.iter_mut().find(|m| m.member == number) {
        member.details.insert("ports".into(), Detail::Map(ports));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert!(MEMBER_ROW.is_some());
        assert!(PORT_ROW.is_some());
    }

    #[test]
    fn members_keep_roles_states_and_blank_versions() {
        let out = include_str!("../tests/corpus/genie/iosxe/ShowSwitch/golden_output_1.raw");
        let facts = parse_show_switch(out).unwrap();
        assert_eq!(facts.members.len(), 3);
        let first = &facts.members[0];
        assert_eq!(first.member, 1);
        assert_eq!(first.role.as_deref(), Some("Active"));
        assert_eq!(first.mac.as_deref(), Some("0c75.bd6e.db00"));
        assert_eq!(first.priority, Some(15));
        assert_eq!(first.version.as_deref(), Some("V02"));
        assert_eq!(first.state.as_deref(), Some("Ready"));
        let second = &facts.members[1];
        assert_eq!(second.version, None);
        assert_eq!(second.state.as_deref(), Some("Provisioned"));
        assert_eq!(
            facts.details.get("mac_persistency_wait_time"),
            Some(&Detail::from("Indefinite"))
        );
    }

    #[test]
    fn detail_output_attaches_stack_ports_to_members() {
        let out = "Switch/Stack Mac Address : 4c4e.3573.ac00\n\
                                           H/W   Current\n\
Switch#  Role   Mac Address     Priority Version  State \n\
----------------------------------------------------------\n\
*1       Master 4c4e.3573.ac00     15     3       Ready               \n\
 2       Member 4c4e.3573.7b00     8      3       Version Mismatch\n\n\
         Stack Port Status             Neighbors     \n\
Switch#  Port 1     Port 2           Port 1   Port 2 \n\
--------------------------------------------------------\n\
  1        Ok         Ok                2        2 \n";
        let facts = parse_show_switch(out).unwrap();
        assert_eq!(facts.members[0].role.as_deref(), Some("Master"));
        assert_eq!(facts.members[1].state.as_deref(), Some("Version Mismatch"));
        let Some(Detail::Map(ports)) = facts.members[0].details.get("ports") else {
            panic!("ports missing");
        };
        let Some(Detail::Map(port)) = ports.get("2") else {
            panic!("port 2 missing");
        };
        assert_eq!(port.get("neighbors_num"), Some(&Detail::from("2")));
    }

    #[test]
    fn output_without_member_table_is_rejected() {
        assert!(parse_show_switch("nothing here\n").is_err());
    }
}
