//! Juniper JUNOSe `show issu detail`, `show ftp-server` and `show version`.
//!
//! Both outputs are read by their keywords (`ISSU state:`, `criteria met:`,
//! `-> Criteria:`, `Impact:`, `FTP Server state:`, `attempts:` ...) rather
//! than by line positions, so the same code reads the normal multi-line
//! output and a copy whose line breaks were collapsed into single spaces.
//! An echoed prompt (`host1#show issu detail`) before the first keyword is
//! ignored.
//!
//! Wrapped text: JUNOSe cuts long `Criteria:` / `Impact:` / `Remedy:` lines
//! at a fixed terminal width ([`WRAP_WIDTH`] columns), even mid-word
//! (`... file transfer is in pr` / `ogress`). A continuation line is joined
//! to its field with a space, except when the previous line reached the wrap
//! width and the cut split a word. A cut splits a word when the end of the
//! previous line or the start of the next one cannot be a word edge: a
//! vowel-less fragment (`pr`), a one- or two-letter piece that is not a
//! common short word (`in`, `is`, `or` ...), an end that is a word onset
//! (`upgr|ade`), or a start with two consonants no word starts with
//! (`ng`, `ck`). Without a dictionary a cut between two plausible pieces
//! (`remai|ning`) keeps a space. In collapsed output the line breaks became
//! spaces; a space found exactly at the wrap width of a field (and every
//! width further) is treated as such a break.

use std::sync::LazyLock;

use netswim_domain::facts::{
    Detail, FtpServerFacts, FtpServerStatistics, IssuCriterion, IssuDetail, IssuSubCriterion,
    StackMemberVersion, VersionFacts,
};
use regex::Regex;

use crate::ParseError;
use crate::text::parse_uptime;
use crate::xr_version::compile;

/// The column at which JUNOSe wraps long lines.
pub const WRAP_WIDTH: usize = 60;

/// Short words a wrap may end or start with without splitting a word.
const SHORT_WORDS: [&str; 30] = [
    "a", "i", "an", "as", "at", "be", "by", "do", "go", "he", "if", "in", "is", "it", "me", "my",
    "no", "of", "on", "or", "so", "to", "up", "us", "we", "id", "ok", "ip", "cli", "ha",
];

/// Keywords that start a field of `show issu detail`, in the order they may appear.
const ISSU_KEYWORDS: [&str; 11] = [
    "ISSU state:",
    "ISSU description:",
    "criteria met:",
    "running release:",
    "armed release:",
    "# ISSU Criteria",
    "-> Criteria:",
    "Impact:",
    "Remedy:",
    "Reporting slot:",
    "--",
];

static FTP_STATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?i)FTP Server state:\s*(\w+)(?:\s*,\s*(\d+)\s+open connections?)?")
});
static ATTEMPTS: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)attempts:\s*(\d+)"));
static FAILED_HOSTS: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)failed hosts:\s*(\d+)"));
static FAILED_USERS: LazyLock<Regex> = LazyLock::new(|| compile(r"(?i)failed users:\s*(\d+)"));
/// `<n> <summary> <Yes|No|Conditional>`: one criterion of the summary table.
static CRITERION: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(\d+)\s+(.+?)\s+(Yes|No|Conditional)$"));
/// A criterion start inside collapsed text: a number after a verdict, a
/// dashed rule or a reporting slot.
static COLLAPSED_CRITERION: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"(?:\b(?:Yes|No|Conditional)|-{3,}|Reporting slot:\s*\S+)\s+(\d+\s+\S)")
});

/// `<slot> <state> <type> <admin> <spare> <release> <uptime>` rows of the slot table.
static SLOT_ROW: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$"));

