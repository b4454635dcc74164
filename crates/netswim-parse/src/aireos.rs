//! Cisco AireOS WLC `show boot`, `show ap image all`, `show ap bundle all` (and IOS-XE `show ap image`).
//!
//! AireOS prints `Label.......... value` lines (dot leaders), IOS-XE (9800)
//! prints `Label : value`; both print the per-AP image table under an
//! `AP Name  Primary Image  Backup Image ...` header whose labels may be
//! stacked over two lines (AireOS) with a dashed rule below.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::facts::{
    ApBundle, ApBundles, ApImage, ApImages, BootEntry, BootFacts, Detail, Details,
};
use regex::Regex;

use crate::ParseError;
use crate::boot::{captures, put, snake_key};

/// `Primary Boot Image....... 8.5.182.0 (default) (active)`.
static BOOT_IMAGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^((?:primary|backup)\s+boot\s+image)\s*\.{2,}\s*(\S+)\s*(.*)$").ok()
});
/// `Label....... value` or `Label : value`.
static LABEL_VALUE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^([A-Za-z][^.:]*?)\s*(?:\.{2,}|:)\s*(.*)$").ok());

/// Parses `show boot` output.
pub fn parse_show_boot(output: &str) -> Result<BootFacts, ParseError> {
    let mut facts = BootFacts::default();
    let mut entry = BootEntry::default();
    for line in output.lines().map(str::trim) {
        let Some(found) = captures(&BOOT_IMAGE, line) else {
            continue;
        };
        let label = found.get(1).map_or("", |m| m.as_str());
        let version = found.get(2).map_or("", |m| m.as_str());
        let flags = found.get(3).map_or("", |m| m.as_str()).trim();
        let mut image = BTreeMap::new();
        put(&mut image, "label", label);
        put(&mut image, "version", version);
        put(&mut image, "status", flags);
        let lower_flags = flags.to_ascii_lowercase();
        let is_default = lower_flags.contains("(default)");
        let is_active = lower_flags.contains("(active)");
        put(&mut image, "default", if is_default { "yes" } else { "no" });
        put(&mut image, "active", if is_active { "yes" } else { "no" });
        let key = snake_key(label);
        let which = if key.starts_with("primary") {
            "primary"
        } else {
            "backup"
        };
        if is_active {
            put(&mut facts.details, "active_image", which);
        }
        if is_default {
            put(&mut facts.details, "default_image", which);
        }
        entry.boot_path.push(version.to_string());
        facts.details.insert(key, Detail::Map(image));
    }
    if entry.boot_path.is_empty() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show boot".into(),
            reason: "no `Primary Boot Image....` / `Backup Boot Image....` line".into(),
        });
    }
    facts.entries.push(entry);
    Ok(facts)
}

/// One column of a table: its label and character span.
struct Column {
    key: String,
    start: usize,
    end: usize,
}

/// Columns from the dashed rule under a header (`------ ------- ----`),
/// labelled by the header text above each dash run (joined over header lines).
fn columns_from_rule(rule: &str, header_lines: &[&str]) -> Vec<Column> {
    let mut columns = Vec::new();
    let mut start = None;
    let characters: Vec<char> = rule.chars().collect();
    for (position, character) in characters.iter().chain(std::iter::once(&' ')).enumerate() {
        match (*character == '-', start) {
            (true, None) => start = Some(position),
            (false, Some(begin)) => {
                let label: Vec<String> = header_lines
                    .iter()
                    .map(|header| char_slice(header, begin, position).trim().to_string())
                    .filter(|part| !part.is_empty())
                    .collect();
                columns.push(Column {
                    key: snake_key(&label.join(" ")),
                    start: begin,
                    end: position,
                });
                start = None;
            }
            _ => {}
        }
    }
    columns
}

