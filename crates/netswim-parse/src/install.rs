//! `show install ...` (IOS-XE summary/state, IOS-XR active, NX-OS active/all status).
//!
//! Three grammars:
//! - IOS-XE: `[ R0 R1 ] Installed Package(s) Information:` blocks, a state
//!   legend (`I - Inactive, U - Activated & Uncommitted, ...`), a
//!   `Type  St  Filename/Version` table and an `Auto abort timer:` line;
//! - package lists (IOS-XR `show install active [summary]`, NX-OS
//!   `show install active`): `Node 0/RP0/CPU0 [RP]` blocks with
//!   `Key: value` lines, `<State> Packages:` headers followed by one package
//!   per line, IOS-XR 7 `Optional Packages   Version` tables and
//!   `Active Fixes (count: N):` lists;
//! - NX-OS `show install all status`: `<timestamp>` / step / `-- SUCCESS` triples
//!   and a `Module  bootable  Impact  Install-type  Reason` table.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::Os;
use netswim_domain::facts::{Detail, Details, InstallFacts, InstallPackage};
use regex::Regex;

use crate::ParseError;
use crate::boot::{captures, put, snake_key};

/// `[ R0 R1 ] Installed Package(s) Information:`.
static XE_LOCATION: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\[\s*(.*?)\s*\]\s*(.*?)\s*Package\(s\) Information").ok());
/// `I - Inactive` pairs of the state legend.
static XE_LEGEND: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b([A-Z])\s+-\s+([A-Za-z][A-Za-z &]*[A-Za-z])").ok());
/// `SMU   U    bootflash:utah.bm.smu.may15.bin`.
static XE_PACKAGE_ROW: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Z][A-Z0-9]*)\s+([A-Z])\s+(\S+)\s*$").ok());
/// `Auto abort timer: active on install_activate, time before rollback - 01:49:42`.
static XE_ABORT_TIMER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^auto abort timer:\s*(.*?)(?:,\s*time before rollback\s*-\s*(\S+))?\s*$").ok()
});
/// `Node 0/RP0/CPU0 [RP] [SDR: Owner]`.
static XR_NODE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^Node\s+(\S+)\s*(?:\[([^\]:]+)\])?\s*(?:\[SDR:\s*([^\]]+)\])?").ok()
});
/// `Active Packages: 18`, `Inactive Packages:`, `Active Packages on Module #3:`.
static PACKAGES_HEADER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^(\w+)\s+packages(?:\s+on\s+module\s+#?(\d+))?\s*:\s*(.*)$").ok()
});
/// `Optional Packages                     Version` table header (IOS-XR 7).
static PACKAGE_TABLE_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(.*\bPackages\b.*?)\s{2,}Version\s*$").ok());
/// `Active Fixes (count: 6):`.
static FIXES_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^(\w+)\s+fixes\s*\(count:\s*(\d+)\)\s*:?\s*$").ok());
/// `Key: value` (a colon followed by a blank or the end of line, unlike `disk0:pkg`).
static KEY_VALUE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9 ()#/_.-]*?)\s*:(?:\s+(.*))?$").ok());
/// `Mon Feb 28 23:36:31.563 CET` timestamp banner.
static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d+\s+\d+:\d+:\d+").ok()
});
/// `<Tue Sep 28 02:55:56>` step timestamp of `show install all status`.
static STEP_TIME: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^<([^>]+)>\s*$").ok());
/// ` -- SUCCESS <Tue Sep 28 02:57:04>` step result.
static STEP_RESULT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^--\s*([A-Za-z]+)\.?\s*(?:<([^>]+)>)?").ok());

/// Parses `show install` output of a device running `os`.
pub fn parse_show_install(os: Os, output: &str) -> Result<InstallFacts, ParseError> {
    let facts = if output.contains("Package(s) Information") {
        parse_iosxe(output)
    } else if os == Os::Nxos
        && output
            .lines()
            .any(|line| captures(&STEP_TIME, line.trim()).is_some() || line.contains("bootable"))
    {
        parse_install_all_status(output)
    } else {
        parse_package_lists(output)
    };
    if facts.packages.is_empty() && facts.details.is_empty() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show install".into(),
            reason: "no package list, package table or install step found".into(),
        });
    }
    Ok(facts)
}

/// A legend description (`Activated & Committed`) as a stable state name.
fn state_name(description: &str) -> String {
    let name = snake_key(&description.replace('&', " "));
    match name.as_str() {
        "activated_committed" => "committed".into(),
        _ => name,
    }
}

