//! Cisco IOS and IOS-XE `show version` (also classic autonomous/lightweight AP output).
//!
//! The output is read line by line. Each line is matched against the grammar
//! of the statements `show version` prints (`<host> uptime is ...`,
//! `System image file is "..."`, `<N>K bytes of <kind> ...`, `<N> <kind>
//! interfaces`, `Key : value` hardware lines, ...) plus three small tables:
//! the stack's `Switch Ports Model SW Version SW Image` table, the technology
//! package license table and the license UDI table. `Switch NN` / `---`
//! headers open the hardware block of another stack member; the `Key :
//! value` lines before the first such header describe the local (active)
//! member. Lines nobody understands are skipped. Access points (AP-COS)
//! have no IOS banner: their version is the `AP Running Image` line, and
//! lines a narrow terminal wrapped (processor line, image hashes) are rejoined.
//!
//! Typed fields hold what users and upgrade logic need; every other fact goes
//! into `details` under genieparser's key names (nested maps where genie
//! nests), so the facts stay comparable with the wider tooling ecosystem.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{Detail, Details, StackMemberVersion, VersionFacts};
use regex::Regex;

use crate::ParseError;
use crate::text::{parse_u64, parse_uptime, reject_device_error};

static UPTIME: LazyLock<Regex> = LazyLock::new(|| pattern(r"^(\S+) uptime is (.*)$"));
static PROCESSOR: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"^(?P<vendor>\S+)\s+(?P<chassis>\S+)\s+(?P<middle>.*?)\s*\bwith\s+(?:(?P<module>\S+)\s+with\s+)?(?:with\s+)?(?P<main>\d+)K?(?:/(?P<io>\d+)K)?\s+bytes of (?P<physical>physical )?memory",
    )
});
static MEMORY_LINE: LazyLock<Regex> = LazyLock::new(|| pattern(r"^(\d+)K bytes of (.*)$"));
static COUNT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)^(\d+)\s+(.+?)\s+(interface|line|radio|module)(?:s|\(s\))?\.?$")
});
static CONTROLLER_LINE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(\d+)\s+(.+?)\s+controllers?\s+\((\d+)\s+(.+?)\)\.?$"));
static KEY_VALUE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^([A-Za-z][A-Za-z0-9 /.\-()]*?)\s+:\s*(.*)$"));
static LICENSE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)^(next (?:reload|reboot) )?(air |addon )?license (level|type):\s*(.*)$")
});
static SWITCH_ROW: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^(\*)?\s*(\d+)\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(\S+))?\s*$"));
static REVISION_ITEM: LazyLock<Regex> = LazyLock::new(|| pattern(r"^(\w+) Revision (\S+)$"));
static COLUMN_GAP: LazyLock<Regex> = LazyLock::new(|| pattern(r"\s*\t\s*|\s{2,}"));
static BUILD_LABEL: LazyLock<Regex> = LazyLock::new(|| pattern(r"BLD_\w+"));
static VERSION_WORD: LazyLock<Regex> = LazyLock::new(|| pattern(r"\bVersion\s+([^,\s\[]+)"));
/// `Primary Boot Image Hash: e10b9d...` (an AP's image digest, often wrapped).
static HASH_LINE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"^([A-Za-z][A-Za-z ]*? Hash)\s*:\s*([0-9A-Fa-f]*)$"));
static HEX_ONLY: LazyLock<Regex> = LazyLock::new(|| pattern(r"^[0-9A-Fa-f]+$"));

/// Compiles a pattern literal (the `patterns_compile` test forces every one).
#[allow(clippy::expect_used)]
fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("pattern literal compiles")
}

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    reject_device_error(output)?;
    let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
    let mut parser = Parser::default();
    let mut index = 0;
    while let Some(line) = lines.get(index) {
        index = parser.line(&lines, index, line);
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    facts: VersionFacts,
    details: Details,
    banner_seen: bool,
    processor_seen: bool,
    is_xe: bool,
    /// An access point (AP-COS banner or `AP Running Image` line).
    is_ap: bool,
    rom_lines: Vec<String>,
    /// Member whose hardware block is being read (`None`: the local member).
    current_block: Option<u32>,
    /// Hardware `Key : value` facts per member block (`None`: local member).
    blocks: BTreeMap<Option<u32>, Details>,
    /// Rows of the switch table: (member, active, row details).
    switch_rows: Vec<(u32, bool, StackMemberVersion)>,
}

/// Inserts a trimmed, non-empty text detail.
fn put(details: &mut Details, key: &str, value: &str) {
    let value = value.trim();
    if !value.is_empty() {
        details.insert(key.to_string(), Detail::Text(value.to_string()));
    }
}

fn map_entry<'a>(details: &'a mut Details, key: &str) -> Option<&'a mut Details> {
    let entry = details
        .entry(key.to_string())
        .or_insert_with(|| Detail::Map(BTreeMap::new()));
    match entry {
        Detail::Map(map) => Some(map),
        _ => None,
    }
}

fn list_entry<'a>(details: &'a mut Details, key: &str) -> Option<&'a mut Vec<Detail>> {
    let entry = details
        .entry(key.to_string())
        .or_insert_with(|| Detail::List(Vec::new()));
    match entry {
        Detail::List(list) => Some(list),
        _ => None,
    }
}

fn is_dashes(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && line.chars().all(|c| c == '-')
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `Gigabit Ethernet` -> `gigabit_ethernet` (genie's older key style).
fn snake(text: &str) -> String {
    collapse_spaces(text)
        .to_lowercase()
        .replace([' ', '-'], "_")
}

/// The first two numeric components of a version (`15.2(2)E8` -> `15.2`).
fn version_short(version: &str) -> Option<String> {
    let mut parts = version.split(|c: char| !c.is_ascii_digit());
    let major = parts.next().filter(|p| !p.is_empty())?;
    let rest = version.get(major.len()..)?;
    let minor: String = rest
        .strip_prefix('.')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!minor.is_empty()).then(|| format!("{major}.{minor}"))
}

/// genie's names for the `Key : value` hardware lines; others get snake_case.
fn hardware_key(key: &str) -> String {
    let key = collapse_spaces(key).to_lowercase();
    let known = match key.as_str() {
        "base ethernet mac address" => "mac_address",
        "motherboard assembly number" => "mb_assembly_num",
        "motherboard serial number" => "mb_sn",
        "model revision number" => "model_rev_num",
        "motherboard revision number" => "mb_rev_num",
        "model number" | "product/model number" => "model_num",
        "system serial number" => "system_sn",
        "daughterboard assembly number" => "db_assembly_num",
        "daughterboard serial number" => "db_sn",
        "top assembly part number" => "top_assembly_part_num",
        "top assembly revision number" => "top_assembly_rev_num",
        "version id" => "version_id",
        "clei code number" => "clei_code_num",
        "hardware board revision number" => "hb_rev_num",
        "system fpga version" => "system_fpga_version",
        "switch uptime" => "uptime",
        _ => "",
    };
    if known.is_empty() {
        key.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect::<String>()
            .split('_')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("_")
    } else {
        known.to_string()
    }
}

/// The AP image lines (`AP Running Image : 17.12.0.78`, `Primary Boot
/// Image`, `Backup Boot Image`, `AP Image type`, `AP Configuration`).
fn is_ap_image_key(key: &str) -> bool {
    matches!(
        key,
        "ap_running_image"
            | "primary_boot_image"
            | "backup_boot_image"
            | "ap_image_type"
            | "ap_configuration"
    )
}

/// genie's short platform family, derived from the banner's image id
/// (`C3750E-UNIVERSALK9-M`, `CAT9K_IOSXE`, `cat4000-I9S-M`):
/// - the id is lowercased and cut at its first `-` (the feature set follows);
/// - a trailing `_ios...` part names the OS, not the platform, and is dropped
///   (`cat9k_iosxe` -> `cat9k`);
/// - a Catalyst series written as `cat` and exactly four digits is shortened
///   to its `cat<first digit>k` family (`cat4000` -> `cat4k`);
/// - an id that names a CPU/Linux host instead of a platform
///   (`X86_64_LINUX_IOSD-...`) gives no family, so the words before
///   `Software` are used (`ASR1000 Software` -> `asr1000`, `ISR` -> `isr`).
fn platform_family(image_id: &str, platform_words: &str) -> Option<String> {
    let id = image_id.trim().to_lowercase();
    let head = id.split('-').next().unwrap_or("");
    if head.contains("linux") || head.is_empty() {
        let words = collapse_spaces(platform_words).to_lowercase();
        return (!words.is_empty()).then(|| words.replace(' ', "_"));
    }
    let head = match head.find("_ios") {
        Some(cut) => head.get(..cut).unwrap_or(head),
        None => head,
    };
    if let Some(digits) = head.strip_prefix("cat") {
        if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()) {
            let first = digits.get(..1).unwrap_or("");
            return Some(format!("cat{first}k"));
        }
    }
    (!head.is_empty()).then(|| head.to_string())
}

