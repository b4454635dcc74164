//! `dir` listings of every OS (IOS, IOS-XE, IOS-XR, NX-OS, VRP, ASA) and Junos `file list`.
//!
//! One grammar covers the Cisco and Huawei listings: optional `Directory of X`
//! headers open blocks, each file line is one of a few column layouts
//! (index/permissions/size/date/name, `ls -l` style, NX-OS size/date/name),
//! and a space summary closes a block (`N bytes total (M bytes free)`, VRP
//! `N KB total (M KB free)`, the NX-OS `Usage for` footer). Junos `file list`
//! prints `path:` headers followed by bare names or `ls -l` lines.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use netswim_domain::Os;
use netswim_domain::facts::{Detail, Details, DirEntry, DirListing};
use regex::{Captures, Regex};

use crate::ParseError;
use crate::text::parse_u64;

// Patterns are compiled once. A pattern that failed to compile would be
// `None` and match nothing instead of panicking; the tests assert that all compile.

/// Every date layout the listings print, most specific first (the regex
/// engine prefers the earlier alternative).
const DATE: &str = r"(?:<no\s+date>|(?:[A-Z][a-z]{2}\s+)?[A-Z][a-z]{2}\s+\d{1,2}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s+[+-]\d{1,2}:?\d{2})?|(?:[A-Z][a-z]{2}\s+)?[A-Z][a-z]{2}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\s+\d{4}|\d{1,2}:\d{2}:\d{2}\s+[A-Z][a-z]{2}\s+\d{1,2}\s+\d{4}|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?|[A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{4}|\d{1,2}:\d{2}))";

/// IOS, IOS-XE, classic IOS-XR and VRP: `index permissions size date name`.
/// Permissions hold no digit so a size is never taken for part of them.
static INDEXED_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?P<index>\d+)\s+(?P<perm>[^\s\d](?:[^\d]*?[^\s\d])?)\s+(?P<size>\d[\d,]*|-|<DIR>)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .ok()
});

/// IOS-XR (Linux based) and Junos detail: `[inode] perms[.] links [owner group] size date name`.
static LS_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?:(?P<index>\d+)\s+)?(?P<perm>[-dlcbpsD][-rwxsStTl]{{9}})(?P<mark>[.+@]?)\s+(?P<links>\d+)\s+(?:(?P<owner>[^\s\d]\S*)\s+(?P<group>\S+)\s+)?(?P<size>\d[\d,]*)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .ok()
});

/// NX-OS: `size date name`.
static SIZE_DATE_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?P<size>\d[\d,]*)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .ok()
});

static DIRECTORY_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*Directory\s+of\s+(?P<dir>\S.*?)\s*$").ok());

/// `7835619328 bytes total (6612774912 bytes free)`, `1,927,396 KB total (1,143,780 KB free)`,
/// ASA `... (8039653376 bytes free/93% free)`.
static TOTAL_FREE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?P<total>\d[\d,]*)\s*(?P<total_unit>[kmg]?bytes|[kmg]?b|[kmg])?\s+total\s*\(\s*(?P<free>\d[\d,]*)\s*(?P<free_unit>[kmg]?bytes|[kmg]?b|[kmg])?\s+free\s*(?:/[^)]*)?\)")
        .ok()
});

/// NX-OS footer: `Usage for bootflash://sup-local`.
static USAGE_FOR: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*Usage\s+for\s+(?P<fs>\S+)").ok());

/// NX-OS footer lines: `108449792 bytes used`.
static USAGE_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?P<value>\d[\d,]*)\s+(?P<unit>[kmg]?bytes)\s+(?P<what>used|free|total)\s*$",
    )
    .ok()
});

/// Device messages that mean the listing could not be made.
static ERROR_LINE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(^\s*%\s*error|^\s*error\s*:|no such file or directory|can't be found|cannot be found|not found|invalid path|no such device)")
        .ok()
});

/// Junos refusals: `/root/x: No such file or directory`, `error: ...`.
static JUNOS_ERROR: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)(: no such file or directory|^error\s*:|: permission denied)").ok()
});

/// Junos block header: `/var/tmp/:`.
static JUNOS_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^(?P<dir>\S.*?):$").ok());

/// A CLI prompt echoed with the command (`root@vmx1> file list`).
static PROMPT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(?:\{[^}]*\}\s*$|[\w.-]+@[\w.-]+[>#%]\s*)").ok());

/// Junos detail totals: `total blocks: 48`, `total files: 3`.
static JUNOS_TOTAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*total\s+(?P<what>blocks|files)\s*:\s*(?P<value>\d+)\s*$").ok()
});

