//! Cisco ASA `show version`.
//!
//! Grammar: `Cisco Adaptive Security Appliance Software Version <v>`, other
//! `<component> Version <v>` lines, `System image file is "<path>"`,
//! `<host> up <uptime>`, `Hardware:   <platform>, <n> MB RAM, CPU ...`,
//! `Model Id:`, `Serial Number:`, `Configuration register is <value>`, and
//! `key : value` licence lines.

use std::sync::LazyLock;

use netswim_domain::facts::VersionFacts;
use regex::Regex;

use crate::ParseError;
use crate::text::parse_uptime;
use crate::xr_version::{compile, snake};

static COMPONENT_VERSION: LazyLock<Regex> = LazyLock::new(|| compile(r"^(.+?) Version (\S+)\s*$"));
static UPTIME: LazyLock<Regex> = LazyLock::new(|| compile(r"^(\S+) up (\d.*)$"));
static HARDWARE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"^Hardware:\s+([^,]+)(?:,\s*(\d+)\s*([KMG])B RAM)?(?:,\s*CPU\s+([^,]+))?")
});

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    let mut recognised = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(version) =
            line.strip_prefix("Cisco Adaptive Security Appliance Software Version")
        {
            recognised = true;
            facts.version = Some(version.trim().to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("System image file is") {
            facts.running_image = Some(rest.trim().trim_matches('"').to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("Config file at boot was") {
            facts
                .details
                .insert("config_file".into(), rest.trim().trim_matches('"').into());
            continue;
        }
        if let Some(rest) = line.strip_prefix("Configuration register is") {
            facts.config_register = Some(rest.trim().to_string());
            continue;
        }
        if let Some(caps) = HARDWARE.captures(line) {
            if let Some(platform) = caps.get(1) {
                let platform = platform.as_str().trim();
                facts.details.insert("platform".into(), platform.into());
                // The hardware family, as genie's cross-OS `platform` names it.
                facts
                    .details
                    .insert("platform_family".into(), platform.into());
            }
            if let (Some(size), Some(unit)) = (caps.get(2), caps.get(3)) {
                let shift = match unit.as_str() {
                    "K" => 10,
                    "M" => 20,
                    _ => 30,
                };
                facts.ram_bytes = size
                    .as_str()
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| n.checked_mul(1u64 << shift));
            }
            if let Some(cpu) = caps.get(4) {
                facts
                    .details
                    .insert("cpu".into(), cpu.as_str().trim().into());
            }
            continue;
        }
        if let Some(model) = line.strip_prefix("Model Id:") {
            facts.model = Some(model.trim().to_string());
            continue;
        }
        if let Some(serial) = line.strip_prefix("Serial Number:") {
            facts.serial = Some(serial.trim().to_string());
            continue;
        }
        if let Some(caps) = COMPONENT_VERSION.captures(line) {
            let component = caps.get(1).map_or("", |m| m.as_str());
            let version = caps.get(2).map_or("", |m| m.as_str());
            facts
                .details
                .insert(format!("{}_version", snake(component)), version.into());
            continue;
        }
        if let Some(caps) = UPTIME.captures(line) {
            let uptime = caps.get(2).map_or("", |m| m.as_str());
            // The device's own line comes first; `failover cluster up ...` follows.
            if let (Some(seconds), None) = (parse_uptime(uptime), &facts.hostname) {
                facts.hostname = caps.get(1).map(|m| m.as_str().to_string());
                facts.uptime_seconds = Some(seconds);
                facts.details.insert("uptime".into(), uptime.into());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let (key, value) = (key.trim(), value.trim());
            if !value.is_empty() && !key.contains(char::is_numeric) {
                facts.details.insert(snake(key), value.into());
            }
        }
    }
    // Older appliances print no `Model Id:`; their hardware name is the model (`ASA5520`).
    if facts.model.is_none() {
        facts.model = facts
            .details
            .get("platform")
            .and_then(|p| p.as_text())
            .map(str::to_string);
    }
    if !recognised {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no 'Cisco Adaptive Security Appliance Software Version' line (hint: is this an ASA?)"
                .into(),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asav_typed_fields() {
        let out = "Cisco Adaptive Security Appliance Software Version 9.8(4)10
Device Manager Version 7.8(2)
System image file is \"boot:/asa984-10-smp-k8.bin\"
NETLAB-ASA-01 up 3 days 22 hours
Hardware:   ASAv, 2048 MB RAM, CPU Xeon E5 series 3491 MHz,
Model Id:   ASAv10
Serial Number: 9A5BHB00D2D
Configuration register is 0x1
";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.version.as_deref(), Some("9.8(4)10"));
        assert_eq!(facts.hostname.as_deref(), Some("NETLAB-ASA-01"));
        assert_eq!(facts.model.as_deref(), Some("ASAv10"));
        assert_eq!(facts.serial.as_deref(), Some("9A5BHB00D2D"));
        assert_eq!(facts.ram_bytes, Some(2048 << 20));
        assert_eq!(facts.uptime_seconds, Some(3 * 86_400 + 22 * 3_600));
        assert_eq!(
            facts.running_image.as_deref(),
            Some("boot:/asa984-10-smp-k8.bin")
        );
        assert_eq!(facts.config_register.as_deref(), Some("0x1"));
        assert_eq!(facts.details["platform"], "ASAv".into());
        assert_eq!(facts.details["device_manager_version"], "7.8(2)".into());
    }

    #[test]
    fn older_appliance_model_is_its_hardware() {
        let out = "Cisco Adaptive Security Appliance Software Version 8.4(1)\nasa3 up 3 days 3 hours\nHardware:   ASA5520, 512 MB RAM, CPU Pentium 4 Celeron 2000 MHz\nSerial Number: JMX0938K0C0\n";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.model.as_deref(), Some("ASA5520"));
        assert_eq!(facts.ram_bytes, Some(512 << 20));
        assert_eq!(facts.hostname.as_deref(), Some("asa3"));
    }
}
