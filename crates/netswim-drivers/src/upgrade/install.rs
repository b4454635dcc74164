//! IOS-XE install mode and IOS-XR install operations.

use std::time::{Duration, Instant};

use netswim_domain::Os;
use netswim_domain::facts::InstallOutcome;
use netswim_parse::Parsed;

use super::{
    TransferFailure, XeInstallOutcome, XrInstallState, classify_transfer_failure, host, scrub_urls,
    tail,
};
use crate::{Answer, DriverError, Ending, Session};

/// `install remove inactive` and XR `install commit` are quick but not instant.
const INSTALL_STEP_TIMEOUT: Duration = Duration::from_secs(900);

/// IOS-XE install mode: `install add file <path> activate commit
/// prompt-level none` (a release without `prompt-level` that asks anyway
/// is answered `y`); the device reloads when it succeeds.
pub async fn xe_install_add_activate_commit(
    session: &mut Session,
    path: &str,
    timeout: Duration,
) -> Result<XeInstallOutcome, DriverError> {
    let command = format!("install add file {path} activate commit prompt-level none");
    let answers = [Answer::new("[y/n]", "y"), Answer::new("[yes/no]", "yes")];
    let ending = session
        .run_until_closed(&command, &answers, timeout)
        .await?;
    let (output, closed) = match ending {
        Ending::Closed(output) => (output, true),
        Ending::Prompt(output) => (output, false),
    };
    xe_failure(session, &command, &output)?;
    if !closed && !output.contains("SUCCESS:") {
        return Err(DriverError::StepFailed {
            host: host(session),
            step: command,
            message: format!("no SUCCESS line: {}", tail(&output, 200)),
        });
    }
    let version_added = output.lines().find_map(|line| {
        line.trim()
            .strip_prefix("Image added. Version:")
            .map(|version| version.trim().to_string())
    });
    Ok(XeInstallOutcome {
        version_added,
        deleted: Vec::new(),
        reloading: closed || output.contains("Reloading"),
        output,
    })
}

/// IOS-XE `install remove inactive` (its `[y/n]` question answered `y`):
/// deletes packages and bundles the running software does not use.
pub async fn xe_install_remove_inactive(
    session: &mut Session,
) -> Result<XeInstallOutcome, DriverError> {
    let command = "install remove inactive";
    let answers = [Answer::new("[y/n]", "y")];
    let output = match session
        .run_answering_within(command, &answers, INSTALL_STEP_TIMEOUT)
        .await
    {
        Ok(output) => output,
        Err(DriverError::CommandRejected { message, .. }) => {
            return Err(DriverError::StepFailed {
                host: host(session),
                step: command.into(),
                message,
            });
        }
        Err(error) => return Err(error),
    };
    xe_failure(session, command, &output)?;
    let deleted = output
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("Deleting file ")?;
            let (file, _) = rest.split_once(" ...")?;
            Some(file.trim().to_string())
        })
        .collect();
    Ok(XeInstallOutcome {
        version_added: None,
        deleted,
        reloading: false,
        output,
    })
}

/// First and longest wait between two `show install request` polls.
const POLL_FIRST: Duration = Duration::from_millis(500);
const POLL_MAX: Duration = Duration::from_secs(5);

/// IOS-XR `install add source <source> <file>`; returns the install
/// operation id to activate. The transfer timeout also bounds a stall (see
/// [`xr_install_add_within`]).
pub async fn xr_install_add(
    session: &mut Session,
    source: &str,
    file: &str,
    timeout: Duration,
) -> Result<u32, DriverError> {
    xr_install_add_within(session, source, file, timeout, timeout).await
}

