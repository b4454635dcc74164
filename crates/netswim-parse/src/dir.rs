//! `dir` listings of every OS (IOS, IOS-XE, IOS-XR, NX-OS, VRP) and Junos `file list`.
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

/// Every date layout the listings print, most specific first (the regex
/// engine prefers the earlier alternative).
const DATE: &str = r"(?:<no\s+date>|(?:[A-Z][a-z]{2}\s+)?[A-Z][a-z]{2}\s+\d{1,2}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:\s+[+-]\d{1,2}:?\d{2})?|(?:[A-Z][a-z]{2}\s+)?[A-Z][a-z]{2}\s+\d{1,2}\s+\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\s+\d{4}|\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?|[A-Z][a-z]{2}\s+\d{1,2}\s+(?:\d{4}|\d{1,2}:\d{2}))";

/// IOS, IOS-XE, classic IOS-XR and VRP: `index permissions size date name`.
/// Permissions hold no digit so a size is never taken for part of them.
static INDEXED_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?P<index>\d+)\s+(?P<perm>[^\s\d](?:[^\d]*?[^\s\d])?)\s+(?P<size>\d[\d,]*|-)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .unwrap_or_else(|_| never_matches())
});

/// IOS-XR (Linux based) and Junos detail: `[inode] perms[.] links [owner group] size date name`.
static LS_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?:(?P<index>\d+)\s+)?(?P<perm>[-dlcbpsD][-rwxsStTl]{{9}})(?P<mark>[.+@]?)\s+(?P<links>\d+)\s+(?:(?P<owner>[^\s\d]\S*)\s+(?P<group>\S+)\s+)?(?P<size>\d[\d,]*)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .unwrap_or_else(|_| never_matches())
});

/// NX-OS: `size date name`.
static SIZE_DATE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*(?P<size>\d[\d,]*)\s+(?P<date>{DATE})\s+(?P<name>\S.*?)\s*$"
    ))
    .unwrap_or_else(|_| never_matches())
});

static DIRECTORY_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Directory\s+of\s+(?P<dir>\S.*?)\s*:?\s*$").unwrap_or_else(|_| never_matches())
});

/// `7835619328 bytes total (6612774912 bytes free)`, `1,927,396 KB total (1,143,780 KB free)`.
static TOTAL_FREE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?P<total>\d[\d,]*)\s*(?P<total_unit>[kmg]?bytes|[kmg]?b|[kmg])?\s+total\s*\(\s*(?P<free>\d[\d,]*)\s*(?P<free_unit>[kmg]?bytes|[kmg]?b|[kmg])?\s+free\s*\)")
        .unwrap_or_else(|_| never_matches())
});

/// NX-OS footer: `Usage for bootflash://sup-local`.
static USAGE_FOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*Usage\s+for\s+(?P<fs>\S+)").unwrap_or_else(|_| never_matches())
});

/// NX-OS footer lines: `108449792 bytes used`.
static USAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?P<value>\d[\d,]*)\s+(?P<unit>[kmg]?bytes)\s+(?P<what>used|free|total)\s*$",
    )
    .unwrap_or_else(|_| never_matches())
});

/// Device messages that mean the listing could not be made.
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(^\s*%\s*error|^\s*error\s*:|no such file or directory|can't be found|cannot be found|not found|invalid path|no such device)")
        .unwrap_or_else(|_| never_matches())
});

/// Junos block header: `/var/tmp/:`.
static JUNOS_HEADER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?P<dir>\S.*?):$").unwrap_or_else(|_| never_matches()));

/// A CLI prompt echoed with the command (`root@vmx1> file list`).
static PROMPT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\{[^}]*\}\s*$|[\w.-]+@[\w.-]+[>#%]\s*)").unwrap_or_else(|_| never_matches())
});

/// Junos detail totals: `total blocks: 48`, `total files: 3`.
static JUNOS_TOTAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*total\s+(?P<what>blocks|files)\s*:\s*(?P<value>\d+)\s*$")
        .unwrap_or_else(|_| never_matches())
});

/// A pattern that matches nothing, for the (impossible) case a literal pattern fails to compile.
fn never_matches() -> Regex {
    Regex::new(r"[^\s\S]").unwrap_or_else(|_| never_matches())
}

/// Parses `dir` output of a device running `os` (Junos: `file list`).
pub fn parse_dir(os: Os, output: &str) -> Result<DirListing, ParseError> {
    if os == Os::Junos {
        return parse_junos_file_list(output);
    }
    let mut listing = Listing::default();
    for line in output.lines() {
        if let Some(caps) = DIRECTORY_HEADER.captures(line) {
            listing.open_block(text_of(&caps, "dir"));
        } else if let Some(caps) = TOTAL_FREE.captures(line) {
            listing.current().set_total_free(&caps);
        } else if let Some(caps) = USAGE_FOR.captures(line) {
            listing.current().usage_for = Some(text_of(&caps, "fs"));
        } else if let Some(caps) = USAGE_LINE.captures(line) {
            listing.current().set_usage(&caps);
        } else if let Some(entry) = entry_from_line(line) {
            listing.current().entries.push(entry);
        } else if ERROR_LINE.is_match(line) {
            listing.messages.push(line.trim().to_string());
        }
    }
    listing.finish("dir")
}

/// Parses Junos `file list [detail]` output.
fn parse_junos_file_list(output: &str) -> Result<DirListing, ParseError> {
    let mut listing = Listing::default();
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || PROMPT.is_match(trimmed) {
            continue;
        }
        if ERROR_LINE.is_match(trimmed) {
            listing.messages.push(trimmed.to_string());
        } else if let Some(caps) = JUNOS_TOTAL.captures(trimmed) {
            let key = format!("total_{}", text_of(&caps, "what"));
            listing
                .current()
                .details
                .insert(key, text_of(&caps, "value").into());
        } else if let Some(entry) = entry_from_line(trimmed) {
            listing.current().entries.push(entry);
        } else if let Some(caps) = JUNOS_HEADER.captures(trimmed) {
            listing.open_block(text_of(&caps, "dir"));
        } else {
            listing.current().entries.push(bare_entry(trimmed));
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
    if let Some(caps) = LS_LINE.captures(line) {
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
    if let Some(caps) = INDEXED_LINE.captures(line) {
        return Some(entry_from_columns(&caps));
    }
    if let Some(caps) = SIZE_DATE_LINE.captures(line) {
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
            .is_some_and(|p| p.starts_with('d') || p.eq_ignore_ascii_case("<DIR>"));
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
