//! Cisco IOS-XR `show version`.
//!
//! Grammar: a `Cisco IOS XR Software, Version <v>[<tag>] [<flavor>]` banner,
//! then either a `Build Information:` block of ` Key : value` lines (eXR /
//! 64-bit XR) or the classic IOS-like lines (`ROM:`, `<host> uptime is`,
//! `System image file is "<path>"`, `cisco <model> (<cpu>) processor with
//! <n>K bytes of memory.`, a chassis description, `Configuration register on
//! node <node> is <value>`, `Package active on node <node>:` blocks).
//! Route processors and line cards are not listed by `show version`, so the
//! typed `stack` stays empty; per-node facts go into `details`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{Detail, VersionFacts};
use regex::Regex;

use crate::ParseError;
use crate::text::parse_uptime;

static BANNER: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^Cisco IOS[ -]XR Software\s*(?:\([^)]*\))?,?\s*Version\s+(\S+?)(?:\[([^\]]*)\])?(?:\s+(\S.*))?$",
    )
});
static PROCESSOR: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r"^cisco\s+(.+?)\s+\(((?:[^()]|\([^()]*\))*)\)\s*(processor)?(?:.*?with\s+(\S+?)\s*(?:bytes)?\s+of\s+memory)?",
    )
});
static UPTIME: LazyLock<Regex> = LazyLock::new(|| compile(r"^(\S+)\s+uptime is\s+(.+)$"));
static NODE_VALUE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(Configuration register|Boot device) on node (\S+) is (\S+)"));
static INTERFACE_COUNT: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(\d+)\s+([A-Za-z][\w /-]*?)(?:\s+interface\(s\))?$"));
static STORAGE: LazyLock<Regex> = LazyLock::new(|| compile(r"^(\d+[kKMG]) bytes of (.+?)\.?$"));

/// Compiles a pattern literal. A literal that fails to compile is a
/// programming error caught by the unit tests; at run time the parser then
/// simply never matches instead of panicking.
pub(crate) fn compile(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|_| never_matching())
}