/// Parses `show version` output: the banner line naming the chassis
/// (`Juniper Edge Routing Switch ERX-1440`), `System Release: <file>.rel`,
/// `Version: <v> [BuildId <n>]`, `System running for: <uptime>` and the
/// per-slot table, whose rows become `stack` entries.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if line.starts_with("Juniper") && facts.model.is_none() && !line.contains("Copyright") {
            facts.model = line
                .split_whitespace()
                .skip(1)
                .find(|word| word.chars().any(|c| c.is_ascii_digit()))
                .map(str::to_string);
            facts.details.insert("chassis".into(), line.into());
        } else if let Some(release) = line.strip_prefix("System Release:") {
            facts.running_image = Some(release.trim().to_string());
        } else if let Some(version) = line.strip_prefix("Version:") {
            let version = version.trim();
            facts.version = version.split_whitespace().next().map(str::to_string);
            if let Some(build) = version
                .split_once("BuildId")
                .and_then(|(_, rest)| rest.split(']').next())
            {
                facts.details.insert("build_id".into(), build.trim().into());
            }
        } else if let Some(uptime) = line.strip_prefix("System running for:") {
            facts.uptime_seconds = parse_uptime(uptime);
            facts.details.insert("uptime".into(), uptime.trim().into());
        } else if let Some(caps) = SLOT_ROW.captures(line) {
            let text = |i: usize| caps.get(i).map_or("", |m| m.as_str()).to_string();
            let mut details = std::collections::BTreeMap::new();
            details.insert("state".to_string(), Detail::from(text(2)));
            details.insert("admin".to_string(), Detail::from(text(4)));
            details.insert("spare".to_string(), Detail::from(text(5)));
            details.insert("uptime".to_string(), Detail::from(text(7)));
            facts.stack.push(StackMemberVersion {
                member: text(1).parse().unwrap_or_default(),
                model: Some(text(3)),
                version: None,
                image: Some(text(6)),
                details,
            });
        }
    }
    if facts.version.is_none() && facts.running_image.is_none() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no 'System Release:' nor 'Version:' line (hint: is this a JUNOSe device?)"
                .into(),
        });
    }
    Ok(facts)
}

/// Parses `show ftp-server` output.
pub fn parse_show_ftp_server(output: &str) -> Result<FtpServerFacts, ParseError> {
    let Some(state) = FTP_STATE.captures(output) else {
        return Err(ParseError::UnrecognisedOutput {
            command: "show ftp-server".into(),
            reason: "no 'FTP Server state:' line (hint: is this a JUNOSe device?)".into(),
        });
    };
    let mut facts = FtpServerFacts {
        state: state.get(1).map(|m| m.as_str().to_ascii_lowercase()),
        open_connections: state.get(2).and_then(|m| m.as_str().parse().ok()),
        ..FtpServerFacts::default()
    };
    let lower = output.to_ascii_lowercase();
    let server_at = lower.find("since server was last started");
    let reload_at = lower.find("since last system reload");
    let section = |start: Option<usize>, other: Option<usize>| -> Option<&str> {
        let start = start?;
        let end = other.filter(|o| *o > start).unwrap_or(output.len());
        output.get(start..end)
    };
    facts.since_server_start = section(server_at, reload_at).and_then(statistics);
    facts.since_system_reload = section(reload_at, server_at).and_then(statistics);
    Ok(facts)
}

fn statistics(text: &str) -> Option<FtpServerStatistics> {
    let number = |re: &Regex| -> Option<u64> {
        re.captures(text)
            .and_then(|caps| caps.get(1))
            .and_then(|m| m.as_str().parse().ok())
    };
    let attempts = number(&ATTEMPTS);
    let failed_hosts = number(&FAILED_HOSTS);
    let failed_users = number(&FAILED_USERS);
    if attempts.is_none() && failed_hosts.is_none() && failed_users.is_none() {
        return None;
    }
    Some(FtpServerStatistics {
        attempts: attempts.unwrap_or_default(),
        failed_hosts: failed_hosts.unwrap_or_default(),
        failed_users: failed_users.unwrap_or_default(),
    })
}

/// Which field a continuation line belongs to.
#[derive(Clone, Copy, PartialEq)]
enum Field {
    None,
    Description,
    CriteriaMet,
    SubCriteria,
    Impact,
    Remedy,
    Criterion,
}

