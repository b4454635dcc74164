//! Network operating systems netswim knows, with their stable lowercase names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// A network operating system (software family). The lowercase name is the
/// stable identifier used in the API, the CLI and the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    /// Cisco IOS (classic), including Catalyst switch stacks and autonomous APs.
    Ios,
    /// Cisco IOS-XE.
    Iosxe,
    /// Cisco IOS-XR.
    Iosxr,
    /// Cisco NX-OS.
    Nxos,
    /// Huawei VRP.
    Vrp,
    /// Juniper Junos.
    Junos,
    /// Cisco AireOS wireless LAN controllers.
    Aireos,
    /// Juniper JUNOSe (E-series).
    Junose,
    /// Cisco ASA.
    Asa,
    /// Check Point Gaia.
    Gaia,
    /// Cisco lightweight access points (AP-COS, "cheetah").
    Cheetah,
}

impl Os {
    /// Every OS, in display order.
    pub const ALL: [Os; 11] = [
        Os::Ios,
        Os::Iosxe,
        Os::Iosxr,
        Os::Nxos,
        Os::Vrp,
        Os::Junos,
        Os::Aireos,
        Os::Junose,
        Os::Asa,
        Os::Gaia,
        Os::Cheetah,
    ];

    /// The stable lowercase name (`ios`, `iosxe`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Iosxe => "iosxe",
            Os::Iosxr => "iosxr",
            Os::Nxos => "nxos",
            Os::Vrp => "vrp",
            Os::Junos => "junos",
            Os::Aireos => "aireos",
            Os::Junose => "junose",
            Os::Asa => "asa",
            Os::Gaia => "gaia",
            Os::Cheetah => "cheetah",
        }
    }

    /// The vendor of this OS.
    pub fn vendor(self) -> &'static str {
        match self {
            Os::Vrp => "huawei",
            Os::Junos | Os::Junose => "juniper",
            Os::Gaia => "checkpoint",
            _ => "cisco",
        }
    }
}

impl fmt::Display for Os {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Os {
    type Err = DomainError;

    /// Accepts the stable names and the usual spellings (`ios-xe`, `IOS XR`,
    /// `nx-os`, `huawei`, `cisco_ios`, `juniper_junos`, `cisco_wlc`, `ap`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key: String = s
            .trim()
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let os = match key.as_str() {
            "ios" | "ciscoios" => Os::Ios,
            "iosxe" | "ciscoiosxe" | "xe" => Os::Iosxe,
            "iosxr" | "ciscoxr" | "ciscoiosxr" | "xr" => Os::Iosxr,
            "nxos" | "cisconxos" | "nexus" => Os::Nxos,
            "vrp" | "huawei" | "huaweivrp" => Os::Vrp,
            "junos" | "juniper" | "juniperjunos" => Os::Junos,
            "aireos" | "wlc" | "ciscowlc" | "ciscowlcssh" => Os::Aireos,
            "junose" | "erx" => Os::Junose,
            "asa" | "ciscoasa" => Os::Asa,
            "gaia" | "checkpoint" => Os::Gaia,
            "cheetah" | "ap" | "apcos" => Os::Cheetah,
            _ => {
                return Err(DomainError::UnknownOs {
                    name: s.to_string(),
                });
            }
        };
        Ok(os)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_os_name_round_trips_through_from_str() {
        for os in Os::ALL {
            assert_eq!(os.as_str().parse::<Os>().ok(), Some(os));
        }
    }

    #[test]
    fn usual_spellings_are_accepted() {
        for (input, os) in [
            ("IOS-XE", Os::Iosxe),
            ("cisco_xr", Os::Iosxr),
            ("NX-OS", Os::Nxos),
            ("huawei_vrp", Os::Vrp),
            ("juniper_junos", Os::Junos),
            ("cisco_wlc_ssh", Os::Aireos),
        ] {
            assert_eq!(input.parse::<Os>().ok(), Some(os), "{input}");
        }
    }

    #[test]
    fn unknown_os_names_the_input() {
        let err = "windows".parse::<Os>().unwrap_err();
        assert!(err.to_string().contains("windows"));
    }
}