/// Parses `dir` output of a device running `os` (Junos: `file list`).
pub fn parse_dir(os: Os, output: &str) -> Result<DirListing, ParseError> {
    if os == Os::Junos {
        return parse_junos_file_list(output);
    }
    let mut listing = Listing::default();
    for line in output.lines() {
        if let Some(caps) = DIRECTORY_HEADER.as_ref().and_then(|re| re.captures(line)) {
            listing.open_block(text_of(&caps, "dir"));
        } else if let Some(caps) = TOTAL_FREE.as_ref().and_then(|re| re.captures(line)) {
            listing.current().set_total_free(&caps);
        } else if let Some(caps) = USAGE_FOR.as_ref().and_then(|re| re.captures(line)) {
            listing.current().usage_for = Some(text_of(&caps, "fs"));
        } else if let Some(caps) = USAGE_LINE.as_ref().and_then(|re| re.captures(line)) {
            listing.current().set_usage(&caps);
        } else if let Some(entry) = entry_from_line(line) {
            listing.current().entries.push(entry);
        } else if ERROR_LINE.as_ref().is_some_and(|re| re.is_match(line)) {
            listing.messages.push(line.trim().to_string());
        }
    }
    listing.finish("dir")
}

/// Parses Junos `file list [detail]` output.
fn parse_junos_file_list(output: &str) -> Result<DirListing, ParseError> {
    let mut listing = Listing::default();
    // Multi-RE and virtual-chassis output prefixes each part with `re0:` and a dashed rule.
    let mut section: Option<String> = None;
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty()
            || PROMPT.as_ref().is_some_and(|re| re.is_match(trimmed))
            || trimmed.chars().all(|c| c == '-' || c == '=')
        {
            continue;
        }
        if let Some(caps) = JUNOS_HEADER.as_ref().and_then(|re| re.captures(trimmed))
            && !trimmed.contains('/')
            && !trimmed.contains(' ')
        {
            section = Some(text_of(&caps, "dir"));
        } else if JUNOS_ERROR.as_ref().is_some_and(|re| re.is_match(trimmed)) {
            listing.messages.push(trimmed.to_string());
        } else if let Some(caps) = JUNOS_TOTAL.as_ref().and_then(|re| re.captures(trimmed)) {
            let key = format!("total_{}", text_of(&caps, "what"));
            listing
                .current()
                .details
                .insert(key, text_of(&caps, "value").into());
        } else if let Some(caps) = JUNOS_HEADER.as_ref().and_then(|re| re.captures(trimmed)) {
            listing.open_block(text_of(&caps, "dir"));
            if let Some(section) = &section {
                listing
                    .current()
                    .details
                    .insert("section".into(), section.clone().into());
            }
        } else {
            let mut entry = entry_from_line(trimmed).unwrap_or_else(|| bare_entry(trimmed));
            if let Some(section) = &section {
                entry
                    .details
                    .insert("section".into(), section.clone().into());
            }
            listing.current().entries.push(entry);
        }
    }
    listing.finish("file list")
}

/// One `Directory of` block (or the whole output when there is no header).
#[derive(Default)]
struct Block {
    directory: Option<String>,
    total_bytes: Option<u64>,
    free_bytes: Option<u64>,
    usage_for: Option<String>,
    details: Details,
    entries: Vec<DirEntry>,
}

impl Block {
    fn set_total_free(&mut self, caps: &Captures) {
        let total = text_of(caps, "total");
        let free = text_of(caps, "free");
        let total_unit = text_of(caps, "total_unit");
        let free_unit = text_of(caps, "free_unit");
        self.total_bytes = in_bytes(&total, &total_unit);
        self.free_bytes = in_bytes(&free, &free_unit);
        self.details
            .insert("total_size".into(), total.clone().into());
        self.details
            .insert("total_free".into(), free.clone().into());
        if !total_unit.is_empty() {
            self.details
                .insert("size_unit".into(), total_unit.clone().into());
        }
        self.details.insert(
            "total_text".into(),
            join_words(&[&total, &total_unit]).into(),
        );
        self.details
            .insert("free_text".into(), join_words(&[&free, &free_unit]).into());
    }

