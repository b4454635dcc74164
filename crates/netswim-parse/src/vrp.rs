//! Huawei VRP `display version`, `display startup`, `display patch-information`.
//!
//! `display version`: a `VRP (R) software, Version <vrp> (<product> <release>)`
//! line, `<Vendor> <model> [Router|Routing Switch|...] uptime is ...`, then
//! per-board blocks (`MPU (Master) 12 : uptime is ...`, `MPU 0(Master) :`,
//! `NPU 9 : uptime is ...`) of `Key : value` lines.
//! `display startup`: `Key: value` lines, in one block per board on stacks
//! and multi-board chassis (`MainBoard:`, `Slot 1:`), the first block giving
//! the typed facts. `display patch-information`: `Key : value` lines.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{Detail, PatchFacts, StartupFacts, StartupSet, VersionFacts};
use regex::Regex;

use crate::ParseError;
use crate::text::parse_uptime;
use crate::xr_version::{compile, memory_bytes, snake};

static VRP_LINE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^VRP \(R\) software,\s*Version\s+(\S+)\s*(?:\((.+)\))?"));
static DEVICE_UPTIME: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(?i:huawei|quidway|h3c)\s+(.+?)\s+uptime is\s+(.+)$"));
static BOARD: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^([A-Z][A-Za-z0-9-]*)\s*(?:\((Master|Slave|Standby)\))?\s*(\d+)\s*(?:\((Master|Slave|Standby)\))?\s*:\s*uptime is\s+(.+)$",
    )
});
static RELEASE: LazyLock<Regex> = LazyLock::new(|| compile(r"^V\d{3}R\d{3}"));

/// Words after the model on the uptime line that name the device kind.
const DEVICE_KINDS: [&str; 7] = [
    "Router", "Routing", "Switch", "Terminal", "Firewall", "Gateway", "Platform",
];

