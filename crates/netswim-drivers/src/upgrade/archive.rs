//! IOS `.tar` installs: `archive download-sw` and the stack repair with
//! `archive copy-sw`.

use std::time::Duration;

use netswim_domain::Os;
use netswim_domain::facts::StackFacts;
use netswim_parse::Parsed;
use tokio::time::Instant;

use super::{ArchiveOptions, ArchiveOutcome, classify_transfer_failure, host, tail};
use crate::{Answer, DriverError, Ending, Session};

/// How long repaired members may take to come back `Ready`.
const MEMBER_RETURN_TIMEOUT: Duration = Duration::from_secs(900);

/// `archive copy-sw` copies within the stack: generous but bounded.
const COPY_SW_TIMEOUT: Duration = Duration::from_secs(1800);

/// IOS `archive download-sw <url>` with its long output read for the
/// outcome: success (`All software images installed.`), or the device's
/// error lines as [`DriverError::StepFailed`] ([`DriverError::Transfer`]
/// when the pull itself failed).
pub async fn archive_download_sw(
    session: &mut Session,
    url: &str,
    options: &ArchiveOptions,
) -> Result<ArchiveOutcome, DriverError> {
    let mut command = String::from("archive download-sw");
    for (flag, on) in [
        ("/overwrite", options.overwrite),
        ("/reload", options.reload),
        ("/allow-feature-upgrade", options.allow_feature_upgrade),
        ("/leave-old-sw", options.leave_old_sw),
        ("/imageonly", options.imageonly),
        ("/safe", options.safe),
    ] {
        if on {
            command.push(' ');
            command.push_str(flag);
        }
    }
    for member in &options.destination_system {
        command.push_str(&format!(" /destination-system {member}"));
    }
    command.push(' ');
    command.push_str(url);
    let answers = [Answer::new("]?", "")];
    let ending = session
        .run_until_closed(&command, &answers, options.timeout)
        .await?;
    let (output, closed) = match ending {
        Ending::Closed(output) => (output, true),
        Ending::Prompt(output) => (output, false),
    };
    if let Some(message) = pull_failure(&output, url) {
        return Err(DriverError::Transfer {
            host: host(session),
            url: url.to_string(),
            destination: "flash: (archive download-sw)".into(),
            kind: classify_transfer_failure(&message),
            message,
        });
    }
    outcome(session, "archive download-sw", output, closed)
}