/// The IOS-XE legend every release prints, used when the output lacks it.
fn default_legend() -> BTreeMap<String, String> {
    [
        ("I", "inactive"),
        ("U", "activated_uncommitted"),
        ("C", "committed"),
        ("D", "deactivated_uncommitted"),
    ]
    .into_iter()
    .map(|(code, state)| (code.to_string(), state.to_string()))
    .collect()
}

fn parse_iosxe(output: &str) -> InstallFacts {
    let mut facts = InstallFacts::default();
    let mut legend = default_legend();
    let mut location: Option<String> = None;
    let mut locations: Vec<Detail> = Vec::new();
    let mut in_legend = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if let Some(found) = captures(&XE_LOCATION, line) {
            let name = found.get(1).map_or("", |m| m.as_str()).to_string();
            let kind = found.get(2).map_or("", |m| m.as_str());
            put(&mut facts.details, "listing", kind);
            locations.push(Detail::Text(name.clone()));
            location = Some(name);
            continue;
        }
        if line.starts_with("State (St):") {
            in_legend = true;
        }
        if in_legend {
            if line.starts_with('-') || line.is_empty() {
                in_legend = false;
            } else {
                let text = line.trim_start_matches("State (St):");
                for found in XE_LEGEND.iter().flat_map(|regex| regex.captures_iter(text)) {
                    let code = found.get(1).map_or("", |m| m.as_str());
                    let description = found.get(2).map_or("", |m| m.as_str());
                    legend.insert(code.to_string(), state_name(description));
                }
                continue;
            }
        }
        if let Some(found) = captures(&XE_ABORT_TIMER, line) {
            put(
                &mut facts.details,
                "auto_abort_timer",
                found.get(1).map_or("", |m| m.as_str()),
            );
            put(
                &mut facts.details,
                "time_before_rollback",
                found.get(2).map_or("", |m| m.as_str()),
            );
            continue;
        }
        let Some(found) = captures(&XE_PACKAGE_ROW, line) else {
            continue;
        };
        let kind = found.get(1).map_or("", |m| m.as_str());
        let code = found.get(2).map_or("", |m| m.as_str());
        let name = found.get(3).map_or("", |m| m.as_str());
        let mut package = InstallPackage {
            name: name.to_string(),
            state: legend.get(code).cloned(),
            details: Details::new(),
        };
        put(&mut package.details, "type", kind);
        put(&mut package.details, "state_code", code);
        if let Some(location) = &location {
            put(&mut package.details, "location", location);
        }
        facts.packages.push(package);
    }
    if !locations.is_empty() {
        facts
            .details
            .insert("locations".into(), Detail::List(locations));
    }
    facts
}

/// One `Node ... [RP]` block of IOS-XR output.
#[derive(Default)]
struct NodeBlock {
    details: Details,
    packages: Vec<Detail>,
}

impl NodeBlock {
    fn into_detail(mut self) -> Detail {
        if !self.packages.is_empty() {
            self.details
                .insert("packages".into(), Detail::List(self.packages));
        }
        Detail::Map(self.details)
    }
}

/// What the lines under the last header are.
#[derive(Clone, PartialEq, Eq)]
enum Listing {
    Nothing,
    /// One package per line, in this state.
    Packages(String),
    /// `name   version` rows of this category.
    Table(String),
    /// `CSCxx12345: pkg, pkg` rows.
    Fixes,
    /// Bare values belonging to a `Key:` line without value (`SDRs:` / `Owner`).
    Values(String),
}

