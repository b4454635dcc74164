//! No input panics a parser: every command on every OS, fed random device-like
//! text and truncated or garbled real outputs from the corpus.

use std::path::Path;

use netswim_domain::Os;
use proptest::prelude::*;

const COMMANDS: &[&str] = &[
    "show version",
    "display version",
    "dir",
    "file list",
    "show boot",
    "show bootvar",
    "show boot system",
    "show switch",
    "show switch detail",
    "show file systems",
    "show inventory",
    "show install summary",
    "show install active",
    "show install active summary",
    "show install state",
    "show install all status",
    "display startup",
    "display patch-information",
    "show ap image all",
    "show ap bundle all",
    "show issu detail",
    "show issu state detail",
    "show ftp-server",
];

fn parse_everything(text: &str) {
    let _ = netswim_parse::detect_os(text);
    let _ = netswim_parse::parse_xr_install_request(text);
    let _ = netswim_parse::parse_xr_install_log(text);
    for command in COMMANDS {
        for os in Os::ALL {
            let _ = netswim_parse::parse(os, command, text);
        }
    }
}

/// Lines that look like device output: keywords, separators, numbers, odd bytes.
fn device_like_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("Switch".to_string()),
        Just("Directory of flash:/".to_string()),
        Just("bytes total (".to_string()),
        Just("Ports Model".to_string()),
        Just("-----".to_string()),
        Just("*".to_string()),
        Just(":".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("->".to_string()),
        Just("BOOT path-list".to_string()),
        Just("Criteria:".to_string()),
        Just("Version".to_string()),
        Just("V200R019C10SPC500".to_string()),
        "[0-9]{1,12}".prop_map(|s| s),
        "[ \t]{1,8}".prop_map(|s| s),
        "\n".prop_map(|s| s),
        "\\PC{0,12}".prop_map(|s| s),
    ];
    prop::collection::vec(token, 0..80).prop_map(|tokens| tokens.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_device_like_text_never_panics(text in device_like_text()) {
        parse_everything(&text);
    }
}

#[test]
fn truncated_and_garbled_corpus_outputs_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut stack = vec![root];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus folder") {
            let path = entry.expect("corpus entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|ext| ext == "raw") {
                let text = std::fs::read_to_string(&path).expect("UTF-8 case");
                files += 1;
                let lines: Vec<&str> = text.lines().collect();
                // Cut at a few line boundaries and mid-line, drop every other line,
                // and collapse everything onto one line.
                for cut in [lines.len() / 4, lines.len() / 2, lines.len() * 3 / 4] {
                    parse_everything(&lines[..cut].join("\n"));
                }
                let mid = text
                    .char_indices()
                    .nth(text.chars().count() / 2)
                    .map_or(0, |(i, _)| i);
                parse_everything(&text[..mid]);
                let every_other: Vec<&str> = lines.iter().step_by(2).copied().collect();
                parse_everything(&every_other.join("\n"));
                parse_everything(&text.replace('\n', " "));
            }
        }
    }
    assert!(files > 100, "corpus has only {files} cases");
}