impl Parser {
    /// Handles the line at `index`; returns the index of the next unread line.
    fn line(&mut self, lines: &[&str], index: usize, raw: &str) -> usize {
        let line = raw.trim();
        let next = index + 1;
        if line.is_empty() {
            return next;
        }
        let lower = line.to_ascii_lowercase();
        if lower.contains("ios-xe software") || lower.contains("ios xe software") {
            self.is_xe = true;
        }
        if let Some(rest) = line.strip_prefix("ROM:") {
            // A lost newline can glue the BOOTLDR line onto the ROM line.
            match rest.split_once("BOOTLDR:") {
                Some((rom, bootldr)) => {
                    self.rom_lines.push(rom.trim().to_string());
                    put(&mut self.details, "bootldr", bootldr);
                }
                None => self.rom_lines.push(rest.trim().to_string()),
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("BOOTLDR:") {
            put(&mut self.details, "bootldr", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Cisco IOS XE Software, Version ") {
            put(&mut self.details, "xe_version", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("IOS XE Version:") {
            put(&mut self.details, "xe_version", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Cisco AP Software,") {
            self.ap_banner(rest);
            return next;
        }
        if let Some(caps) = HASH_LINE.captures(line) {
            return self.hash_line(lines, next, &caps);
        }
        if !self.banner_seen && self.banner(line) {
            self.banner_seen = true;
            return next;
        }
        if let Some(rest) = line.strip_prefix("Copyright (c) ") {
            if !self.details.contains_key("copyright_years") {
                if let Some(years) = rest.split_whitespace().next() {
                    put(&mut self.details, "copyright_years", years);
                }
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("Compiled ") {
            match rest.rsplit_once(" by ") {
                Some((date, by)) => {
                    put(&mut self.details, "compiled_date", date);
                    put(&mut self.details, "compiled_by", by);
                }
                None => put(&mut self.details, "compiled_date", rest),
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("Image text-base:") {
            if let Some(image) = map_entry(&mut self.details, "image") {
                let (text_base, data_base) = rest.split_once(", data-base:").unwrap_or((rest, ""));
                put(image, "text_base", text_base.trim_end_matches(','));
                put(image, "data_base", data_base);
            }
            return next;
        }
        if let Some(caps) = UPTIME.captures(line) {
            let host = caps.get(1).map_or("", |m| m.as_str());
            let mut uptime = caps.get(2).map_or("", |m| m.as_str()).trim().to_string();
            let mut consumed = next;
            // A narrow terminal can wrap the unit onto the next line.
            if uptime.ends_with(|c: char| c.is_ascii_digit()) {
                if let Some(unit) = lines.get(next).map(|l| l.trim()) {
                    if !unit.contains(' ') && parse_uptime(&format!("1 {unit}")).is_some() {
                        uptime = format!("{uptime} {unit}");
                        consumed = next + 1;
                    }
                }
            }
            self.facts.hostname = Some(host.to_string());
            self.facts.uptime_seconds = parse_uptime(&uptime);
            self.uptime_parts(&uptime);
            put(&mut self.details, "uptime", &uptime);
            return consumed;
        }
        if let Some(rest) = line.strip_prefix("Uptime for this control processor is ") {
            put(&mut self.details, "uptime_this_cp", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Time since ") {
            if let Some((_, since)) = rest.split_once(" switched to active is ") {
                put(&mut self.details, "time_since_switchover", since);
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("System returned to ROM by ") {
            put(&mut self.details, "returned_to_rom", rest);
            match rest.split_once(" at ") {
                Some((by, at)) => {
                    put(&mut self.details, "returned_to_rom_by", by);
                    put(&mut self.details, "returned_to_rom_at", at);
                }
                None => put(&mut self.details, "returned_to_rom_by", rest),
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("System restarted ") {
            if let Some(at) = rest.strip_prefix("at ") {
                put(&mut self.details, "system_restarted_at", at);
            } else if let Some(by) = rest.strip_prefix("by ") {
                match by.rsplit_once(" at ") {
                    Some((by, at)) => {
                        put(&mut self.details, "system_restarted_by", by);
                        put(&mut self.details, "system_restarted_at", at);
                    }
                    None => put(&mut self.details, "system_restarted_by", by),
                }
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("System image file is ") {
            let mut parts = rest.splitn(3, '"');
            let (before, image, after) = (parts.next(), parts.next(), parts.next());
            let image = match (before, image) {
                (Some(""), Some(image)) => image,
                _ => rest.trim_matches('"'),
            };
            self.system_image(image);
            if let Some(via) = after.and_then(|a| a.split_once("booted via ")) {
                put(&mut self.details, "booted_via", via.1);
            }
            return next;
        }
        if let Some(rest) = line.strip_prefix("Last reload type:") {
            put(&mut self.details, "last_reload_type", rest);
            return next;
        }
        if let Some(rest) = line
            .strip_prefix("Last reload reason:")
            .or_else(|| line.strip_prefix("Last reload reason :"))
        {
            put(&mut self.details, "last_reload_reason", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Last reset from ") {
            put(
                &mut self.details,
                "last_reset",
                rest.trim_end_matches(" reset"),
            );
            return next;
        }
        if let Some(caps) = LICENSE_LINE.captures(line) {
            self.license_line(&caps);
            return next;
        }
        if lower.starts_with("technology") && line.contains("Technology-package") {
            return self.technology_table(lines, index, line);
        }
        if line.starts_with("Device#") && line.contains("PID") {
            return self.license_udi(lines, next);
        }
        if let Some(rest) = line.strip_prefix("Smart Licensing Status:") {
            put(&mut self.details, "smart_licensing_status", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Router operating mode:") {
            put(&mut self.details, "router_operating_mode", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Installation mode is ") {
            put(&mut self.details, "installation_mode", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("The current throughput level is ") {
            put(&mut self.details, "throughput_level", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("LWAPP image version ") {
            put(&mut self.details, "lwapp_image_version", rest);
            return next;
        }
        if let Some(rest) = line.strip_prefix("The password-recovery mechanism is ") {
            put(
                &mut self.details,
                "password_recovery",
                rest.trim_end_matches('.'),
            );
            return next;
        }
        if let Some(rest) = line.strip_prefix("Configuration register is ") {
            let (current, pending) = match rest.split_once(" (will be ") {
                Some((current, pending)) => (
                    current,
                    pending
                        .trim_end_matches(')')
                        .trim_end_matches(" at next reload"),
                ),
                None => (rest, ""),
            };
            self.facts.config_register = Some(current.trim().to_string());
            put(&mut self.details, "next_config_register", pending);
            return next;
        }
        if let Some(rest) = line.strip_prefix("Processor board ID ") {
            self.board_id(rest);
            return next;
        }
        if !self.processor_seen && line.contains("bytes of") {
            if let Some(caps) = PROCESSOR.captures(line) {
                self.processor(&caps);
                return next;
            }
            // A narrow terminal can wrap `... bytes of` / `memory.` in two.
            if let Some(following) = lines.get(next) {
                let joined = format!("{line} {}", following.trim());
                if let Some(caps) = PROCESSOR.captures(&joined) {
                    self.processor(&caps);
                    return next + 1;
                }
            }
        }
        if let Some(caps) = MEMORY_LINE.captures(line) {
            self.memory_line(
                caps.get(1).map_or("", |m| m.as_str()),
                caps.get(2).map_or("", |m| m.as_str()),
            );
            return next;
        }
        if let Some(caps) = CONTROLLER_LINE.captures(line) {
            let text = |n: usize| caps.get(n).map_or("", |m| m.as_str());
            let mut controller = BTreeMap::new();
            put(&mut controller, "counts", text(1));
            put(&mut controller, "type", text(2));
            put(&mut controller, &snake(text(4)), text(3));
            if let Some(list) = list_entry(&mut self.details, "controllers") {
                list.push(Detail::Map(controller));
            }
            return next;
        }
        if let Some(caps) = COUNT_LINE.captures(line) {
            self.count_line(&caps);
            return next;
        }
        if line.contains(" CPU at ") {
            self.cpu_line(line);
            return next;
        }
        if self.revision_line(line) {
            return next;
        }
        if line.starts_with("Switch") && line.contains("Ports") && line.contains("SW Version") {
            return self.switch_table(lines, next);
        }
        if let Some(member) = line
            .strip_prefix("Switch ")
            .and_then(|n| n.trim().parse::<u32>().ok())
        {
            if lines.get(next).is_some_and(|l| is_dashes(l)) {
                self.current_block = Some(member);
                self.blocks.entry(Some(member)).or_default();
                return next + 1;
            }
        }
        if let Some(caps) = KEY_VALUE.captures(line) {
            let key = hardware_key(caps.get(1).map_or("", |m| m.as_str()));
            let value = caps.get(2).map_or("", |m| m.as_str());
            if is_ap_image_key(&key) {
                // The AP's software state, not a hardware fact of a member.
                self.is_ap = true;
                put(&mut self.details, &key, value);
                return next;
            }
            let block = self.blocks.entry(self.current_block).or_default();
            put(block, &key, value);
            return next;
        }
        if self.processor_seen && lower.contains("software") && !lower.contains("bytes of") {
            if let Some(list) = list_entry(&mut self.details, "softwares") {
                list.push(Detail::Text(line.to_string()));
            }
        }
        next
    }

    /// `Cisco IOS Software [Fuji], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 16.9.3, RELEASE SOFTWARE (fc2)`
    /// and the older `IOS (tm) C2600 Software (C2600-I-M), Version 12.2(2)XA1, ...`.
    fn banner(&mut self, line: &str) -> bool {
        let Some((prefix, rest)) = line.split_once(" Software (") else {
            return false;
        };
        let Some((image_id, rest)) = rest.split_once(')') else {
            return false;
        };
        let rest = rest.trim_start_matches(',').trim_start();
        let rest = rest.strip_prefix("Experimental ").unwrap_or(rest);
        let Some(rest) = rest.strip_prefix("Version ") else {
            return false;
        };
        let version_end = rest
            .find(|c: char| c == ',' || c.is_whitespace())
            .unwrap_or(rest.len());
        let (version, label) = rest.split_at(version_end);
        let label = label.trim_start_matches(',').trim();
        let platform = prefix.rsplit(',').next().unwrap_or(prefix).trim();
        let platform = platform.strip_prefix("IOS (tm)").unwrap_or(platform);
        if let Some(location) = prefix
            .strip_prefix("Cisco IOS Software [")
            .and_then(|l| l.split_once(']'))
        {
            put(&mut self.details, "location", location.0);
            // The release train name (`[Bengaluru]`, `[IOSXE]`) is genie's `os_flavor`.
            put(&mut self.details, "os_flavor", &location.0.to_lowercase());
        }
        put(&mut self.details, "platform", &collapse_spaces(platform));
        put(&mut self.details, "image_id", image_id);
        if let Some(family) = platform_family(image_id, platform) {
            put(&mut self.details, "platform_family", &family);
        }
        if let Some(short) = version_short(version) {
            put(&mut self.details, "version_short", &short);
        }
        self.facts.version = Some(version.to_string());
        put(&mut self.details, "label", label);
        let image_type = if label.starts_with("RELEASE SOFTWARE") {
            "production image"
        } else {
            "developer image"
        };
        put(&mut self.details, "image_type", image_type);
        if let Some(build) = BUILD_LABEL.find(label) {
            put(&mut self.details, "build_label", build.as_str());
        }
        // The release tag: `(fc2)` at the end, or `CUST-SPECIAL:<tag>`.
        let release = match label.strip_suffix(')').and_then(|l| l.rsplit_once('(')) {
            Some((_, tag)) => Some(tag),
            None => label
                .split_once(':')
                .filter(|(kind, tag)| !kind.contains(' ') && !tag.contains(' '))
                .map(|(_, tag)| tag),
        };
        if let Some(release) = release {
            put(&mut self.details, "release", release);
        }
        true
    }

    /// `Cisco AP Software, (ap3g3), C9120, RELEASE SOFTWARE` (AP-COS banner).
    fn ap_banner(&mut self, rest: &str) {
        self.is_ap = true;
        let mut items = rest.split(',').map(str::trim);
        if let Some(image) = items.next() {
            put(
                &mut self.details,
                "image_id",
                image.trim_matches(['(', ')']),
            );
        }
        if let Some(platform) = items.next() {
            put(&mut self.details, "platform", platform);
        }
        let label = items.collect::<Vec<_>>().join(", ");
        put(&mut self.details, "label", &label);
        put(&mut self.details, "os", "AP-COS");
    }

    /// `<Name> Hash: <hex>` plus the hex lines a narrow terminal wrapped off it.
    fn hash_line(
        &mut self,
        lines: &[&str],
        mut cursor: usize,
        caps: &regex::Captures<'_>,
    ) -> usize {
        let key = hardware_key(caps.get(1).map_or("", |m| m.as_str()));
        let mut digest = caps.get(2).map_or("", |m| m.as_str()).to_string();
        while let Some(more) = lines
            .get(cursor)
            .map(|l| l.trim())
            .filter(|l| HEX_ONLY.is_match(l))
        {
            digest.push_str(more);
            cursor += 1;
        }
        put(&mut self.details, &key, &digest);
        cursor
    }

    fn system_image(&mut self, image: &str) {
        let image = image.trim();
        if image.is_empty() {
            return;
        }
        self.facts.running_image = Some(image.to_string());
        // `flash0:/x.bin` -> file system `flash0:` and path `/x.bin`.
        match image.split_once(':') {
            Some((filesystem, path)) if !filesystem.contains('/') => {
                put(
                    &mut self.details,
                    "running_image_filesystem",
                    &format!("{filesystem}:"),
                );
                put(&mut self.details, "running_image_file", path);
            }
            _ => put(&mut self.details, "running_image_file", image),
        }
    }

    fn uptime_parts(&mut self, uptime: &str) {
        let words: Vec<&str> = uptime
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let [count, unit] = pair else { continue };
            if count.parse::<u64>().is_err() {
                continue;
            }
            let unit = unit.to_ascii_lowercase();
            for name in ["year", "week", "day", "hour", "minute"] {
                if unit.starts_with(name) {
                    put(&mut self.details, &format!("uptime_{name}s"), count);
                }
            }
        }
    }

    fn license_line(&mut self, caps: &regex::Captures<'_>) {
        let mut key = String::new();
        if caps.get(1).is_some() {
            key.push_str("next_reload_");
        }
        if let Some(kind) = caps.get(2) {
            key.push_str(&kind.as_str().trim().to_lowercase());
            key.push('_');
        }
        let field = caps.get(3).map_or("", |m| m.as_str()).to_lowercase();
        let value = caps.get(4).map_or("", |m| m.as_str());
        key.push_str("license_");
        key.push_str(&field);
        // `License Level: entservices   Type: Permanent` (Catalyst 4500).
        match value.split_once("Type:") {
            Some((level, license_type)) if field == "level" => {
                put(&mut self.details, &key, level);
                put(
                    &mut self.details,
                    &key.replace("license_level", "license_type"),
                    license_type,
                );
            }
            _ => put(&mut self.details, &key, value),
        }
    }

    /// The technology package table. Two layouts: routers print
    /// `Technology  Current  Type  Next-reboot` (four columns), switches print
    /// `Current  Type  Next-reboot` keyed by the current package.
    fn technology_table(&mut self, lines: &[&str], index: usize, header: &str) -> usize {
        let four_columns = header.starts_with("Technology ");
        let mut cursor = index + 1;
        // Skip the second header line and the rule under it.
        while let Some(line) = lines.get(cursor) {
            cursor += 1;
            if is_dashes(line) {
                break;
            }
        }
        let mut rows = Vec::new();
        while let Some(line) = lines.get(cursor) {
            let line = line.trim();
            // The table ends at a blank line, a rule, or the next `Key: value` statement.
            if line.is_empty() || is_dashes(line) || line.contains(':') {
                break;
            }
            let cells: Vec<&str> = COLUMN_GAP
                .split(line)
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if cells.len() < 2 {
                break;
            }
            let (name, cells) = if four_columns {
                match cells.split_first() {
                    Some((name, rest)) => (*name, rest.to_vec()),
                    None => break,
                }
            } else {
                match cells.first() {
                    Some(name) => (*name, cells.clone()),
                    None => break,
                }
            };
            let mut package = BTreeMap::new();
            for (key, value) in ["license_level", "license_type", "next_reload_license_level"]
                .iter()
                .zip(cells.iter())
            {
                put(&mut package, key, value);
            }
            rows.push((name.to_string(), package));
            cursor += 1;
        }
        // A single-row switch table is the device's license.
        if let [(_, package)] = rows.as_slice() {
            if !four_columns && !self.details.contains_key("license_level") {
                for (key, value) in package {
                    self.details.insert(key.clone(), value.clone());
                }
            }
        }
        if !rows.is_empty() {
            if let Some(table) = map_entry(&mut self.details, "license_package") {
                for (name, package) in rows {
                    table.insert(name, Detail::Map(package));
                }
            }
        }
        cursor
    }

    /// `Device#   PID   SN` then a rule, then `*0   C3900-SPE150/K9   FOC16050QP6`.
    fn license_udi(&mut self, lines: &[&str], mut cursor: usize) -> usize {
        if lines.get(cursor).is_some_and(|l| is_dashes(l)) {
            cursor += 1;
        }
        let mut devices = BTreeMap::new();
        while let Some(line) = lines.get(cursor) {
            let cells: Vec<&str> = line.split_whitespace().collect();
            let [device, pid, serial] = cells.as_slice() else {
                break;
            };
            let mut entry = BTreeMap::new();
            put(&mut entry, "pid", pid);
            put(&mut entry, "sn", serial);
            devices.insert(device.to_string(), Detail::Map(entry));
            cursor += 1;
        }
        if let Some(udi) = map_entry(&mut self.details, "license_udi") {
            if !devices.is_empty() {
                udi.insert("device_num".into(), Detail::Map(devices));
            }
        }
        cursor
    }

    fn board_id(&mut self, rest: &str) {
        let id = rest
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or("");
        if !id.is_empty() {
            self.facts.serial = Some(id.to_string());
        }
        if let Some((_, revision)) = rest.split_once("with hardware revision ") {
            put(&mut self.details, "hardware_revision", revision);
        }
    }

    fn processor(&mut self, caps: &regex::Captures<'_>) {
        self.processor_seen = true;
        let text = |name: &str| caps.name(name).map_or("", |m| m.as_str());
        let chassis = text("chassis");
        self.facts.model = Some(chassis.to_string());
        let middle = text("middle");
        if let Some((_, inside)) = middle.split_once('(') {
            if let Some((processor_type, _)) = inside.split_once(')') {
                put(&mut self.details, "processor_type", processor_type);
            }
        }
        if let Some((_, revision)) = middle.split_once("(revision ") {
            if let Some((revision, _)) = revision.split_once(')') {
                put(&mut self.details, "revision", revision);
            }
        }
        put(&mut self.details, "processor_module", text("module"));
        let main = text("main");
        put(&mut self.details, "main_mem", main);
        put(&mut self.details, "io_mem", text("io"));
        if caps.name("physical").is_some() {
            if let Some(sizes) = map_entry(&mut self.details, "mem_size") {
                put(sizes, "physical", main);
            }
        }
    }

    /// `<N>K bytes of <kind> at <fs>:.`, `<N>K bytes of <kind> memory.`, or a
    /// flash device `<N>K bytes of ATA System CompactFlash 0 (Read/Write)`.
    fn memory_line(&mut self, size: &str, rest: &str) {
        let rest = rest.trim();
        // `<kind> at <fs>:.`; the kind may be empty (`0K bytes of  at webui:.`).
        let located = rest
            .rsplit_once(" at ")
            .or_else(|| rest.strip_prefix("at ").map(|fs| ("", fs)));
        if let Some((kind, filesystem)) = located {
            let filesystem = filesystem.trim_end_matches('.');
            if filesystem.ends_with(':') && !filesystem.contains(' ') {
                if let Some(disks) = map_entry(&mut self.details, "disks") {
                    let mut disk = BTreeMap::new();
                    put(&mut disk, "disk_size", size);
                    put(&mut disk, "type_of_disk", kind);
                    disks.insert(filesystem.to_string(), Detail::Map(disk));
                }
                return;
            }
        }
        if let Some(kind) = rest.trim_end_matches('.').strip_suffix(" memory") {
            if let Some(sizes) = map_entry(&mut self.details, "mem_size") {
                put(sizes, kind.trim(), size);
            }
            return;
        }
        let rest = rest.trim_end_matches('.');
        let (kind, qualifier) = match rest.strip_suffix(')').and_then(|r| r.rsplit_once(" (")) {
            Some((kind, qualifier)) => (kind, qualifier),
            None => (rest, ""),
        };
        let mut device = BTreeMap::new();
        put(&mut device, "kind", kind);
        put(&mut device, "qualifier", qualifier);
        put(&mut device, "size_kb", size);
        put(&mut device, "size", &format!("{size}K"));
        if let Some(list) = list_entry(&mut self.details, "flash_devices") {
            list.push(Detail::Map(device));
        }
    }

    fn count_line(&mut self, caps: &regex::Captures<'_>) {
        let count = caps.get(1).map_or("", |m| m.as_str());
        let kind = caps.get(2).map_or("", |m| m.as_str());
        let kind = kind.trim_end_matches("/IEEE 802.3");
        let kind = kind.strip_suffix(" network").unwrap_or(kind);
        let noun = caps.get(3).map_or("", |m| m.as_str()).to_lowercase();
        let table = match noun.as_str() {
            "interface" => "number_of_intfs",
            "line" => "number_of_lines",
            "radio" => "number_of_radios",
            _ => "number_of_modules",
        };
        if let Some(counts) = map_entry(&mut self.details, table) {
            put(counts, kind, count);
        }
    }

    /// `SR71000 CPU at 600Mhz, Implementation 0x504, Rev 1.2, 512KB L2 Cache`.
    fn cpu_line(&mut self, line: &str) {
        let Some((name, rest)) = line.split_once(" CPU at ") else {
            return;
        };
        let mut items = rest.split(',').map(str::trim);
        let mut cpu = BTreeMap::new();
        put(&mut cpu, "name", name);
        put(&mut cpu, "speed", items.next().unwrap_or(""));
        for item in items {
            if let Some(value) = item.strip_prefix("Implementation ") {
                put(&mut cpu, "implementation", value);
            } else if let Some(value) = item.strip_prefix("Rev ") {
                put(&mut cpu, "rev", value);
            } else if let Some(value) = item.strip_prefix("revision number ") {
                put(&mut cpu, "revision_number", value);
            } else if let Some(value) = item.strip_suffix(" L2 Cache") {
                put(&mut cpu, "l2_cache", value);
            } else if let Some(value) = item.strip_prefix("Supervisor ") {
                put(&mut cpu, "supervisor", value);
            } else {
                put(&mut cpu, "description", item);
            }
        }
        self.details.insert("cpu".into(), Detail::Map(cpu));
    }

    /// `Jawa Revision 7, Snowtrooper Revision 0x0.0x1C` (hardware ASIC revisions).
    fn revision_line(&mut self, line: &str) -> bool {
        let mut found = Vec::new();
        for item in line.split(',').map(str::trim) {
            let Some(caps) = REVISION_ITEM.captures(item) else {
                return false;
            };
            let name = caps.get(1).map_or("", |m| m.as_str()).to_lowercase();
            let value = caps.get(2).map_or("", |m| m.as_str());
            found.push((format!("{name}_revision"), value.to_string()));
        }
        for (key, value) in found {
            put(&mut self.details, &key, &value);
        }
        true
    }

    /// `Switch Ports Model SW Version SW Image [Mode]`, a rule, then one row per member.
    fn switch_table(&mut self, lines: &[&str], mut cursor: usize) -> usize {
        if lines
            .get(cursor)
            .is_some_and(|l| l.trim_start().starts_with('-'))
        {
            cursor += 1;
        }
        while let Some(caps) = lines.get(cursor).and_then(|l| SWITCH_ROW.captures(l)) {
            let text = |n: usize| caps.get(n).map_or("", |m| m.as_str());
            let Ok(member) = text(2).parse::<u32>() else {
                break;
            };
            let active = caps.get(1).is_some();
            let mut row = StackMemberVersion {
                member,
                model: Some(text(4).to_string()),
                version: Some(text(5).to_string()),
                image: Some(text(6).to_string()),
                details: Details::new(),
            };
            put(&mut row.details, "ports", text(3));
            put(&mut row.details, "mode", text(7));
            put(
                &mut row.details,
                "active",
                if active { "true" } else { "false" },
            );
            self.switch_rows.push((member, active, row));
            cursor += 1;
        }
        cursor
    }

    fn rommon(&self) -> Option<String> {
        let rom = self.rom_lines.first()?;
        let version_in = |text: &str| {
            VERSION_WORD
                .captures(text)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string())
        };
        if let Some(version) = version_in(rom) {
            return Some(version);
        }
        if let Some(program) = rom.strip_prefix("Bootstrap program is ") {
            let bootldr = self.details.get("bootldr").and_then(Detail::as_text);
            return bootldr
                .and_then(version_in)
                .or_else(|| Some(program.trim().to_string()));
        }
        rom.split_whitespace().next().map(str::to_string)
    }

    fn finish(mut self) -> Result<VersionFacts, ParseError> {
        if !self.banner_seen && !self.is_ap && self.facts.hostname.is_none() && !self.processor_seen
        {
            return Err(ParseError::UnrecognisedOutput {
                command: "show version".into(),
                reason: "no software banner, uptime or processor line found".into(),
            });
        }
        if let Some(first) = self.rom_lines.first() {
            put(&mut self.details, "rom", first);
            let first = first.clone();
            match first.strip_suffix(')').and_then(|r| r.rsplit_once(" (")) {
                Some((banner, release)) if !release.contains(' ') => {
                    put(&mut self.details, "rom_banner", banner);
                    put(&mut self.details, "rom_release", &format!("({release})"));
                }
                _ => put(&mut self.details, "rom_banner", &first),
            }
        }
        self.facts.rommon = self.rommon();
        if !self.rom_lines.is_empty() {
            let lines = self.rom_lines.iter().map(|l| Detail::from(l.as_str()));
            self.details
                .insert("rom_lines".into(), Detail::List(lines.collect()));
        }
        if self.banner_seen {
            put(
                &mut self.details,
                "os",
                if self.is_xe { "IOS-XE" } else { "IOS" },
            );
        }
        if self.facts.version.is_none() {
            // Access points without an IOS banner state their image version.
            let xe = self.details.get("xe_version");
            let ap = self.details.get("ap_running_image");
            self.facts.version = xe.or(ap).and_then(Detail::as_text).map(str::to_string);
        }
        if self.is_ap {
            // genie's platform family for every access point.
            put(&mut self.details, "platform_family", "ap");
        }
        self.facts.ram_bytes = self.ram_bytes();
        self.build_stack();
        if self.facts.stack.len() > 1 {
            // The switch table or `Switch NN` blocks name several members.
            put(&mut self.details, "chassis_type", "stack");
        }
        self.facts.details = self.details;
        Ok(self.facts)
    }

    /// Main memory: IOS-XE states the physical memory; classic IOS splits it
    /// into processor and I/O memory (`524288K/65536K`), which add up to the DRAM.
    fn ram_bytes(&self) -> Option<u64> {
        let kb = |detail: Option<&Detail>| detail.and_then(Detail::as_text).and_then(parse_u64);
        let physical = match self.details.get("mem_size") {
            Some(Detail::Map(sizes)) => kb(sizes.get("physical")),
            _ => None,
        };
        let total = physical.or_else(|| {
            let main = kb(self.details.get("main_mem"))?;
            // An AP's `<total>/<free>K bytes of memory` states free memory second.
            let io = if self.is_ap {
                None
            } else {
                kb(self.details.get("io_mem"))
            };
            Some(main.saturating_add(io.unwrap_or(0)))
        })?;
        Some(total.saturating_mul(1024))
    }

    /// Stack members from the switch table and the per-member hardware blocks.
    fn build_stack(&mut self) {
        let local = self
            .switch_rows
            .iter()
            .find(|(_, active, _)| *active)
            .map(|(member, _, _)| *member)
            .unwrap_or(1);
        let mut members: BTreeMap<u32, StackMemberVersion> = BTreeMap::new();
        for (member, _, row) in std::mem::take(&mut self.switch_rows) {
            members.insert(member, row);
        }
        for (block, facts) in std::mem::take(&mut self.blocks) {
            if facts.is_empty() {
                continue;
            }
            let number = block.unwrap_or(local);
            let entry = members.entry(number).or_insert_with(|| StackMemberVersion {
                member: number,
                ..Default::default()
            });
            if block.is_none() {
                if let Some(uptime) = self.details.get("uptime_this_cp") {
                    entry.details.insert("uptime".into(), uptime.clone());
                }
            }
            for (key, value) in facts {
                entry.details.insert(key, value);
            }
            if entry.model.is_none() {
                entry.model = entry
                    .details
                    .get("model_num")
                    .and_then(Detail::as_text)
                    .map(str::to_string);
            }
        }
        if let Some(local_member) = members.get(&local) {
            let text = |key: &str| {
                local_member
                    .details
                    .get(key)
                    .and_then(Detail::as_text)
                    .map(str::to_string)
            };
            if self.facts.model.is_none() {
                self.facts.model = text("model_num");
            }
            if self.is_ap {
                // An AP's board id is the PCB; the product serial is the top assembly's.
                if let Some(serial) = text("top_assembly_serial_number") {
                    self.facts.serial = Some(serial);
                }
            }
            if self.facts.serial.is_none() {
                self.facts.serial = text("system_sn");
            }
        }
        self.facts.stack = members.into_values().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(path: &str) -> String {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/");
        std::fs::read_to_string(format!("{root}{path}")).unwrap()
    }

    struct Expected {
        version: &'static str,
        hostname: &'static str,
        model: &'static str,
        serial: &'static str,
        running_image: &'static str,
        config_register: Option<&'static str>,
        rommon: &'static str,
        uptime_seconds: u64,
        ram_bytes: u64,
        stack: &'static [(u32, &'static str, &'static str, &'static str)],
    }

    fn check(path: &str, expected: Expected) {
        let facts = parse_show_version(&corpus(path)).unwrap();
        assert_eq!(facts.version.as_deref(), Some(expected.version), "{path}");
        assert_eq!(facts.hostname.as_deref(), Some(expected.hostname), "{path}");
        assert_eq!(facts.model.as_deref(), Some(expected.model), "{path}");
        assert_eq!(facts.serial.as_deref(), Some(expected.serial), "{path}");
        assert_eq!(
            facts.running_image.as_deref(),
            Some(expected.running_image),
            "{path}"
        );
        assert_eq!(
            facts.config_register.as_deref(),
            expected.config_register,
            "{path}"
        );
        assert_eq!(facts.rommon.as_deref(), Some(expected.rommon), "{path}");
        assert_eq!(
            facts.uptime_seconds,
            Some(expected.uptime_seconds),
            "{path}"
        );
        assert_eq!(facts.ram_bytes, Some(expected.ram_bytes), "{path}");
        let stack: Vec<(u32, &str, &str, &str)> = facts
            .stack
            .iter()
            .map(|m| {
                (
                    m.member,
                    m.model.as_deref().unwrap_or(""),
                    m.version.as_deref().unwrap_or(""),
                    m.image.as_deref().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(stack, expected.stack, "{path}");
    }

    const DAY: u64 = 86_400;
    const WEEK: u64 = 7 * DAY;
    const YEAR: u64 = 365 * DAY;

    #[test]
    fn classic_ios_switch_reports_typed_facts() {
        check(
            "ntc/cisco_ios/show_version/cisco_ios_show_version.raw",
            Expected {
                version: "12.2(54)SG1",
                hostname: "router1",
                model: "WS-C4948E",
                serial: "CAT1451S15C",
                running_image: "bootflash:cat4500e-entservicesk9-mz.122-54.SG1.bin",
                config_register: Some("0x2102"),
                rommon: "12.2(44r)SG9",
                uptime_seconds: 2 * YEAR + 31 * WEEK + 6 * DAY + 9 * 3600 + 55 * 60,
                ram_bytes: 1_048_576 * 1024,
                stack: &[],
            },
        );
    }

    #[test]
    fn catalyst_9500_stack_reports_members_and_physical_memory() {
        check(
            "ntc/cisco_ios/show_version/cisco_ios_show_version4.raw",
            Expected {
                version: "16.9.3",
                hostname: "AKBTESTW01",
                model: "C9500-40X",
                serial: "FCW2233FFG3",
                running_image: "flash:packages.conf",
                config_register: Some("0x102"),
                rommon: "IOS-XE",
                uptime_seconds: YEAR + 22 * WEEK + 6 * DAY + 9 * 3600 + 38 * 60,
                ram_bytes: 16_777_216 * 1024,
                stack: &[
                    (1, "C9500-40X", "16.9.3", "CAT9K_IOSXE"),
                    (2, "C9500-40X", "16.9.3", "CAT9K_IOSXE"),
                ],
            },
        );
    }

    #[test]
    fn router_rom_version_and_split_memory_add_up() {
        check(
            "genie/ios/ShowVersion/device_output.raw",
            Expected {
                version: "15.0(1)M7",
                hostname: "best-c3945-IOS3",
                model: "CISCO3945-CHASSIS",
                serial: "FGL161010K8",
                running_image: "flash0:c3900-universalk9-mz.SPA.150-1.M7.bin",
                config_register: Some("0x2102"),
                rommon: "15.0(1r)M13",
                uptime_seconds: 3600 + 20 * 60,
                ram_bytes: (2_027_520 + 69_632) * 1024,
                stack: &[],
            },
        );
    }

    #[test]
    fn bootstrap_program_rom_takes_the_boot_loader_version() {
        check(
            "genie/ios/ShowVersion/golden_output_ios_1.raw",
            Expected {
                version: "15.2(2)E8",
                hostname: "sample_switch",
                model: "WS-C3750X-24S",
                serial: "FDO1633Q14S",
                running_image: "flash:c3750e-universalk9-mz.152-2.E8.bin",
                config_register: Some("0xF"),
                rommon: "12.2(58r)SE",
                uptime_seconds: 8 * WEEK + 3 * DAY + 10 * 3600 + 27 * 60,
                ram_bytes: 524_288 * 1024,
                stack: &[(1, "WS-C3750X-24S", "15.2(2)E8", "C3750E-UNIVERSALK9-M")],
            },
        );
    }

    #[test]
    fn wrapped_uptime_and_old_banner_parse() {
        check(
            "genie/iosxe/ShowVersion/golden_output_ios_c2600_2.raw",
            Expected {
                version: "12.2(2)XA1",
                hostname: "dna-poc-ts",
                model: "2621",
                serial: "JAD05390XNG",
                running_image: "flash:c2600-i-mz.122-2.XA1",
                config_register: Some("0x2"),
                rommon: "12.1(3r)T2",
                uptime_seconds: 4 * WEEK + 2 * DAY + 7 * 3600 + 56 * 60,
                ram_bytes: (60_416 + 5_120) * 1024,
                stack: &[],
            },
        );
    }

    #[test]
    fn standalone_chassis_without_switch_table_is_member_one() {
        let facts = parse_show_version(&corpus(
            "genie/iosxe/cat9k/c9500/ShowVersion/golden_output_c9500_1.raw",
        ))
        .unwrap();
        assert_eq!(facts.version.as_deref(), Some("17.3.1"));
        assert_eq!(facts.hostname.as_deref(), Some("Switch"));
        assert_eq!(facts.config_register, None);
        assert_eq!(facts.stack.len(), 1);
        assert_eq!(facts.stack[0].model.as_deref(), Some("C9500-24Y4C"));
        assert_eq!(
            facts.details.get("xe_version"),
            Some(&Detail::from("17.03.01"))
        );
    }

    #[test]
    fn pending_config_register_is_a_detail() {
        let out = "Cisco IOS Software, X Software (X-M), Version 15.1(1)S, RELEASE SOFTWARE (fc1)\n\
                   r1 uptime is 5 minutes\n\
                   Configuration register is 0x2102 (will be 0x2142 at next reload)\n";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.config_register.as_deref(), Some("0x2102"));
        assert_eq!(
            facts.details.get("next_config_register"),
            Some(&Detail::from("0x2142"))
        );
        assert_eq!(facts.uptime_seconds, Some(300));
    }

    #[test]
    fn unrelated_text_and_device_errors_are_refused() {
        assert!(parse_show_version("hello\nworld\n").is_err());
        assert!(matches!(
            parse_show_version("show verzion\n     ^\n% Invalid input detected at '^' marker.\n"),
            Err(ParseError::DeviceError { .. })
        ));
    }

    #[test]
    fn patterns_compile() {
        for pattern in [
            &UPTIME,
            &PROCESSOR,
            &MEMORY_LINE,
            &COUNT_LINE,
            &CONTROLLER_LINE,
            &KEY_VALUE,
            &LICENSE_LINE,
            &SWITCH_ROW,
            &REVISION_ITEM,
            &COLUMN_GAP,
            &BUILD_LABEL,
            &VERSION_WORD,
            &HASH_LINE,
            &HEX_ONLY,
        ] {
            assert!(!pattern.as_str().is_empty());
        }
        assert!(UPTIME.is_match("r1 uptime is 1 minute"));
        assert!(PROCESSOR.is_match(
            "cisco WS-C4948E (MPC8548) processor (revision 4) with 1048576K bytes of memory."
        ));
    }

    const C3750X_STACK: &str = "\
Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE (fc2)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2020 by Cisco Systems, Inc.
Compiled Tue 31-Mar-20 04:02 by prod_rel_team

ROM: Bootstrap program is C3750E boot loader
BOOTLDR: C3750E Boot Loader (C3750X-HBOOT-M) Version 15.2(3r)E, RELEASE SOFTWARE (fc1)

core-sw1 uptime is 1 year, 2 weeks, 3 days, 4 hours, 5 minutes
System returned to ROM by power-on
System restarted at 10:11:12 CET Mon Jan 6 2025
System image file is \"flash:/c3750e-universalk9-mz.152-4.E10/c3750e-universalk9-mz.152-4.E10.bin\"
Last reload reason: power-on

License Level: ipbase
License Type: Permanent
Next reload license Level: ipbase

cisco WS-C3750X-48P (PowerPC405) processor (revision W0) with 262144K bytes of memory.
Processor board ID FDO1111A1AA
Last reset from power-on
3 Virtual Ethernet interfaces
1 FastEthernet interface
156 Gigabit Ethernet interfaces
The password-recovery mechanism is enabled.

512K bytes of flash-simulated non-volatile configuration memory.
Base ethernet MAC Address       : 00:11:22:33:44:00
Motherboard assembly number     : 73-12554-13
Model number                    : WS-C3750X-48P-S
System serial number            : FDO1111A1AA

Switch Ports Model                     SW Version            SW Image
------ ----- -----                     ----------            ----------
*    1 54    WS-C3750X-48P             15.2(4)E10            C3750E-UNIVERSALK9-M
     2 54    WS-C3750X-48P             15.2(4)E10            C3750E-UNIVERSALK9-M
     3 54    WS-C3750X-48T             15.2(4)E9             C3750E-UNIVERSALK9-M

Switch 02
---------
Switch Uptime                   : 1 year, 2 weeks, 3 days, 4 hours, 7 minutes
Base ethernet MAC Address       : 00:11:22:33:55:00
Model number                    : WS-C3750X-48P-S
System serial number            : FDO2222B2BB
License Level                   : ipbase

Switch 03
---------
Switch Uptime                   : 20 weeks, 1 day, 2 hours, 3 minutes
Base ethernet MAC Address       : 00:11:22:33:66:00
Model number                    : WS-C3750X-48T-S
System serial number            : FDO3333C3CC

Configuration register is 0xF
";

    #[test]
    fn stack_members_get_table_and_block_facts() {
        let facts = parse_show_version(C3750X_STACK).unwrap();
        assert_eq!(facts.version.as_deref(), Some("15.2(4)E10"));
        assert_eq!(facts.rommon.as_deref(), Some("15.2(3r)E"));
        assert_eq!(facts.model.as_deref(), Some("WS-C3750X-48P"));
        assert_eq!(facts.ram_bytes, Some(262_144 * 1024));
        assert_eq!(
            facts.running_image.as_deref(),
            Some("flash:/c3750e-universalk9-mz.152-4.E10/c3750e-universalk9-mz.152-4.E10.bin")
        );
        let members: Vec<(u32, Option<&str>, Option<&str>)> = facts
            .stack
            .iter()
            .map(|m| (m.member, m.model.as_deref(), m.version.as_deref()))
            .collect();
        assert_eq!(
            members,
            vec![
                (1, Some("WS-C3750X-48P"), Some("15.2(4)E10")),
                (2, Some("WS-C3750X-48P"), Some("15.2(4)E10")),
                (3, Some("WS-C3750X-48T"), Some("15.2(4)E9")),
            ]
        );
        let detail = |member: usize, key: &str| {
            facts.stack[member]
                .details
                .get(key)
                .and_then(Detail::as_text)
                .map(str::to_string)
        };
        assert_eq!(detail(0, "system_sn").as_deref(), Some("FDO1111A1AA"));
        assert_eq!(detail(0, "active").as_deref(), Some("true"));
        assert_eq!(detail(1, "system_sn").as_deref(), Some("FDO2222B2BB"));
        assert_eq!(detail(1, "license_level").as_deref(), Some("ipbase"));
        assert_eq!(
            detail(2, "mac_address").as_deref(),
            Some("00:11:22:33:66:00")
        );
        assert_eq!(detail(2, "ports").as_deref(), Some("54"));
        assert_eq!(
            facts.details.get("running_image_file"),
            Some(&Detail::from(
                "/c3750e-universalk9-mz.152-4.E10/c3750e-universalk9-mz.152-4.E10.bin"
            ))
        );
    }

    const ISR4451: &str = "\
Cisco IOS XE Software, Version 16.09.04
Cisco IOS Software [Fuji], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 16.9.4, RELEASE SOFTWARE (fc2)
Compiled Thu 22-Aug-19 18:14 by mcpre

ROM: IOS-XE ROMMON

edge-rtr1 uptime is 12 weeks, 1 day, 1 hour, 1 minute
Uptime for this control processor is 12 weeks, 1 day, 1 hour, 3 minutes
System returned to ROM by Reload Command at 10:00:00 UTC Fri Nov 1 2024
System image file is \"bootflash:isr4400-universalk9.16.09.04.SPA.bin\"
Last reload reason: Reload Command

Suite License Information for Module:'esg'

--------------------------------------------------------------------------------
Suite                 Suite Current         Type           Suite Next reboot
--------------------------------------------------------------------------------
FoundationSuiteK9     None                  Smart License  None
securityk9
appxk9

Technology Package License Information:

-----------------------------------------------------------------
Technology    Technology-package           Technology-package
              Current       Type           Next reboot
------------------------------------------------------------------
appxk9           None             Smart License    None
securityk9       securityk9       Smart License    securityk9
ipbase           ipbasek9         Smart License    ipbasek9

The current throughput level is 1000000 kbps

Smart Licensing Status: REGISTERED/AUTHORIZED

cisco ISR4451-X/K9 (2RU) processor with 1795979K/6147K bytes of memory.
Processor board ID FOC22222XYZ
4 Gigabit Ethernet interfaces
32768K bytes of non-volatile configuration memory.
4194304K bytes of physical memory.
7341807K bytes of flash memory at bootflash:.

Configuration register is 0x2102
";

    #[test]
    fn router_license_tables_and_disks_become_details() {
        let facts = parse_show_version(ISR4451).unwrap();
        assert_eq!(facts.version.as_deref(), Some("16.9.4"));
        assert_eq!(facts.model.as_deref(), Some("ISR4451-X/K9"));
        assert_eq!(facts.serial.as_deref(), Some("FOC22222XYZ"));
        assert_eq!(facts.rommon.as_deref(), Some("IOS-XE"));
        assert_eq!(facts.ram_bytes, Some(4_194_304 * 1024));
        assert!(facts.stack.is_empty());
        let Some(Detail::Map(packages)) = facts.details.get("license_package") else {
            panic!("no license table: {:?}", facts.details);
        };
        assert_eq!(
            packages.keys().collect::<Vec<_>>(),
            vec!["appxk9", "ipbase", "securityk9"]
        );
        let Some(Detail::Map(ipbase)) = packages.get("ipbase") else {
            panic!("no ipbase row");
        };
        assert_eq!(
            ipbase.get("license_type"),
            Some(&Detail::from("Smart License"))
        );
        let Some(Detail::Map(disks)) = facts.details.get("disks") else {
            panic!("no disks");
        };
        assert!(disks.contains_key("bootflash:"));
        assert_eq!(
            facts.details.get("throughput_level"),
            Some(&Detail::from("1000000 kbps"))
        );
    }

    const WAVE2_AP: &str = "\
Cisco AP Software, (ap3g3), C9120, RELEASE SOFTWARE
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2021 by Cisco Systems, Inc.
Compiled Thu Dec  3 02:12:48 PST 2020

ROM: Bootstrap program is U-Boot boot loader
BOOTLDR: U-Boot boot loader Version 60

AP0C75.BDB6.28A0 uptime is 0 days, 0 hours, 29 minutes
Last reload time   : Thu Jan 21 19:31:15 UTC 2021
Last reload reason : Image Upgrade

cisco C9120AXI-E ARMv8 Processor rev 4 (v8l) with 1797000/1421796K bytes of memory.
Processor board ID FJC23331ABC
AP Running Image     : 17.3.3.26
Primary Boot Image   : 17.3.3.26
Backup Boot Image    : 8.10.130.0
1 Multigigabit Ethernet interfaces
2 802.11 Radios

Base ethernet MAC Address            : 0C:75:BD:B6:28:A0
Top Assembly Serial Number           : FJC23331ABC
Product/Model Number                 : C9120AXI-E
";

    #[test]
    fn access_point_reports_its_running_image_version() {
        let facts = parse_show_version(WAVE2_AP).unwrap();
        assert_eq!(facts.version.as_deref(), Some("17.3.3.26"));
        assert_eq!(facts.hostname.as_deref(), Some("AP0C75.BDB6.28A0"));
        assert_eq!(facts.model.as_deref(), Some("C9120AXI-E"));
        assert_eq!(facts.serial.as_deref(), Some("FJC23331ABC"));
        assert_eq!(facts.rommon.as_deref(), Some("60"));
        assert_eq!(facts.uptime_seconds, Some(29 * 60));
        assert_eq!(
            facts.details.get("last_reload_reason"),
            Some(&Detail::from("Image Upgrade"))
        );
    }

    #[test]
    fn access_point_reports_platform_family_and_image_facts() {
        let facts = parse_show_version(WAVE2_AP).unwrap();
        let text = |key: &str| facts.details.get(key).and_then(Detail::as_text);
        assert_eq!(text("platform_family"), Some("ap"));
        assert_eq!(text("image_id"), Some("ap3g3"));
        assert_eq!(text("platform"), Some("C9120"));
        assert_eq!(text("primary_boot_image"), Some("17.3.3.26"));
        assert_eq!(text("backup_boot_image"), Some("8.10.130.0"));
        assert_eq!(facts.ram_bytes, Some(1_797_000 * 1024));
        assert_eq!(facts.details.get("chassis_type"), None);
    }

    /// genie's `wireless_ap_1`: no uptime line, the processor line and the
    /// image hashes wrapped by a narrow terminal, cut by a `--More--` prompt.
    #[test]
    fn wrapped_access_point_output_reports_image_and_hardware() {
        let facts = parse_show_version(&corpus(
            "genie/generic/ShowVersion/golden_output_wireless_ap_1.raw",
        ))
        .unwrap();
        assert_eq!(facts.version.as_deref(), Some("17.12.0.78"));
        assert_eq!(facts.model.as_deref(), Some("AIR-AP4800-B-K9"));
        assert_eq!(facts.serial.as_deref(), Some("FCW2233NGVK"));
        assert_eq!(facts.ram_bytes, Some(1_028_192 * 1024));
        let text = |key: &str| facts.details.get(key).and_then(Detail::as_text);
        assert_eq!(text("platform_family"), Some("ap"));
        assert_eq!(text("backup_boot_image"), Some("17.13.0.33"));
        assert_eq!(
            text("primary_boot_image_hash"),
            Some(concat!(
                "e10b9d9ecb375be57f2b4322fefccc734",
                "f5a9eb732b6118a3ce08dc",
                "0b9336f2e2064e21061e1c563b4aca7ccdfd6e17dc6913dac5014b9e945a02611c40b5256"
            ))
        );
        let member = facts.stack.first().unwrap();
        assert_eq!(
            member.details.get("radio_fw_version"),
            Some(&Detail::from("9.1.8.1"))
        );
        assert_eq!(
            member.details.get("pcb_serial_number"),
            Some(&Detail::from("FOC22331D4W"))
        );
    }

    #[test]
    fn platform_family_follows_the_image_id_grammar() {
        let cases = [
            ("C3750E-UNIVERSALK9-M", "C3750E", "c3750e"),
            ("cat4000-I9S-M", "Catalyst 4000 L3 Switch", "cat4k"),
            (
                "cat4500e-UNIVERSALK9-M",
                "Catalyst 4500 L3 Switch",
                "cat4500e",
            ),
            ("CAT3K_CAA-UNIVERSALK9-M", "Catalyst L3 Switch", "cat3k_caa"),
            ("CAT9K_IOSXE", "Catalyst L3 Switch", "cat9k"),
            ("CAT9K_LITE_IOSXE", "Catalyst L3 Switch", "cat9k_lite"),
            ("VIOS-ADVENTERPRISEK9-M", "IOSv", "vios"),
            ("X86_64_LINUX_IOSD-UNIVERSALK9-M", "ASR1000", "asr1000"),
            ("X86_64_LINUX_IOSD-UNIVERSALK9_IAS-M", "ISR", "isr"),
            ("PPC_LINUX_IOSD-ADVENTERPRISEK9-M", "ASR1000", "asr1000"),
        ];
        for (image_id, words, expected) in cases {
            assert_eq!(
                platform_family(image_id, words).as_deref(),
                Some(expected),
                "{image_id}"
            );
        }
        assert_eq!(platform_family("", ""), None);
    }

    #[test]
    fn release_train_and_stack_membership_become_details() {
        let cases = [
            ("golden_output_iosxe_4.raw", Some("bengaluru"), None),
            ("golden_output_iosxe_asr1k.raw", Some("denali"), None),
            ("golden_output_ios_4.raw", None, Some("stack")),
            ("golden_output_iosxe_2.raw", None, Some("stack")),
            ("golden_output_ios_2.raw", None, None),
        ];
        for (file, flavor, chassis) in cases {
            let facts =
                parse_show_version(&corpus(&format!("genie/generic/ShowVersion/{file}"))).unwrap();
            let text = |key: &str| facts.details.get(key).and_then(Detail::as_text);
            assert_eq!(text("os_flavor"), flavor, "{file}");
            assert_eq!(text("chassis_type"), chassis, "{file}");
        }
    }

    /// Every corpus output, cut at every line and garbled, must not panic the parser.
    #[test]
    fn truncated_and_garbled_corpus_outputs_never_panic() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/");
        let dirs = [
            "ntc/cisco_ios/show_version",
            "genie/ios/ShowVersion",
            "genie/ios/cat6k/ShowVersion",
            "genie/ios/cat7k/c7600/ShowVersion",
            "genie/iosxe/ShowVersion",
            "genie/iosxe/cat9k/c9500/ShowVersion",
            "genie/generic/ShowVersion",
        ];
        for dir in dirs {
            for entry in std::fs::read_dir(format!("{root}{dir}")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "raw") {
                    continue;
                }
                let raw = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = raw.lines().collect();
                for cut in 0..lines.len() {
                    let _ = parse_show_version(&lines[..cut].join("\n"));
                    // Drop one line, and cut one line in the middle.
                    let mut dropped = lines.clone();
                    dropped.remove(cut);
                    let _ = parse_show_version(&dropped.join("\n"));
                    let line = lines[cut];
                    let half: String = line.chars().take(line.chars().count() / 2).collect();
                    let mut halved = lines.clone();
                    halved[cut] = &half;
                    let _ = parse_show_version(&halved.join("\n"));
                }
                let garbled: String = raw
                    .chars()
                    .map(|c| match c {
                        ':' => '(',
                        '(' => ':',
                        ' ' => '\t',
                        other => other,
                    })
                    .collect();
                let _ = parse_show_version(&garbled);
                let squeezed: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                let _ = parse_show_version(&squeezed);
            }
        }
    }
}