/// Parses `show issu detail` output.
pub fn parse_show_issu_detail(output: &str) -> Result<IssuDetail, ParseError> {
    let Some(start) = output.find("ISSU state:") else {
        return Err(ParseError::UnrecognisedOutput {
            command: "show issu detail".into(),
            reason: "no 'ISSU state:' line (hint: is this a JUNOSe device?)".into(),
        });
    };
    let body = output.get(start..).unwrap_or_default();
    let non_empty_lines = body.lines().filter(|l| !l.trim().is_empty()).count();
    let collapsed = non_empty_lines <= 2;
    let lines: Vec<String> = if collapsed {
        split_collapsed(body)
    } else {
        body.lines().map(|l| l.trim_end().to_string()).collect()
    };

    let mut facts = IssuDetail::default();
    let mut field = Field::None;
    let mut previous_width = 0usize;
    let mut sub_met_pending = false;
    for raw_line in &lines {
        let line = raw_line.trim();
        if line.is_empty() {
            field = Field::None;
            continue;
        }
        let width = raw_line.chars().count();
        let full_width_cut = previous_width >= WRAP_WIDTH;
        previous_width = width;
        if let Some(value) = line.strip_prefix("ISSU state:") {
            facts.state = Some(value.trim().to_string());
            field = Field::None;
        } else if let Some(value) = line.strip_prefix("ISSU description:") {
            facts.description = Some(value.trim().to_string());
            field = Field::Description;
        } else if let Some(value) = line.strip_prefix("criteria met:") {
            set_criteria_met(&mut facts, value.trim());
            field = Field::CriteriaMet;
        } else if let Some(value) = line.strip_prefix("running release:") {
            facts.running_release = Some(value.trim().to_string());
            field = Field::None;
        } else if let Some(value) = line.strip_prefix("armed release:") {
            facts.armed_release = Some(value.trim().to_string());
            field = Field::None;
        } else if line.starts_with('#') || line.starts_with("--") {
            field = Field::None;
        } else if let Some(rest) = line.strip_prefix("->") {
            let text = rest.trim().strip_prefix("Criteria:").unwrap_or(rest).trim();
            let mut sub = IssuSubCriterion::default();
            sub_met_pending = !take_verdict(text, &mut sub.criteria, &mut sub.met);
            if let Some(criterion) = facts.criteria.last_mut() {
                criterion.sub_criteria.push(sub);
                field = Field::SubCriteria;
            } else {
                field = Field::None;
            }
        } else if let Some(value) = line.strip_prefix("Impact:") {
            if let Some(sub) = last_sub(&mut facts) {
                sub.impact = Some(value.trim().to_string());
                field = Field::Impact;
            }
        } else if let Some(value) = line.strip_prefix("Remedy:") {
            if let Some(sub) = last_sub(&mut facts) {
                sub.remedy = Some(value.trim().to_string());
                field = Field::Remedy;
            }
        } else if let Some(value) = line.strip_prefix("Reporting slot:") {
            if let Some(sub) = last_sub(&mut facts) {
                sub.reporting_slot = Some(value.trim().to_string());
            }
            field = Field::None;
        } else if let Some(caps) = CRITERION.captures(line) {
            facts.criteria.push(IssuCriterion {
                number: caps
                    .get(1)
                    .and_then(|m| m.as_str().parse().ok())
                    .unwrap_or_default(),
                summary: caps.get(2).map_or("", |m| m.as_str()).to_string(),
                met: caps.get(3).map_or("", |m| m.as_str()).to_string(),
                sub_criteria: Vec::new(),
            });
            field = Field::Criterion;
        } else {
            // A continuation of the field before it.
            let target: Option<&mut String> = match field {
                Field::Description => facts.description.as_mut(),
                Field::CriteriaMet => Some(facts.criteria_met_text.get_or_insert_with(String::new)),
                Field::Impact => last_sub(&mut facts).and_then(|s| s.impact.as_mut()),
                Field::Remedy => last_sub(&mut facts).and_then(|s| s.remedy.as_mut()),
                Field::SubCriteria => last_sub(&mut facts).map(|s| &mut s.criteria),
                Field::Criterion => facts.criteria.last_mut().map(|c| &mut c.summary),
                Field::None => None,
            };
            if let Some(text) = target {
                join_wrapped(text, line, full_width_cut);
                if field == Field::SubCriteria && sub_met_pending {
                    if let Some(sub) = last_sub(&mut facts) {
                        let joined = std::mem::take(&mut sub.criteria);
                        sub_met_pending = !take_verdict(&joined, &mut sub.criteria, &mut sub.met);
                    }
                }
            }
        }
    }
    // Collapsed output kept its wrap points as spaces: restore split words.
    for criterion in facts.criteria.iter_mut().filter(|_| collapsed) {
        for sub in &mut criterion.sub_criteria {
            for text in [&mut sub.impact, &mut sub.remedy].into_iter().flatten() {
                *text = unwrap_at_width(text, "Impact: ".len());
            }
        }
    }
    Ok(facts)
}

fn last_sub(facts: &mut IssuDetail) -> Option<&mut IssuSubCriterion> {
    facts
        .criteria
        .last_mut()
        .and_then(|c| c.sub_criteria.last_mut())
}

