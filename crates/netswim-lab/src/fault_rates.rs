//! Fault flags with rates (`--fault-rate transfer-stall=0.05,corruption=0.02`):
//! which devices of a lab get which fault, picked deterministically from the
//! lab's seed so the same flags always break the same devices.

use serde::{Deserialize, Serialize};

use crate::device::Faults;
use crate::error::LabError;
use crate::image::parse_size;

/// One fault kind a rate can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    TransferStall,
    Corruption,
    BandwidthCap,
    FullFlash,
    BootFailure,
    NeverReturn,
    AuthFailure,
    SlowCli,
}

impl FaultKind {
    pub const ALL: [FaultKind; 8] = [
        FaultKind::TransferStall,
        FaultKind::Corruption,
        FaultKind::BandwidthCap,
        FaultKind::FullFlash,
        FaultKind::BootFailure,
        FaultKind::NeverReturn,
        FaultKind::AuthFailure,
        FaultKind::SlowCli,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::TransferStall => "transfer-stall",
            FaultKind::Corruption => "corruption",
            FaultKind::BandwidthCap => "bandwidth-cap",
            FaultKind::FullFlash => "full-flash",
            FaultKind::BootFailure => "boot-failure",
            FaultKind::NeverReturn => "never-returns",
            FaultKind::AuthFailure => "auth-failure",
            FaultKind::SlowCli => "slow-cli",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The parameter used when the flag gives none: stall after 64 KiB, cap
    /// at 256 KiB/s, 500 ms per CLI reply.
    fn default_parameter(self) -> u64 {
        match self {
            FaultKind::TransferStall => 64 * 1024,
            FaultKind::BandwidthCap => 256 * 1024,
            FaultKind::SlowCli => 500,
            _ => 0,
        }
    }

    /// Adds this fault to `faults`.
    pub fn apply(self, parameter: u64, faults: &mut Faults) {
        match self {
            FaultKind::TransferStall => faults.transfer_stall_after_bytes = Some(parameter),
            FaultKind::Corruption => faults.corrupt_transfers = true,
            FaultKind::BandwidthCap => faults.bandwidth_bytes_per_sec = Some(parameter.max(1)),
            FaultKind::FullFlash => faults.full_flash = true,
            FaultKind::BootFailure => faults.boot_failure = true,
            FaultKind::NeverReturn => faults.never_return = true,
            FaultKind::AuthFailure => faults.auth_failure = true,
            FaultKind::SlowCli => faults.slow_cli_ms = parameter,
        }
    }
}

/// One `kind=rate[:parameter]` entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRate {
    pub kind: FaultKind,
    /// Share of devices that get the fault, 0 to 1.
    pub rate: f64,
    /// Bytes after which a transfer stalls, bytes/s of a cap, or CLI delay in ms.
    pub parameter: u64,
}

/// Parses `transfer-stall=0.05:64KiB,corruption=0.02,bandwidth-cap=0.1:1MiB,slow-cli=0.1:800`.
pub fn parse_fault_rates(text: &str) -> Result<Vec<FaultRate>, LabError> {
    let bad = |why: &str| LabError::BadFaultRate {
        text: text.to_string(),
        why: why.to_string(),
    };
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').ok_or_else(|| bad("missing `=`"))?;
            let kind = FaultKind::from_name(name.trim())
                .ok_or_else(|| bad(&format!("unknown fault `{}`", name.trim())))?;
            let (rate, parameter) = match value.split_once(':') {
                Some((rate, parameter)) => (rate, Some(parameter)),
                None => (value, None),
            };
            let rate: f64 = rate
                .trim()
                .parse()
                .ok()
                .filter(|rate: &f64| (0.0..=1.0).contains(rate))
                .ok_or_else(|| bad("a rate is a number from 0 to 1"))?;
            let parameter = match parameter {
                None => kind.default_parameter(),
                Some(text) if kind == FaultKind::SlowCli => text
                    .trim()
                    .trim_end_matches("ms")
                    .parse()
                    .map_err(|_| bad("slow-cli takes milliseconds"))?,
                Some(text) => parse_size(text.trim())?,
            };
            Ok(FaultRate {
                kind,
                rate,
                parameter,
            })
        })
        .collect()
}

