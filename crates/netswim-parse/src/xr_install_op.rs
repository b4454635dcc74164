//! IOS-XR (eXR) background install operations: `show install request`
//! (what runs now and how far it is) and `show install log N` (how an
//! operation ended).
//!
//! Grammar, from eXR transcripts: each operation line may start with a
//! `Jun 09 15:49:15 ` (or `2025-11-04 16:27:37 `) stamp and the output with
//! the CLI's `Mon Nov 22 10:00:00.000 UTC` banner; `Install operation N
//! started by USER:` is followed by the command indented; `Packages added:`
//! by one indented package per line; errors are `ERROR! …` / `Error:    …`
//! lines; the end is `Install operation N finished successfully` or
//! `… aborted`. `show install request` says `No install operation in
//! progress`, or `User admin, Op Id 8` and `The install add operation 8 is
//! 40% complete`.

use std::sync::LazyLock;

use netswim_domain::facts::{InstallLog, InstallOutcome, InstallRequest};
use regex::Regex;

use crate::ParseError;
use crate::boot::captures;

/// `Jun 09 15:49:15 ` or `2025-11-04 16:27:37 ` before an operation line.
static LINE_STAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2})\s?")
        .ok()
});
/// The CLI banner `Mon Nov 22 10:00:00.000 UTC`.
static BANNER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\s+\w{3}\s+\d+\s+\d+:\d+:\d+(?:\.\d+)?\s+\w+\s*$")
        .ok()
});
/// `User admin, Op Id 8`.
static USER_OP: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^User\s+(\S+),\s*Op Id\s+(\d+)").ok());
/// `The install add operation 9 is 40% complete`, `The install operation is 30% complete`.
static PROGRESS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^The install\s+(?:\w+\s+)?operation\s+(?:(\d+)\s+)?is\s+(\d+)%\s+complete")
        .ok()
});
/// `Install operation 7 started by admin:` and its ends.
static OPERATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^Install operation\s+(\d+)\s+(started by\s+(\S+?):?$|finished successfully|completed successfully|aborted|failed)")
        .ok()
});

/// One line without its stamp, trailing blanks removed.
fn unstamped(line: &str) -> &str {
    let line = line.trim_end();
    match LINE_STAMP.as_ref().and_then(|regex| regex.find(line)) {
        Some(stamp) => line.get(stamp.end()..).unwrap_or(line),
        None => line,
    }
}

fn is_banner(line: &str) -> bool {
    captures(&BANNER, line.trim()).is_some()
}

/// Parses IOS-XR `show install request`.
pub fn parse_xr_install_request(output: &str) -> Result<InstallRequest, ParseError> {
    let mut request = InstallRequest::default();
    let mut recognised = false;
    for raw in output.lines() {
        if is_banner(raw) {
            continue;
        }
        let line = unstamped(raw).trim();
        if line.contains("No install operation in progress")
            || line.contains("There are no install requests in operation")
        {
            return Ok(InstallRequest::default());
        }
        if let Some(groups) = captures(&USER_OP, line) {
            request.user = groups.get(1).map(|user| user.as_str().to_string());
            request.operation = groups.get(2).and_then(|id| id.as_str().parse().ok());
            recognised = true;
        } else if let Some(groups) = captures(&PROGRESS, line) {
            if let Some(id) = groups.get(1).and_then(|id| id.as_str().parse().ok()) {
                request.operation = Some(id);
            }
            request.percent = groups
                .get(2)
                .and_then(|percent| percent.as_str().parse().ok());
            recognised = true;
        } else if recognised && request.command.is_none() && line.starts_with("install ") {
            request.command = Some(line.to_string());
        }
    }
    if recognised {
        Ok(request)
    } else {
        Err(ParseError::UnrecognisedOutput {
            command: "show install request".into(),
            reason: "neither `No install operation in progress` nor an operation in progress"
                .into(),
        })
    }
}

