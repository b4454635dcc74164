//! `show boot`, `show bootvar`, `show boot system` (IOS, IOS-XE, NX-OS).
//!
//! Three grammars share these commands:
//! - classic Catalyst IOS `Key : value` lines (`BOOT path-list : flash:x.bin`),
//!   with `Switch N` blocks on stacks and keys wrapped over two lines
//!   (`NVRAM/Config file` / `      buffer size:   524288`);
//! - IOS-XE `NAME variable = value` / `NAME variable does not exist` lines,
//!   `Configuration register is 0x2102`, `Standby ...` lines for the standby
//!   RP, and `Current Boot Variables:` / `Boot Variables on next reload:`
//!   sections on Catalyst 3850/9k stacks;
//! - NX-OS `sup-N` blocks of `kickstart|system|NXOS variable = ...` lines in
//!   the same two sections.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::Os;
use netswim_domain::facts::{BootEntry, BootFacts, Detail, Details};
use regex::{Captures, Regex};

use crate::ParseError;

/// `Switch 2` stack block header.
static SWITCH_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^switch\s+(\d+)$").ok());
/// `BOOT variable = flash:x;` or `Standby BOOTLDR variable =`.
static VARIABLE_SET: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(.+?)\s+variable\s*=\s*(.*)$").ok());
/// `BOOTLDR variable does not exist`.
static VARIABLE_MISSING: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^(.+?)\s+variable\s+does\s+not\s+exist").ok());
/// `Configuration register is 0x1 (will be 0x2102 at next reload)`.
static CONFIG_REGISTER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^configuration\s+register\s+is\s+(\S+)(?:\s*\(will\s+be\s+(\S+)\s+at\s+next\s+reload\))?").ok()
});
/// `Manual Boot = yes`.
static KEY_EQUALS: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][A-Za-z0-9 _/().-]*?)\s*=\s*(.*)$").ok());
/// `(next boot: disabled)` after the DHCP config-download setting.
static NEXT_BOOT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)^(.*?)\s*\(next boot:\s*([^)]*)\)?\s*$").ok());

/// Captures of a lazily compiled pattern (statics hold `Option<Regex>` so
/// that no parser path can panic; the unit tests prove each pattern compiles).
pub(crate) fn captures<'t>(
    pattern: &LazyLock<Option<Regex>>,
    text: &'t str,
) -> Option<Captures<'t>> {
    pattern.as_ref().and_then(|regex| regex.captures(text))
}

pub(crate) use crate::text::snake_key;

/// Inserts a text detail when the text is not empty.
pub(crate) fn put(details: &mut Details, key: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() {
        details.insert(key.to_string(), Detail::Text(value.to_string()));
    }
}

/// `yes`/`no`, `enabled`/`disabled`, `true`/`false` as a flag.
pub(crate) fn flag(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "yes" | "enabled" | "true" | "on" => Some(true),
        "no" | "disabled" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// Splits a boot variable (`a,12;b,12;` or `flash:a.bin;flash:b.bin`) into paths,
/// dropping the `,N` boot-attempt counts IOS appends to each path.
pub(crate) fn split_boot_paths(value: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for piece in value.split(';') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        match piece.rsplit_once(',') {
            Some((path, count))
                if !count.trim().is_empty() && count.trim().chars().all(|c| c.is_ascii_digit()) =>
            {
                let path = path.trim();
                if !path.is_empty() {
                    paths.push(path.to_string());
                }
            }
            _ => paths.extend(
                piece
                    .split(',')
                    .map(str::trim)
                    .filter(|path| !path.is_empty())
                    .map(str::to_string),
            ),
        }
    }
    paths
}

/// Parses `show boot` output of a device running `os`.
pub fn parse_show_boot(os: Os, output: &str) -> Result<BootFacts, ParseError> {
    let looks_nxos = output.lines().any(|line| {
        let line = line.trim().to_ascii_lowercase();
        line.starts_with("sup-")
            || line.starts_with("kickstart variable")
            || line.starts_with("nxos variable")
    });
    let facts = if os == Os::Nxos || looks_nxos {
        parse_nxos(output)
    } else {
        parse_ios(output)
    };
    let says_something = !facts.entries.is_empty() || !facts.details.is_empty();
    if !says_something {
        return Err(ParseError::UnrecognisedOutput {
            command: "show boot".into(),
            reason: "no boot variable, boot path or stack member block found".into(),
        });
    }
    Ok(facts)
}

/// Which part of a Catalyst 3850/9k block a line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Plain,
    Current,
    NextReload,
}

