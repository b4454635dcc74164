//! Boot variable, reload, the wait for the device to come back, and the
//! check that it runs what the upgrade wanted.

use std::time::Duration;

use netswim_domain::Os;
use netswim_domain::facts::{BootFacts, InstallMode};
use netswim_domain::version::{VersionOrdering, compare_versions};
use netswim_parse::Parsed;
use tokio::time::Instant;

use super::{BootChange, ValidationFailure, host, tail, unsupported};
use crate::{Answer, CollectedFacts, DriverError, Ending, Session, collect_facts_for};

/// How long the device may take to drop the session after `reload`.
const RELOAD_CLOSE_TIMEOUT: Duration = Duration::from_secs(120);

/// A device up for longer than the wait plus this did not reload yet.
const UPTIME_SLACK: Duration = Duration::from_secs(180);

/// Sets the boot variable (IOS, IOS-XE): `no boot system`, then one `boot
/// system <e1;e2…>` (`boot system switch all …` on a stack: a Catalyst keeps
/// one line per scope, so the entries go in one `;`-separated list), `end`,
/// `write memory` (always, so a run repeated after a crash between the two
/// still saves), then checks `show boot` states it.
pub async fn set_boot(
    session: &mut Session,
    os: Os,
    entries: &[String],
) -> Result<BootChange, DriverError> {
    if !matches!(os, Os::Ios | Os::Iosxe) {
        return Err(unsupported("boot system", os));
    }
    let before = read_boot(session, os).await?;
    let previous = before
        .entries
        .first()
        .map(|entry| entry.boot_path.clone())
        .unwrap_or_default();
    let stacked = before.entries.len() > 1;
    let list = entries.join(";");
    let mut commands = vec!["no boot system".to_string()];
    if !entries.is_empty() {
        commands.push(if stacked {
            format!("boot system switch all {list}")
        } else {
            format!("boot system {list}")
        });
    }
    session.run("configure terminal").await?;
    let mut configured = Ok(());
    for command in &commands {
        if let Err(error) = session.run(command).await {
            configured = Err(error);
            break;
        }
    }
    // Leave configuration mode whatever happened.
    session.run("end").await?;
    configured?;
    session.run_confirming("write memory").await?;
    let after = read_boot(session, os).await?;
    let wrong: Vec<String> = after
        .entries
        .iter()
        .take(if stacked { usize::MAX } else { 1 })
        .filter(|entry| entry.boot_path != entries)
        .map(|entry| {
            let who = entry
                .member
                .map_or_else(|| "the switch".to_string(), |n| format!("switch {n}"));
            format!("{who} boots {:?}", entry.boot_path.join(";"))
        })
        .collect();
    if !wrong.is_empty() || after.entries.is_empty() {
        return Err(DriverError::StepFailed {
            host: host(session),
            step: format!("boot system {list}"),
            message: format!(
                "`show boot` does not state the new boot path: {}",
                if wrong.is_empty() {
                    "no boot entry".to_string()
                } else {
                    wrong.join(", ")
                }
            ),
        });
    }
    Ok(BootChange {
        previous,
        now: entries.to_vec(),
    })
}

/// Puts a boot variable back (the `previous` of a [`BootChange`]).
pub async fn restore_boot(
    session: &mut Session,
    os: Os,
    previous: &[String],
) -> Result<BootChange, DriverError> {
    set_boot(session, os, previous).await
}

/// Reloads the device, answering its questions (an unsaved configuration is
/// not saved: the upgrade's own changes were saved by [`set_boot`] or the
/// install, and someone else's edits are not ours to keep); returns once
/// the device dropped the session.
pub async fn reload(session: &mut Session, os: Os) -> Result<(), DriverError> {
    if !matches!(os, Os::Ios | Os::Iosxe | Os::Iosxr) {
        return Err(unsupported("reload", os));
    }
    let answers = [
        Answer::new("Save?", "no"),
        Answer::new("[confirm]", ""),
        Answer::new("[yes/no]", "yes"),
    ];
    match session
        .run_until_closed("reload", &answers, RELOAD_CLOSE_TIMEOUT)
        .await?
    {
        Ending::Closed(_) => Ok(()),
        Ending::Prompt(output) => Err(DriverError::StepFailed {
            host: host(session),
            step: "reload".into(),
            message: format!("the device did not reload: {}", tail(&output, 200)),
        }),
    }
}