/// Parses IOS-XR `show install log [N]` (one operation's lines).
pub fn parse_xr_install_log(output: &str) -> Result<InstallLog, ParseError> {
    let mut log = InstallLog::default();
    let mut recognised = false;
    let mut in_added = false;
    for raw in output.lines() {
        if is_banner(raw) {
            continue;
        }
        let full = unstamped(raw);
        let line = full.trim();
        if in_added {
            let indented = full.starts_with(char::is_whitespace) || line.starts_with("Info:");
            let name = line.strip_prefix("Info:").unwrap_or(line).trim();
            if indented && !name.is_empty() && !name.contains(char::is_whitespace) {
                log.packages_added.push(name.to_string());
                continue;
            }
            in_added = false;
        }
        if let Some(groups) = captures(&OPERATION, line) {
            recognised = true;
            if log.operation.is_none() {
                log.operation = groups.get(1).and_then(|id| id.as_str().parse().ok());
            }
            let what = groups.get(2).map(|what| what.as_str()).unwrap_or_default();
            log.outcome = match what {
                "finished successfully" | "completed successfully" => InstallOutcome::Succeeded,
                "aborted" | "failed" => InstallOutcome::Aborted,
                _ => log.outcome,
            };
            continue;
        }
        if line.trim_start_matches("Info:").trim() == "Packages added:" {
            in_added = true;
            continue;
        }
        let error = line
            .strip_prefix("ERROR!!")
            .or_else(|| line.strip_prefix("ERROR!"))
            .or_else(|| line.strip_prefix("Error:"));
        if let Some(error) = error {
            let words: Vec<&str> = error.split_whitespace().collect();
            if !words.is_empty() {
                log.errors.push(words.join(" "));
            }
        }
    }
    if recognised {
        Ok(log)
    } else {
        Err(ParseError::UnrecognisedOutput {
            command: "show install log".into(),
            reason: "no `Install operation N …` line".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // NCS6K eXR, quoted in Cisco Software Manager's install plugin
    // (`watch_operation` docstring).
    #[test]
    fn a_request_in_progress_gives_operation_percent_user_and_command() {
        let output = "Thu Nov 22 10:00:00.000 UTC\nUser admin, Op Id 12\ninstall add source tftp://192.0.2.1/images asr9k-mini-x64-6.5.3.iso\nThe install add operation 12 is 40% complete\n";
        let request = parse_xr_install_request(output).unwrap();
        assert!(request.in_progress());
        assert_eq!(request.operation, Some(12));
        assert_eq!(request.percent, Some(40));
        assert_eq!(request.user.as_deref(), Some("admin"));
        assert_eq!(
            request.command.as_deref(),
            Some("install add source tftp://192.0.2.1/images asr9k-mini-x64-6.5.3.iso")
        );
        let short = parse_xr_install_request("The install operation 17 is 30% complete\n").unwrap();
        assert_eq!((short.operation, short.percent), (Some(17), Some(30)));
    }

    #[test]
    fn no_operation_in_progress_is_an_idle_request() {
        let request = parse_xr_install_request(
            "Mon Nov 22 10:00:00.000 UTC\nNo install operation in progress\n",
        )
        .unwrap();
        assert!(!request.in_progress());
        assert!(parse_xr_install_request("% Invalid input detected at '^' marker.\n").is_err());
    }

    // eXR 6.x `install activate id 25` as quoted by Cisco Software Manager,
    // with `Packages added:` as its `get_pkgs` reads them.
    #[test]
    fn a_successful_log_lists_the_packages_added() {
        let output = "Jun 09 15:49:15 Install operation 24 started by root:\n  install add source tftp://192.0.2.1/x asr9k-mini-x64-6.5.3.iso\nJun 09 15:49:16 Action 1: install add action started\nJun 09 15:49:17 Install operation will continue in the background\nJun 09 15:50:01 Packages added:\nJun 09 15:50:01     asr9k-xr-6.5.3\nJun 09 15:50:01 Install operation 24 finished successfully\nJun 09 15:50:01 Ending operation 24\n";
        let log = parse_xr_install_log(output).unwrap();
        assert_eq!(log.operation, Some(24));
        assert_eq!(log.outcome, InstallOutcome::Succeeded);
        assert_eq!(log.packages_added, ["asr9k-xr-6.5.3"]);
        assert!(log.errors.is_empty());
    }

    // eXR 6.3.2 `install add source tftp://…` of a corrupt RPM, from a Cisco
    // community post (signed RPM support), verbatim but for the address.
    #[test]
    fn an_aborted_log_keeps_the_error_words() {
        let output = "Jan 01 10:01:35 Install operation 129 started by cisco:\ninstall add source tftp://192.0.2.1/IOX632 ncs5500-mpls-te-rsvp-2.2.0.0-r632.x86_64.rpm\nJan 01 10:01:36 Action 1: install add action started\nJan 01 10:01:37 Install operation will continue in the background\nJan 01 10:01:43 ERROR! Package \"ncs5500-mpls-te-rsvp-2.2.0.0-r632.x86_64.rpm\" is invalid: ncs5500-mpls-te-rsvp-2.2.0.0-r632.x86_64.rpm is corrupt\nJan 01 10:01:43 ERROR!! failed while handling validate reply\nJan 01 10:01:46 Install operation 129 aborted\nJan 01 10:01:46 Ending operation 129\n";
        let log = parse_xr_install_log(output).unwrap();
        assert_eq!(log.operation, Some(129));
        assert_eq!(log.outcome, InstallOutcome::Aborted);
        assert!(log.packages_added.is_empty());
        assert_eq!(log.errors.len(), 2);
        assert!(log.errors[0].ends_with("is corrupt"), "{:?}", log.errors);
        assert_eq!(log.errors[1], "failed while handling validate reply");
    }

    #[test]
    fn inline_info_lines_and_an_unfinished_log_are_read() {
        let output = "Install operation 7 started by admin:\n  install add source harddisk: a.iso\nInfo:     Packages added:\nInfo:         asr9k-xr-7.1.3\nInstall operation 7 finished successfully\n";
        let log = parse_xr_install_log(output).unwrap();
        assert_eq!(log.packages_added, ["asr9k-xr-7.1.3"]);
        let running =
            parse_xr_install_log("Mar 01 00:00:00 Install operation 3 started by admin:\n")
                .unwrap();
        assert_eq!(running.outcome, InstallOutcome::Unfinished);
        assert!(parse_xr_install_log("nothing here\n").is_err());
    }
}