    fn set_usage(&mut self, caps: &Captures) {
        let value = text_of(caps, "value");
        let bytes = in_bytes(&value, &text_of(caps, "unit"));
        match text_of(caps, "what").to_ascii_lowercase().as_str() {
            "total" => {
                self.total_bytes = bytes;
                self.details.insert("total_size".into(), value.into());
            }
            "free" => {
                self.free_bytes = bytes;
                self.details.insert("total_free".into(), value.into());
            }
            _ => {
                if let Some(bytes) = bytes {
                    self.details
                        .insert("used_bytes".into(), bytes.to_string().into());
                }
                self.details.insert("total_used".into(), value.into());
            }
        }
    }

    /// Nothing was recognised for this block.
    fn is_blank(&self) -> bool {
        self.directory.is_none()
            && !self.has_space()
            && self.usage_for.is_none()
            && self.entries.is_empty()
            && self.details.is_empty()
    }

    fn has_space(&self) -> bool {
        self.total_bytes.is_some() || self.free_bytes.is_some()
    }

    /// The block's own facts, for the `directories` detail of multi-block listings.
    fn summary(&self) -> Detail {
        let mut map: BTreeMap<String, Detail> = self.details.clone();
        if let Some(directory) = self.name() {
            map.insert("directory".into(), directory.into());
        }
        if let Some(total) = self.total_bytes {
            map.insert("total_bytes".into(), total.to_string().into());
        }
        if let Some(free) = self.free_bytes {
            map.insert("free_bytes".into(), free.to_string().into());
        }
        map.insert("file_count".into(), self.entries.len().to_string().into());
        Detail::Map(map)
    }

    /// The header's directory, else the file system named by the NX-OS footer.
    fn name(&self) -> Option<String> {
        self.directory.clone().or_else(|| {
            self.usage_for
                .as_deref()
                .map(|usage| match usage.find(':') {
                    // `bootflash://sup-local` names the `bootflash:` file system.
                    Some(colon) => usage.get(..=colon).unwrap_or(usage).to_string(),
                    None => usage.to_string(),
                })
        })
    }
}

#[derive(Default)]
struct Listing {
    done: Vec<Block>,
    current: Block,
    messages: Vec<String>,
}

impl Listing {
    fn open_block(&mut self, directory: String) {
        // Lines seen before the first header (none, usually) stay in their own block.
        if self.current.is_blank() {
            self.current.directory = Some(directory);
            return;
        }
        let previous = std::mem::take(&mut self.current);
        self.done.push(previous);
        self.current.directory = Some(directory);
    }

    fn current(&mut self) -> &mut Block {
        &mut self.current
    }

    fn finish(mut self, command: &str) -> Result<DirListing, ParseError> {
        let last = std::mem::take(&mut self.current);
        self.done.push(last);
        self.done.retain(|block| !block.is_blank());
        let blocks = self.done;
        let has_entries = blocks.iter().any(|block| !block.entries.is_empty());
        if !has_entries && !self.messages.is_empty() {
            let has_header_or_space = blocks
                .iter()
                .any(|block| block.directory.is_some() || block.has_space());
            if !has_header_or_space {
                return Err(ParseError::DeviceError {
                    message: self.messages.join(" "),
                });
            }
        }
        if blocks.is_empty() {
            return Err(ParseError::UnrecognisedOutput {
                command: command.into(),
                reason: "no directory header, file line or space summary found (hint: pass the whole output of the command)".into(),
            });
        }
        let several = blocks.len() > 1;
        let mut listing = DirListing {
            filesystem: blocks.iter().find_map(Block::name),
            ..DirListing::default()
        };
        // The first space summary describes the listed file system; a recursive
        // listing prints it once, after the last sub-directory.
        if let Some(block) = blocks.iter().find(|block| block.has_space()) {
            listing.total_bytes = block.total_bytes;
            listing.free_bytes = block.free_bytes;
            listing.details.extend(block.details.clone());
        } else if let Some(block) = blocks.first() {
            listing.details.extend(block.details.clone());
        }
        if let Some(usage) = blocks.iter().find_map(|block| block.usage_for.clone()) {
            listing.details.insert("usage_for".into(), usage.into());
        }
        if several {
            listing.details.insert(
                "directories".into(),
                Detail::List(blocks.iter().map(Block::summary).collect()),
            );
        }
        if !self.messages.is_empty() {
            listing.details.insert(
                "messages".into(),
                Detail::List(self.messages.into_iter().map(Detail::from).collect()),
            );
        }
        for block in blocks {
            let directory = block.name();
            for mut entry in block.entries {
                if several && let Some(directory) = &directory {
                    entry
                        .details
                        .insert("directory".into(), directory.clone().into());
                }
                listing.entries.push(entry);
            }
        }
        Ok(listing)
    }
}