/// Parses `display version` output.
pub fn parse_display_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    let mut recognised = false;
    let mut boards: Vec<Detail> = Vec::new();
    let mut board: Option<BTreeMap<String, Detail>> = None;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with("- -") {
            continue;
        }
        if let Some(caps) = VRP_LINE.captures(line) {
            recognised = true;
            if let Some(vrp) = caps.get(1) {
                facts.vrp_version = Some(vrp.as_str().trim_end_matches(',').to_string());
            }
            if let Some(product) = caps.get(2) {
                let product = product.as_str().trim();
                facts
                    .details
                    .insert("product_version".into(), product.into());
                facts.version = product
                    .split_whitespace()
                    .find(|word| RELEASE.is_match(word))
                    .or_else(|| product.split_whitespace().last())
                    .map(str::to_string);
            }
            continue;
        }
        if let Some(caps) = DEVICE_UPTIME.captures(line) {
            recognised = true;
            let mut words: Vec<&str> = caps
                .get(1)
                .map_or("", |m| m.as_str())
                .split_whitespace()
                .collect();
            while words.len() > 1 && words.last().is_some_and(|w| DEVICE_KINDS.contains(w)) {
                words.pop();
            }
            facts.model = Some(words.join(" "));
            let uptime = caps.get(2).map_or("", |m| m.as_str()).trim();
            facts.details.insert("uptime".into(), uptime.into());
            facts.uptime_seconds = parse_uptime(uptime);
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let key = key.trim();
            if key.eq_ignore_ascii_case("Patch Version")
                || key.eq_ignore_ascii_case("Patch version")
            {
                let value = value.trim();
                if !value.is_empty() {
                    facts.patch = Some(value.to_string());
                    facts.details.insert("patch_version".into(), value.into());
                }
                continue;
            }
        }
        if let Some(caps) = BOARD.captures(line) {
            if let Some(done) = board.take() {
                boards.push(Detail::Map(done));
            }
            let mut map = BTreeMap::new();
            let kind = caps.get(1).map_or("", |m| m.as_str());
            map.insert("type".to_string(), Detail::from(kind));
            if let Some(slot) = caps.get(3) {
                map.insert("slot".to_string(), Detail::from(slot.as_str()));
            }
            if let Some(role) = caps.get(2).or_else(|| caps.get(4)) {
                map.insert("role".to_string(), Detail::from(role.as_str()));
            }
            if let Some(uptime) = caps.get(5) {
                map.insert("uptime".to_string(), Detail::from(uptime.as_str().trim()));
            }
            board = Some(map);
            continue;
        }
        if let Some(map) = board.as_mut() {
            // `1. PCB      Version  : AR-SRU617 VER.C` numbers its keys.
            let keyed = line
                .split_once(". ")
                .filter(|(n, _)| n.chars().all(|c| c.is_ascii_digit()))
                .map_or(line, |(_, rest)| rest);
            if let Some((key, value)) = keyed.split_once(':') {
                let value = value.trim();
                let key = snake(&key.split_whitespace().collect::<Vec<_>>().join(" "));
                if !value.is_empty() && !key.is_empty() {
                    map.entry(key).or_insert_with(|| Detail::from(value));
                }
            } else if let Some(rest) = line.strip_prefix("StartupTime") {
                map.insert("startup_time".into(), Detail::from(rest.trim()));
            }
        }
    }
    if let Some(done) = board.take() {
        boards.push(Detail::Map(done));
    }
    if !recognised {
        return Err(ParseError::UnrecognisedOutput {
            command: "display version".into(),
            reason: "no 'VRP (R) software, Version' line (hint: is this a Huawei VRP device?)"
                .into(),
        });
    }
    // The main board's memory and boot ROM describe the device.
    let main = boards
        .iter()
        .filter_map(|b| match b {
            Detail::Map(map) => Some(map),
            _ => None,
        })
        .find(|map| map.get("role").and_then(Detail::as_text) == Some("Master"))
        .or_else(|| {
            boards.iter().find_map(|b| match b {
                Detail::Map(map) => Some(map),
                _ => None,
            })
        });
    if let Some(main) = main {
        if let Some(size) = ["sdram_memory_size", "ddr_memory_size", "memory_size"]
            .iter()
            .find_map(|key| main.get(*key).and_then(Detail::as_text))
        {
            let compact: String = size
                .split_whitespace()
                .collect::<String>()
                .trim_end_matches("bytes")
                .to_string();
            facts.ram_bytes = memory_bytes(&compact);
        }
        if let Some(rom) = main.get("bootrom_version").and_then(Detail::as_text) {
            facts.rommon = Some(rom.to_string());
        }
    }
    if !boards.is_empty() {
        facts.details.insert("boards".into(), Detail::List(boards));
    }
    Ok(facts)
}

/// Parses `display startup` output.
pub fn parse_display_startup(output: &str) -> Result<StartupFacts, ParseError> {
    let mut facts = StartupFacts::default();
    let mut blocks: Vec<(String, BTreeMap<String, Detail>)> = Vec::new();
    let mut name = String::new();
    let mut current: BTreeMap<String, Detail> = BTreeMap::new();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        // Values are paths like `flash:/vrpcfg.zip`; labels never hold a
        // colon, so the first one ends the label.
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        // A board title (`MainBoard:`, `Slot 1:`, `SlaveBoard:`) has no value.
        if value.is_empty() && !key.to_ascii_lowercase().contains("startup") {
            if !current.is_empty() {
                blocks.push((std::mem::take(&mut name), std::mem::take(&mut current)));
            }
            name = key.to_string();
            continue;
        }
        current.insert(snake(key), Detail::from(value));
    }
    if !current.is_empty() {
        blocks.push((name, current));
    }
    let Some((_, first)) = blocks.first() else {
        return Err(ParseError::UnrecognisedOutput {
            command: "display startup".into(),
            reason: "no 'Startup system software:' lines (hint: is this a Huawei VRP device?)"
                .into(),
        });
    };
    let text = |key: &str| -> Option<String> {
        first
            .get(key)
            .and_then(Detail::as_text)
            .filter(|v| !v.eq_ignore_ascii_case("null") && !v.is_empty())
            .map(str::to_string)
    };
    facts.current = StartupSet {
        software: text("startup_system_software"),
        config: text("startup_saved_configuration_file"),
        patch: text("startup_patch_package"),
    };
    facts.next = StartupSet {
        software: text("next_startup_system_software"),
        config: text("next_startup_saved_configuration_file"),
        patch: text("next_startup_patch_package"),
    };
    facts.details = first.clone();
    if blocks.len() > 1 || blocks.first().is_some_and(|(name, _)| !name.is_empty()) {
        let boards = blocks
            .iter()
            .map(|(name, map)| {
                let mut map = map.clone();
                map.insert("board".into(), Detail::from(name.as_str()));
                Detail::Map(map)
            })
            .collect();
        facts.details.insert("boards".into(), Detail::List(boards));
    }
    Ok(facts)
}