/// Builder state for the IOS / IOS-XE grammars.
struct IosBoot {
    facts: BootFacts,
    /// Index of the entry lines apply to.
    current: Option<usize>,
    /// Index of the standby RP entry (`Standby ...` lines).
    standby: Option<usize>,
    section: Section,
}

impl IosBoot {
    /// The index of the entry a line applies to, creating it when needed.
    fn entry_index(&mut self, standby: bool) -> usize {
        if !standby {
            return self.ensure_current();
        }
        if let Some(index) = self.standby {
            return index;
        }
        let active = self.ensure_current();
        if let Some(entry) = self.facts.entries.get_mut(active) {
            entry
                .details
                .entry("role".into())
                .or_insert_with(|| Detail::from("active"));
        }
        let mut entry = BootEntry::default();
        put(&mut entry.details, "role", "standby");
        self.facts.entries.push(entry);
        let index = self.facts.entries.len() - 1;
        self.standby = Some(index);
        index
    }

    /// Runs `apply` on the entry a line applies to.
    fn with_entry(&mut self, standby: bool, apply: impl FnOnce(&mut BootEntry)) {
        let index = self.entry_index(standby);
        if let Some(entry) = self.facts.entries.get_mut(index) {
            apply(entry);
        }
    }

    fn ensure_current(&mut self) -> usize {
        match self.current {
            Some(index) => index,
            None => {
                self.facts.entries.push(BootEntry::default());
                let index = self.facts.entries.len() - 1;
                self.current = Some(index);
                index
            }
        }
    }

    /// Applies one `name = value` setting (`name` as printed, without `variable`).
    fn set(&mut self, standby: bool, name: &str, value: Option<&str>) {
        let section = self.section;
        let key = boot_key(name);
        self.with_entry(standby, |entry| apply_setting(entry, section, &key, value));
    }
}

/// Stores one setting on `entry`: typed fields first, everything as a detail.
fn apply_setting(entry: &mut BootEntry, section: Section, key: &str, value: Option<&str>) {
    let printed = value.unwrap_or("does not exist").trim();
    if section == Section::Current {
        if key == "boot_variable" {
            put(&mut entry.details, "current_boot_variable", printed);
            if let Some(value) = value {
                let paths = split_boot_paths(value);
                if !paths.is_empty() {
                    entry.details.insert(
                        "current_boot_path".into(),
                        Detail::List(paths.into_iter().map(Detail::Text).collect()),
                    );
                }
            }
        } else {
            put(&mut entry.details, &format!("current_{key}"), printed);
        }
        return;
    }
    match key {
        "boot_variable" | "boot_path_list" => {
            put(&mut entry.details, key, printed);
            if let Some(value) = value {
                entry.boot_path = split_boot_paths(value);
            }
        }
        // Typed fields; a detail only when the printed value does not fit them.
        "config_file" => {
            entry.config_file = value
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_string);
            if value.is_none() {
                put(&mut entry.details, key, printed);
            }
        }
        "auto_upgrade" => {
            entry.auto_upgrade = value.and_then(flag);
            if entry.auto_upgrade.is_none() {
                put(&mut entry.details, key, printed);
            }
        }
        "config_download_via_dhcp" => match value.and_then(|v| captures(&NEXT_BOOT, v)) {
            Some(captures) => {
                let now = captures.get(1).map_or("", |m| m.as_str());
                let next = captures.get(2).map_or("", |m| m.as_str());
                put(&mut entry.details, key, now);
                put(
                    &mut entry.details,
                    "config_download_via_dhcp_next_boot",
                    next,
                );
            }
            None => put(&mut entry.details, key, printed),
        },
        _ => put(&mut entry.details, key, printed),
    }
}

/// Stable detail key of a printed setting name.
fn boot_key(name: &str) -> String {
    let key = snake_key(name);
    match key.as_str() {
        "boot" => "boot_variable".into(),
        "bootmode" => "boot_mode".into(),
        "nvram_config_file_buffer_size" => "nvram_buffer_size".into(),
        "timeout_for_config_download" => "timeout_config_download".into(),
        _ => key,
    }
}