/// One file line in any of the column layouts, or `None`.
fn entry_from_line(line: &str) -> Option<DirEntry> {
    if let Some(caps) = LS_LINE.as_ref().and_then(|re| re.captures(line)) {
        let mut entry = entry_from_columns(&caps);
        for key in ["links", "owner", "group"] {
            if let Some(value) = caps.name(key) {
                entry.details.insert(key.into(), value.as_str().into());
            }
        }
        if let Some(mark) = caps.name("mark").filter(|m| !m.as_str().is_empty()) {
            // `.` SELinux context, `+` ACL, `@` extended attributes.
            entry
                .details
                .insert("permission_mark".into(), mark.as_str().into());
        }
        return Some(entry);
    }
    if let Some(caps) = INDEXED_LINE.as_ref().and_then(|re| re.captures(line)) {
        return Some(entry_from_columns(&caps));
    }
    if let Some(caps) = SIZE_DATE_LINE.as_ref().and_then(|re| re.captures(line)) {
        return Some(entry_from_columns(&caps));
    }
    None
}

fn entry_from_columns(caps: &Captures) -> DirEntry {
    let mut entry = DirEntry::default();
    let permissions = caps.name("perm").map(|m| m.as_str().to_string());
    if let Some(index) = caps.name("index") {
        entry.details.insert("index".into(), index.as_str().into());
    }
    if let Some(permissions) = &permissions {
        entry
            .details
            .insert("permissions".into(), permissions.clone().into());
    }
    let size_text = text_of(caps, "size");
    let size_text_is_dir = size_text.eq_ignore_ascii_case("<DIR>");
    entry.size = parse_u64(&size_text);
    if entry.size.map(|size| size.to_string()).as_deref() != Some(size_text.as_str()) {
        entry
            .details
            .insert("size_as_printed".into(), size_text.into());
    }
    add_date_details(&mut entry.details, &text_of(caps, "date"));
    let printed_name = text_of(caps, "name");
    let is_link = permissions.as_deref().is_some_and(|p| p.starts_with('l'));
    set_name(&mut entry, &printed_name, is_link);
    entry.is_dir = entry.is_dir
        || permissions
            .as_deref()
            .is_some_and(|p| p.starts_with('d') || p.eq_ignore_ascii_case("<DIR>"))
        || size_text_is_dir;
    entry
}

/// Junos bare `file list` line: a name with an `ls -F` type marker.
fn bare_entry(printed: &str) -> DirEntry {
    let mut entry = DirEntry::default();
    let (base, target) = split_link(printed);
    let mut name = base.to_string();
    let mut kind = None;
    if let Some(stripped) = name.strip_suffix('/') {
        entry.is_dir = true;
        name = stripped.to_string();
    } else if let Some(last) = name.chars().last()
        && matches!(last, '@' | '*' | '|' | '=')
        && name.chars().count() > 1
    {
        kind = Some(match last {
            '@' => "link",
            '*' => "executable",
            '|' => "fifo",
            _ => "socket",
        });
        name.pop();
    }
    if let Some(kind) = kind {
        entry.details.insert("file_type".into(), kind.into());
    }
    if let Some(target) = target {
        entry.details.insert("link_target".into(), target.into());
    }
    if name != printed {
        entry
            .details
            .insert("listed_name".into(), base.to_string().into());
    }
    entry.name = name;
    entry
}

/// Splits `config -> /misc/config` into the link and its target.
fn split_link(printed: &str) -> (&str, Option<&str>) {
    match printed.split_once(" -> ") {
        Some((name, target)) => (name.trim_end(), Some(target.trim())),
        None => (printed, None),
    }
}

fn set_name(entry: &mut DirEntry, printed: &str, is_link: bool) {
    let (base, target) = if is_link {
        split_link(printed)
    } else {
        (printed, None)
    };
    let mut name = base;
    // NX-OS marks directories with a trailing `/`.
    if let Some(stripped) = name.strip_suffix('/')
        && !stripped.is_empty()
    {
        entry.is_dir = true;
        name = stripped;
    }
    if let Some(target) = target {
        entry.details.insert("link_target".into(), target.into());
    }
    if name != printed {
        entry
            .details
            .insert("listed_name".into(), printed.to_string().into());
    }
    entry.name = name.to_string();
}