/// `No, upgrade error(s) found` → `criteria_met` false, text `upgrade error(s) found`.
fn set_criteria_met(facts: &mut IssuDetail, value: &str) {
    let (verdict, rest) = value.split_once(',').unwrap_or((value, ""));
    facts.criteria_met = match verdict.trim().to_ascii_lowercase().as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let rest = rest.trim();
    let text = if facts.criteria_met.is_some() {
        rest
    } else {
        value
    };
    facts.criteria_met_text = (!text.is_empty()).then(|| text.to_string());
}

/// Splits `text Yes` into the text and the verdict; false when no verdict ends it.
fn take_verdict(text: &str, criteria: &mut String, met: &mut String) -> bool {
    if let Some((before, last)) = text.rsplit_once(' ') {
        if matches!(last, "Yes" | "No" | "Conditional") {
            *criteria = before.trim().to_string();
            *met = last.to_string();
            return true;
        }
    }
    *criteria = text.to_string();
    false
}

/// Appends a wrapped continuation to `text` (see the module comment).
fn join_wrapped(text: &mut String, next: &str, full_width_cut: bool) {
    if full_width_cut && splits_a_word(text, next) {
        text.push_str(next);
    } else {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(next);
    }
}

/// Two-consonant starts English words have (`tr`ansfer, `sl`ot, `pr`ogress).
const WORD_ONSETS: [&str; 37] = [
    "bl", "br", "ch", "cl", "cr", "dr", "dw", "fl", "fr", "gl", "gn", "gr", "kl", "kn", "ph", "pl",
    "pr", "ps", "sc", "sh", "sk", "sl", "sm", "sn", "sp", "st", "sw", "th", "tr", "tw", "wh", "wr",
    "sq", "scr", "str", "spr", "spl",
];

fn is_vowel(c: char) -> bool {
    "aeiouy".contains(c)
}

/// Whether a cut between `before` and `after` fell inside a word.
fn splits_a_word(before: &str, after: &str) -> bool {
    let tail: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_ascii_lowercase();
    let head: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect::<String>()
        .to_ascii_lowercase();
    if tail.is_empty() || head.is_empty() {
        return false;
    }
    let short_non_word = |piece: &str| piece.len() <= 2 && !SHORT_WORDS.contains(&piece);
    let tail_chars: Vec<char> = tail.chars().collect();
    // Words do not end in an onset like `pr` or `gl` (`upgr|ade`), nor in `q`, `j`, `v`.
    let ends_like_an_onset = match tail_chars.as_slice() {
        [.., a, b] => !is_vowel(*a) && matches!(b, 'r' | 'l') && "bcdfgkpt".contains(*a),
        _ => false,
    };
    let tail_is_fragment = !tail.chars().any(is_vowel)
        || short_non_word(&tail)
        || ends_like_an_onset
        || tail.ends_with(['q', 'j', 'v']);
    let head_chars: Vec<char> = head.chars().collect();
    // Two leading consonants that start no English word (`ng`, `ck`, `ll`).
    let starts_mid_word = match head_chars.as_slice() {
        [a, b, ..] if !is_vowel(*a) && !is_vowel(*b) => {
            let pair: String = [*a, *b].iter().collect();
            !WORD_ONSETS.contains(&pair.as_str())
        }
        _ => false,
    };
    let head_is_fragment = !head.chars().any(is_vowel) || short_non_word(&head) || starts_mid_word;
    tail_is_fragment || head_is_fragment
}

/// In collapsed output a field's wrapped line breaks became spaces at the
/// wrap width; restores the words those breaks split. `label_width` is the
/// width of the field label the value followed on its first line.
fn unwrap_at_width(text: &str, label_width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut line_start = 0usize;
    let mut first_line_width = WRAP_WIDTH.saturating_sub(label_width);
    let mut index = 0usize;
    while index < chars.len() {
        let Some(c) = chars.get(index).copied() else {
            break;
        };
        let at_break = index == line_start + first_line_width && c == ' ';
        if at_break {
            let before: String = chars
                .get(line_start..index)
                .unwrap_or_default()
                .iter()
                .collect();
            let after: String = chars.get(index + 1..).unwrap_or_default().iter().collect();
            if !splits_a_word(&before, &after) {
                out.push(' ');
            }
            line_start = index + 1;
            first_line_width = WRAP_WIDTH;
        } else {
            out.push(c);
        }
        index += 1;
    }
    out
}

