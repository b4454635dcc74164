//! Juniper Junos `show version`.
//!
//! Grammar: optional per-member blocks headed `<name><n>:` (`fpc0:`,
//! `node1:`) and a dashed rule; in each, `Key: value` lines (`Hostname:`,
//! `Model:`, `Junos:`, `Serial Number:`) and package lines `<description>
//! [<version>]` (`JUNOS Base OS boot [18.4R3-S1]`). Prompt lines
//! (`user@host> show version`) and `{master:0}` markers are skipped. The
//! first block gives the top-level facts; with several blocks (virtual
//! chassis, clusters) each becomes a `stack` member.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{Detail, StackMemberVersion, VersionFacts};
use regex::Regex;

use crate::ParseError;
use crate::xr_version::{compile, snake};

static MEMBER_HEADER: LazyLock<Regex> = LazyLock::new(|| compile(r"^([a-z][a-z-]*?)(\d+):$"));
static PACKAGE: LazyLock<Regex> = LazyLock::new(|| compile(r"^(.*?)\s*\[([^\]]*)\]$"));
static KEY_VALUE: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^([A-Za-z][A-Za-z .-]*?):\s*(\S.*)$"));

/// One member block as read.
#[derive(Default)]
struct Block {
    member: Option<u32>,
    hostname: Option<String>,
    model: Option<String>,
    version: Option<String>,
    serial: Option<String>,
    packages: Vec<Detail>,
    details: BTreeMap<String, Detail>,
}

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut current = Block::default();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty()
            || line.starts_with("---")
            || (line.starts_with('{') && line.ends_with('}'))
            || is_prompt(line)
        {
            continue;
        }
        if let Some(caps) = MEMBER_HEADER.captures(line) {
            if current.has_facts() {
                blocks.push(std::mem::take(&mut current));
            }
            current.member = caps.get(2).and_then(|m| m.as_str().parse().ok());
            continue;
        }
        if let Some(caps) = PACKAGE.captures(line) {
            let description = caps.get(1).map_or("", |m| m.as_str());
            let version = caps.get(2).map_or("", |m| m.as_str()).trim();
            if description.is_empty() {
                continue;
            }
            // Older releases print the system version as a package.
            if description == "JUNOS Software Release" || description == "JUNOS Base OS boot" {
                current.version.get_or_insert_with(|| version.to_string());
            }
            current.packages.push(package(description, version));
            continue;
        }
        if let Some(caps) = KEY_VALUE.captures(line) {
            let key = caps.get(1).map_or("", |m| m.as_str()).trim();
            let value = caps.get(2).map_or("", |m| m.as_str()).trim().to_string();
            match key {
                "Hostname" => current.hostname = Some(value),
                "Model" => current.model = Some(value),
                "Junos" | "JUNOS" => current.version = Some(value),
                "Serial Number" | "Chassis Serial Number" => {
                    current
                        .details
                        .insert("serial_number".into(), value.as_str().into());
                    current.serial = Some(value);
                }
                other => {
                    current.details.insert(snake(other), value.into());
                }
            }
        }
    }
    if current.has_facts() {
        blocks.push(current);
    }
    let mut blocks = blocks.into_iter();
    let Some(first) = blocks.next() else {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no 'Hostname:', 'Model:', 'Junos:' or package lines (hint: is this a Junos device?)"
                .into(),
        });
    };
    let rest: Vec<Block> = blocks.collect();
    let mut facts = VersionFacts {
        version: first.version.clone(),
        hostname: first.hostname.clone(),
        model: first.model.clone(),
        serial: first.serial.clone(),
        ..VersionFacts::default()
    };
    facts.details = first.details.clone();
    if let Some(version) = &first.version {
        facts
            .details
            .insert("junos_version".into(), version.as_str().into());
    }
    if !first.packages.is_empty() {
        facts
            .details
            .insert("packages".into(), Detail::List(first.packages.clone()));
    }
    if !rest.is_empty() || first.member.is_some() {
        for block in std::iter::once(first).chain(rest) {
            let mut details = block.details;
            if let Some(host) = block.hostname {
                details.insert("hostname".into(), host.into());
            }
            if let Some(serial) = block.serial {
                details.insert("serial".into(), serial.into());
            }
            if !block.packages.is_empty() {
                details.insert("packages".into(), Detail::List(block.packages));
            }
            facts.stack.push(StackMemberVersion {
                member: block.member.unwrap_or_default(),
                model: block.model,
                version: block.version,
                image: None,
                details,
            });
        }
    }
    Ok(facts)
}