fn never_matching() -> Regex {
    // A class that excludes every character: always valid, never matches.
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| never_matching())
}

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    let details = &mut facts.details;
    let mut seen_banner = false;
    let mut in_build_info = false;
    let mut after_processor = false;
    let mut config_registers = BTreeMap::new();
    let mut boot_devices = BTreeMap::new();
    let mut interfaces = BTreeMap::new();
    let mut packages: Vec<Detail> = Vec::new();
    let mut package_node: Option<String> = None;

    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            in_build_info = false;
            continue;
        }
        if let Some(caps) = BANNER.captures(line) {
            seen_banner = true;
            let version = caps.get(1).map_or("", |m| m.as_str());
            facts.version = Some(version.to_string());
            details.insert("software_version".into(), version.into());
            details.insert("operating_system".into(), "IOSXR".into());
            let mut text = version.to_string();
            if let Some(tag) = caps.get(2) {
                details.insert("version_tag".into(), tag.as_str().into());
            }
            if let Some(flavor) = caps.get(3) {
                let flavor = flavor.as_str().trim();
                details.insert("os_flavor".into(), flavor.into());
                text = format!("{version} {flavor}");
            }
            details.insert("version_text".into(), text.into());
            continue;
        }
        if line == "Build Information:" {
            in_build_info = true;
            continue;
        }
        if in_build_info {
            if let Some((key, value)) = line.split_once(':') {
                let key = match key.trim() {
                    // Both spellings occur across releases; one stable name.
                    "Built Host" | "Build Host" => "build_host".to_string(),
                    "Version" => "build_version".to_string(),
                    other => snake(other),
                };
                details.insert(key, value.trim().into());
                continue;
            }
        }
        if let Some(rom) = line.strip_prefix("ROM:") {
            let rom = rom.trim().trim_end_matches(',').trim();
            details.insert("rom".into(), rom.into());
            facts.rommon = Some(
                rom.split_once("Version ")
                    .map(|(_, rest)| {
                        rest.split(|c: char| c == ',' || c.is_whitespace())
                            .next()
                            .unwrap_or_default()
                            .to_string()
                    })
                    .unwrap_or_else(|| rom.to_string()),
            );
            continue;
        }
        if let Some(caps) = UPTIME.captures(line) {
            let host = caps.get(1).map_or("", |m| m.as_str());
            let uptime = caps.get(2).map_or("", |m| m.as_str()).trim();
            // eXR prints `System uptime is`, which names no host.
            if host != "System" {
                facts.hostname = Some(host.to_string());
            }
            details.insert("uptime".into(), uptime.into());
            facts.uptime_seconds = parse_uptime(uptime);
            continue;
        }
        if let Some(rest) = line.strip_prefix("System image file is") {
            let image = rest.trim().trim_matches('"');
            facts.running_image = Some(image.to_string());
            details.insert("image".into(), image.into());
            continue;
        }
        if let Some(caps) = PROCESSOR.captures(line) {
            let name = caps.get(1).map_or("", |m| m.as_str()).trim();
            let cpu = caps.get(2).map_or("", |m| m.as_str()).trim();
            let is_processor_line = caps.get(3).is_some();
            if !is_processor_line && facts.model.is_some() {
                continue;
            }
            details.insert("device_family".into(), name.into());
            if let Some(family) = name.strip_suffix(" Series") {
                // `cisco ASR9K Series (...)` names the family; the chassis line the model.
                details.insert("platform_family".into(), platform_family(family).into());
            } else {
                if name.starts_with("IOS") {
                    // Virtual routers: `cisco IOS-XRv 9000 () processor`.
                    details.insert("platform_family".into(), platform_family(name).into());
                }
                facts.model = Some(name.to_string());
            }
            if !cpu.is_empty() {
                details.insert("processor".into(), cpu.into());
            }
            if let Some(memory) = caps.get(4) {
                let memory = memory.as_str();
                details.insert("processor_memory_bytes".into(), memory.into());
                details.insert("main_mem".into(), line.into());
                facts.ram_bytes = memory_bytes(memory);
            }
            after_processor = is_processor_line;
            continue;
        }
        if after_processor && line.contains("Chassis") && !line.starts_with("cisco") {
            details.insert("chassis_detail".into(), line.into());
            if facts.model.is_none() {
                facts.model = model_from_chassis(line);
            }
            after_processor = false;
            continue;
        }
        if let Some(caps) = NODE_VALUE.captures(line) {
            let what = caps.get(1).map_or("", |m| m.as_str());
            let node = caps.get(2).map_or("", |m| m.as_str()).to_string();
            let value = caps.get(3).map_or("", |m| m.as_str()).to_string();
            if what == "Boot device" {
                boot_devices.insert(node, Detail::Text(value));
            } else {
                // The first node printed is the active route processor.
                if facts.config_register.is_none() {
                    facts.config_register = Some(value.clone());
                    details.insert("rp_config_register".into(), value.clone().into());
                }
                config_registers.insert(node, Detail::Text(value));
            }
            continue;
        }
        if let Some(node) = line
            .strip_prefix("Package active on node ")
            .and_then(|rest| rest.strip_suffix(':'))
        {
            package_node = Some(node.to_string());
            continue;
        }
        if let Some(node) = &package_node {
            // `<name>, V <version>[<kind>], <vendor>, at <path>`.
            let parts: Vec<&str> = line.split(", ").collect();
            if let (Some(name), Some(location)) = (
                parts.first(),
                parts.iter().find_map(|part| part.strip_prefix("at ")),
            ) {
                let mut package = BTreeMap::new();
                package.insert("node".to_string(), Detail::from(node.as_str()));
                package.insert("name".to_string(), Detail::from(*name));
                package.insert("location".to_string(), Detail::from(location));
                if let Some(version) = parts.get(1).and_then(|p| p.strip_prefix("V ")) {
                    package.insert("version".to_string(), Detail::from(version));
                }
                packages.push(Detail::Map(package));
            }
            continue;
        }
        if let Some(caps) = STORAGE.captures(line) {
            let size = caps.get(1).map_or("", |m| m.as_str());
            let what = caps.get(2).map_or("", |m| m.as_str());
            if what.starts_with("non-volatile") {
                details.insert("nvram".into(), size.into());
            } else if what == "hard disk" {
                details.insert("hard_disk".into(), size.into());
            } else if let Some(disk) = what.split_whitespace().next() {
                details.insert(format!("{}_size", snake(disk)), size.into());
            }
            continue;
        }
        if let Some(caps) = INTERFACE_COUNT.captures(line) {
            let count = caps.get(1).map_or("", |m| m.as_str());
            let kind = caps.get(2).map_or("", |m| m.as_str()).trim();
            interfaces.insert(kind.to_string(), Detail::from(count));
            continue;
        }
        if !in_build_info && details.get("platform_description").is_none() && seen_banner {
            // eXR's closing product description (`Cisco 8200 2RU 32x400G ...`).
            if line.starts_with("Cisco ") && !line.starts_with("Cisco IOS") {
                details.insert("platform_description".into(), line.into());
            }
        }
    }
    if !seen_banner {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no 'Cisco IOS XR Software, Version' banner (hint: is this an IOS-XR device?)"
                .into(),
        });
    }
    if facts.config_register.is_some() {
        details.insert("config_registers".into(), Detail::Map(config_registers));
    }
    if !boot_devices.is_empty() {
        details.insert("boot_devices".into(), Detail::Map(boot_devices));
    }
    if !interfaces.is_empty() {
        details.insert("number_of_interfaces".into(), Detail::Map(interfaces));
    }
    if !packages.is_empty() {
        details.insert("packages".into(), Detail::List(packages));
    }
    Ok(facts)
}