fn parse_ios(output: &str) -> BootFacts {
    let mut state = IosBoot {
        facts: BootFacts::default(),
        current: None,
        standby: None,
        section: Section::Plain,
    };
    let lines: Vec<&str> = output.lines().collect();
    // A key wrapped over two lines: `NVRAM/Config file` then an indented `buffer size: 1`.
    let mut wrapped_key: Option<String> = None;
    for (position, raw_line) in lines.iter().enumerate() {
        let line = raw_line.trim();
        let indented = raw_line.starts_with(char::is_whitespace);
        let held = wrapped_key.take();
        if line.is_empty() || line.chars().all(|c| c == '-' || c == '=') {
            continue;
        }
        if let Some(captures) = captures(&SWITCH_HEADER, line) {
            let member = captures.get(1).and_then(|m| m.as_str().parse().ok());
            state.facts.entries.push(BootEntry {
                member,
                ..BootEntry::default()
            });
            state.current = Some(state.facts.entries.len() - 1);
            state.standby = None;
            state.section = Section::Plain;
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("current boot variables") {
            state.section = Section::Current;
            continue;
        }
        if lower.starts_with("boot variables on next reload") {
            state.section = Section::NextReload;
            continue;
        }
        if lower.starts_with("standby not ready") {
            put(&mut state.facts.details, "standby_status", "not ready");
            continue;
        }
        let (standby, body) = match line.strip_prefix("Standby ") {
            Some(rest) => (true, rest.trim()),
            None => (false, line),
        };
        if let Some(captures) = captures(&CONFIG_REGISTER, body) {
            state.with_entry(standby, |entry| {
                if let Some(now) = captures.get(1) {
                    put(&mut entry.details, "configuration_register", now.as_str());
                }
                if let Some(next) = captures.get(2) {
                    put(
                        &mut entry.details,
                        "next_reload_configuration_register",
                        next.as_str(),
                    );
                }
            });
            continue;
        }
        if let Some(captures) = captures(&VARIABLE_MISSING, body) {
            let name = captures.get(1).map_or("", |m| m.as_str());
            state.set(standby, name, None);
            continue;
        }
        if let Some(captures) = captures(&VARIABLE_SET, body) {
            let name = captures.get(1).map_or("", |m| m.as_str());
            let value = captures.get(2).map_or("", |m| m.as_str());
            state.set(standby, name, Some(value));
            continue;
        }
        if let Some(captures) = captures(&KEY_EQUALS, body) {
            let name = captures.get(1).map_or("", |m| m.as_str());
            let value = captures.get(2).map_or("", |m| m.as_str());
            state.set(standby, name, Some(value));
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            // A drive letter (`flash:`) right after the key would mean this is no key.
            let name = match (&held, indented) {
                (Some(first), true) => format!("{first} {}", name.trim()),
                _ => name.trim().to_string(),
            };
            if name.is_empty() || name.contains('#') {
                continue;
            }
            state.set(false, &name, Some(value));
            continue;
        }
        // No separator: possibly the first half of a wrapped key, when the next
        // line is indented and carries the value.
        let next_indented = lines
            .get(position + 1)
            .is_some_and(|next| next.starts_with(char::is_whitespace) && next.contains(':'));
        if next_indented && !line.contains('#') {
            wrapped_key = Some(line.to_string());
        }
    }
    state.facts
}

fn parse_nxos(output: &str) -> BootFacts {
    let mut facts = BootFacts::default();
    let mut sections: BTreeMap<&'static str, BTreeMap<String, Details>> = BTreeMap::new();
    let mut section = "next_reload_boot_variable";
    let mut sup = String::new();
    let mut sup_order: Vec<(&'static str, String)> = Vec::new();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        let lower = line.to_ascii_lowercase();
        if line.is_empty() {
            continue;
        }
        if lower.starts_with("current boot variables") {
            section = "current_boot_variable";
            sup.clear();
            continue;
        }
        if lower.starts_with("boot variables on next reload") {
            section = "next_reload_boot_variable";
            sup.clear();
            continue;
        }
        if lower.starts_with("sup-") && !line.contains(' ') {
            sup = line.to_string();
            continue;
        }
        let setting = if let Some(captures) = captures(&VARIABLE_SET, line) {
            let name = captures.get(1).map_or("", |m| m.as_str());
            let value = captures.get(2).map_or("", |m| m.as_str());
            Some((
                format!("{}_variable", snake_key(name)),
                value.trim().to_string(),
            ))
        } else if let Some(rest) = lower.strip_prefix("boot poap ") {
            let printed = line.get(line.len() - rest.len()..).unwrap_or(rest);
            Some(("boot_poap".to_string(), printed.trim().to_string()))
        } else if lower.starts_with("no module boot variable set") {
            put(&mut facts.details, "module_boot_variable", "not set");
            None
        } else {
            None
        };
        let Some((key, value)) = setting else {
            continue;
        };
        let sups = sections.entry(section).or_default();
        if !sups.contains_key(&sup) {
            sup_order.push((section, sup.clone()));
        }
        put(sups.entry(sup.clone()).or_default(), &key, &value);
    }
    // Entries: the settings that apply at next reload (or the current ones
    // when the output has no next-reload section).
    let entry_section = if sections.contains_key("next_reload_boot_variable") {
        "next_reload_boot_variable"
    } else {
        "current_boot_variable"
    };
    for (section, sup) in &sup_order {
        if *section != entry_section {
            continue;
        }
        let Some(settings) = sections.get(section).and_then(|sups| sups.get(sup)) else {
            continue;
        };
        let mut entry = BootEntry::default();
        put(&mut entry.details, "slot", sup);
        for (key, value) in settings {
            entry.details.insert(key.clone(), value.clone());
        }
        // Kickstart loads before system: keep that order, then any other image.
        let mut ordered: Vec<&str> = Vec::new();
        for wanted in ["kickstart_variable", "system_variable"] {
            if let Some(path) = settings.get(wanted).and_then(Detail::as_text) {
                ordered.push(path);
            }
        }
        for (key, value) in settings {
            if key.ends_with("_variable") && key != "kickstart_variable" && key != "system_variable"
            {
                if let Some(path) = value.as_text() {
                    ordered.push(path);
                }
            }
        }
        entry.boot_path = ordered.into_iter().map(str::to_string).collect();
        facts.entries.push(entry);
    }
    for (section, sups) in sections {
        let map: BTreeMap<String, Detail> = sups
            .into_iter()
            .map(|(sup, settings)| (sup, Detail::Map(settings)))
            .collect();
        facts.details.insert(section.to_string(), Detail::Map(map));
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<'a>(details: &'a Details, key: &str) -> Option<&'a str> {
        details.get(key).and_then(Detail::as_text)
    }

    #[test]
    fn classic_switch_show_boot_fills_typed_fields_and_wrapped_keys() {
        let out = "BOOT path-list      : flash:/c2960x-universalk9-mz.152-4.E8.bin\n\
Config file         : flash:/config.text\n\
Private Config file : flash:/private-config.text\n\
Enable Break        : yes\n\
Auto upgrade        : yes\n\
NVRAM/Config file\n      buffer size:   524288\n\
Timeout for Config\n          Download:    0 seconds\n\
Config Download \n       via DHCP:       disabled (next boot: disabled)\n\
-------------------\nSwitch 2\n-------------------\n\
BOOT path-list      : flash:a.bin;flash:b.bin\n\
Auto upgrade        : no\n";
        let facts = parse_show_boot(Os::Ios, out).unwrap();
        assert_eq!(facts.entries.len(), 2);
        let first = &facts.entries[0];
        assert_eq!(first.member, None);
        assert_eq!(
            first.boot_path,
            vec!["flash:/c2960x-universalk9-mz.152-4.E8.bin"]
        );
        assert_eq!(first.config_file.as_deref(), Some("flash:/config.text"));
        assert_eq!(first.auto_upgrade, Some(true));
        assert_eq!(text(&first.details, "nvram_buffer_size"), Some("524288"));
        assert_eq!(
            text(&first.details, "timeout_config_download"),
            Some("0 seconds")
        );
        assert_eq!(
            text(&first.details, "config_download_via_dhcp_next_boot"),
            Some("disabled")
        );
        let second = &facts.entries[1];
        assert_eq!(second.member, Some(2));
        assert_eq!(second.boot_path, vec!["flash:a.bin", "flash:b.bin"]);
        assert_eq!(second.auto_upgrade, Some(false));
    }

    #[test]
    fn iosxe_variables_and_standby_lines_make_two_entries() {
        let out = "BOOT variable = harddisk:/a.bin,12;harddisk:/b,12;\n\
CONFIG_FILE variable =\nBOOTLDR variable does not exist\n\
Configuration register is 0x1 (will be 0x2102 at next reload)\n\n\
Standby BOOT variable = bootflash:packages.conf;\n\
Standby Configuration register is 0x1  (will be 0x2102 at next reload)\n";
        let facts = parse_show_boot(Os::Iosxe, out).unwrap();
        let active = &facts.entries[0];
        assert_eq!(active.boot_path, vec!["harddisk:/a.bin", "harddisk:/b"]);
        assert_eq!(active.config_file, None);
        assert_eq!(text(&active.details, "bootldr"), Some("does not exist"));
        assert_eq!(text(&active.details, "configuration_register"), Some("0x1"));
        assert_eq!(
            text(&active.details, "next_reload_configuration_register"),
            Some("0x2102")
        );
        let standby = &facts.entries[1];
        assert_eq!(text(&standby.details, "role"), Some("standby"));
        assert_eq!(standby.boot_path, vec!["bootflash:packages.conf"]);
    }

    #[test]
    fn catalyst_sections_split_current_from_next_reload() {
        let out = "---------------------------\nSwitch 1\n---------------------------\n\
Current Boot Variables:\nBOOT variable does not exist\n\n\
Boot Variables on next reload:\nBOOT variable = flash:packages.conf\nManual Boot = no\nBoot Mode = DEVICE\niPXE Timeout = 0\n";
        let facts = parse_show_boot(Os::Iosxe, out).unwrap();
        let entry = &facts.entries[0];
        assert_eq!(entry.member, Some(1));
        assert_eq!(entry.boot_path, vec!["flash:packages.conf"]);
        assert_eq!(
            text(&entry.details, "current_boot_variable"),
            Some("does not exist")
        );
        assert_eq!(text(&entry.details, "boot_mode"), Some("DEVICE"));
        assert_eq!(text(&entry.details, "ipxe_timeout"), Some("0"));
    }

    #[test]
    fn catalyst_9300_stack_gives_one_entry_per_member() {
        let out = "---------------------------
Switch 1
---------------------------
Current Boot Variables:
BOOT variable = flash:packages.conf;

Boot Variables on next reload:
BOOT variable = flash:packages.conf;
Manual Boot = no
Enable Break = yes
Boot Mode = DEVICE
iPXE Timeout = 0
---------------------------
Switch 2
---------------------------
Current Boot Variables:
BOOT variable = flash:cat9k_iosxe.17.09.04a.SPA.bin;

Boot Variables on next reload:
BOOT variable = flash:packages.conf;
Manual Boot = yes
Enable Break = yes
Boot Mode = DEVICE
iPXE Timeout = 0
";
        let facts = parse_show_boot(Os::Iosxe, out).unwrap();
        let members: Vec<Option<u32>> = facts.entries.iter().map(|e| e.member).collect();
        assert_eq!(members, vec![Some(1), Some(2)]);
        let second = &facts.entries[1];
        assert_eq!(second.boot_path, vec!["flash:packages.conf"]);
        assert_eq!(
            text(&second.details, "current_boot_variable"),
            Some("flash:cat9k_iosxe.17.09.04a.SPA.bin;")
        );
        assert_eq!(text(&second.details, "manual_boot"), Some("yes"));
        assert_eq!(text(&facts.entries[0].details, "manual_boot"), Some("no"));
    }

    #[test]
    fn nxos_sup_blocks_become_entries_with_kickstart_first() {
        let out = "Current Boot Variables:\n\nsup-1\nkickstart variable = bootflash:/k.bin\nsystem variable = bootflash:/s.bin\nBoot POAP Disabled\n\n\
Boot Variables on next reload:\n\nsup-1\nNXOS variable = bootflash:/nxos.9.3.7.bin\nBoot POAP Disabled\n";
        let facts = parse_show_boot(Os::Nxos, out).unwrap();
        assert_eq!(facts.entries.len(), 1);
        assert_eq!(
            facts.entries[0].boot_path,
            vec!["bootflash:/nxos.9.3.7.bin"]
        );
        let Some(Detail::Map(current)) = facts.details.get("current_boot_variable") else {
            panic!("current section missing");
        };
        let Some(Detail::Map(sup)) = current.get("sup-1") else {
            panic!("sup-1 missing");
        };
        assert_eq!(text(sup, "kickstart_variable"), Some("bootflash:/k.bin"));
        assert_eq!(text(sup, "boot_poap"), Some("Disabled"));
    }

    #[test]
    fn boot_paths_split_on_semicolons_commas_and_drop_counts() {
        let cases: &[(&str, &[&str])] = &[
            ("flash:a.bin;flash:b.bin;", &["flash:a.bin", "flash:b.bin"]),
            ("flash:a.bin,flash:b.bin", &["flash:a.bin", "flash:b.bin"]),
            ("disk0:x,12;", &["disk0:x"]),
            ("", &[]),
        ];
        for (input, expected) in cases {
            assert_eq!(split_boot_paths(input), *expected, "{input}");
        }
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &SWITCH_HEADER,
            &VARIABLE_SET,
            &VARIABLE_MISSING,
            &CONFIG_REGISTER,
            &KEY_EQUALS,
            &NEXT_BOOT,
        ] {
            assert!(pattern.is_some());
        }
    }

    #[test]
    fn text_without_boot_settings_is_rejected() {
        assert!(parse_show_boot(Os::Ios, "hello\nworld\n").is_err());
    }
}
