//! Cisco NX-OS `show version`.
//!
//! Grammar: an optional `Cisco Nexus Operating System (NX-OS) Software`
//! banner and licence text, then sections introduced by an unindented title
//! (`Software`, `Hardware`, `Last reset ...`, `plugin`, `Active Package(s):`)
//! holding indented `key: value` lines, plus free lines in `Hardware`
//! (`cisco Nexus9000 C9396PX Chassis`, `<cpu> with <n> kB of memory.`) and
//! the unindented `Kernel uptime is ...`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{Detail, VersionFacts};
use regex::Regex;

use crate::ParseError;
use crate::text::parse_uptime;
use crate::xr_version::{compile, memory_bytes, snake};

static BANNER: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^Cisco (\w+) Operating System \(([^)]+)\) Software"));
static CHASSIS: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r#"^cisco\s+(.+?)(?:\s+\((\d+)\s+[Ss]lots?\))?\s*(?:[Cc]hassis\s*)?(?:\("?([^")]*)"?\))?\s*$"#,
    )
});
static MEMORY: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(.*?)\s+with\s+(\d+\s*[kKMG]B)\s+of memory"));
static UPTIME_PARTS: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(\d+)\s+(day|hour|minute|second)\(s\)"));

#[derive(PartialEq)]
enum Section {
    Preamble,
    Software,
    Hardware,
    LastReset,
    Plugin,
    Packages,
}

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    let mut section = Section::Preamble;
    let mut recognised = false;
    let mut plugins: Vec<Detail> = Vec::new();
    let mut packages: Vec<Detail> = Vec::new();

    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        let indented = raw_line.starts_with([' ', '\t']);
        if let Some(caps) = BANNER.captures(line) {
            recognised = true;
            if let Some(name) = caps.get(1) {
                facts.details.insert("name".into(), name.as_str().into());
            }
            if let Some(os) = caps.get(2) {
                facts.details.insert("os".into(), os.as_str().into());
            }
            continue;
        }
        if !indented {
            let title = line.trim_end_matches(':');
            let next = match title {
                "Software" => Some(Section::Software),
                "Hardware" => Some(Section::Hardware),
                "plugin" => Some(Section::Plugin),
                _ if title.starts_with("Last reset") => Some(Section::LastReset),
                _ if title.starts_with("Active Package") => Some(Section::Packages),
                _ => None,
            };
            if let Some(next) = next {
                if next == Section::LastReset {
                    if let Some(when) = line.strip_prefix("Last reset at ") {
                        facts
                            .details
                            .insert("last_reset".into(), when.trim().into());
                    }
                }
                section = next;
                recognised = true;
                continue;
            }
            if let Some(uptime) = line.strip_prefix("Kernel uptime is ") {
                let uptime = uptime.trim();
                facts.details.insert("uptime".into(), uptime.into());
                facts.uptime_seconds = parse_uptime(uptime);
                let mut parts = BTreeMap::new();
                for caps in UPTIME_PARTS.captures_iter(uptime) {
                    let (Some(count), Some(unit)) = (caps.get(1), caps.get(2)) else {
                        continue;
                    };
                    let count = count.as_str().trim_start_matches('0');
                    let count = if count.is_empty() { "0" } else { count };
                    parts.insert(format!("{}s", unit.as_str()), Detail::from(count));
                }
                facts
                    .details
                    .insert("kernel_uptime".into(), Detail::Map(parts));
                continue;
            }
        }
        match section {
            Section::Preamble => {}
            Section::Software => software_line(line, &mut facts),
            Section::Hardware => hardware_line(line, &mut facts),
            Section::LastReset => {
                if let Some((key, value)) = line.split_once(':') {
                    let value = value.trim();
                    let key = match key.trim() {
                        "Reason" => "reason".to_string(),
                        "System version" => "last_reset_system_version".to_string(),
                        other => snake(other),
                    };
                    if !value.is_empty() {
                        facts.details.insert(key, value.into());
                    }
                }
            }
            Section::Plugin => plugins.extend(
                line.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(Detail::from),
            ),
            Section::Packages => packages.push(Detail::from(line)),
        }
    }
    if !recognised {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no NX-OS banner nor 'Software'/'Hardware' sections (hint: is this an NX-OS device?)"
                .into(),
        });
    }
    if !plugins.is_empty() {
        facts
            .details
            .insert("plugins".into(), Detail::List(plugins));
    }
    if !packages.is_empty() {
        facts
            .details
            .insert("active_packages".into(), Detail::List(packages));
    }
    Ok(facts)
}