/// `ASR9K` → `asr9k`, `IOS XRv` → `iosxrv`, `IOS-XRv 9000` → `iosxrv9000`:
/// the family name lowercased without separators.
fn platform_family(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// `ASR-9001 Chassis` → `ASR-9001`; `ASR 9006 4 Line Card Slot Chassis ...`
/// → `ASR-9006` (Cisco product ids join the family and the number with a dash).
fn model_from_chassis(line: &str) -> Option<String> {
    let before = line.split(" Chassis").next()?.trim();
    let words: Vec<&str> = before.split_whitespace().collect();
    let looks_like_product_id = |word: &str| {
        word.chars().any(|c| c.is_ascii_digit()) && word.chars().any(|c| c.is_ascii_alphabetic())
    };
    match words.as_slice() {
        [single] => Some((*single).to_string()),
        [first, ..] if looks_like_product_id(first) => Some((*first).to_string()),
        [family, number, ..]
            if family.chars().all(|c| c.is_ascii_uppercase())
                && number.chars().all(|c| c.is_ascii_digit()) =>
        {
            Some(format!("{family}-{number}"))
        }
        _ => None,
    }
}

/// `6291456K` → bytes, `64GB` → bytes.
pub(crate) fn memory_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: u64 = number.parse().ok()?;
    let factor = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return None,
    };
    number.checked_mul(factor)
}

pub(crate) use crate::text::snake_key as snake;

#[cfg(test)]
mod tests {
    use super::*;

    const CLASSIC: &str = "
Cisco IOS XR Software, Version 6.1.4.10I[Default]
Copyright (c) 2017 by Cisco Systems, Inc.

ROM: System Bootstrap, Version 0.75(c) 1994-2012 by Cisco Systems,  Inc.

PE1 uptime is 5 hours, 14 minutes
System image file is \"disk0:asr9k-os-mbi-6.1.4.10I/0x100305/mbiasr9k-rsp3.vm\"

cisco ASR9K Series (Intel 686 F6M14S4) processor with 6291456K bytes of memory.
Intel 686 F6M14S4 processor at 2134MHz, Revision 2.174
ASR 9006 4 Line Card Slot Chassis with V2 AC PEM

2 FastEthernet
20 GigabitEthernet
503k bytes of non-volatile configuration memory.

Configuration register on node 0/RSP0/CPU0 is 0x1922
Boot device on node 0/RSP0/CPU0 is disk0:
Package active on node 0/RSP0/CPU0:
";

    const EXR: &str = "Tue Jan 16 13:19:27.208 AEST
Cisco IOS XR Software, Version 7.9.2 LNT
Copyright (c) 2013-2023 by Cisco Systems, Inc.

Build Information:
 Built By     : deenayak
 Build Host   : bdb7eb8f4e82
 Version      : 7.9.2
 Label        : 7.9.2

cisco 8000 (Intel(R) Xeon(R) CPU D-1530 @ 2.41GHz)
cisco 8202-32FH-M (Intel(R) Xeon(R) CPU D-1530 @ 2.41GHz) processor with 64GB of memory
gemini uptime is 1 week, 1 day, 17 hours, 47 minutes
Cisco 8200 2RU 32x400G QSFP56-DD w/IOS XR HBM MACsec";

