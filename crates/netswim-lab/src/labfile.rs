//! The lab file (TOML): groups or single devices with platform, model, stack
//! members, flash size, running image, site, role, redundancy peer and
//! faults, turned into the list of devices the lab starts. The format is
//! documented in `crates/netswim-lab/examples/lab.toml`.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::Deserialize;

use crate::device::Faults;
use crate::error::LabError;
use crate::fault_rates::{FaultRate, faults_for, parse_fault_rates};
use crate::image::{model_facts, parse_size};
use crate::lab::{XE_START_VERSION, XR_START_VERSION};
use crate::platform::model_platform;

/// Lab-wide settings; each one falls back to the `netswim lab run` flag.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabDefaults {
    pub address_base: Option<Ipv4Addr>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub enable_secret: Option<String>,
    pub reload_secs: Option<u64>,
    pub seed: Option<u64>,
    pub model: Option<String>,
    pub image_version: Option<String>,
    pub image_size: Option<String>,
    pub flash_size: Option<String>,
    /// Same syntax as `--fault-rate`.
    pub fault_rates: Option<String>,
}

/// One `[[devices]]` entry: a single device, or a group when `count` > 1.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceEntry {
    /// The device name, or the group's name prefix (`access` → `access-01`…).
    pub name: String,
    #[serde(default = "one")]
    pub count: usize,
    /// `ios` (a standalone switch or, with `members` > 1, a stack), `iosxe`
    /// (C9300-48P unless `model` says otherwise, starting at 17.09.04a) or
    /// `iosxr` (ASR-9006, starting at 6.5.3); `[defaults]` model and
    /// image_version are IOS ones and apply to `ios` entries only.
    #[serde(default = "ios")]
    pub platform: String,
    pub model: Option<String>,
    #[serde(default = "one_member")]
    pub members: u32,
    pub flash_size: Option<String>,
    /// The version the device runs at start.
    pub image_version: Option<String>,
    pub image_size: Option<String>,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub role: String,
    /// Redundancy peer of a single device (another device's name).
    #[serde(default)]
    pub peer: String,
    /// In a group: devices 1+2, 3+4, … are each other's redundancy peers.
    #[serde(default)]
    pub pairs: bool,
    /// Speak only the SSH algorithms of old IOS.
    #[serde(default)]
    pub legacy_ssh: bool,
    /// Faults every device of the entry starts with.
    #[serde(default)]
    pub faults: Faults,
}

fn one() -> usize {
    1
}

fn one_member() -> u32 {
    1
}

fn ios() -> String {
    "ios".into()
}

/// The whole lab file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabFile {
    #[serde(default)]
    pub defaults: LabDefaults,
    #[serde(default)]
    pub devices: Vec<DeviceEntry>,
}

/// One device the lab will start, everything resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDevice {
    pub name: String,
    pub platform: String,
    pub model: String,
    pub members: u32,
    pub flash_size: Option<u64>,
    pub image_version: String,
    pub image_size: u64,
    pub site: String,
    pub role: String,
    pub peer: String,
    pub legacy_ssh: bool,
    pub faults: Faults,
}

/// The fallbacks for what a lab file leaves out (the command-line flags).
#[derive(Debug, Clone)]
pub struct PlanFallbacks {
    pub model: String,
    pub image_version: String,
    pub image_size: u64,
    pub flash_size: Option<u64>,
    pub seed: u64,
    /// Extra rates from `--fault-rate`, applied after the file's own.
    pub fault_rates: Vec<FaultRate>,
}

impl LabFile {
    pub fn parse(text: &str, path: &Path) -> Result<Self, LabError> {
        toml::from_str(text).map_err(|error| LabError::BadLabFile {
            path: path.to_path_buf(),
            message: error.message().to_string(),
        })
    }

