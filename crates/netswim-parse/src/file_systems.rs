//! `show file systems` (IOS, IOS-XE, IOS-XR, NX-OS).
//!
//! A table `Size(b) Free(b) Type Flags Prefixes`; a row may start with `*`
//! (default file system) and/or `#` (bootable), sizes are `-` when unknown,
//! and the last column holds one or more prefixes.

use std::sync::LazyLock;

use netswim_domain::facts::{FileSystemInfo, FileSystems};
use regex::Regex;

use crate::ParseError;
use crate::text::parse_u64;

/// One table row: `[*#] size free type flags prefixes...`. Compiled once; a
/// pattern that failed to compile would be `None` and match nothing (tested).
pub(crate) static ROW: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^\s*(?P<marks>[*#]+)?\s*(?P<size>\d[\d,]*|-)\s+(?P<free>\d[\d,]*|-)\s+(?P<type>[A-Za-z][\w-]*)\s+(?P<flags>[a-z]{1,3})\s+(?P<prefixes>\S.*?)\s*$",
    )
    .ok()
});

/// Parses `show file systems` output.
pub fn parse_show_file_systems(output: &str) -> Result<FileSystems, ParseError> {
    let mut facts = FileSystems::default();
    for line in output.lines() {
        let Some(caps) = ROW.as_ref().and_then(|re| re.captures(line)) else {
            continue;
        };
        let text = |name: &str| {
            caps.name(name)
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()
        };
        let marks = text("marks");
        let mut row = FileSystemInfo {
            prefixes: text("prefixes")
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            fs_type: Some(text("type")),
            flags: Some(text("flags")),
            total_bytes: parse_u64(&text("size")),
            free_bytes: parse_u64(&text("free")),
            is_default: marks.contains('*'),
            ..FileSystemInfo::default()
        };
        if marks.contains('#') {
            row.details.insert("bootable".into(), "true".into());
        }
        row.details.insert("size".into(), text("size").into());
        row.details.insert("free".into(), text("free").into());
        facts.filesystems.push(row);
    }
    if facts.filesystems.is_empty() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show file systems".into(),
            reason:
                "no `Size(b) Free(b) Type Flags Prefixes` row found (hint: pass the whole table)"
                    .into(),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefixes, size, free, type, flags, default.
    type Row<'a> = (
        &'a [&'a str],
        Option<u64>,
        Option<u64>,
        &'a str,
        &'a str,
        bool,
    );

    fn check(input: &str, expected: &[Row]) {
        let facts = parse_show_file_systems(input).expect("parses");
        let got: Vec<_> = facts
            .filesystems
            .iter()
            .map(|fs| {
                (
                    fs.prefixes.clone(),
                    fs.total_bytes,
                    fs.free_bytes,
                    fs.fs_type.clone().unwrap_or_default(),
                    fs.flags.clone().unwrap_or_default(),
                    fs.is_default,
                )
            })
            .collect();
        let want: Vec<_> = expected
            .iter()
            .map(|(prefixes, total, free, fs_type, flags, default)| {
                (
                    prefixes.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
                    *total,
                    *free,
                    fs_type.to_string(),
                    flags.to_string(),
                    *default,
                )
            })
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn rows_with_default_marker_unknown_sizes_and_several_prefixes() {
        check(
            "File Systems:\n\n     Size(b)     Free(b)      Type  Flags  Prefixes\n\
             *  122185728    91537408     flash     rw   flash: flash1:\n\
                        -           -    opaque     rw   system:\n\
                   524288      519064     nvram     rw   nvram:\n",
            &[
                (
                    &["flash:", "flash1:"],
                    Some(122_185_728),
                    Some(91_537_408),
                    "flash",
                    "rw",
                    true,
                ),
                (&["system:"], None, None, "opaque", "rw", false),
                (
                    &["nvram:"],
                    Some(524_288),
                    Some(519_064),
                    "nvram",
                    "rw",
                    false,
                ),
            ],
        );
    }

    #[test]
    fn xr_table_with_dashed_types_parses() {
        check(
            "Thu Jan  1 00:00:00.000 UTC\nFile Systems:\n\n     Size(b)     Free(b)        Type  Flags  Prefixes\n\
                        -           -     network     rw  qsm/dev/fs/tftp:\n\
               1012660224   939092992  flash-disk     rw  disk0:\n",
            &[
                (&["qsm/dev/fs/tftp:"], None, None, "network", "rw", false),
                (
                    &["disk0:"],
                    Some(1_012_660_224),
                    Some(939_092_992),
                    "flash-disk",
                    "rw",
                    false,
                ),
            ],
        );
    }

    #[test]
    fn bootable_marker_is_kept() {
        let facts =
            parse_show_file_systems("*# 64016384 3620864 flash rw flash:\n").expect("parses");
        let row = facts.filesystems.first().expect("one row");
        assert!(row.is_default);
        assert_eq!(
            row.details.get("bootable").and_then(|d| d.as_text()),
            Some("true")
        );
    }

    #[test]
    fn output_without_rows_is_refused() {
        assert!(parse_show_file_systems("File Systems:\n").is_err());
    }
}