    #[test]
    fn classic_xr_fills_typed_fields() {
        let facts = parse_show_version(CLASSIC).unwrap();
        assert_eq!(facts.version.as_deref(), Some("6.1.4.10I"));
        assert_eq!(facts.hostname.as_deref(), Some("PE1"));
        assert_eq!(facts.model.as_deref(), Some("ASR-9006"));
        assert_eq!(facts.config_register.as_deref(), Some("0x1922"));
        assert_eq!(facts.rommon.as_deref(), Some("0.75(c)"));
        assert_eq!(facts.uptime_seconds, Some(5 * 3600 + 14 * 60));
        assert_eq!(facts.ram_bytes, Some(6_291_456 * 1024));
        assert_eq!(
            facts.running_image.as_deref(),
            Some("disk0:asr9k-os-mbi-6.1.4.10I/0x100305/mbiasr9k-rsp3.vm")
        );
        assert_eq!(facts.details["platform_family"], Detail::from("asr9k"));
    }

    #[test]
    fn exr_build_information_and_flavor() {
        let facts = parse_show_version(EXR).unwrap();
        assert_eq!(facts.version.as_deref(), Some("7.9.2"));
        assert_eq!(facts.model.as_deref(), Some("8202-32FH-M"));
        assert_eq!(facts.hostname.as_deref(), Some("gemini"));
        assert_eq!(facts.ram_bytes, Some(64 << 30));
        assert_eq!(facts.details["os_flavor"], Detail::from("LNT"));
        assert_eq!(facts.details["build_host"], Detail::from("bdb7eb8f4e82"));
        assert_eq!(facts.details["label"], Detail::from("7.9.2"));
    }

    #[test]
    fn chassis_lines_name_the_model() {
        for (line, model) in [
            ("ASR-9001 Chassis", Some("ASR-9001")),
            (
                "ASR 9006 4 Line Card Slot Chassis with V2 AC PEM",
                Some("ASR-9006"),
            ),
            ("ASR-9010 AC Chassis", Some("ASR-9010")),
            ("IOS XRv Chassis", None),
        ] {
            assert_eq!(model_from_chassis(line).as_deref(), model, "{line}");
        }
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &*BANNER,
            &*PROCESSOR,
            &*UPTIME,
            &*NODE_VALUE,
            &*INTERFACE_COUNT,
            &*STORAGE,
        ] {
            assert_ne!(pattern.as_str(), never_matching().as_str());
        }
    }

    #[test]
    fn other_output_is_refused() {
        assert!(parse_show_version("Cisco IOS Software, C3750E").is_err());
    }

    #[test]
    fn golden_corpus_outputs() {
        let crs = parse_show_version(include_str!(
            "../tests/corpus/genie/generic/rv1/ShowVersion/golden_output_iosxr_4.raw"
        ))
        .unwrap();
        assert_eq!(crs.version.as_deref(), Some("6.4.2"));
        assert_eq!(crs.model.as_deref(), Some("CRS-16/S-B"));
        assert_eq!(crs.hostname.as_deref(), Some("tcore3-rohan"));
        assert_eq!(crs.rommon.as_deref(), Some("2.12(20170128:070504)"));
        let Detail::List(packages) = &crs.details["packages"] else {
            panic!("packages")
        };
        assert_eq!(packages.len(), 2);

        let ncs = parse_show_version(include_str!(
            "../tests/corpus/ntc/cisco_xr/show_version/cisco_xr_show_version_label.raw"
        ))
        .unwrap();
        assert_eq!(ncs.version.as_deref(), Some("6.6.3"));
        assert_eq!(ncs.model.as_deref(), Some("NCS-5500"));
        assert_eq!(ncs.hostname, None);
        assert_eq!(ncs.uptime_seconds, Some(23 * 3600 + 3 * 60));
        assert_eq!(ncs.details["label"], Detail::from("6.6.3-80"));
        assert_eq!(ncs.details["build_host"], Detail::from("iox-lnx-029"));
    }
}
