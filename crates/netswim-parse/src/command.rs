//! Commands netswim parses, recognised from what an engineer types,
//! abbreviations included (`sh ver`, `sh sw det`, `disp startup`).

use std::fmt;

use crate::ParseError;

/// A recognised command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    ShowVersion,
    DisplayVersion,
    /// `dir [path]`.
    Dir {
        path: Option<String>,
    },
    /// Junos `file list [path]`.
    FileList {
        path: Option<String>,
    },
    ShowBoot,
    ShowBootvar,
    ShowBootSystem,
    ShowSwitch {
        detail: bool,
    },
    ShowFileSystems,
    ShowInventory,
    /// `show install summary|active|state|all status` (IOS-XE, IOS-XR, NX-OS).
    ShowInstall {
        what: String,
    },
    /// IOS-XR `show install request`: the install operation in progress.
    ShowInstallRequest,
    /// IOS-XR `show install log [N]`: an install operation's outcome.
    ShowInstallLog {
        id: Option<String>,
    },
    DisplayStartup,
    DisplayPatchInformation,
    ShowApImage,
    ShowApBundle,
    ShowIssuDetail,
    ShowIssuStateDetail,
    ShowFtpServer,
}

/// Canonical spellings, as token lists. `*` takes one optional argument.
/// Builds the command from its optional argument.
type Build = fn(Option<String>) -> Command;

const TABLE: &[(&str, Build)] = &[
    ("show version", |_| Command::ShowVersion),
    ("display version", |_| Command::DisplayVersion),
    ("dir *", |path| Command::Dir { path }),
    ("file list *", |path| Command::FileList { path }),
    ("show boot", |_| Command::ShowBoot),
    ("show bootvar", |_| Command::ShowBootvar),
    ("show boot system", |_| Command::ShowBootSystem),
    ("show switch", |_| Command::ShowSwitch { detail: false }),
    ("show switch detail", |_| Command::ShowSwitch {
        detail: true,
    }),
    ("show file systems", |_| Command::ShowFileSystems),
    ("show inventory", |_| Command::ShowInventory),
    ("show install summary", |_| Command::ShowInstall {
        what: "summary".into(),
    }),
    ("show install active", |_| Command::ShowInstall {
        what: "active".into(),
    }),
    ("show install active summary", |_| Command::ShowInstall {
        what: "active summary".into(),
    }),
    ("show install committed summary", |_| Command::ShowInstall {
        what: "committed summary".into(),
    }),
    ("show install inactive summary", |_| Command::ShowInstall {
        what: "inactive summary".into(),
    }),
    ("show install state", |_| Command::ShowInstall {
        what: "state".into(),
    }),
    ("show install all status", |_| Command::ShowInstall {
        what: "all status".into(),
    }),
    ("show install request", |_| Command::ShowInstallRequest),
    ("show install log *", |id| Command::ShowInstallLog { id }),
    ("display startup", |_| Command::DisplayStartup),
    ("display patch-information", |_| {
        Command::DisplayPatchInformation
    }),
    ("show ap image all", |_| Command::ShowApImage),
    ("show ap image", |_| Command::ShowApImage),
    ("show ap bundle all", |_| Command::ShowApBundle),
    ("show issu detail", |_| Command::ShowIssuDetail),
    ("show issu state detail", |_| Command::ShowIssuStateDetail),
    ("show ftp-server", |_| Command::ShowFtpServer),
];