fn parse_package_lists(output: &str) -> InstallFacts {
    let mut facts = InstallFacts::default();
    let mut nodes: Vec<Detail> = Vec::new();
    let mut node: Option<NodeBlock> = None;
    let mut module: Option<String> = None;
    let mut listing = Listing::Nothing;
    let mut fixes = Details::new();
    let mut values: BTreeMap<String, Vec<Detail>> = BTreeMap::new();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty()
            || line.chars().all(|c| c == '-' || c == ' ')
            || captures(&TIMESTAMP, line).is_some()
            || line
                .split_whitespace()
                .next()
                .is_some_and(|word| word.contains('#'))
            || line.to_ascii_lowercase().starts_with("show install")
        {
            continue;
        }
        if let Some(found) = captures(&XR_NODE, line) {
            if let Some(done) = node.take() {
                nodes.push(done.into_detail());
            }
            let mut block = NodeBlock::default();
            put(
                &mut block.details,
                "node",
                found.get(1).map_or("", |m| m.as_str()),
            );
            put(
                &mut block.details,
                "node_type",
                found.get(2).map_or("", |m| m.as_str()),
            );
            put(
                &mut block.details,
                "sdr",
                found.get(3).map_or("", |m| m.as_str()),
            );
            node = Some(block);
            module = None;
            listing = Listing::Nothing;
            continue;
        }
        if let Some(found) = captures(&PACKAGES_HEADER, line) {
            let state = found.get(1).map_or("", |m| m.as_str()).to_ascii_lowercase();
            module = found.get(2).map(|m| m.as_str().to_string());
            let rest = found.get(3).map_or("", |m| m.as_str()).trim();
            let target = match &mut node {
                Some(block) => &mut block.details,
                None => &mut facts.details,
            };
            if rest.chars().all(|c| c.is_ascii_digit()) {
                put(target, &format!("{state}_package_count"), rest);
            } else {
                // `XR: 201    All: 1532`: counts per package set.
                let mut counts = Details::new();
                let words: Vec<&str> = rest.split_whitespace().collect();
                for pair in words.chunks(2) {
                    if let [label, count] = pair {
                        put(&mut counts, label.trim_end_matches(':'), count);
                    }
                }
                if !counts.is_empty() {
                    target.insert(format!("{state}_package_counts"), Detail::Map(counts));
                }
            }
            listing = Listing::Packages(state);
            continue;
        }
        if let Some(found) = captures(&PACKAGE_TABLE_HEADER, line) {
            let category = snake_key(found.get(1).map_or("", |m| m.as_str()));
            listing = Listing::Table(category);
            continue;
        }
        if let Some(found) = captures(&FIXES_HEADER, line) {
            let kind = snake_key(found.get(1).map_or("", |m| m.as_str()));
            put(&mut fixes, "count", found.get(2).map_or("", |m| m.as_str()));
            put(&mut facts.details, "fixes_kind", &kind);
            listing = Listing::Fixes;
            continue;
        }
        if listing == Listing::Fixes {
            if let Some((bug, packages)) = line.split_once(':') {
                put(&mut fixes, bug.trim(), packages);
                continue;
            }
        }
        if let Listing::Table(category) = &listing {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let [name, version] = words.as_slice() {
                let mut package = InstallPackage {
                    name: name.to_string(),
                    state: Some("active".into()),
                    details: Details::new(),
                };
                put(&mut package.details, "version", version);
                put(&mut package.details, "category", category);
                facts.packages.push(package);
                continue;
            }
        }
        if let Some(found) = captures(&KEY_VALUE, line) {
            let key = snake_key(found.get(1).map_or("", |m| m.as_str()));
            let value = found.get(2).map_or("", |m| m.as_str()).trim();
            let target = match &mut node {
                Some(block) => &mut block.details,
                None => &mut facts.details,
            };
            if value.is_empty() {
                listing = Listing::Values(key);
            } else {
                put(target, &key, value);
                if matches!(listing, Listing::Values(_)) {
                    listing = Listing::Nothing;
                }
            }
            continue;
        }
        match &listing {
            Listing::Packages(state) => {
                let mut words = line.split_whitespace();
                let Some(name) = words.next() else {
                    continue;
                };
                let mut package = InstallPackage {
                    name: name.to_string(),
                    state: Some(state.clone()),
                    details: Details::new(),
                };
                let rest: Vec<&str> = words.collect();
                for word in &rest {
                    if let Some(version) = word.strip_prefix("version=") {
                        put(&mut package.details, "version", version);
                    }
                }
                if rest.join(" ").to_ascii_lowercase().contains("[boot image]") {
                    put(&mut package.details, "boot_image", "yes");
                }
                if let Some(module) = &module {
                    put(&mut package.details, "module", module);
                }
                if let Some(block) = &mut node {
                    for key in ["node", "node_type"] {
                        if let Some(value) = block.details.get(key) {
                            package.details.insert(key.into(), value.clone());
                        }
                    }
                    block.packages.push(Detail::Text(name.to_string()));
                }
                facts.packages.push(package);
            }
            Listing::Values(key) => {
                values
                    .entry(key.clone())
                    .or_default()
                    .push(Detail::Text(line.to_string()));
            }
            _ => {}
        }
    }
    if let Some(done) = node.take() {
        nodes.push(done.into_detail());
    }
    if !nodes.is_empty() {
        facts.details.insert("nodes".into(), Detail::List(nodes));
    }
    if !fixes.is_empty() {
        facts
            .details
            .insert("active_fixes".into(), Detail::Map(fixes));
    }
    for (key, list) in values {
        facts.details.insert(key, Detail::List(list));
    }
    facts
}