    pub fn read(path: &Path) -> Result<Self, LabError> {
        let text = std::fs::read_to_string(path).map_err(|source| LabError::File {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Expands groups, resolves fallbacks, checks models and peers, and gives
    /// each device its faults (its entry's, then the rates' picks by index).
    pub fn plan(
        &self,
        path: &Path,
        fallbacks: &PlanFallbacks,
    ) -> Result<Vec<PlannedDevice>, LabError> {
        let bad = |message: String| LabError::BadLabFile {
            path: path.to_path_buf(),
            message,
        };
        let defaults = &self.defaults;
        let mut rates = match &defaults.fault_rates {
            Some(text) => parse_fault_rates(text)?,
            None => Vec::new(),
        };
        rates.extend(fallbacks.fault_rates.iter().copied());
        let seed = defaults.seed.unwrap_or(fallbacks.seed);
        let size = |text: &Option<String>, fallback: u64| -> Result<u64, LabError> {
            text.as_deref().map_or(Ok(fallback), parse_size)
        };
        let default_image_size = size(&defaults.image_size, fallbacks.image_size)?;
        let default_flash = match &defaults.flash_size {
            Some(text) => Some(parse_size(text)?),
            None => fallbacks.flash_size,
        };
        let mut planned = Vec::new();
        for entry in &self.devices {
            let (default_model, default_version) = match entry.platform.as_str() {
                "ios" => (
                    defaults
                        .model
                        .clone()
                        .unwrap_or_else(|| fallbacks.model.clone()),
                    defaults
                        .image_version
                        .clone()
                        .unwrap_or_else(|| fallbacks.image_version.clone()),
                ),
                "iosxe" => ("C9300-48P".to_string(), XE_START_VERSION.to_string()),
                "iosxr" => ("ASR-9006".to_string(), XR_START_VERSION.to_string()),
                other => {
                    return Err(bad(format!(
                        "device `{}` has platform `{other}`; this lab plays `ios`, `iosxe` and `iosxr`",
                        entry.name
                    )));
                }
            };
            if entry.count == 0 || !(1..=9).contains(&entry.members) {
                return Err(bad(format!(
                    "device `{}` needs count >= 1 and members from 1 to 9",
                    entry.name
                )));
            }
            // XE/XR devices are single chassis here: their install flows
            // act on one member.
            if entry.platform != "ios" && entry.members != 1 {
                return Err(bad(format!(
                    "device `{}` is `{}`: only `ios` devices can be stacks (members = 1)",
                    entry.name, entry.platform
                )));
            }
            let model = entry.model.clone().unwrap_or(default_model);
            if entry.platform == "ios" {
                model_facts(&model)?;
            } else if model_platform(&model) != Some(entry.platform.as_str()) {
                return Err(bad(format!(
                    "device `{}` has model `{model}`, which is not an `{}` model (hint: C9300-48P, WS-C3850-48P, ASR-9006, NCS-5501)",
                    entry.name, entry.platform
                )));
            }
            let image_version = entry.image_version.clone().unwrap_or(default_version);
            let width = entry.count.to_string().len().max(2);
            for number in 1..=entry.count {
                let name = if entry.count == 1 {
                    entry.name.clone()
                } else {
                    format!("{}-{number:0width$}", entry.name)
                };
                let peer = if entry.pairs && entry.count > 1 {
                    let partner = if number % 2 == 1 {
                        number + 1
                    } else {
                        number - 1
                    };
                    if partner <= entry.count {
                        format!("{}-{partner:0width$}", entry.name)
                    } else {
                        String::new()
                    }
                } else {
                    entry.peer.clone()
                };
                planned.push(PlannedDevice {
                    name,
                    platform: entry.platform.clone(),
                    model: model.clone(),
                    members: entry.members,
                    flash_size: match &entry.flash_size {
                        Some(text) => Some(parse_size(text)?),
                        None => default_flash,
                    },
                    image_version: image_version.clone(),
                    image_size: size(&entry.image_size, default_image_size)?,
                    site: entry.site.clone(),
                    role: entry.role.clone(),
                    peer,
                    legacy_ssh: entry.legacy_ssh,
                    faults: entry.faults.clone(),
                });
            }
        }
        if planned.is_empty() {
            return Err(bad("no devices (add a [[devices]] entry)".into()));
        }
        let mut names = HashSet::new();
        for device in &planned {
            if !names.insert(device.name.as_str()) {
                return Err(bad(format!("two devices are named `{}`", device.name)));
            }
        }
        for device in &planned {
            if !device.peer.is_empty() && !names.contains(device.peer.as_str()) {
                return Err(bad(format!(
                    "device `{}` names peer `{}`, which is not in the lab",
                    device.name, device.peer
                )));
            }
        }
        for (index, device) in planned.iter_mut().enumerate() {
            device.faults = faults_for(seed, index, &rates, &device.faults);
        }
        Ok(planned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fallbacks() -> PlanFallbacks {
        PlanFallbacks {
            model: "WS-C2960X-48FPD-L".into(),
            image_version: "15.2(2)E7".into(),
            image_size: 1024 * 1024,
            flash_size: None,
            seed: 1,
            fault_rates: Vec::new(),
        }
    }

    fn plan(text: &str) -> Result<Vec<PlannedDevice>, LabError> {
        let path = Path::new("lab.toml");
        LabFile::parse(text, path)?.plan(path, &fallbacks())
    }

    #[test]
    fn groups_expand_with_numbered_names_pairs_and_fallbacks() {
        let devices = plan(
            r#"
            [defaults]
            image_size = "2MiB"
            [[devices]]
            name = "access"
            count = 3
            site = "paris"
            role = "access"
            pairs = true
            [[devices]]
            name = "core"
            model = "WS-C3750X-24P"
            members = 3
            flash_size = "64MiB"
            image_version = "15.0(2)SE11"
            peer = "access-01"
            faults = { boot_failure = true }
            "#,
        )
        .unwrap();
        let summary: Vec<_> = devices
            .iter()
            .map(|d| (d.name.as_str(), d.peer.as_str(), d.members, d.image_size))
            .collect();
        assert_eq!(
            summary,
            [
                ("access-01", "access-02", 1, 2 * 1024 * 1024),
                ("access-02", "access-01", 1, 2 * 1024 * 1024),
                ("access-03", "", 1, 2 * 1024 * 1024),
                ("core", "access-01", 3, 2 * 1024 * 1024),
            ]
        );
        assert_eq!(devices[0].image_version, "15.2(2)E7");
        assert_eq!(devices[3].image_version, "15.0(2)SE11");
        assert_eq!(devices[3].flash_size, Some(64 * 1024 * 1024));
        assert!(devices[3].faults.boot_failure);
        assert!(!devices[0].faults.boot_failure);
    }

    #[test]
    fn fault_rates_in_the_file_pick_the_same_devices_every_time() {
        let text = r#"
            [defaults]
            seed = 42
            fault_rates = "corruption=0.5,slow-cli=0.25:900"
            [[devices]]
            name = "sw"
            count = 40
            "#;
        let picked = |devices: &[PlannedDevice]| -> Vec<(bool, u64)> {
            devices
                .iter()
                .map(|d| (d.faults.corrupt_transfers, d.faults.slow_cli_ms))
                .collect()
        };
        let first = plan(text).unwrap();
        assert_eq!(picked(&first), picked(&plan(text).unwrap()));
        let corrupt = first.iter().filter(|d| d.faults.corrupt_transfers).count();
        let slow = first.iter().filter(|d| d.faults.slow_cli_ms == 900).count();
        assert!((10..=30).contains(&corrupt), "{corrupt}");
        assert!((3..=18).contains(&slow), "{slow}");
    }

    #[test]
    fn mistakes_are_reported_with_what_is_wrong() {
        for (text, expected) in [
            ("", "no devices"),
            (
                "[[devices]]\nname = \"a\"\nmodle = \"x\"",
                "unknown field `modle`",
            ),
            (
                "[[devices]]\nname = \"a\"\nmodel = \"WS-X\"",
                "unknown device model `WS-X`",
            ),
            (
                "[[devices]]\nname = \"a\"\n[[devices]]\nname = \"a\"",
                "two devices are named `a`",
            ),
            (
                "[[devices]]\nname = \"a\"\npeer = \"b\"",
                "names peer `b`, which is not in the lab",
            ),
            (
                "[[devices]]\nname = \"a\"\nmembers = 10",
                "members from 1 to 9",
            ),
            (
                "[[devices]]\nname = \"a\"\nplatform = \"junos\"",
                "platform `junos`",
            ),
            (
                "[[devices]]\nname = \"a\"\nplatform = \"iosxe\"\nmembers = 2",
                "only `ios` devices can be stacks",
            ),
            (
                "[[devices]]\nname = \"a\"\nplatform = \"iosxr\"\nmodel = \"C9300-48P\"",
                "is not an `iosxr` model",
            ),
            (
                "[[devices]]\nname = \"a\"\nplatform = \"iosxe\"\nmodel = \"WS-C2960X-48FPD-L\"",
                "is not an `iosxe` model",
            ),
        ] {
            let error = plan(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn the_example_lab_file_plans() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lab.toml"));
        let devices = LabFile::read(path)
            .unwrap()
            .plan(path, &fallbacks())
            .unwrap();
        assert!(devices.len() >= 4, "{devices:?}");
        assert!(devices.iter().any(|d| d.members > 1));
        assert!(devices.iter().any(|d| !d.peer.is_empty()));
        for platform in ["ios", "iosxe", "iosxr"] {
            assert!(
                devices.iter().any(|d| d.platform == platform),
                "no {platform} device"
            );
        }
    }

    #[test]
    fn xe_and_xr_entries_take_their_own_model_and_version_not_the_ios_defaults() {
        let text = r#"
            [defaults]
            model = "WS-C3750X-24P"
            image_version = "15.0(2)SE11"
            [[devices]]
            name = "edge"
            count = 2
            platform = "iosxe"
            [[devices]]
            name = "c3850"
            platform = "iosxe"
            model = "WS-C3850-48P"
            image_version = "16.12.10"
            [[devices]]
            name = "pe"
            platform = "iosxr"
            [[devices]]
            name = "ncs"
            platform = "iosxr"
            model = "NCS-5501"
            image_version = "7.3.2"
            [[devices]]
            name = "sw"
            "#;
        let planned: Vec<(String, String, String, String)> = plan(text)
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.platform, d.model, d.image_version))
            .collect();
        let expected = [
            ("edge-01", "iosxe", "C9300-48P", "17.09.04a"),
            ("edge-02", "iosxe", "C9300-48P", "17.09.04a"),
            ("c3850", "iosxe", "WS-C3850-48P", "16.12.10"),
            ("pe", "iosxr", "ASR-9006", "6.5.3"),
            ("ncs", "iosxr", "NCS-5501", "7.3.2"),
            ("sw", "ios", "WS-C3750X-24P", "15.0(2)SE11"),
        ];
        let expected: Vec<(String, String, String, String)> = expected
            .iter()
            .map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string()))
            .collect();
        assert_eq!(planned, expected);
    }
}