/// Characters `start..end` of `text` (by character, never panicking).
fn char_slice(text: &str, start: usize, end: usize) -> String {
    text.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

/// Whether a column starting at `start` would split a word of `line` in two.
fn cuts_a_word(line: &str, start: usize) -> bool {
    let Some(before) = start.checked_sub(1) else {
        return false;
    };
    let mut characters = line.chars().skip(before);
    let left = characters.next();
    let right = characters.next();
    matches!((left, right), (Some(l), Some(r)) if !l.is_whitespace() && !r.is_whitespace())
}

/// Splits a header on runs of two or more spaces into snake_case labels.
fn labels_by_gaps(header: &str) -> Vec<String> {
    header
        .split("  ")
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .map(snake_key)
        .collect()
}

/// Summary lines above the table: `Label.... value` / `Label : value`, and
/// indented members under a label without a value (`Number of APs`).
fn read_summary<'a>(lines: impl Iterator<Item = &'a &'a str>, details: &mut Details) {
    let mut group: Option<(String, Details)> = None;
    for raw_line in lines {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        let indented = raw_line.starts_with(char::is_whitespace);
        match captures(&LABEL_VALUE, line) {
            Some(found) => {
                let key = snake_key(found.get(1).map_or("", |m| m.as_str()));
                let value = found.get(2).map_or("", |m| m.as_str());
                match (&mut group, indented) {
                    (Some((_, members)), true) => put(members, &key, value),
                    _ => {
                        if let Some((name, members)) = group.take() {
                            details.insert(name, Detail::Map(members));
                        }
                        put(details, &key, value);
                    }
                }
            }
            None => {
                if let Some((name, members)) = group.take() {
                    details.insert(name, Detail::Map(members));
                }
                group = Some((snake_key(line), Details::new()));
            }
        }
    }
    if let Some((name, members)) = group.take() {
        details.insert(name, Detail::Map(members));
    }
}

/// Parses `show ap image all` (AireOS) / `show ap image` (IOS-XE) output.
pub fn parse_show_ap_image(output: &str) -> Result<ApImages, ParseError> {
    let mut facts = ApImages::default();
    let lines: Vec<&str> = output.lines().collect();
    let Some(header_at) = lines
        .iter()
        .position(|line| line.trim().to_ascii_lowercase().starts_with("ap name"))
    else {
        return Err(ParseError::UnrecognisedOutput {
            command: "show ap image".into(),
            reason: "no `AP Name  Primary Image  Backup Image` table header".into(),
        });
    };
    // Header lines: the `AP Name` line and a label line stacked right above it.
    let above = header_at
        .checked_sub(1)
        .and_then(|at| lines.get(at))
        .filter(|above| {
            !above.trim().is_empty()
                && !above.contains(':')
                && !above.contains("..")
                && above.contains("  ")
        });
    let mut header_lines: Vec<&str> = above.into_iter().copied().collect();
    let summary_end = header_at - header_lines.len();
    if let Some(header) = lines.get(header_at) {
        header_lines.push(header);
    }
    read_summary(lines.iter().take(summary_end), &mut facts.details);
    let rule = lines
        .get(header_at + 1)
        .filter(|line| line.trim_start().starts_with('-'));
    let split_columns = rule
        .map(|rule| columns_from_rule(rule, &header_lines))
        .filter(|columns| columns.len() >= 3);
    let gap_labels = lines
        .get(header_at)
        .map(|header| labels_by_gaps(header))
        .unwrap_or_default();
    let first_row = header_at + if rule.is_some() { 2 } else { 1 };
    for raw_line in lines.iter().skip(first_row) {
        let line = raw_line.trim();
        if line.is_empty() || line.starts_with('-') {
            continue;
        }
        // A value wider than its column (a long AP name) shifts the row: then
        // the cells are read in order, split on blanks.
        let aligned = split_columns.as_ref().filter(|columns| {
            columns
                .iter()
                .all(|column| !cuts_a_word(raw_line, column.start))
        });
        let cells: Vec<(String, String)> = match aligned {
            Some(columns) => {
                let mut cells: Vec<(String, String)> = columns
                    .iter()
                    .map(|column| {
                        (
                            column.key.clone(),
                            char_slice(raw_line, column.start, column.end)
                                .trim()
                                .to_string(),
                        )
                    })
                    .collect();
                // Text beyond the last column belongs to it.
                if let (Some(last), Some(column)) = (cells.last_mut(), columns.last()) {
                    let rest = char_slice(raw_line, column.end, usize::MAX);
                    last.1 = format!("{}{}", last.1, rest.trim_end()).trim().to_string();
                }
                cells
            }
            None => match &split_columns {
                Some(columns) => columns
                    .iter()
                    .map(|column| column.key.clone())
                    .zip(line.split_whitespace().map(str::to_string))
                    .collect(),
                None => gap_labels
                    .iter()
                    .cloned()
                    .zip(line.split_whitespace().map(str::to_string))
                    .collect(),
            },
        };
        let mut ap = ApImage::default();
        for (key, value) in cells {
            match key.as_str() {
                "ap_name" => ap.name = value,
                "primary_image" => ap.primary = Some(value).filter(|v| !v.is_empty()),
                "backup_image" => ap.backup = Some(value).filter(|v| !v.is_empty()),
                _ => put(&mut ap.details, &key, &value),
            }
        }
        if !ap.name.is_empty() {
            facts.aps.push(ap);
        }
    }
    Ok(facts)
}

