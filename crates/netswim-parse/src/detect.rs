//! OS detection from `show version` (or `display version`) output.
//!
//! Each OS prints a banner or a line shape no other OS prints. Detection
//! looks for those markers, most specific first: IOS-XE prints "Cisco IOS
//! Software" like classic IOS, so its own markers are checked before the
//! classic ones; JUNOSe before Junos for the same reason.

use netswim_domain::Os;

/// Detects the OS that printed `output` (a `show version`), if it can tell.
pub fn detect_os(output: &str) -> Option<Os> {
    let lines: Vec<&str> = output.lines().map(str::trim).collect();
    let any = |pred: &dyn Fn(&str) -> bool| lines.iter().any(|line| pred(line));
    let lower = output.to_ascii_lowercase();

    if lower.contains("nexus operating system")
        || any(&|l| {
            l.starts_with("NXOS: version")
                || l.starts_with("NXOS image file")
                || (l.starts_with("cisco Nexus") && l.contains("hassis"))
        })
    {
        return Some(Os::Nxos);
    }
    if lower.contains("cisco ios xr software")
        || lower.contains("cisco ios-xr software")
        || lower.contains("cisco ios xr admin software")
    {
        return Some(Os::Iosxr);
    }
    if lower.contains("versatile routing platform") || lower.contains("vrp (r) software") {
        return Some(Os::Vrp);
    }
    if lower.contains("adaptive security appliance software") {
        return Some(Os::Asa);
    }
    if lower.contains("check point gaia") {
        return Some(Os::Gaia);
    }
    if contains_word(&lower, "junose")
        || lower.contains("edge routing switch")
        || lower.contains("broadband services router")
        || any(&|l| l.starts_with("System Release:") && l.ends_with(".rel"))
    {
        return Some(Os::Junose);
    }
    if any(&|l| {
        l.starts_with("Junos:")
            || l.starts_with("JUNOS Software Release")
            || (l.starts_with("JUNOS ") && l.ends_with(']') && l.contains(" ["))
    }) || (any(&|l| l.starts_with("Hostname:")) && any(&|l| l.starts_with("Model:")))
    {
        return Some(Os::Junos);
    }
    if any(&|l| l.starts_with("AP Running Image")) || lower.contains("cisco ap software") {
        return Some(Os::Cheetah);
    }
    // AireOS `show sysinfo` / `show boot`: dotted key/value lines.
    if any(&|l| {
        (l.starts_with("Product Version.") || l.starts_with("Primary Boot Image.."))
            && l.contains("...")
    }) || lower.contains("product name.") && lower.contains("cisco controller")
    {
        return Some(Os::Aireos);
    }
    let iosxe_markers = [
        "cisco ios xe software",
        "cisco ios-xe software",
        "ios-xe software",
        "ios-xe rommon",
        "ios xe rommon",
        "virtual xe software",
        "_linux_iosd",
        "_iosxe",
    ];
    let mentions_ios = lower.contains("cisco ios software")
        || lower.contains("ios (tm)")
        || lower.contains("internetwork operating system");
    if iosxe_markers.iter().any(|marker| lower.contains(marker))
        // IOS-XE 16 and later name their release train in brackets:
        // `Cisco IOS Software [Everest], ...`; classic IOS never does.
        || any(&|l| l.starts_with("Cisco IOS Software ["))
    {
        return Some(Os::Iosxe);
    }
    if mentions_ios {
        return Some(Os::Ios);
    }
    None
}