/// One `key: value` line of the `Software` section.
fn software_line(line: &str, facts: &mut VersionFacts) {
    let Some((key, value)) = line.split_once(':') else {
        return;
    };
    let key = key.trim();
    let value = value.trim();
    let details = &mut facts.details;
    if let Some(version) = value.strip_prefix("version ") {
        let version = version.trim();
        match key {
            "BIOS" => {
                details.insert("bios_version".into(), version.into());
                facts.rommon = Some(version.to_string());
            }
            "NXOS" | "system" => {
                let (base, build, release_type) = split_annotations(version);
                facts.version = Some(base.to_string());
                details.insert("version_text".into(), version.into());
                // Modern `NXOS:` lines annotate the version (`[build ...]`);
                // the legacy `system:` line's whole text is the version string.
                let system_version = if key == "NXOS" {
                    base.to_string()
                } else {
                    version
                        .split(" [")
                        .filter(|part| !part.ends_with("Release]"))
                        .collect::<Vec<_>>()
                        .join(" [")
                };
                details.insert("system_version".into(), system_version.into());
                if let Some(build) = build {
                    details.insert("build".into(), build.into());
                }
                if let Some(release_type) = release_type {
                    details.insert("release_type".into(), release_type.into());
                }
            }
            "kickstart" => {
                details.insert("kickstart_version".into(), version.into());
            }
            other => {
                details.insert(format!("{}_version", snake(other)), version.into());
            }
        }
        return;
    }
    let key = match key {
        "NXOS image file is" | "system image file is" => {
            facts.running_image = Some(value.to_string());
            "system_image_file".to_string()
        }
        "kickstart image file is" => "kickstart_image_file".to_string(),
        "NXOS compile time" | "system compile time" => "system_compile_time".to_string(),
        other => snake(other),
    };
    if !value.is_empty() && !key.is_empty() {
        details.insert(key, value.into());
    }
}

/// `10.4(3) [build 10.4(2)IMG9(0.27)] [Feature Release]` → the version,
/// the build and the release type.
fn split_annotations(version: &str) -> (&str, Option<&str>, Option<&str>) {
    let mut parts = version.split(" [");
    let base = parts.next().unwrap_or(version).trim();
    let (mut build, mut release_type) = (None, None);
    for part in parts {
        let part = part.trim().trim_end_matches(']');
        if let Some(rest) = part.strip_prefix("build ") {
            build = Some(rest.trim());
        } else if part.ends_with("Release") {
            release_type = Some(part);
        }
    }
    (base, build, release_type)
}