fn parse_install_all_status(output: &str) -> InstallFacts {
    let mut facts = InstallFacts::default();
    let mut steps: Vec<Detail> = Vec::new();
    let mut step: Option<Details> = None;
    let mut started: Option<String> = None;
    let mut messages: Vec<Detail> = Vec::new();
    let mut columns: Option<Vec<String>> = None;
    let mut modules = Details::new();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(found) = captures(&STEP_TIME, line) {
            if let Some(done) = step.take() {
                steps.push(Detail::Map(done));
            }
            started = found.get(1).map(|m| m.as_str().to_string());
            continue;
        }
        if let Some(found) = captures(&STEP_RESULT, line) {
            if let Some(current) = &mut step {
                put(current, "result", found.get(1).map_or("", |m| m.as_str()));
                put(current, "finished", found.get(2).map_or("", |m| m.as_str()));
            }
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("module") && lower.contains("bootable") {
            columns = Some(line.split_whitespace().map(snake_key).collect());
            continue;
        }
        if let Some(labels) = &columns {
            if line.starts_with('-') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() >= labels.len()
                && words.first().is_some_and(|w| w.parse::<u32>().is_ok())
            {
                let mut row = Details::new();
                let last = labels.len().saturating_sub(1);
                for (index, label) in labels.iter().enumerate() {
                    let value = if index == last {
                        words
                            .get(index..)
                            .map(|rest| rest.join(" "))
                            .unwrap_or_default()
                    } else {
                        words.get(index).map(|w| w.to_string()).unwrap_or_default()
                    };
                    put(&mut row, label, &value);
                }
                let module = words.first().map(|w| w.to_string()).unwrap_or_default();
                modules.insert(module, Detail::Map(row));
                continue;
            }
            columns = None;
        }
        if lower.starts_with("compatibility check is done") {
            continue;
        }
        if let Some(when) = started.take() {
            // The first line after a timestamp names the step.
            let mut current = Details::new();
            put(&mut current, "description", line);
            put(&mut current, "started", &when);
            if let Some((image, mid_sentence)) = step_image(line) {
                // The mid-sentence spelling is exact; keep it over a sentence-final one.
                if mid_sentence || !facts.details.contains_key("upgrade_image") {
                    put(&mut facts.details, "upgrade_image", &image);
                }
            }
            step = Some(current);
            continue;
        }
        if let Some(code) = line.strip_prefix("Pre-upgrade check failed.") {
            put(
                &mut facts.details,
                "pre_upgrade_check_failed",
                code.trim().trim_end_matches('.'),
            );
            continue;
        }
        if line.starts_with("Return code") {
            if let Some(current) = &mut step {
                put(current, "return_code", line.trim_end_matches('.'));
            }
            continue;
        }
        messages.push(Detail::Text(line.to_string()));
    }
    if let Some(done) = step.take() {
        steps.push(Detail::Map(done));
    }
    if !steps.is_empty() {
        facts.details.insert("steps".into(), Detail::List(steps));
    }
    if !messages.is_empty() {
        facts
            .details
            .insert("messages".into(), Detail::List(messages));
    }
    if !modules.is_empty() {
        facts
            .details
            .insert("compatibility_check".into(), Detail::Map(modules));
    }
    facts
}