/// splitmix64: a fixed, documented mixing function, written out so that the
/// choice of faulty devices never changes with a crate upgrade.
fn splitmix64(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether device `index` of a lab with `seed` gets a fault of `kind` at `rate`.
pub fn selected(seed: u64, index: usize, kind: FaultKind, rate: f64) -> bool {
    let kind_number = FaultKind::ALL
        .iter()
        .position(|known| *known == kind)
        .unwrap_or(0) as u64;
    let draw = splitmix64(
        splitmix64(seed ^ (kind_number.wrapping_mul(0x1000_0000_01b3))).wrapping_add(index as u64),
    );
    // 53 bits give a uniform float in [0, 1).
    let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
    unit < rate
}

/// The faults device `index` gets from the rates.
pub fn faults_for(seed: u64, index: usize, rates: &[FaultRate], base: &Faults) -> Faults {
    let mut faults = base.clone();
    for rate in rates {
        if selected(seed, index, rate.kind, rate.rate) {
            rate.kind.apply(rate.parameter, &mut faults);
        }
    }
    faults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_and_without_parameters() {
        let rates = parse_fault_rates(
            "transfer-stall=0.05:128KiB, corruption=0.02,bandwidth-cap=0.5,slow-cli=1:800ms",
        )
        .unwrap();
        let summary: Vec<_> = rates
            .iter()
            .map(|rate| (rate.kind.name(), rate.rate, rate.parameter))
            .collect();
        assert_eq!(
            summary,
            [
                ("transfer-stall", 0.05, 128 * 1024),
                ("corruption", 0.02, 0),
                ("bandwidth-cap", 0.5, 256 * 1024),
                ("slow-cli", 1.0, 800),
            ]
        );
    }

    #[test]
    fn bad_rates_are_refused_with_the_reason() {
        for (text, reason) in [
            ("stall=0.1", "unknown fault `stall`"),
            ("corruption", "missing `=`"),
            ("corruption=2", "a rate is a number from 0 to 1"),
            ("slow-cli=0.1:fast", "slow-cli takes milliseconds"),
        ] {
            let error = parse_fault_rates(text).unwrap_err().to_string();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn selection_is_deterministic_and_close_to_the_rate() {
        let picked = |seed: u64| -> Vec<usize> {
            (0..2000)
                .filter(|index| selected(seed, *index, FaultKind::Corruption, 0.1))
                .collect()
        };
        assert_eq!(picked(7), picked(7));
        assert_ne!(picked(7), picked(8));
        let count = picked(7).len();
        assert!((150..=250).contains(&count), "{count} of 2000 at 10%");
        assert!((0..100).all(|index| !selected(7, index, FaultKind::Corruption, 0.0)));
        assert!((0..100).all(|index| selected(7, index, FaultKind::Corruption, 1.0)));
    }

    #[test]
    fn kinds_are_drawn_independently() {
        let stall: Vec<bool> = (0..200)
            .map(|index| selected(3, index, FaultKind::TransferStall, 0.5))
            .collect();
        let corruption: Vec<bool> = (0..200)
            .map(|index| selected(3, index, FaultKind::Corruption, 0.5))
            .collect();
        assert_ne!(stall, corruption);
    }

    #[test]
    fn faults_for_applies_parameters_on_top_of_the_base() {
        let rates = parse_fault_rates("bandwidth-cap=1:1MiB,full-flash=1,never-returns=0").unwrap();
        let base = Faults {
            auth_failure: true,
            ..Faults::default()
        };
        let faults = faults_for(1, 0, &rates, &base);
        assert_eq!(
            faults,
            Faults {
                auth_failure: true,
                bandwidth_bytes_per_sec: Some(1024 * 1024),
                full_flash: true,
                ..Faults::default()
            }
        );
    }
}