/// Restores line breaks in collapsed `show issu detail` output: a break
/// before every keyword and before every criterion number.
fn split_collapsed(body: &str) -> Vec<String> {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cuts: Vec<usize> = Vec::new();
    for keyword in ISSU_KEYWORDS {
        let mut from = 0;
        while let Some(found) = flat.get(from..).and_then(|rest| rest.find(keyword)) {
            let at = from + found;
            // `--` only starts the dashed rule, not a word like `ftp-server`.
            let starts_field = at == 0 || flat.get(at - 1..at) == Some(" ");
            if starts_field && !(keyword == "--" && cuts.iter().any(|c| at < c + 3 && at >= *c)) {
                cuts.push(at);
            }
            from = at + keyword.len().max(1);
        }
    }
    for caps in COLLAPSED_CRITERION.captures_iter(&flat) {
        if let Some(number) = caps.get(1) {
            cuts.push(number.start());
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    // The dashed rule is one field: drop cuts inside it.
    let mut lines = Vec::new();
    let mut previous = 0;
    for cut in cuts {
        if cut <= previous && previous != 0 {
            continue;
        }
        if let Some(piece) = flat.get(previous..cut) {
            if !piece.trim().is_empty() {
                lines.push(piece.trim().to_string());
            }
        }
        previous = cut;
    }
    if let Some(piece) = flat.get(previous..) {
        if !piece.trim().is_empty() {
            lines.push(piece.trim().to_string());
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const FTP: &str = "host1#show ftp-server
FTP Server state: enabled, 1 open connections
Statistics since server was last started:
attempts: 3
failed hosts: 0
failed users: 0
Statistics since last system reload:
attempts: 5
failed hosts: 1
failed users: 2
";

    const ISSU: &str = "host1#show issu detail
ISSU state: idle
ISSU description: ISSU is currently idle
criteria met: No, upgrade error(s) found
running release: dtnguyen.rel
armed release: dtnguyen.rel
# ISSU Criteria Summary Met
-- ------------------------------------------------------------ -----------
1 In-Service Software Upgrade ready? Yes
2 High-Availability ready? No
3 Line modules ready? Conditional
4 Configuration conversion support ready? Yes
5 CLI sessions ready? Yes
6 Routing applications ready? No
-> Criteria: FTP file transfer is in progress No
Impact: ISSU cannot be performed when file transfer is in pr
ogress
Remedy: Abort transfer with \"ftp-server flush\" or wait until
transfer is done
Reporting slot: 7
7 Protocol timers ready? Yes
";

    #[test]
    fn ftp_server_state_and_statistics() {
        let facts = parse_show_ftp_server(FTP).unwrap();
        assert_eq!(facts.state.as_deref(), Some("enabled"));
        assert_eq!(facts.open_connections, Some(1));
        assert_eq!(
            facts.since_server_start,
            Some(FtpServerStatistics {
                attempts: 3,
                failed_hosts: 0,
                failed_users: 0
            })
        );
        assert_eq!(
            facts.since_system_reload,
            Some(FtpServerStatistics {
                attempts: 5,
                failed_hosts: 1,
                failed_users: 2
            })
        );
    }

    #[test]
    fn ftp_server_collapsed_onto_one_line() {
        let collapsed = FTP.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(
            parse_show_ftp_server(&collapsed).unwrap(),
            parse_show_ftp_server(FTP).unwrap()
        );
        let disabled = parse_show_ftp_server("FTP Server state: disabled\n").unwrap();
        assert_eq!(disabled.state.as_deref(), Some("disabled"));
        assert_eq!(disabled.open_connections, None);
    }

    fn check_issu(facts: &IssuDetail) {
        assert_eq!(facts.state.as_deref(), Some("idle"));
        assert_eq!(facts.description.as_deref(), Some("ISSU is currently idle"));
        assert_eq!(facts.criteria_met, Some(false));
        assert_eq!(
            facts.criteria_met_text.as_deref(),
            Some("upgrade error(s) found")
        );
        assert_eq!(facts.running_release.as_deref(), Some("dtnguyen.rel"));
        assert_eq!(facts.armed_release.as_deref(), Some("dtnguyen.rel"));
        let summary: Vec<(u32, &str, &str)> = facts
            .criteria
            .iter()
            .map(|c| (c.number, c.summary.as_str(), c.met.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, "In-Service Software Upgrade ready?", "Yes"),
                (2, "High-Availability ready?", "No"),
                (3, "Line modules ready?", "Conditional"),
                (4, "Configuration conversion support ready?", "Yes"),
                (5, "CLI sessions ready?", "Yes"),
                (6, "Routing applications ready?", "No"),
                (7, "Protocol timers ready?", "Yes"),
            ]
        );
        let sub = &facts.criteria[5].sub_criteria;
        assert_eq!(
            sub,
            &vec![IssuSubCriterion {
                criteria: "FTP file transfer is in progress".into(),
                met: "No".into(),
                impact: Some("ISSU cannot be performed when file transfer is in progress".into()),
                remedy: Some(
                    "Abort transfer with \"ftp-server flush\" or wait until transfer is done"
                        .into()
                ),
                reporting_slot: Some("7".into()),
            }]
        );
    }

    #[test]
    fn issu_detail_with_wrapped_sub_criteria() {
        check_issu(&parse_show_issu_detail(ISSU).unwrap());
    }

    #[test]
    fn issu_detail_collapsed_onto_one_line() {
        let collapsed = ISSU.split_whitespace().collect::<Vec<_>>().join(" ");
        check_issu(&parse_show_issu_detail(&collapsed).unwrap());
    }

    #[test]
    fn issu_detail_with_column_layout_and_indented_continuations() {
        let out = "ISSU state: initialized
ISSU description: ISSU is initialized and ready
criteria met: Yes
running release: erx_10-3-2.rel
armed release: erx_11-1-0.rel
 #                   ISSU Criteria Summary                          Met
-- ------------------------------------------------------------ -----------
 1 In-Service Software Upgrade ready?                               Yes
 2 Line modules ready?                                              Conditional
   -> Criteria: Line module in slot 3 supports ISSU                 No
      Impact: Line module in slot 3 will be reloaded during the upgr
              ade
      Reporting slot: 3
";
        let facts = parse_show_issu_detail(out).unwrap();
        assert_eq!(facts.state.as_deref(), Some("initialized"));
        assert_eq!(facts.criteria_met, Some(true));
        assert_eq!(facts.criteria_met_text, None);
        assert_eq!(facts.armed_release.as_deref(), Some("erx_11-1-0.rel"));
        assert_eq!(facts.criteria.len(), 2);
        assert_eq!(facts.criteria[1].met, "Conditional");
        let sub = &facts.criteria[1].sub_criteria[0];
        assert_eq!(sub.criteria, "Line module in slot 3 supports ISSU");
        assert_eq!(sub.met, "No");
        assert_eq!(
            sub.impact.as_deref(),
            Some("Line module in slot 3 will be reloaded during the upgrade")
        );
        assert_eq!(sub.reporting_slot.as_deref(), Some("3"));
    }

    #[test]
    fn wrap_rule_splits_only_fragments() {
        assert!(splits_a_word("is in pr", "ogress"));
        assert!(!splits_a_word("or wait until", "transfer is done"));
        assert!(!splits_a_word("it is", "in"));
        assert!(splits_a_word("transf", "er"));
        assert!(splits_a_word("during the upgr", "ade"));
        assert!(!splits_a_word("reloaded during the", "upgrade"));
        assert!(!splits_a_word("Abort", "transfer"));
    }

    #[test]
    fn show_version_release_and_slots() {
        let out = "host1#show version
Juniper Edge Routing Switch ERX-1400
Copyright (c) 1999-2005 Juniper Networks, Inc.  All rights reserved.
System Release: erx_7-1-0.rel
  Version: 7.1.0 [BuildId 3152]  (March 1, 2005  18:39)
System running for: 10 days, 23 hours, 56 minutes, 11 seconds
  (since THU MAR 10 2005 23:44:05 UTC)

slot state    type       admin     spare    running release          slot uptime
---- -------- ---------- --------- -------- ------------------------ ------------
0    running  CT3        enabled   ---      erx_7-1-0.rel            10d23h:54m:30s
6    online   SRP-5G+    enabled   ---      erx_7-1-0.rel            10d23h:56m:11s
";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.model.as_deref(), Some("ERX-1400"));
        assert_eq!(facts.version.as_deref(), Some("7.1.0"));
        assert_eq!(facts.running_image.as_deref(), Some("erx_7-1-0.rel"));
        assert_eq!(
            facts.uptime_seconds,
            Some(10 * 86_400 + 23 * 3_600 + 56 * 60 + 11)
        );
        assert_eq!(facts.stack.len(), 2);
        assert_eq!(facts.stack[1].model.as_deref(), Some("SRP-5G+"));
    }

    #[test]
    fn other_output_is_refused() {
        assert!(parse_show_issu_detail("% Invalid input").is_err());
        assert!(parse_show_ftp_server("nothing").is_err());
    }
}