/// IOS-XR `install add source <source> <file>` as eXR runs it: the command
/// returns at once (`Install operation N started …`, `Install operation
/// will continue in the background`); the operation is polled with `show
/// install request` (backoff 0.5 s → 5 s) until none is in progress, then
/// `show install log N` says whether packages were added. Returns N, the id
/// `install activate id` takes.
///
/// Failures are `DriverError::Transfer` with the kind read from the
/// device's error words (`not_found`, `no_space`, `checksum_mismatch`,
/// `stalled`, `refused`/`unreachable`, `other`), passwords removed; an
/// operation whose progress (`… is N% complete`) does not move for `stall`,
/// or that still runs after `timeout`, is `stalled` (the device may still be
/// running it). A release whose add finished inline (a file already on
/// the device's disk) needs no polling.
pub async fn xr_install_add_within(
    session: &mut Session,
    source: &str,
    file: &str,
    timeout: Duration,
    stall: Duration,
) -> Result<u32, DriverError> {
    let command = format!("install add source {source} {file}");
    let url = format!("{}/{file}", source.trim_end_matches('/'));
    let deadline = Instant::now() + timeout;
    // eXR runs one install operation at a time: one still running (an
    // earlier attempt this driver gave up on) is waited for first.
    let mut pace = Pace::until(deadline);
    loop {
        let request = xr_install_request(session).await?;
        let Some(running) = request.operation.filter(|_| request.in_progress()) else {
            break;
        };
        if !pace.wait().await {
            return Err(xr_transfer_error(
                session,
                &url,
                TransferFailure::Stalled,
                format!(
                    "install operation {running} still running after {} s",
                    timeout.as_secs()
                ),
            ));
        }
    }
    let output = match session.run_answering_within(&command, &[], timeout).await {
        Ok(output) => output,
        Err(DriverError::CommandRejected { message, .. }) => {
            return Err(DriverError::StepFailed {
                host: host(session),
                step: scrub_urls(&command),
                message,
            });
        }
        Err(error) => return Err(error),
    };
    let id = operation_id(&output).ok_or_else(|| DriverError::Parse {
        command: scrub_urls(&command),
        reason: format!(
            "no `Install operation N started` line: {}",
            scrub_urls(&tail(&output, 160))
        ),
    })?;
    // Ended at once: refused (another operation runs, a bad source) or
    // finished inline.
    if output.contains(&format!("Install operation {id} aborted"))
        || output.contains(&format!("Install operation {id} finished successfully"))
    {
        return xr_add_outcome(session, &url, id, &output);
    }
    let mut pace = Pace::until(deadline);
    let mut percent = None;
    let mut moved = Instant::now();
    loop {
        if !pace.wait().await {
            return Err(xr_transfer_error(
                session,
                &url,
                TransferFailure::Stalled,
                format!(
                    "install add operation {id} still running after {} s",
                    timeout.as_secs()
                ),
            ));
        }
        let request = xr_install_request(session).await?;
        // Idle, or another operation already runs: ours has ended.
        if !request.in_progress() || request.operation.is_some_and(|running| running != id) {
            break;
        }
        if request.percent != percent {
            percent = request.percent;
            moved = Instant::now();
        } else if moved.elapsed() >= stall {
            return Err(xr_transfer_error(
                session,
                &url,
                TransferFailure::Stalled,
                format!(
                    "install add operation {id} made no progress for {} s (at {}%)",
                    stall.as_secs(),
                    percent.unwrap_or(0)
                ),
            ));
        }
    }
    let log = session.run(&format!("show install log {id}")).await?;
    xr_add_outcome(session, &url, id, &log)
}

/// The pause between two polls of `show install request`: 0.5 s doubling
/// to 5 s, never past the deadline.
struct Pace {
    delay: Duration,
    deadline: Instant,
}

impl Pace {
    fn until(deadline: Instant) -> Pace {
        Pace {
            delay: POLL_FIRST,
            deadline,
        }
    }

    /// Sleeps before the next poll; `false` (at once) when the deadline has
    /// passed.
    async fn wait(&mut self) -> bool {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        tokio::time::sleep(self.delay.min(left)).await;
        self.delay = (self.delay * 2).min(POLL_MAX);
        true
    }
}

/// `show install request`, parsed.
async fn xr_install_request(
    session: &mut Session,
) -> Result<netswim_domain::facts::InstallRequest, DriverError> {
    let command = "show install request";
    let output = session.run(command).await?;
    netswim_parse::parse_xr_install_request(&output).map_err(|error| DriverError::Parse {
        command: command.into(),
        reason: error.to_string(),
    })
}

/// Reads an `install add` outcome from its log (or its inline output).
fn xr_add_outcome(session: &Session, url: &str, id: u32, output: &str) -> Result<u32, DriverError> {
    let log = netswim_parse::parse_xr_install_log(output).map_err(|error| DriverError::Parse {
        command: format!("show install log {id}"),
        reason: error.to_string(),
    })?;
    match log.outcome {
        InstallOutcome::Succeeded => Ok(id),
        InstallOutcome::Aborted => {
            let words = if log.errors.is_empty() {
                format!("install add operation {id} aborted")
            } else {
                log.errors.join(" ")
            };
            let kind = classify_transfer_failure(&words);
            Err(xr_transfer_error(session, url, kind, words))
        }
        InstallOutcome::Unfinished => Err(DriverError::StepFailed {
            host: host(session),
            step: format!("show install log {id}"),
            message: format!(
                "no operation is in progress but its log has no end: {}",
                scrub_urls(&tail(output, 200))
            ),
        }),
    }
}

fn xr_transfer_error(
    session: &Session,
    url: &str,
    kind: TransferFailure,
    message: String,
) -> DriverError {
    DriverError::Transfer {
        host: host(session),
        url: scrub_urls(url),
        destination: "harddisk:".into(),
        kind,
        message: scrub_urls(&message),
    }
}

/// IOS-XR `install activate id N`; returns whether the device reloads now
/// (`false` when that software is already active).
pub async fn xr_install_activate(session: &mut Session, id: u32) -> Result<bool, DriverError> {
    xr_reloading_operation(session, &format!("install activate id {id}")).await
}

/// IOS-XR `install commit`.
pub async fn xr_install_commit(session: &mut Session) -> Result<(), DriverError> {
    xr_run(session, "install commit", INSTALL_STEP_TIMEOUT)
        .await
        .map(|_| ())
}