/// Waits for a reloading device to answer SSH again (reconnect loop with
/// backoff from 0.5 s to 10 s, pinned to the host key it had) and collects
/// its facts; [`DriverError::DeviceDidNotReturn`] after `timeout`. A device
/// whose uptime is longer than the wait has not reloaded yet and is waited
/// for again.
pub async fn wait_for_return(
    session: &mut Session,
    os: Os,
    timeout: Duration,
) -> Result<CollectedFacts, DriverError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut options = session.options().clone();
    options.pinned_host_key = Some(session.host_key().to_string());
    let connect_timeout = options.connect_timeout;
    let mut delay = Duration::from_millis(500);
    let mut last_error = "no answer yet".to_string();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(DriverError::DeviceDidNotReturn {
                host: options.host.clone(),
                after: timeout,
                last_error,
            });
        }
        options.connect_timeout = connect_timeout.min(deadline - now);
        match Session::connect(options.clone()).await {
            Ok(fresh) => {
                let old = std::mem::replace(session, fresh);
                drop(old);
                let facts = collect_facts_for(os, session).await?;
                let up = facts.uptime_seconds.map(Duration::from_secs);
                if up.is_some_and(|up| up > started.elapsed() + UPTIME_SLACK) {
                    last_error = format!(
                        "still up for {}s: the reload has not started",
                        up.unwrap_or_default().as_secs()
                    );
                } else {
                    return Ok(facts);
                }
            }
            Err(
                error @ (DriverError::HostKeyChanged { .. }
                | DriverError::AuthFailed { .. }
                | DriverError::BadPinnedKey { .. }),
            ) => return Err(error),
            Err(error) => last_error = error.to_string(),
        }
        let now = Instant::now();
        tokio::time::sleep(delay.min(deadline.saturating_duration_since(now))).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// [`reload`] then [`wait_for_return`].
pub async fn reload_and_wait(
    session: &mut Session,
    os: Os,
    timeout: Duration,
) -> Result<CollectedFacts, DriverError> {
    reload(session, os).await?;
    wait_for_return(session, os, timeout).await
}

/// Checks that the device runs `target_version` on every stack member (each
/// `Ready`) and, when `xe_mode` is given, boots in that IOS-XE mode.
pub fn validate(
    facts: &CollectedFacts,
    target_version: &str,
    xe_mode: Option<InstallMode>,
) -> Result<(), ValidationFailure> {
    let os = facts.os;
    let same = |running: &str| {
        running.eq_ignore_ascii_case(target_version)
            || os.is_some_and(|os| {
                matches!(
                    compare_versions(os, running, target_version),
                    Ok(VersionOrdering::Equal)
                )
            })
    };
    let mut problems = Vec::new();
    match facts.version.as_deref() {
        None => problems.push("the device states no running version".to_string()),
        Some(running) if !same(running) => problems.push(format!(
            "runs {running}, expected {target_version} (image {})",
            facts.running_image.as_deref().unwrap_or("unknown")
        )),
        Some(_) => {}
    }
    // A standalone switch lists itself as switch 1: nothing to add then.
    let stacked = facts.member_versions.len() > 1;
    for member in facts.member_versions.iter().filter(|_| stacked) {
        if let Some(running) = member.version.as_deref()
            && !same(running)
        {
            problems.push(format!(
                "switch {} runs {running}, expected {target_version}",
                member.member
            ));
        }
    }
    for member in &facts.stack_members {
        if let Some(state) = member.state.as_deref()
            && !state.eq_ignore_ascii_case("ready")
        {
            problems.push(format!(
                "switch {} is in state {state}, not Ready",
                member.member
            ));
        }
    }
    if let Some(wanted) = xe_mode
        && facts.install_mode != Some(wanted)
    {
        problems.push(format!(
            "boots in {} mode, expected {} mode",
            mode_name(facts.install_mode),
            mode_name(Some(wanted))
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValidationFailure { problems })
    }
}

fn mode_name(mode: Option<InstallMode>) -> &'static str {
    match mode {
        Some(InstallMode::Install) => "install",
        Some(InstallMode::Bundle) => "bundle",
        None => "an unknown",
    }
}