impl Block {
    fn has_facts(&self) -> bool {
        self.hostname.is_some()
            || self.model.is_some()
            || self.version.is_some()
            || !self.packages.is_empty()
            || !self.details.is_empty()
    }
}

/// `user@host> show version` (echoed command before the output).
fn is_prompt(line: &str) -> bool {
    line.split_once("> ")
        .or_else(|| line.split_once('>').map(|(a, _)| (a, "")))
        .is_some_and(|(user_host, _)| {
            user_host.contains('@') && !user_host.contains(char::is_whitespace)
        })
}

/// One package line. `name` is the description lowercased with its words
/// joined by dashes (Junos' own package naming: `ex-software-suite`);
/// `comment` is the line without the leading product word, as the XML
/// output's `<comment>` carries it.
fn package(description: &str, version: &str) -> Detail {
    let (suite, rest) = match description.split_once(' ') {
        Some((first, rest)) if first == "JUNOS" => (Some(first), rest),
        _ => (None, description),
    };
    let name = rest
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-");
    let mut map = BTreeMap::new();
    map.insert("name".to_string(), Detail::from(name));
    map.insert("description".to_string(), Detail::from(rest));
    map.insert("version".to_string(), Detail::from(version));
    map.insert(
        "comment".to_string(),
        Detail::from(format!("{rest} [{version}]")),
    );
    if let Some(suite) = suite {
        map.insert("suite".to_string(), Detail::from(suite));
    }
    Detail::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EX: &str = "
        user2@JunosHostname-1> show version
        fpc0:
        --------------------------------------------------------------------------
        Hostname: JunosHostname-1
        Model: ex4200-24p
        Junos: 18.2R2-S1
        JUNOS EX  Software Suite [18.2R2-S1]
        JUNOS FIPS mode utilities [18.2R2-S1]

        {master:0}
        user1@JunosHostname-1>
";

    #[test]
    fn single_member_fills_typed_fields_and_packages() {
        let facts = parse_show_version(EX).unwrap();
        assert_eq!(facts.version.as_deref(), Some("18.2R2-S1"));
        assert_eq!(facts.hostname.as_deref(), Some("JunosHostname-1"));
        assert_eq!(facts.model.as_deref(), Some("ex4200-24p"));
        let Detail::List(packages) = &facts.details["packages"] else {
            panic!("packages");
        };
        let Detail::Map(first) = &packages[0] else {
            panic!("map")
        };
        assert_eq!(first["name"], Detail::from("ex-software-suite"));
        assert_eq!(
            first["comment"],
            Detail::from("EX  Software Suite [18.2R2-S1]")
        );
        assert_eq!(facts.stack.len(), 1);
    }

    #[test]
    fn virtual_chassis_members_become_stack_entries() {
        let out = "fpc0:\n----\nHostname: vc\nModel: ex4300-48t\nJunos: 18.4R3-S1\n\nfpc1:\n----\nModel: ex4300-24t\nJunos: 18.4R3-S1\n";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.stack.len(), 2);
        assert_eq!(facts.stack[1].member, 1);
        assert_eq!(facts.stack[1].model.as_deref(), Some("ex4300-24t"));
    }

    #[test]
    fn old_releases_name_the_version_in_a_package_line() {
        let out = "Hostname: r1\nModel: m10i\nJUNOS Base OS boot [9.3R2.8]\nJUNOS Software Release [9.3R2.8]\n";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.version.as_deref(), Some("9.3R2.8"));
        assert!(facts.stack.is_empty());
    }

    #[test]
    fn golden_corpus_outputs() {
        let mx = parse_show_version(include_str!(
            "../tests/corpus/ntc/juniper_junos/show_version/juniper_junos_show_version.raw"
        ))
        .unwrap();
        assert_eq!(mx.version.as_deref(), Some("13.3R1.4"));
        assert_eq!(mx.hostname.as_deref(), Some("lab"));
        assert_eq!(mx.model.as_deref(), Some("mx240"));
        assert_eq!(mx.serial.as_deref(), Some("qfsn-0123456789"));
        let Detail::List(packages) = &mx.details["packages"] else {
            panic!("packages")
        };
        assert_eq!(packages.len(), 31);

        let nfx = parse_show_version(include_str!(
            "../tests/corpus/ntc/juniper_junos/show_version/juniper_junos_show_version_vmhost.raw"
        ))
        .unwrap();
        assert_eq!(nfx.version, None);
        assert_eq!(nfx.model.as_deref(), Some("nfx250_att_s1_10_t"));
    }
}