/// Whether `word` occurs in `text` with no letter or digit right around it.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let after = text.get(at + word.len()..).and_then(|t| t.chars().next());
        !before.is_some_and(|c| c.is_alphanumeric()) && !after.is_some_and(|c| c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    fn check(output: &str, expected: Option<Os>) {
        assert_eq!(detect_os(output), expected, "{output}");
    }

    #[test]
    fn banners_name_their_os() {
        check(
            "Cisco IOS XE Software, Version 17.09.04a\n",
            Some(Os::Iosxe),
        );
        check(
            "Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE (fc2)\n",
            Some(Os::Ios),
        );
        check(
            "Cisco IOS Software, ASR1000 Software (PPC_LINUX_IOSD-ADVENTERPRISEK9-M), Version 15.1(3)S\n",
            Some(Os::Iosxe),
        );
        check(
            "Cisco IOS Software [Denali], ASR1000 Software (X86_64_LINUX_IOSD-UNIVERSALK9-M)\n",
            Some(Os::Iosxe),
        );
        check(
            "Cisco IOS XR Software, Version 7.9.2 LNT\n",
            Some(Os::Iosxr),
        );
        check(
            "Cisco Nexus Operating System (NX-OS) Software\n",
            Some(Os::Nxos),
        );
        check(
            "Huawei Versatile Routing Platform Software\nVRP (R) software, Version 5.170 (S5700 V200R019C10SPC500)\n",
            Some(Os::Vrp),
        );
        check(
            "Hostname: sw1\nModel: ex4300-48t\nJunos: 18.4R3-S1\n",
            Some(Os::Junos),
        );
        check(
            "Juniper Edge Routing Switch ERX-1440\nVersion 10.3.2 [BuildId 12345]\n",
            Some(Os::Junose),
        );
        check(
            "Cisco Adaptive Security Appliance Software Version 9.8(4)10\n",
            Some(Os::Asa),
        );
        check("Product version Check Point Gaia R80.40\n", Some(Os::Gaia));
        check(
            "cisco AIR-AP4800-B-K9 ARMv7 Processor\nAP Running Image : 17.12.0.78\n",
            Some(Os::Cheetah),
        );
        check(
            "Product Name..................................... Cisco Controller\nProduct Version.................................. 8.5.135.0\n",
            Some(Os::Aireos),
        );
        check(
            "Juniper Edge Routing Switch ERX-1440\nSystem Release: erx_7-1-0.rel\n",
            Some(Os::Junose),
        );
        check(
            "Hostname: r1\nModel: mx480\nJUNOS Enterprise Software Suite [12.3R6.6]\n",
            Some(Os::Junos),
        );
        check(
            "Cisco IOS Software, IOS-XE Software, Catalyst 4500 L3 Switch Software (cat4500e-UNIVERSALK9-M), Version 03.04.06.SG\n",
            Some(Os::Iosxe),
        );
        check(
            "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(2)E7\n",
            Some(Os::Ios),
        );
        check(
            "IOS (tm) C2600 Software (C2600-I-M), Version 12.2(2)XA1\n",
            Some(Os::Ios),
        );
        check("nothing recognisable\n", None);
        check("", None);
    }

    fn corpus() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
    }

    /// The OS a corpus case was captured from: the folder's platform, unless
    /// genie's file name states another (`golden_output_ios_2` under iosxe).
    fn expected_for(folder: &str, file_name: &str) -> Vec<Os> {
        for (tag, os) in [
            ("_asa_", Os::Asa),
            ("_gaia_", Os::Gaia),
            ("_iosxe_", Os::Iosxe),
            ("_iosxr_", Os::Iosxr),
            ("_ios_", Os::Ios),
            ("_junos_", Os::Junos),
            ("_nxos_", Os::Nxos),
            ("_wireless_ap_", Os::Cheetah),
        ] {
            if file_name.contains(tag) && file_name.starts_with("golden_output") {
                return vec![os];
            }
        }
        let family = folder.split('/').nth(1).unwrap_or_default();
        match family {
            // ntc-templates' `cisco_ios` holds both IOS and IOS-XE outputs.
            "cisco_ios" => vec![Os::Ios, Os::Iosxe],
            other => vec![other.parse::<Os>().unwrap()],
        }
    }

    #[test]
    fn every_corpus_version_output_is_detected_as_its_folder_os() {
        let folders = [
            "ntc/cisco_ios/show_version",
            "ntc/cisco_xr/show_version",
            "ntc/cisco_nxos/show_version",
            "ntc/juniper_junos/show_version",
            "ntc/huawei_vrp/display_version",
            "ntc/cisco_wlc_ssh/show_boot",
            "genie/ios/ShowVersion",
            "genie/ios/cat6k/ShowVersion",
            "genie/ios/cat7k/c7600/ShowVersion",
            "genie/iosxe/ShowVersion",
            "genie/iosxe/cat9k/c9500/ShowVersion",
            "genie/iosxr/ShowVersion",
            "genie/nxos/ShowVersion",
            "genie/junos/ShowVersion",
            "genie/aireos/ShowBoot",
            "genie/generic/ShowVersion",
            "genie/generic/rv1/ShowVersion",
        ];
        let mut checked = 0;
        let mut wrong = Vec::new();
        for folder in folders {
            let dir = corpus().join(folder);
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|ext| ext != "raw") {
                    continue;
                }
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                let raw = std::fs::read_to_string(&path).unwrap();
                let expected = expected_for(folder, &name);
                let found = detect_os(&raw);
                checked += 1;
                if !found.is_some_and(|os| expected.contains(&os)) {
                    wrong.push(format!(
                        "{folder}/{name}: expected {expected:?}, got {found:?}"
                    ));
                }
            }
        }
        assert!(checked > 60, "only {checked} cases");
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Truncated, line-dropped, reversed, collapsed and byte-mangled
    /// versions of an output.
    fn garbled(raw: &str) -> Vec<String> {
        let mut out = Vec::new();
        let chars: Vec<char> = raw.chars().collect();
        for cut in [1, 7, 13, 29, 61, 101, 257, 509, 1021] {
            if cut < chars.len() {
                out.push(chars[..cut].iter().collect());
                out.push(chars[chars.len() - cut..].iter().collect());
            }
        }
        let lines: Vec<&str> = raw.lines().collect();
        out.push(
            lines
                .iter()
                .step_by(2)
                .copied()
                .collect::<Vec<_>>()
                .join("\n"),
        );
        out.push(lines.iter().rev().copied().collect::<Vec<_>>().join("\n"));
        out.push(raw.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push(raw.replace(':', ""));
        out.push(raw.replace(' ', ""));
        out.push(raw.replace(|c: char| c.is_ascii_digit(), "é"));
        out.push(raw.replace('(', "((").replace(']', ""));
        out.push(
            lines
                .iter()
                .map(|l| l.chars().take(5).collect::<String>())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        out
    }

    #[test]
    fn garbled_corpus_outputs_never_panic_any_parser() {
        let folders = [
            "ntc/cisco_xr/show_version",
            "ntc/cisco_nxos/show_version",
            "ntc/juniper_junos/show_version",
            "ntc/huawei_vrp/display_version",
            "ntc/huawei_vrp/display_startup",
            "ntc/huawei_vrp/display_patch-information",
            "genie/iosxr/ShowVersion",
            "genie/nxos/ShowVersion",
            "genie/junos/ShowVersion",
            "genie/generic/rv1/ShowVersion",
        ];
        let junose = [
            "FTP Server state: enabled, 1 open connections\nStatistics since server was last started:\nattempts: 3\nfailed hosts: 0\nfailed users: 0\n",
            "ISSU state: idle\ncriteria met: No, x\n# ISSU Criteria Summary Met\n-- ---- ---\n1 A ready? Yes\n-> Criteria: FTP file transfer is in progress No\nImpact: ISSU cannot be performed when file transfer is in pr\nogress\nRemedy: Abort\nReporting slot: 7\n",
        ];
        let pairs = [
            (Os::Iosxr, "show version"),
            (Os::Nxos, "show version"),
            (Os::Junos, "show version"),
            (Os::Asa, "show version"),
            (Os::Gaia, "show version"),
            (Os::Vrp, "display version"),
            (Os::Vrp, "display startup"),
            (Os::Vrp, "display patch-information"),
            (Os::Junose, "show issu detail"),
            (Os::Junose, "show ftp-server"),
            (Os::Junose, "show version"),
        ];
        let mut inputs: Vec<String> = junose.iter().map(|s| s.to_string()).collect();
        for folder in folders {
            for entry in std::fs::read_dir(corpus().join(folder)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|ext| ext == "raw") {
                    inputs.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut runs = 0;
        for input in &inputs {
            for variant in garbled(input) {
                let _ = detect_os(&variant);
                for (os, command) in pairs {
                    let _ = crate::parse(os, command, &variant);
                    runs += 1;
                }
            }
        }
        assert!(runs > 1000, "{runs}");
    }
}