impl Command {
    /// Recognises `input`; every word may be abbreviated to any unambiguous prefix.
    pub fn parse(input: &str) -> Result<Command, ParseError> {
        let words: Vec<&str> = input.split_whitespace().collect();
        let lowered: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
        // Every matching spelling, scored by how many words were typed in full:
        // `sh boot` is `show boot`, not `show bootvar`.
        let mut candidates = Vec::new();
        for (spelling, build) in TABLE {
            let pattern: Vec<&str> = spelling.split(' ').collect();
            if let Some((full_words, argument)) = match_words(&pattern, &lowered, &words) {
                candidates.push((full_words, spelling, build(argument)));
            }
        }
        let best = candidates
            .iter()
            .map(|(full_words, _, _)| *full_words)
            .max();
        let mut found: Vec<_> = candidates
            .into_iter()
            .filter(|(full_words, _, _)| Some(*full_words) == best)
            .map(|(_, spelling, command)| (spelling, command))
            .collect();
        match found.len() {
            1 => Ok(found.remove(0).1),
            0 => Err(ParseError::UnknownCommand {
                command: input.trim().to_string(),
                known: TABLE
                    .iter()
                    .map(|(spelling, _)| spelling.trim_end_matches(" *"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
            _ => Err(ParseError::AmbiguousCommand {
                command: input.trim().to_string(),
                candidates: found
                    .iter()
                    .map(|(spelling, _)| spelling.trim_end_matches(" *"))
                    .collect::<Vec<_>>()
                    .join(" or "),
            }),
        }
    }
}

/// Matches typed words against a pattern; returns how many words were
/// spelled out in full, and the optional argument.
fn match_words(
    pattern: &[&str],
    lowered: &[String],
    original: &[&str],
) -> Option<(usize, Option<String>)> {
    let takes_argument = pattern.last() == Some(&"*");
    let fixed = match pattern.split_last() {
        Some((_, fixed)) if takes_argument => fixed,
        _ => pattern,
    };
    if lowered.len() < fixed.len() || lowered.len() > fixed.len() + usize::from(takes_argument) {
        return None;
    }
    let mut full_words = 0;
    for (word, canonical) in lowered.iter().zip(fixed) {
        if !canonical.starts_with(word.as_str()) {
            return None;
        }
        full_words += usize::from(word == canonical);
    }
    let argument = original.get(fixed.len()).map(|arg| (*arg).to_string());
    Some((full_words, argument))
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::ShowVersion => f.write_str("show version"),
            Command::DisplayVersion => f.write_str("display version"),
            Command::Dir { path: None } => f.write_str("dir"),
            Command::Dir { path: Some(path) } => write!(f, "dir {path}"),
            Command::FileList { path: None } => f.write_str("file list"),
            Command::FileList { path: Some(path) } => write!(f, "file list {path}"),
            Command::ShowBoot => f.write_str("show boot"),
            Command::ShowBootvar => f.write_str("show bootvar"),
            Command::ShowBootSystem => f.write_str("show boot system"),
            Command::ShowSwitch { detail: false } => f.write_str("show switch"),
            Command::ShowSwitch { detail: true } => f.write_str("show switch detail"),
            Command::ShowFileSystems => f.write_str("show file systems"),
            Command::ShowInventory => f.write_str("show inventory"),
            Command::ShowInstall { what } => write!(f, "show install {what}"),
            Command::DisplayStartup => f.write_str("display startup"),
            Command::DisplayPatchInformation => f.write_str("display patch-information"),
            Command::ShowApImage => f.write_str("show ap image all"),
            Command::ShowApBundle => f.write_str("show ap bundle all"),
            Command::ShowIssuDetail => f.write_str("show issu detail"),
            Command::ShowIssuStateDetail => f.write_str("show issu state detail"),
            Command::ShowFtpServer => f.write_str("show ftp-server"),
            Command::ShowInstallRequest => f.write_str("show install request"),
            Command::ShowInstallLog { id: None } => f.write_str("show install log"),
            Command::ShowInstallLog { id: Some(id) } => write!(f, "show install log {id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Command) {
        assert_eq!(Command::parse(input).unwrap(), expected, "{input}");
    }

    #[test]
    fn abbreviations_resolve_to_the_unique_command() {
        check("sh ver", Command::ShowVersion);
        check("show version", Command::ShowVersion);
        check("sh sw det", Command::ShowSwitch { detail: true });
        check("sh switch", Command::ShowSwitch { detail: false });
        check("disp startup", Command::DisplayStartup);
        check(
            "dir flash1:",
            Command::Dir {
                path: Some("flash1:".into()),
            },
        );
        check("DIR", Command::Dir { path: None });
        check("sh boot", Command::ShowBoot);
        check(
            "sh install summ",
            Command::ShowInstall {
                what: "summary".into(),
            },
        );
        check("show ap bundle all", Command::ShowApBundle);
        check("sh inst req", Command::ShowInstallRequest);
        check(
            "sh install log 7",
            Command::ShowInstallLog {
                id: Some("7".into()),
            },
        );
        check("show install log", Command::ShowInstallLog { id: None });
    }

    #[test]
    fn full_spelling_wins_over_longer_prefixes() {
        // "show boot" is both a full command and a prefix of "show bootvar".
        check("show boot", Command::ShowBoot);
    }

    #[test]
    fn ambiguous_abbreviation_is_refused_with_candidates() {
        check(
            "sh inst act",
            Command::ShowInstall {
                what: "active".into(),
            },
        );
        let err = Command::parse("sh b").unwrap_err();
        assert!(err.to_string().contains("show boot"), "{err}");
    }

    #[test]
    fn unknown_command_lists_known_ones() {
        let err = Command::parse("show running-config").unwrap_err();
        assert!(err.to_string().contains("show version"));
    }
}