/// Keeps the date as printed (spaces collapsed) and its parts.
fn add_date_details(details: &mut Details, date: &str) {
    let collapsed = join_words(&date.split_whitespace().collect::<Vec<_>>());
    if collapsed.is_empty() || collapsed.starts_with('<') {
        if !collapsed.is_empty() {
            details.insert("date_time".into(), collapsed.into());
        }
        return;
    }
    let mut words: Vec<&str> = collapsed.split(' ').collect();
    let mut parts: BTreeMap<&str, String> = BTreeMap::new();
    // A leading weekday is followed by the month name.
    if words.len() > 1
        && words.first().is_some_and(|w| is_alpha(w))
        && words.get(1).is_some_and(|w| is_alpha(w))
    {
        parts.insert("weekday", words.remove(0).to_string());
    }
    for word in words {
        if let Some((year, rest)) = word.split_once('-')
            && year.len() == 4
            && let Some((month, day)) = rest.split_once('-')
        {
            parts.insert("year", year.to_string());
            parts.insert("month", month.to_string());
            parts.insert("day", day.to_string());
        } else if word.starts_with(['+', '-']) {
            parts.insert("timezone", word.to_string());
        } else if word.contains(':') {
            parts.insert("time", word.to_string());
        } else if is_alpha(word) {
            parts.insert("month", word.to_string());
        } else if word.len() == 4 {
            parts.insert("year", word.to_string());
        } else {
            parts.insert("day", word.to_string());
        }
    }
    if let (Some(month), Some(day), Some(year)) =
        (parts.get("month"), parts.get("day"), parts.get("year"))
    {
        details.insert("date".into(), format!("{month} {day} {year}").into());
    }
    for (key, value) in parts {
        details.insert(key.into(), value.into());
    }
    details.insert("date_time".into(), collapsed.into());
}

fn is_alpha(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic())
}