/// IOS-XR `install rollback to committed`; returns whether the device
/// reloads now (`false` when the committed software is already active).
pub async fn xr_install_rollback_to_committed(session: &mut Session) -> Result<bool, DriverError> {
    xr_reloading_operation(session, "install rollback to committed").await
}

/// IOS-XR active, committed and inactive software (package names).
pub async fn xr_install_state(session: &mut Session) -> Result<XrInstallState, DriverError> {
    let mut lists = Vec::new();
    for which in ["active", "committed", "inactive"] {
        let command = format!("show install {which} summary");
        let output = session.run(&command).await?;
        // An empty list (`Inactive Packages: 0`) is a valid answer.
        if output.contains("Packages: 0") {
            lists.push(Vec::new());
            continue;
        }
        let names = match netswim_parse::parse(Os::Iosxr, &command, &output) {
            Ok(Parsed::Install(facts)) => facts.packages.into_iter().map(|p| p.name).collect(),
            Ok(_) => {
                return Err(DriverError::Parse {
                    command,
                    reason: "the parser returned facts of another kind".into(),
                });
            }
            Err(error) => {
                return Err(DriverError::Parse {
                    command,
                    reason: error.to_string(),
                });
            }
        };
        lists.push(names);
    }
    let mut lists = lists.into_iter();
    Ok(XrInstallState {
        active: lists.next().unwrap_or_default(),
        committed: lists.next().unwrap_or_default(),
        inactive: lists.next().unwrap_or_default(),
    })
}

/// The `FAILED: …` lines of an IOS-XE install operation as a failure.
fn xe_failure(session: &Session, command: &str, output: &str) -> Result<(), DriverError> {
    let failed: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("FAILED:") || line.starts_with("ERROR:"))
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(DriverError::StepFailed {
        host: host(session),
        step: command.to_string(),
        message: failed.join(" "),
    })
}

/// Runs an XR install command and checks it finished successfully.
async fn xr_run(
    session: &mut Session,
    command: &str,
    timeout: Duration,
) -> Result<String, DriverError> {
    let output = match session.run_answering_within(command, &[], timeout).await {
        Ok(output) => output,
        Err(DriverError::CommandRejected { message, .. }) => {
            return Err(DriverError::StepFailed {
                host: host(session),
                step: command.into(),
                message,
            });
        }
        Err(error) => return Err(error),
    };
    xr_check(session, command, &output)?;
    if !output.contains("finished successfully") {
        return Err(DriverError::StepFailed {
            host: host(session),
            step: command.into(),
            message: format!("the operation did not finish: {}", tail(&output, 200)),
        });
    }
    Ok(output)
}

/// An XR operation that reloads the device (activate, rollback).
async fn xr_reloading_operation(session: &mut Session, command: &str) -> Result<bool, DriverError> {
    let answers = [Answer::new("[yes/no]", "yes"), Answer::new("[confirm]", "")];
    match session
        .run_until_closed(command, &answers, INSTALL_STEP_TIMEOUT)
        .await?
    {
        Ending::Closed(output) => {
            xr_check(session, command, &output)?;
            Ok(true)
        }
        Ending::Prompt(output) => {
            xr_check(session, command, &output)?;
            if output.contains("already active") {
                Ok(false)
            } else if output.contains("will reload") {
                // Started in the background: the reload follows.
                Ok(true)
            } else {
                Err(DriverError::StepFailed {
                    host: host(session),
                    step: command.into(),
                    message: format!(
                        "neither reloading nor already active: {}",
                        tail(&output, 200)
                    ),
                })
            }
        }
    }
}

/// `Error: …` lines or `Install operation N aborted` as a failure.
fn xr_check(session: &Session, command: &str, output: &str) -> Result<(), DriverError> {
    let errors: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("Error:") || line.starts_with("% "))
        .collect();
    if errors.is_empty() && !output.contains(" aborted") {
        return Ok(());
    }
    Err(DriverError::StepFailed {
        host: host(session),
        step: command.to_string(),
        message: if errors.is_empty() {
            tail(output, 200)
        } else {
            errors
                .iter()
                .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(" ")
        },
    })
}

/// `Install operation 7 started by admin:` → 7 (eXR may stamp the line:
/// `Jun 09 15:49:15 Install operation 27 started by root:`).
fn operation_id(output: &str) -> Option<u32> {
    output.lines().find_map(|line| {
        let (_, rest) = line.split_once("Install operation ")?;
        let (id, rest) = rest.split_once(' ')?;
        rest.starts_with("started")
            .then(|| id.parse().ok())
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operation_id_comes_from_the_started_line() {
        let output = "Thu Nov 22 10:00:00.000 UTC\nInstall operation 7 started by admin:\n  install add source tftp://h/d x.iso\nInfo:     Packages added:\nInstall operation 7 finished successfully\n";
        assert_eq!(operation_id(output), Some(7));
        assert_eq!(operation_id("Install operation will continue"), None);
        let stamped = "Mar 01 00:00:00 Install operation 12 started by admin:\n  install add source tftp://h/ x.iso\nMar 01 00:00:00 Install operation will continue in the background\n";
        assert_eq!(operation_id(stamped), Some(12));
    }
}