/// `show boot` (or `show bootvar`), parsed.
async fn read_boot(session: &mut Session, os: Os) -> Result<BootFacts, DriverError> {
    let output = match session.run("show boot").await {
        Ok(output) => output,
        Err(DriverError::CommandRejected { .. }) => session.run("show bootvar").await?,
        Err(error) => return Err(error),
    };
    match netswim_parse::parse(os, "show boot", &output) {
        Ok(Parsed::Boot(facts)) => Ok(facts),
        Ok(_) => Err(DriverError::Parse {
            command: "show boot".into(),
            reason: "the parser returned facts of another kind".into(),
        }),
        Err(error) => Err(DriverError::Parse {
            command: "show boot".into(),
            reason: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use netswim_domain::facts::{StackMemberVersion, SwitchMember};

    use super::*;

    fn facts(version: &str) -> CollectedFacts {
        CollectedFacts {
            os: Some(Os::Ios),
            version: Some(version.into()),
            running_image: Some("flash:c2960x-universalk9-mz.152-7.E8.bin".into()),
            ..CollectedFacts::default()
        }
    }

    #[test]
    fn validation_passes_when_every_member_runs_the_target() {
        let mut facts = facts("15.2(7)E8");
        facts.member_versions = (1..=3)
            .map(|member| StackMemberVersion {
                member,
                version: Some("15.2(7)E8".into()),
                ..StackMemberVersion::default()
            })
            .collect();
        assert_eq!(validate(&facts, "15.2(7)E8", None), Ok(()));
    }

    #[test]
    fn validation_names_each_problem() {
        let mut facts = facts("15.2(2)E7");
        facts.member_versions = [1, 2]
            .map(|member| StackMemberVersion {
                member,
                version: Some(
                    if member == 1 {
                        "15.2(7)E8"
                    } else {
                        "15.2(2)E7"
                    }
                    .into(),
                ),
                ..StackMemberVersion::default()
            })
            .to_vec();
        facts.stack_members = vec![SwitchMember {
            member: 2,
            state: Some("Version Mismatch".into()),
            ..SwitchMember::default()
        }];
        let failure = validate(&facts, "15.2(7)E8", None).unwrap_err();
        assert_eq!(
            failure.problems,
            vec![
                "runs 15.2(2)E7, expected 15.2(7)E8 (image flash:c2960x-universalk9-mz.152-7.E8.bin)",
                "switch 2 runs 15.2(2)E7, expected 15.2(7)E8",
                "switch 2 is in state Version Mismatch, not Ready",
            ]
        );
        assert!(failure.to_string().contains("hint:"), "{failure}");
    }

    #[test]
    fn xe_versions_compare_by_value_and_the_mode_is_checked() {
        let facts = CollectedFacts {
            os: Some(Os::Iosxe),
            version: Some("17.09.04a".into()),
            install_mode: Some(InstallMode::Bundle),
            ..CollectedFacts::default()
        };
        assert_eq!(
            validate(&facts, "17.9.4a", Some(InstallMode::Bundle)),
            Ok(())
        );
        let failure = validate(&facts, "17.09.04a", Some(InstallMode::Install)).unwrap_err();
        assert_eq!(
            failure.problems,
            vec!["boots in bundle mode, expected install mode"]
        );
    }
}