fn join_words(words: &[&str]) -> String {
    words
        .iter()
        .filter(|w| !w.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_of(caps: &Captures, name: &str) -> String {
    caps.name(name)
        .map(|m| m.as_str().trim().to_string())
        .unwrap_or_default()
}

/// A printed amount in bytes: `bytes`/`B` as is, `kbytes`/`KB`/`K` ×1024, and so on.
fn in_bytes(number: &str, unit: &str) -> Option<u64> {
    let value = parse_u64(number)?;
    let unit = unit.to_ascii_lowercase();
    let factor: u64 = match unit.chars().next() {
        Some('k') => 1024,
        Some('m') => 1024 * 1024,
        Some('g') => 1024 * 1024 * 1024,
        _ => 1,
    };
    value.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, size, is_dir.
    type Entry<'a> = (&'a str, Option<u64>, bool);

    fn check(
        os: Os,
        input: &str,
        filesystem: Option<&str>,
        total_free: (Option<u64>, Option<u64>),
        entries: &[Entry],
    ) -> DirListing {
        let listing = parse_dir(os, input).expect("parses");
        assert_eq!(listing.filesystem.as_deref(), filesystem, "filesystem");
        assert_eq!(
            (listing.total_bytes, listing.free_bytes),
            total_free,
            "total/free"
        );
        let got: Vec<Entry> = listing
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.size, e.is_dir))
            .collect();
        assert_eq!(got, entries);
        listing
    }

    fn entry_detail<'a>(listing: &'a DirListing, n: usize, key: &str) -> Option<&'a str> {
        listing.entries.get(n)?.details.get(key)?.as_text()
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &INDEXED_LINE,
            &LS_LINE,
            &SIZE_DATE_LINE,
            &DIRECTORY_HEADER,
            &TOTAL_FREE,
            &USAGE_FOR,
            &USAGE_LINE,
            &ERROR_LINE,
            &JUNOS_ERROR,
            &JUNOS_HEADER,
            &PROMPT,
            &JUNOS_TOTAL,
        ] {
            assert!(pattern.is_some());
        }
        assert!(crate::file_systems::ROW.is_some());
        assert!(crate::inventory::KEY.is_some());
    }

    #[test]
    fn ios_listing_with_no_date_and_directories() {
        let listing = check(
            Os::Ios,
            "Directory of flash:/\n\n\
             \x20   2  -rwx    33591768   Mar 1 1993 00:26:21 +00:00  c2960-lanbasek9-mz.150-2.SE4.bin\n\
             \x20 464  drwx         512   Mar 1 1993 00:25:42 +00:00  c3750-ipbasek9-mz.122-55.SE\n\
             \x20   7  -rwx           5                    <no date>  private-config.text\n\n\
             32514048 bytes total (3775488 bytes free)\n",
            Some("flash:/"),
            (Some(32_514_048), Some(3_775_488)),
            &[
                ("c2960-lanbasek9-mz.150-2.SE4.bin", Some(33_591_768), false),
                ("c3750-ipbasek9-mz.122-55.SE", Some(512), true),
                ("private-config.text", Some(5), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 0, "index"), Some("2"));
        assert_eq!(entry_detail(&listing, 0, "permissions"), Some("-rwx"));
        assert_eq!(
            entry_detail(&listing, 0, "date_time"),
            Some("Mar 1 1993 00:26:21 +00:00")
        );
        assert_eq!(entry_detail(&listing, 0, "timezone"), Some("+00:00"));
        assert_eq!(entry_detail(&listing, 2, "date_time"), Some("<no date>"));
    }

    #[test]
    fn classic_xr_listing_with_weekday_dates() {
        let listing = check(
            Os::Iosxr,
            "Mon Nov 27 10:12:02.123 UTC\n\nDirectory of disk0:\n\n\
             \x20       2           drwx  4096        Mon Jun 27 15:16:01 2016  LOST.DIR\n\
             \x20   27777           -rwx  1020        Sun Nov 26 20:26:01 2017  cvac.log\n\n\
             3848888320 bytes total (2590777344 bytes free)\n",
            Some("disk0:"),
            (Some(3_848_888_320), Some(2_590_777_344)),
            &[
                ("LOST.DIR", Some(4096), true),
                ("cvac.log", Some(1020), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 1, "weekday"), Some("Sun"));
        assert_eq!(entry_detail(&listing, 1, "year"), Some("2017"));
    }

    #[test]
    fn linux_xr_listing_in_kbytes_with_symlink() {
        let listing = check(
            Os::Iosxr,
            "\nDirectory of /misc/scratch\n\
             \x20  15 lrwxrwxrwx. 1    12 May 10  2017 config -> /misc/config\n\
             16353 drwxr-xr-x 2  4096 May 10 14:02 nvgen_traces\n\n\
             1012660 kbytes total (939092 kbytes free)\n",
            Some("/misc/scratch"),
            (Some(1_012_660 * 1024), Some(939_092 * 1024)),
            &[
                ("config", Some(12), false),
                ("nvgen_traces", Some(4096), true),
            ],
        );
        assert_eq!(
            entry_detail(&listing, 0, "link_target"),
            Some("/misc/config")
        );
        assert_eq!(entry_detail(&listing, 0, "permissions"), Some("lrwxrwxrwx"));
        assert_eq!(entry_detail(&listing, 0, "date_time"), Some("May 10 2017"));
        assert_eq!(entry_detail(&listing, 1, "time"), Some("14:02"));
        assert_eq!(
            listing.details.get("total_text").and_then(Detail::as_text),
            Some("1012660 kbytes")
        );
    }

    #[test]
    fn vrp_listing_in_kilobytes_with_separators_and_stack_slot() {
        let listing = check(
            Os::Vrp,
            "Directory of slot2#flash:/\n\n\
             \x20 Idx  Attr     Size(Byte)  Date        Time(LMT)  FileName\n\
             \x20   0  -rw-     38,401,816  Jan 17 2019 15:33:06   s5720-si-v200r011c10spc600.cc\n\
             \x20   1  drw-              -  Jan 01 2019 00:00:00   logfile\n\n\
             1,927,396 KB total (1,143,780 KB free)\n",
            Some("slot2#flash:/"),
            (Some(1_927_396 * 1024), Some(1_143_780 * 1024)),
            &[
                ("s5720-si-v200r011c10spc600.cc", Some(38_401_816), false),
                ("logfile", None, true),
            ],
        );
        assert_eq!(
            entry_detail(&listing, 0, "size_as_printed"),
            Some("38,401,816")
        );
        assert_eq!(entry_detail(&listing, 1, "size_as_printed"), Some("-"));
    }

    #[test]
    fn asa_listing_with_time_first_dates_and_percent_free() {
        let listing = check(
            Os::Asa,
            "Directory of disk0:/\n\n\
             11     drwx  4096         13:55:24 Jun 08 2017 log\n\
             128    -rwx  37416960     09:03:43 Mar 08 2018 asa971-smp-k8.bin\n\n\
             8571076608 bytes total (8039653376 bytes free/93% free)\n",
            Some("disk0:/"),
            (Some(8_571_076_608), Some(8_039_653_376)),
            &[
                ("log", Some(4096), true),
                ("asa971-smp-k8.bin", Some(37_416_960), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 1, "date"), Some("Mar 08 2018"));
        assert_eq!(entry_detail(&listing, 1, "time"), Some("09:03:43"));
    }

    #[test]
    fn nxos_listing_takes_filesystem_and_space_from_usage_footer() {
        let listing = check(
            Os::Nxos,
            "       4096    Jan 06 18:12:42 2020  .rpmstore/\n\
             \x20 937491968    Jan 06 18:18:03 2020  nxos.9.3.3.bin\n\n\
             Usage for bootflash://sup-local\n\
             \x201576075264 bytes used\n\
             \x202245808128 bytes free\n\
             \x203821883392 bytes total\n",
            Some("bootflash:"),
            (Some(3_821_883_392), Some(2_245_808_128)),
            &[
                (".rpmstore", Some(4096), true),
                ("nxos.9.3.3.bin", Some(937_491_968), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 0, "listed_name"), Some(".rpmstore/"));
        assert_eq!(entry_detail(&listing, 0, "date"), Some("Jan 06 2020"));
        assert_eq!(
            listing.details.get("used_bytes").and_then(Detail::as_text),
            Some("1576075264")
        );
    }

    #[test]
    fn several_blocks_tag_entries_with_their_directory() {
        let listing = check(
            Os::Ios,
            "Directory of flash-1:/\n\n    2  -rwx    33591768   Mar 1 1993 00:26:21 +00:00  c3750.bin\n\n\
             32514048 bytes total (3775488 bytes free)\n\n\
             Directory of flash-2:/\n\n    3  -rwx        1048   Mar 1 1993 00:02:00 +00:00  vlan.dat\n\n\
             32514048 bytes total (1000 bytes free)\n",
            Some("flash-1:/"),
            (Some(32_514_048), Some(3_775_488)),
            &[
                ("c3750.bin", Some(33_591_768), false),
                ("vlan.dat", Some(1048), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 1, "directory"), Some("flash-2:/"));
        let Some(Detail::List(blocks)) = listing.details.get("directories") else {
            panic!("directories detail expected");
        };
        assert_eq!(blocks.len(), 2);
    }

    #[test]
    fn empty_directory_is_an_empty_listing() {
        check(
            Os::Iosxe,
            "Directory of usbflash0:/\n\nNo files in directory\n\n7989903360 bytes total (7989886976 bytes free)\n",
            Some("usbflash0:/"),
            (Some(7_989_903_360), Some(7_989_886_976)),
            &[],
        );
    }

    #[test]
    fn junos_plain_and_detail_listings() {
        let listing = check(
            Os::Junos,
            "root@vmx1> file list\n/root/:\n.cshrc@ -> /packages/mnt/os-runtime/root/.cshrc\n.history\nlogs/\n",
            Some("/root/"),
            (None, None),
            &[
                (".cshrc", None, false),
                (".history", None, false),
                ("logs", None, true),
            ],
        );
        assert_eq!(entry_detail(&listing, 0, "listed_name"), Some(".cshrc@"));
        assert_eq!(
            entry_detail(&listing, 0, "link_target"),
            Some("/packages/mnt/os-runtime/root/.cshrc")
        );
        let listing = check(
            Os::Junos,
            "user@router> file list /var/tmp/ detail\n\n/var/tmp/:\ntotal blocks: 48\n\
             drwxrwxrwt  2 root  wheel        512 Jan 15 10:21 gres-tp/\n\
             -rw-r--r--  1 root  wheel  410836480 Mar  3  2021 junos-install.tgz\n\
             total files: 2\n\n{master:0}\n",
            Some("/var/tmp/"),
            (None, None),
            &[
                ("gres-tp", Some(512), true),
                ("junos-install.tgz", Some(410_836_480), false),
            ],
        );
        assert_eq!(entry_detail(&listing, 1, "owner"), Some("root"));
        assert_eq!(
            listing.details.get("total_files").and_then(Detail::as_text),
            Some("2")
        );
    }

    #[test]
    fn junos_multi_routing_engine_sections_tag_entries() {
        let listing = check(
            Os::Junos,
            "re0:\n--------------------------------------------------------------------------\n\
             /var/tmp/:\njunos-a.tgz\n\nre1:\n--------------------------------------------------------------------------\n\
             /var/tmp/:\njunos-b.tgz\n",
            Some("/var/tmp/"),
            (None, None),
            &[("junos-a.tgz", None, false), ("junos-b.tgz", None, false)],
        );
        assert_eq!(entry_detail(&listing, 0, "section"), Some("re0"));
        assert_eq!(entry_detail(&listing, 1, "section"), Some("re1"));
    }

    #[test]
    fn device_refusals_are_device_errors() {
        for (os, input) in [
            (
                Os::Ios,
                "%Error opening flash:/nothere (No such file or directory)\n",
            ),
            (
                Os::Junos,
                "root@vmx1> file list x\n/root/x: No such file or directory\n",
            ),
            (Os::Vrp, "Error: File can't be found in the directory.\n"),
        ] {
            assert!(
                matches!(parse_dir(os, input), Err(ParseError::DeviceError { .. })),
                "{input}"
            );
        }
    }

    #[test]
    fn unrelated_output_is_refused() {
        assert!(matches!(
            parse_dir(Os::Ios, "Cisco IOS Software, C2960 Software\n"),
            Err(ParseError::UnrecognisedOutput { .. })
        ));
        assert!(parse_dir(Os::Ios, "").is_err());
    }

    /// Every corpus output of this parser area, cut short and garbled, must
    /// never panic any of the three parsers.
    #[test]
    fn truncated_and_garbled_corpus_outputs_never_panic() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let folders = [
            "ntc/cisco_ios/dir",
            "ntc/cisco_nxos/dir",
            "ntc/cisco_xr/dir",
            "ntc/huawei_vrp/dir",
            "genie/ios/Dir",
            "genie/ios/cat6k/Dir",
            "genie/ios/cat7k/c7600/Dir",
            "genie/iosxe/Dir",
            "genie/iosxr/Dir",
            "genie/nxos/Dir",
            "genie/junos/FileList",
            "ntc/cisco_ios/show_file_systems",
            "ntc/cisco_ios/show_inventory",
        ];
        let mut inputs = 0;
        for folder in folders {
            let Ok(read) = std::fs::read_dir(root.join(folder)) else {
                continue;
            };
            for path in read.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.extension().is_none_or(|ext| ext != "raw") {
                    continue;
                }
                let raw = std::fs::read_to_string(&path).unwrap_or_default();
                for variant in variants(&raw) {
                    inputs += 1;
                    for os in [Os::Ios, Os::Iosxr, Os::Nxos, Os::Vrp, Os::Junos] {
                        let _ = parse_dir(os, &variant);
                    }
                    let _ = crate::file_systems::parse_show_file_systems(&variant);
                    let _ = crate::inventory::parse_show_inventory(&variant);
                }
            }
        }
        assert!(inputs > 100, "only {inputs} inputs tried");
    }

    proptest::proptest! {
        /// Random text built from listing fragments never panics a parser.
        #[test]
        fn random_listing_like_text_never_panics(
            lines in proptest::collection::vec(
                "(Directory of |[ 0-9]{0,8}|[-drwxl.]{0,11}|[0-9,]{0,12}|<no date>|<DIR>|Mar [0-9]{1,2} [0-9]{4} [0-9:]{0,8} [+-]0[0-9]:00|bytes total \\(|KB free\\)|Usage for |bytes used|NAME: \"|, DESCR: |PID: |\\* |-> |/|:|\"){0,12}",
                0..12,
            )
        ) {
            let text = lines.join("\n");
            for os in [Os::Ios, Os::Iosxr, Os::Nxos, Os::Vrp, Os::Junos] {
                let _ = parse_dir(os, &text);
            }
            let _ = crate::file_systems::parse_show_file_systems(&text);
            let _ = crate::inventory::parse_show_inventory(&text);
        }
    }

    /// Prefixes cut at every char boundary step, lines dropped, digits and
    /// separators swapped, quotes removed.
    fn variants(raw: &str) -> Vec<String> {
        let mut out = Vec::new();
        let boundaries: Vec<usize> = raw.char_indices().map(|(i, _)| i).collect();
        let step = (boundaries.len() / 40).max(1);
        for &cut in boundaries.iter().step_by(step) {
            out.push(raw[..cut].to_string());
        }
        let lines: Vec<&str> = raw.lines().collect();
        for skip in 0..lines.len() {
            let kept: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            out.push(kept.join("\n"));
        }
        out.push(raw.replace(|c: char| c.is_ascii_digit(), ","));
        out.push(raw.replace(' ', ""));
        out.push(raw.replace('"', ""));
        out.push(raw.replace(':', "\n"));
        out.push(raw.replace(['(', ')'], ""));
        out.push(raw.replace(|c: char| c.is_ascii_digit(), "9999999999999999999999"));
        out
    }
}