/// The image a step works on. `Verifying image X for boot variable "nxos".`
/// names it as typed by the operator (mid-sentence, so as printed); the
/// `... using image X.` form ends the sentence, whose full stop is dropped.
fn step_image(line: &str) -> Option<(String, bool)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|word| *word == "image")?;
    let image = words.get(at + 1)?;
    if !image.contains(':') {
        return None;
    }
    let mid_sentence = words.get(at + 2).is_some();
    let image = if mid_sentence {
        image.to_string()
    } else {
        image.trim_end_matches('.').to_string()
    };
    Some((image, mid_sentence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(details: &'a Details, key: &str) -> Option<&'a str> {
        details.get(key).and_then(Detail::as_text)
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &XE_LOCATION,
            &XE_LEGEND,
            &XE_PACKAGE_ROW,
            &XE_ABORT_TIMER,
            &XR_NODE,
            &PACKAGES_HEADER,
            &PACKAGE_TABLE_HEADER,
            &FIXES_HEADER,
            &KEY_VALUE,
            &TIMESTAMP,
            &STEP_TIME,
            &STEP_RESULT,
        ] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn iosxe_summary_states_follow_the_printed_legend() {
        let out = include_str!("../tests/corpus/genie/iosxe/ShowInstallSummary/golden_output.raw");
        let facts = parse_show_install(Os::Iosxe, out).unwrap();
        let states: Vec<(&str, Option<&str>)> = facts
            .packages
            .iter()
            .map(|p| (p.name.as_str(), p.state.as_deref()))
            .collect();
        assert_eq!(
            states,
            vec![
                (
                    "bootflash:utah.bm.smu.may15.bin",
                    Some("activated_uncommitted")
                ),
                ("10.69.1.0.66982", Some("committed")),
            ]
        );
        assert_eq!(
            text(&facts.details, "auto_abort_timer"),
            Some("active on install_activate")
        );
        assert_eq!(
            text(&facts.details, "time_before_rollback"),
            Some("01:49:42")
        );
    }

    #[test]
    fn xr_active_lists_packages_per_node() {
        let out = "Label : 7.3.2\n\nNode 0/RP0/CPU0 [RP]\n  Boot Partition: xr_lv38\n  Active Packages: 2\n        ncs5500-xr-7.3.2 version=7.3.2 [Boot image]\n        ncs5500-mpls-2.1.0.0-r732\n\nNode 0/0/CPU0 [LC]\n  Boot Partition: xr_lv0\n  Active Packages: 1\n        ncs5500-xr-7.3.2 version=7.3.2 [Boot image]\n";
        let facts = parse_show_install(Os::Iosxr, out).unwrap();
        assert_eq!(facts.packages.len(), 3);
        assert_eq!(facts.packages[0].name, "ncs5500-xr-7.3.2");
        assert_eq!(facts.packages[0].state.as_deref(), Some("active"));
        assert_eq!(text(&facts.packages[0].details, "version"), Some("7.3.2"));
        assert_eq!(text(&facts.packages[2].details, "node"), Some("0/0/CPU0"));
        assert_eq!(text(&facts.details, "label"), Some("7.3.2"));
    }

    #[test]
    fn classic_xr_node_blocks_keep_boot_device_and_disk_prefixed_packages() {
        let out = "Secure Domain Router: Owner\n\n  Node 0/RSP0/CPU0 [RP] [SDR: Owner]\n    Boot Device: disk0:\n    Boot Image: /disk0/asr9k-os-mbi-6.1.3/0x100305/mbiasr9k-rsp3.vm\n    Active Packages:\n      disk0:asr9k-mini-px-6.1.3\n      disk0:asr9k-mpls-px-6.1.3\n";
        let facts = parse_show_install(Os::Iosxr, out).unwrap();
        let names: Vec<&str> = facts.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["disk0:asr9k-mini-px-6.1.3", "disk0:asr9k-mpls-px-6.1.3"]
        );
        let Some(Detail::List(nodes)) = facts.details.get("nodes") else {
            panic!("nodes missing");
        };
        let Some(Detail::Map(node)) = nodes.first() else {
            panic!("node missing");
        };
        assert_eq!(text(node, "boot_device"), Some("disk0:"));
        assert_eq!(text(node, "sdr"), Some("Owner"));
        assert_eq!(text(&facts.details, "secure_domain_router"), Some("Owner"));
    }

    #[test]
    fn nxos_active_packages_carry_their_module() {
        let out = include_str!("../tests/corpus/genie/nxos/ShowInstallActive/golden_output.raw");
        let facts = parse_show_install(Os::Nxos, out).unwrap();
        assert_eq!(facts.packages.len(), 2);
        assert_eq!(text(&facts.packages[1].details, "module"), Some("3"));
        assert_eq!(
            text(&facts.details, "kickstart_image"),
            Some("slot0:/n7000-s2-kickstart.8.3.0.CV.0.658.gbin")
        );
    }

    #[test]
    fn nxos_install_all_status_records_steps_and_compatibility() {
        let out = include_str!("../tests/corpus/genie/nxos/ShowInstallAllStatus/golden_output.raw");
        let facts = parse_show_install(Os::Nxos, out).unwrap();
        let Some(Detail::List(steps)) = facts.details.get("steps") else {
            panic!("steps missing");
        };
        assert_eq!(steps.len(), 6);
        let Some(Detail::Map(first)) = steps.first() else {
            panic!("first step missing");
        };
        assert_eq!(text(first, "result"), Some("SUCCESS"));
        assert_eq!(
            text(&facts.details, "upgrade_image"),
            Some("bootflash:/nxos.9.3.7.bin")
        );
        assert!(facts.details.contains_key("compatibility_check"));
    }
}