/// Stack members in `Version Mismatch` get the master's image by `archive
/// copy-sw /overwrite /destination-system N… <master>`, are reloaded one by
/// one (`reload slot N`) and waited for until `Ready`; returns the members
/// repaired (none when every member already runs the master's version).
pub async fn repair_stack_members(session: &mut Session) -> Result<Vec<u32>, DriverError> {
    let stack = read_stack(session).await?;
    let mismatched: Vec<u32> = stack
        .members
        .iter()
        .filter(|member| {
            member
                .state
                .as_deref()
                .is_some_and(|state| state.to_ascii_lowercase().contains("mismatch"))
        })
        .map(|member| member.member)
        .collect();
    if mismatched.is_empty() {
        return Ok(mismatched);
    }
    let master = stack
        .members
        .iter()
        .find(|member| {
            member.role.as_deref().is_some_and(|role| {
                role.eq_ignore_ascii_case("master") || role.eq_ignore_ascii_case("active")
            })
        })
        .map(|member| member.member)
        .ok_or_else(|| DriverError::StepFailed {
            host: host(session),
            step: "archive copy-sw".into(),
            message: "`show switch detail` names no master".into(),
        })?;
    let mut command = String::from("archive copy-sw /overwrite");
    for member in &mismatched {
        command.push_str(&format!(" /destination-system {member}"));
    }
    command.push_str(&format!(" {master}"));
    let output = match session
        .run_answering_within(&command, &[], COPY_SW_TIMEOUT)
        .await
    {
        Ok(output) => output,
        Err(DriverError::CommandRejected { message, .. }) => {
            return Err(DriverError::StepFailed {
                host: host(session),
                step: command,
                message,
            });
        }
        Err(error) => return Err(error),
    };
    outcome(session, &command, output, false)?;
    for member in &mismatched {
        session
            .run_answering(
                &format!("reload slot {member}"),
                &[Answer::new("[confirm]", "")],
            )
            .await?;
    }
    // Poll until every repaired member is back and Ready.
    let deadline = Instant::now() + MEMBER_RETURN_TIMEOUT;
    let mut delay = Duration::from_millis(500);
    loop {
        let stack = read_stack(session).await?;
        let waiting: Vec<String> = mismatched
            .iter()
            .filter_map(|number| {
                let state = stack
                    .members
                    .iter()
                    .find(|member| member.member == *number)
                    .and_then(|member| member.state.clone())
                    .unwrap_or_else(|| "absent".into());
                (!state.eq_ignore_ascii_case("ready")).then(|| format!("switch {number}: {state}"))
            })
            .collect();
        if waiting.is_empty() {
            return Ok(mismatched);
        }
        if Instant::now() >= deadline {
            return Err(DriverError::StepFailed {
                host: host(session),
                step: "reload slot".into(),
                message: format!(
                    "members not Ready after {}s: {}",
                    MEMBER_RETURN_TIMEOUT.as_secs(),
                    waiting.join(", ")
                ),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// The install result of `archive download-sw` / `copy-sw` output.
fn outcome(
    session: &Session,
    step: &str,
    output: String,
    closed: bool,
) -> Result<ArchiveOutcome, DriverError> {
    if !output.contains("All software images installed") {
        let errors = error_lines(&output);
        return Err(DriverError::StepFailed {
            host: host(session),
            step: step.to_string(),
            message: if errors.is_empty() {
                format!(
                    "no `All software images installed.`: {}",
                    tail(&output, 200)
                )
            } else {
                errors.join(" ")
            },
        });
    }
    let installed = output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("New software image installed in "))
        .map(|path| path.trim().to_string())
        .collect();
    let reloading = closed || output.contains("reload in progress");
    Ok(ArchiveOutcome {
        installed,
        reloading,
        output,
    })
}

/// The device's error lines (`%Tar checksum error`, `Error: …`, `ERROR: …`).
fn error_lines(output: &str) -> Vec<String> {
    output
        .lines()
        .map(str::trim)
        .filter(|line| {
            line.starts_with('%')
                || line.starts_with("Error:")
                || line.starts_with("ERROR:")
                || line.starts_with("error:")
        })
        .map(str::to_string)
        .collect()
}

/// The `%Error …` line when pulling `url` itself failed.
fn pull_failure(output: &str, url: &str) -> Option<String> {
    let server = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .unwrap_or(url);
    let server = server.rsplit('@').next().unwrap_or(server);
    output
        .lines()
        .map(str::trim)
        .find(|line| {
            (line.starts_with("%Error opening") || line.starts_with("%Error copying"))
                && line.contains(server)
        })
        .map(str::to_string)
}

async fn read_stack(session: &mut Session) -> Result<StackFacts, DriverError> {
    let output = session.run("show switch detail").await?;
    match netswim_parse::parse(Os::Ios, "show switch detail", &output) {
        Ok(Parsed::Switch(facts)) => Ok(facts),
        Ok(_) => Err(DriverError::Parse {
            command: "show switch detail".into(),
            reason: "the parser returned facts of another kind".into(),
        }),
        Err(error) => Err(DriverError::Parse {
            command: "show switch detail".into(),
            reason: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_and_pull_failures_are_the_devices_words() {
        let output = "examining image...\n%Tar checksum error\nError: Aborting the software download; nothing was changed.\n";
        assert_eq!(
            error_lines(output),
            vec![
                "%Tar checksum error",
                "Error: Aborting the software download; nothing was changed."
            ]
        );
        let output = "Accessing tftp://127.0.0.1:6969/x.tar...\n\n%Error opening tftp://127.0.0.1:6969/x.tar (Timed out)\n";
        assert_eq!(
            pull_failure(output, "tftp://127.0.0.1:6969/x.tar").as_deref(),
            Some("%Error opening tftp://127.0.0.1:6969/x.tar (Timed out)")
        );
        assert_eq!(
            pull_failure("%Tar checksum error\n", "tftp://h/x.tar"),
            None
        );
    }
}
