//! No input panics the boot, stack, install, ISSU-state and AP parsers:
//! every corpus output of those commands is fed truncated, with lines
//! dropped, reversed, stripped of separators and with digits garbled, to
//! every one of those parsers on every OS they accept.

use std::path::Path;

use netswim_domain::Os;

/// Corpus folders whose outputs are mangled.
const FOLDERS: &[&str] = &[
    "ntc/cisco_ios/show_boot",
    "genie/ios/ShowBoot",
    "genie/ios/ShowBootvar",
    "genie/iosxe/ShowBoot",
    "genie/iosxe/cat9k/c9400/ShowBoot",
    "genie/iosxe/ShowBootvar",
    "genie/iosxe/ShowBootSystem",
    "genie/nxos/ShowBoot",
    "genie/aireos/ShowBoot",
    "ntc/cisco_wlc_ssh/show_boot",
    "ntc/cisco_wlc_ssh/show_ap_image_all",
    "genie/iosxe/ShowApImage",
    "ntc/cisco_ios/show_switch_detail",
    "genie/ios/ShowSwitch",
    "genie/ios/ShowSwitchDetail",
    "genie/iosxe/ShowSwitch",
    "genie/iosxe/cat9kv/ShowSwitch",
    "genie/iosxe/ShowSwitchDetail",
    "genie/iosxe/ShowInstallSummary",
    "genie/iosxe/ShowInstallState",
    "ntc/cisco_xr/show_install_active",
    "genie/iosxr/ShowInstallActiveSummary",
    "genie/nxos/ShowInstallActive",
    "genie/nxos/ShowInstallAllStatus",
    "genie/ios/ShowIssuStateDetail",
    "genie/iosxe/ShowIssuStateDetail",
    "genie/iosxe/cat9k/c9500/ShowIssuStateDetail",
    "genie/iosxe/rv1/ShowIssuStateDetail",
];

/// Every (OS, command) pair these parsers serve.
const TARGETS: &[(Os, &str)] = &[
    (Os::Ios, "show boot"),
    (Os::Iosxe, "show bootvar"),
    (Os::Nxos, "show boot"),
    (Os::Aireos, "show boot"),
    (Os::Aireos, "show ap image all"),
    (Os::Iosxe, "show ap image"),
    (Os::Aireos, "show ap bundle all"),
    (Os::Iosxe, "show switch detail"),
    (Os::Iosxe, "show install summary"),
    (Os::Iosxr, "show install active"),
    (Os::Nxos, "show install all status"),
    (Os::Iosxe, "show issu state detail"),
];

fn variants(raw: &str) -> Vec<String> {
    let mut out = Vec::new();
    let characters: Vec<char> = raw.chars().collect();
    let step = (characters.len() / 60).max(1);
    for cut in (0..characters.len()).step_by(step) {
        out.push(characters.iter().take(cut).collect());
        out.push(characters.iter().skip(cut).collect());
    }
    let lines: Vec<&str> = raw.lines().collect();
    for dropped in 0..lines.len() {
        out.push(
            lines
                .iter()
                .enumerate()
                .filter(|(index, _)| *index != dropped)
                .map(|(_, line)| *line)
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    out.push(lines.iter().rev().copied().collect::<Vec<_>>().join("\n"));
    out.push(raw.replace([':', '=', '.'], ""));
    out.push(raw.replace(char::is_whitespace, " "));
    out.push(raw.replace("  ", ""));
    out.push(
        raw.chars()
            .map(|c| if c.is_ascii_digit() { 'x' } else { c })
            .collect(),
    );
    out.push(raw.replace('-', "\u{e9}"));
    out.push(format!("{raw}\n{raw}"));
    out
}

#[test]
fn mangled_corpus_outputs_never_panic_the_parsers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut runs = 0usize;
    for folder in FOLDERS {
        let dir = root.join(folder);
        let Ok(listing) = std::fs::read_dir(&dir) else {
            panic!("missing corpus folder {}", dir.display());
        };
        for entry in listing.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "raw") {
                continue;
            }
            let raw = std::fs::read_to_string(&path).unwrap();
            for variant in variants(&raw) {
                for (os, command) in TARGETS {
                    let _ = netswim_parse::parse(*os, command, &variant);
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 10_000, "only {runs} parser runs");
}