/// Parses `show ap bundle all` output: `Platform  Version  Size` rows under
/// a title such as `AP Image Bundles (primary image)`.
pub fn parse_show_ap_bundle(output: &str) -> Result<ApBundles, ParseError> {
    let mut facts = ApBundles::default();
    let mut section: Option<String> = None;
    let mut in_table = false;
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("platform") || lower.starts_with("image name") {
            in_table = true;
            continue;
        }
        if line.chars().all(|c| c == '-' || c.is_whitespace()) {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let looks_like_row = in_table
            && words.len() >= 2
            && words
                .get(1)
                .is_some_and(|version| version.chars().next().is_some_and(|c| c.is_ascii_digit()));
        if looks_like_row {
            let mut bundle = ApBundle {
                platform_code: words.first().map(|w| w.to_string()).unwrap_or_default(),
                version: words.get(1).map(|w| w.to_string()),
                size_bytes: words.get(2).and_then(|size| crate::text::parse_u64(size)),
                details: BTreeMap::new(),
            };
            if let Some(section) = &section {
                put(&mut bundle.details, "bundle", section);
            }
            facts.bundles.push(bundle);
        } else {
            // A title line (`AP Image Bundles (primary image)`) starts a new group.
            section = line
                .split_once('(')
                .map(|(_, inside)| inside.trim_end_matches(')').trim().to_string())
                .filter(|inside| !inside.is_empty());
            put(&mut facts.details, "title", line);
            in_table = false;
        }
    }
    if facts.bundles.is_empty() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show ap bundle all".into(),
            reason: "no `Platform  Version  Size` rows".into(),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert!(BOOT_IMAGE.is_some());
        assert!(LABEL_VALUE.is_some());
    }

    #[test]
    fn wlc_show_boot_lists_primary_then_backup() {
        let out = "Primary Boot Image............................... 8.10.183.0 (default) (active)\n\
Backup Boot Image................................ 8.8.125.0\n";
        let facts = parse_show_boot(out).unwrap();
        assert_eq!(facts.entries[0].boot_path, vec!["8.10.183.0", "8.8.125.0"]);
        assert_eq!(facts.entries[0].member, None);
        assert_eq!(
            facts.details.get("active_image").and_then(Detail::as_text),
            Some("primary")
        );
    }

    #[test]
    fn wlc_ap_image_table_uses_stacked_header_labels() {
        let out = include_str!(
            "../tests/corpus/ntc/cisco_wlc_ssh/show_ap_image_all/cisco_wlc_ssh_show_ap_image_all.raw"
        );
        let facts = parse_show_ap_image(out).unwrap();
        let ap = &facts.aps[0];
        assert_eq!(ap.name, "ESP1-05-NAP01");
        assert_eq!(ap.primary.as_deref(), Some("8.5.161.0"));
        assert_eq!(ap.backup.as_deref(), Some("0.0.0.0"));
        assert_eq!(
            ap.details
                .get("predownload_status")
                .and_then(Detail::as_text),
            Some("None")
        );
        assert_eq!(
            facts
                .details
                .get("total_number_of_aps")
                .and_then(Detail::as_text),
            Some("2")
        );
    }

    #[test]
    fn long_ap_name_shifting_the_row_is_read_word_by_word() {
        let out = "AP Name            Primary Image  Backup Image\n------------------ -------------- --------------\nBUILDING-7-FLOOR-3-AP-12 8.5.161.0 8.3.150.0\n";
        let facts = parse_show_ap_image(out).unwrap();
        assert_eq!(facts.aps[0].name, "BUILDING-7-FLOOR-3-AP-12");
        assert_eq!(facts.aps[0].primary.as_deref(), Some("8.5.161.0"));
        assert_eq!(facts.aps[0].backup.as_deref(), Some("8.3.150.0"));
    }

    #[test]
    fn ap_bundle_rows_become_bundles() {
        let out = "AP Image Bundles (primary image)\n  Platform     Version         Size (Bytes)\n  ---------    -------------   ------------\n  ap1g4        8.10.185.0      20451328\n  ap3g2        8.10.185.0      12032000\n  c3700        8.10.185.0      12456960\n";
        let facts = parse_show_ap_bundle(out).unwrap();
        assert_eq!(facts.bundles.len(), 3);
        assert_eq!(facts.bundles[0].platform_code, "ap1g4");
        assert_eq!(facts.bundles[1].version.as_deref(), Some("8.10.185.0"));
        assert_eq!(facts.bundles[2].size_bytes, Some(12_456_960));
        assert_eq!(
            facts.bundles[2]
                .details
                .get("bundle")
                .and_then(Detail::as_text),
            Some("primary image")
        );
    }
}