/// Parses `display patch-information` output.
pub fn parse_display_patch_information(output: &str) -> Result<PatchFacts, ParseError> {
    let mut facts = PatchFacts::default();
    let mut recognised = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let value = value.trim();
        let lower = key.to_ascii_lowercase();
        let field = if lower == "patch package name" {
            &mut facts.package_name
        } else if lower == "patch package version" {
            &mut facts.package_version
        } else if lower == "patch package state" || lower == "the current state is" {
            &mut facts.state
        } else {
            if !value.is_empty() {
                let key = key
                    .strip_prefix("Patch Package ")
                    .or_else(|| key.strip_prefix("The "))
                    .unwrap_or(key);
                facts.details.insert(snake(key), Detail::from(value));
                recognised = true;
            }
            continue;
        };
        recognised = true;
        if !value.is_empty() && field.is_none() {
            *field = Some(value.to_string());
        }
    }
    if !recognised {
        return Err(ParseError::UnrecognisedOutput {
            command: "display patch-information".into(),
            reason: "no 'Patch Package' lines (hint: is this a Huawei VRP device?)".into(),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_version_fills_vrp_and_release() {
        let out = "Huawei Versatile Routing Platform Software
VRP (R) software, Version 5.170 (S5700 V200R019C10SPC500)
Copyright (C) 2000-2020 HUAWEI TECH Co., Ltd.
HUAWEI S5720-28X-SI-AC Routing Switch uptime is 0 week, 3 days, 2 hours, 5 minutes
Patch Version: V200R019SPH001

MPU 0(Master) : uptime is 0 week, 3 days, 2 hours, 4 minutes
SDRAM Memory Size    : 512     M bytes
Flash 0 Memory Size  : 512     M bytes
MPU version information :
1. PCB      Version  : VER.B
4. BootROM  Version  : 020b.0001
";
        let facts = parse_display_version(out).unwrap();
        assert_eq!(facts.vrp_version.as_deref(), Some("5.170"));
        assert_eq!(facts.version.as_deref(), Some("V200R019C10SPC500"));
        assert_eq!(facts.model.as_deref(), Some("S5720-28X-SI-AC"));
        assert_eq!(facts.patch.as_deref(), Some("V200R019SPH001"));
        assert_eq!(facts.ram_bytes, Some(512 << 20));
        assert_eq!(facts.rommon.as_deref(), Some("020b.0001"));
        assert_eq!(facts.uptime_seconds, Some(3 * 86_400 + 2 * 3_600 + 5 * 60));
    }

    #[test]
    fn cloudengine_boards_named_by_model() {
        let out = "VRP (R) software, Version 8.180 (CE6850EI V200R005C10SPC800)
HUAWEI CE6850-48S4Q-EI uptime is 100 days, 2 hours, 8 minutes
Patch Version: V200R005SPH015

CE6850-48S4Q-EI(Master) 1 : uptime is  100 days, 2 hours, 7 minutes
        StartupTime 2020/01/01   12:00:00
Memory    Size    : 2048 M bytes
";
        let facts = parse_display_version(out).unwrap();
        assert_eq!(facts.model.as_deref(), Some("CE6850-48S4Q-EI"));
        assert_eq!(facts.patch.as_deref(), Some("V200R005SPH015"));
        assert_eq!(facts.ram_bytes, Some(2048 << 20));
    }

    #[test]
    fn router_with_spaced_model() {
        let out = "VRP (R) software, Version 8.180 (ATN 910C-B V300R003C10SPC500)\nHUAWEI ATN 910C-B uptime is 358 days, 16 hours, 59 minutes\n";
        let facts = parse_display_version(out).unwrap();
        assert_eq!(facts.model.as_deref(), Some("ATN 910C-B"));
        assert_eq!(facts.version.as_deref(), Some("V300R003C10SPC500"));
    }

    #[test]
    fn startup_current_and_next() {
        let out = "MainBoard:
  Startup system software:                   flash:/AR610-V300R021C00SPC200.cc
  Next startup system software:              flash:/AR610-V300R021C00SPC200.cc
  Startup saved-configuration file:          flash:/vrpcfg.zip
  Next startup saved-configuration file:     flash:/vrpcfg2.zip
  Startup patch package:                     NULL
  Next startup patch package:                flash:/AR610_V300R021SPH180.pat
";
        let facts = parse_display_startup(out).unwrap();
        assert_eq!(
            facts.current.software.as_deref(),
            Some("flash:/AR610-V300R021C00SPC200.cc")
        );
        assert_eq!(facts.current.config.as_deref(), Some("flash:/vrpcfg.zip"));
        assert_eq!(facts.current.patch, None);
        assert_eq!(facts.next.config.as_deref(), Some("flash:/vrpcfg2.zip"));
        assert_eq!(
            facts.next.patch.as_deref(),
            Some("flash:/AR610_V300R021SPH180.pat")
        );
    }

    #[test]
    fn stacked_startup_keeps_every_slot() {
        let out = "Slot 0:\nStartup system software: flash:/a.cc\nNext startup system software: flash:/b.cc\nSlot 1:\nStartup system software: flash:/a.cc\nNext startup system software: flash:/a.cc\n";
        let facts = parse_display_startup(out).unwrap();
        assert_eq!(facts.next.software.as_deref(), Some("flash:/b.cc"));
        let Detail::List(boards) = &facts.details["boards"] else {
            panic!("boards")
        };
        assert_eq!(boards.len(), 2);
    }

    #[test]
    fn patch_information_both_spellings() {
        let out = "Patch Package Name    :flash:/RPG_PNFV600R021SPH001.PAT\nPatch Package Version :V600R021SPH001\nPatch Package State   :Running\nPatch Package Run Time:2022-04-06 10:00:17\n";
        let facts = parse_display_patch_information(out).unwrap();
        assert_eq!(
            facts.package_name.as_deref(),
            Some("flash:/RPG_PNFV600R021SPH001.PAT")
        );
        assert_eq!(facts.package_version.as_deref(), Some("V600R021SPH001"));
        assert_eq!(facts.state.as_deref(), Some("Running"));
        assert_eq!(
            facts.details["run_time"],
            Detail::from("2022-04-06 10:00:17")
        );
        let switch = "Patch Package Name :flash:/s5700-v200r019sph001.pat\nPatch Package Version:V200R019SPH001\nThe state of the patch state file is: Running\nThe current state is: Running\n";
        let facts = parse_display_patch_information(switch).unwrap();
        assert_eq!(facts.state.as_deref(), Some("Running"));
        assert_eq!(
            facts.details["state_of_the_patch_state_file_is"],
            Detail::from("Running")
        );
    }

    #[test]
    fn golden_corpus_outputs() {
        let ne40 = parse_display_version(include_str!(
            "../tests/corpus/ntc/huawei_vrp/display_version/huawei_vrp_display_version.raw"
        ))
        .unwrap();
        assert_eq!(ne40.vrp_version.as_deref(), Some("8.180"));
        assert_eq!(ne40.version.as_deref(), Some("V800R011C00SPC200"));
        assert_eq!(ne40.model.as_deref(), Some("NE40E-X2-M8A"));
        assert_eq!(ne40.ram_bytes, Some(8192 << 20));
        assert_eq!(ne40.rommon.as_deref(), Some("06.14"));
        assert_eq!(ne40.uptime_seconds, Some(161 * 86_400 + 20 * 60));

        let ar = parse_display_version(include_str!(
            "../tests/corpus/ntc/huawei_vrp/display_version/huawei_vrp_display_version4.raw"
        ))
        .unwrap();
        assert_eq!(ar.model.as_deref(), Some("AR617VW-LTE4EA"));
        assert_eq!(ar.version.as_deref(), Some("V300R019C13SPC200"));
        assert_eq!(ar.ram_bytes, Some(1024 << 20));
        assert_eq!(ar.patch, None);
    }
}