/// One line of the `Hardware` section.
fn hardware_line(line: &str, facts: &mut VersionFacts) {
    let details = &mut facts.details;
    if let Some(id) = line.strip_prefix("Processor Board ID") {
        let id = id.trim();
        facts.serial = Some(id.to_string());
        details.insert("processor_board_id".into(), id.into());
        return;
    }
    if let Some(name) = line.strip_prefix("Device name:") {
        let name = name.trim();
        facts.hostname = Some(name.to_string());
        details.insert("device_name".into(), name.into());
        return;
    }
    if let Some(size) = line.strip_prefix("bootflash:") {
        details.insert("bootflash".into(), size.trim().into());
        return;
    }
    if line.starts_with("cisco ") {
        if let Some(caps) = CHASSIS.captures(line) {
            let name = caps.get(1).map_or("", |m| m.as_str()).trim();
            let says_chassis = line.to_ascii_lowercase().contains("chassis");
            if says_chassis {
                details.insert("chassis".into(), name.into());
                details.insert("model".into(), name.into());
            }
            // `Nexus9000 C9396PX` / `Nexus 3048`: the model follows the family;
            // otherwise (`MDS 9148S 16G 48 FC`) it is the first word with a digit.
            let model = if name.starts_with("Nexus") {
                name.split_whitespace().last()
            } else {
                name.split_whitespace()
                    .find(|word| word.chars().any(|c| c.is_ascii_digit()))
            };
            facts.model = model.map(str::to_string);
            if let Some(slots) = caps.get(2) {
                details.insert("slots".into(), slots.as_str().into());
            }
            if let Some(rp) = caps.get(3) {
                details.insert("rp".into(), rp.as_str().into());
            }
            // `Nexus 3048` / `Nexus9000` → `n3k` / `n9k`: the family name.
            let lower = name.to_ascii_lowercase();
            if let Some(rest) = lower.strip_prefix("nexus") {
                let digits: String = rest
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Some(first) = digits.chars().next().filter(|_| digits.len() == 4) {
                    details.insert("platform_family".into(), format!("n{first}k").into());
                }
            }
        }
        return;
    }
    if let Some(caps) = MEMORY.captures(line) {
        let cpu = caps.get(1).map_or("", |m| m.as_str()).trim();
        let memory = caps.get(2).map_or("", |m| m.as_str()).trim();
        details.insert("cpu".into(), cpu.into());
        details.insert("memory".into(), memory.into());
        facts.ram_bytes = memory_bytes(&memory.replace(' ', ""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const N9K: &str = "Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac

Software
  BIOS: version 07.71
  NXOS: version 10.3(6) [Maintenance Release]
  BIOS compile time:  11/10/2024
  NXOS image file is: bootflash:///nxos64-cs.10.3.6.M.bin

Hardware
  cisco Nexus9000 C93108TC-EX chassis
  Intel(R) Xeon(R) CPU  @ 1.80GHz with 24607580 kB of memory.
  Processor Board ID FDO23490570
  Device name: N9K-LAB-07
  bootflash:   53298520 kB

Kernel uptime is 60 day(s), 17 hour(s), 29 minute(s), 10 second(s)

Last reset at 310210 usecs after Wed May 28 16:35:54 2025
  Reason: Reset Requested by CLI command reload
  System version: 9.3(15)
";

    #[test]
    fn nine_k_fills_typed_fields() {
        let facts = parse_show_version(N9K).unwrap();
        assert_eq!(facts.version.as_deref(), Some("10.3(6)"));
        assert_eq!(facts.hostname.as_deref(), Some("N9K-LAB-07"));
        assert_eq!(facts.model.as_deref(), Some("C93108TC-EX"));
        assert_eq!(facts.serial.as_deref(), Some("FDO23490570"));
        assert_eq!(facts.rommon.as_deref(), Some("07.71"));
        assert_eq!(
            facts.running_image.as_deref(),
            Some("bootflash:///nxos64-cs.10.3.6.M.bin")
        );
        assert_eq!(facts.ram_bytes, Some(24_607_580 * 1024));
        assert_eq!(
            facts.uptime_seconds,
            Some(60 * 86_400 + 17 * 3_600 + 29 * 60 + 10)
        );
        assert_eq!(facts.details["platform_family"], Detail::from("n9k"));
        assert_eq!(
            facts.details["release_type"],
            Detail::from("Maintenance Release")
        );
        assert_eq!(
            facts.details["reason"],
            Detail::from("Reset Requested by CLI command reload")
        );
    }

    #[test]
    fn version_annotations_split_into_build_and_release_type() {
        assert_eq!(
            split_annotations("10.4(3) [build 10.4(2)IMG9(0.27)] [Feature Release]"),
            (
                "10.4(3)",
                Some("10.4(2)IMG9(0.27)"),
                Some("Feature Release")
            )
        );
        assert_eq!(
            split_annotations("7.0(3)I4(3)"),
            ("7.0(3)I4(3)", None, None)
        );
        let legacy =
            parse_show_version("Software\n  system:    version 15.3(2b) [build 15.3(2b)]\n")
                .unwrap();
        assert_eq!(legacy.version.as_deref(), Some("15.3(2b)"));
        assert_eq!(
            legacy.details["system_version"],
            Detail::from("15.3(2b) [build 15.3(2b)]")
        );
    }

    #[test]
    fn chassis_line_variants() {
        for (line, model, rp) in [
            ("cisco Nexus9000 C9396PX Chassis", Some("C9396PX"), None),
            (
                "cisco Nexus3000 C3232C Chassis (Nexus 9000 Series)",
                Some("C3232C"),
                Some("Nexus 9000 Series"),
            ),
            (
                "cisco Nexus7000 C7010 (10 Slot) Chassis (\"Supervisor Module-1X\")",
                Some("C7010"),
                Some("Supervisor Module-1X"),
            ),
            (
                "cisco N9K-C93180LC-EX (\"supervisor\")",
                Some("N9K-C93180LC-EX"),
                Some("supervisor"),
            ),
        ] {
            let mut facts = VersionFacts::default();
            hardware_line(line, &mut facts);
            assert_eq!(facts.model.as_deref(), model, "{line}");
            assert_eq!(
                facts.details.get("rp").and_then(Detail::as_text),
                rp,
                "{line}"
            );
        }
    }

    #[test]
    fn kickstart_and_system_images_of_older_releases() {
        let out = "Software\n  kickstart: version 7.1(4)N1(1)\n  system:    version 7.1(4)N1(1)\n  kickstart image file is: bootflash:///k.bin\n  system image file is:    bootflash:///s.bin\nHardware\n  cisco Nexus 5596 Chassis (\"O2 48X10GE/Modular Supervisor\")\n";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.version.as_deref(), Some("7.1(4)N1(1)"));
        assert_eq!(facts.running_image.as_deref(), Some("bootflash:///s.bin"));
        assert_eq!(facts.model.as_deref(), Some("5596"));
        assert_eq!(
            facts.details["rp"],
            Detail::from("O2 48X10GE/Modular Supervisor")
        );
        assert_eq!(facts.details["platform_family"], Detail::from("n5k"));
    }

    #[test]
    fn golden_corpus_outputs() {
        let n3k = parse_show_version(include_str!(
            "../tests/corpus/genie/nxos/ShowVersion/golden_output.raw"
        ))
        .unwrap();
        assert_eq!(n3k.version.as_deref(), Some("6.0(2)U6(10)"));
        assert_eq!(n3k.hostname.as_deref(), Some("n3k"));
        assert_eq!(n3k.serial.as_deref(), Some("FOC19243WQN"));
        assert_eq!(n3k.model.as_deref(), Some("3048"));
        assert_eq!(
            n3k.running_image.as_deref(),
            Some("bootflash:///n3000-uk10.225.0.2.U6.10.bin")
        );
        assert_eq!(n3k.details["platform_family"], Detail::from("n3k"));
        assert_eq!(n3k.details["reason"], Detail::from("Disruptive upgrade"));

        let aci = parse_show_version(include_str!(
            "../tests/corpus/genie/nxos/ShowVersion/golden_output_4.raw"
        ))
        .unwrap();
        assert_eq!(aci.version.as_deref(), Some("15.3(2b)"));
        assert_eq!(aci.model.as_deref(), Some("N9K-C93180YC-EX"));
        assert_eq!(
            aci.details["system_version"],
            Detail::from("15.3(2b) [build 15.3(2b)]")
        );
    }
}
