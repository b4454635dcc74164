//! Files on the device: MD5, delete, and image copies (from a server or
//! between stack members) with their failures classified.

use std::time::{Duration, Instant};

use netswim_domain::Os;

use super::{
    CopyOutcome, CopyRequest, TransferFailure, host, scrub_urls, split_path, tail, unsupported,
};
use crate::{Answer, DriverError, Session};

/// `verify /md5` reads the whole file: give it at least this long.
const MD5_TIMEOUT: Duration = Duration::from_secs(600);

/// The MD5 (lowercase hex) of a file on the device (`verify /md5 <path>`).
pub async fn verify_md5(session: &mut Session, os: Os, path: &str) -> Result<String, DriverError> {
    if os == Os::Iosxr {
        return Err(unsupported("verify /md5", os));
    }
    let command = format!("verify /md5 {path}");
    let timeout = session.options().command_timeout.max(MD5_TIMEOUT);
    let output = session.run_answering_within(&command, &[], timeout).await?;
    parse_md5(&output).ok_or_else(|| DriverError::Parse {
        command,
        reason: format!("no `= <md5>` line in {:?}", tail(&output, 120)),
    })
}

/// The file's MD5 when it exists, `None` when it does not.
pub async fn file_md5_if_present(
    session: &mut Session,
    os: Os,
    path: &str,
) -> Result<Option<String>, DriverError> {
    match verify_md5(session, os, path).await {
        Ok(md5) => Ok(Some(md5)),
        Err(DriverError::CommandRejected { message, .. }) if says_missing(&message) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Deletes a file (`delete /force`); `false` when it was already absent.
pub async fn delete_file(session: &mut Session, os: Os, path: &str) -> Result<bool, DriverError> {
    if os == Os::Iosxr {
        return Err(unsupported("delete /force", os));
    }
    match session.run(&format!("delete /force {path}")).await {
        Ok(_) => Ok(true),
        Err(DriverError::CommandRejected { message, .. }) if says_missing(&message) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Copies an image into the device: skipped when the destination already
/// has the expected MD5; answers the destination and overwrite questions;
/// verifies the MD5 after and deletes a bad copy. Failures are
/// [`DriverError::Transfer`] with a [`TransferFailure`] kind and the device's words.
pub async fn copy_image(
    session: &mut Session,
    os: Os,
    request: &CopyRequest,
) -> Result<CopyOutcome, DriverError> {
    copy_from(session, os, &request.url, request).await
}

/// Copies an image onto several stack members: pulled once from the URL
/// into the first file system (`flash1:`), then copied inside the stack
/// (`copy flash1:x flash2:x`), each verified; `file_systems` are the
/// members' (`flash1:`, `flash2:`…), `request.destination` names the file
/// (its own file system is replaced).
pub async fn copy_image_to_members(
    session: &mut Session,
    os: Os,
    request: &CopyRequest,
    file_systems: &[String],
) -> Result<Vec<(String, CopyOutcome)>, DriverError> {
    let (_, file) = split_path(&request.destination);
    let mut outcomes = Vec::new();
    let Some((first, rest)) = file_systems.split_first() else {
        return Ok(outcomes);
    };
    let first_path = format!("{first}{file}");
    let outcome = copy_from(
        session,
        os,
        &request.url,
        &request.to_destination(&first_path),
    )
    .await?;
    outcomes.push((first.clone(), outcome));
    for file_system in rest {
        let member = request.to_destination(&format!("{file_system}{file}"));
        let outcome = copy_from(session, os, &first_path, &member).await?;
        outcomes.push((file_system.clone(), outcome));
    }
    Ok(outcomes)
}

/// Classifies a device's words about a failed transfer.
pub fn classify_transfer_failure(message: &str) -> TransferFailure {
    let lower = message.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|needle| lower.contains(needle));
    if has(&[
        "not enough space",
        "no space left",
        "device full",
        "insufficient space",
        "out of space",
    ]) {
        TransferFailure::NoSpace
    } else if has(&["checksum", "signature", "md5", "corrupt"]) {
        TransferFailure::ChecksumMismatch
    } else if has(&[
        "connection refused",
        "unknown host",
        "no route",
        "unreachable",
        "host is down",
        "connection timed out",
        "socket error",
        "bad server name",
        "tls handshake",
    ]) {
        TransferFailure::Unreachable
    } else if has(&[
        "permission denied",
        "login incorrect",
        "incorrect login",
        "access denied",
        "access violation",
        "authentication failed",
        "not authorized",
    ]) {
        TransferFailure::Refused
    } else if has(&["no such file", "file not found", "not found", "404"]) {
        TransferFailure::NotFound
    } else if has(&["timed out", "timeout", "stalled"]) {
        TransferFailure::Stalled
    } else {
        TransferFailure::Other
    }
}

/// One copy of `source` (a URL or a file on the device) into
/// `request.destination`, skipped when already there, verified after.
async fn copy_from(
    session: &mut Session,
    os: Os,
    source: &str,
    request: &CopyRequest,
) -> Result<CopyOutcome, DriverError> {
    if os == Os::Iosxr {
        return Err(unsupported("copy into flash (use install add)", os));
    }
    let expected = request.expected_md5.to_ascii_lowercase();
    match file_md5_if_present(session, os, &request.destination).await? {
        Some(md5) if md5 == expected => return Ok(CopyOutcome::AlreadyPresent),
        // A wrong file under the name: make room rather than overwrite.
        Some(_) => {
            delete_file(session, os, &request.destination).await?;
        }
        None => {}
    }
    let failed =
        |session: &Session, kind: TransferFailure, message: String| DriverError::Transfer {
            host: host(session),
            url: scrub_urls(source),
            destination: request.destination.clone(),
            kind,
            message: scrub_urls(&message),
        };
    let command = format!("copy {source} {}", request.destination);
    // An SCP URL without a password makes the device ask; an empty answer
    // fails fast as a refused login instead of waiting for the timeout.
    let password = request.password.clone().unwrap_or_default();
    let answers = [
        Answer::new("Destination filename", ""),
        Answer::new("[confirm]", ""),
        Answer::new("assword:", &password),
        Answer::new("]?", ""),
    ];
    let started = Instant::now();
    let output = match session
        .run_answering_within(&command, &answers, request.timeout)
        .await
    {
        Ok(output) => output,
        Err(DriverError::CommandRejected { message, .. }) => {
            return Err(failed(
                session,
                classify_transfer_failure(&message),
                message,
            ));
        }
        Err(DriverError::Timeout { what, .. }) => {
            // The device is still inside the copy: a fresh session gives the
            // caller a usable prompt; a partial file must not stay behind.
            session.reconnect().await?;
            let _ = delete_file(session, os, &request.destination).await;
            return Err(failed(
                session,
                TransferFailure::Stalled,
                format!(
                    "no end of the copy within {}s ({what})",
                    request.timeout.as_secs()
                ),
            ));
        }
        Err(error) => return Err(error),
    };
    let Some(bytes) = copied_bytes(&output) else {
        return Err(failed(
            session,
            classify_transfer_failure(&output),
            format!(
                "the device did not report a finished copy: {}",
                tail(&output, 160)
            ),
        ));
    };
    match file_md5_if_present(session, os, &request.destination).await? {
        Some(md5) if md5 == expected => Ok(CopyOutcome::Copied {
            bytes,
            elapsed: started.elapsed(),
        }),
        Some(md5) => {
            delete_file(session, os, &request.destination).await?;
            Err(failed(
                session,
                TransferFailure::ChecksumMismatch,
                format!(
                    "verify /md5 ({}) = {md5}, expected {expected}",
                    request.destination
                ),
            ))
        }
        None => Err(failed(
            session,
            TransferFailure::Other,
            format!(
                "the device reported {bytes} bytes copied but {} is not there",
                request.destination
            ),
        )),
    }
}

/// `verify /md5 (flash:x.bin) = 0123…` → the digest.
fn parse_md5(output: &str) -> Option<String> {
    output.lines().rev().find_map(|line| {
        let (_, digest) = line.rsplit_once('=')?;
        let digest = digest.trim();
        (digest.len() == 32 && digest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| digest.to_ascii_lowercase())
    })
}

/// `65536 bytes copied in 0.42 secs (…)` → 65536.
fn copied_bytes(output: &str) -> Option<u64> {
    output.lines().find_map(|line| {
        let (count, _) = line.trim().split_once(" bytes copied")?;
        count.trim().parse().ok()
    })
}

fn says_missing(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("no such file") || lower.contains("not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_failures_are_classified_from_the_devices_words() {
        let cases = [
            (
                "%Error opening tftp://10.0.0.5/x.bin (Timed out)",
                TransferFailure::Stalled,
            ),
            (
                "%Error opening tftp://10.0.0.5/x.bin (No such file or directory)",
                TransferFailure::NotFound,
            ),
            (
                "%Error opening http://10.0.0.5/x.bin (Not Found)",
                TransferFailure::NotFound,
            ),
            (
                "%Error copying tftp://10.0.0.5/x.bin (Not enough space on device)",
                TransferFailure::NoSpace,
            ),
            (
                "%Error writing flash:/x.bin (No space left on device)",
                TransferFailure::NoSpace,
            ),
            (
                "%Error opening ftp://u@10.0.0.5/x.bin (Incorrect Login/Password)",
                TransferFailure::Refused,
            ),
            (
                "%Error opening scp://u@10.0.0.5/x.bin (Permission denied)",
                TransferFailure::Refused,
            ),
            (
                "%Error opening http://10.0.0.5/x.bin (Connection refused: os error 111)",
                TransferFailure::Unreachable,
            ),
            (
                "%Error opening tftp://nohost/x.bin (Unknown host)",
                TransferFailure::Unreachable,
            ),
            (
                "%Error opening tftp://10.0.0.5/x.bin (Connection timed out)",
                TransferFailure::Unreachable,
            ),
            ("%Error verifying flash:x.bin", TransferFailure::Other),
            (
                "%Error opening http://10.0.0.5/x.bin (HTTP status 500)",
                TransferFailure::Other,
            ),
        ];
        for (message, expected) in cases {
            assert_eq!(classify_transfer_failure(message), expected, "{message}");
        }
    }

    #[test]
    fn md5_and_byte_counts_are_read_from_ios_output() {
        let md5 = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(
            parse_md5(&format!(
                "...........Done!\nverify /md5 (flash:x.bin) = {md5}\n"
            )),
            Some(md5.to_ascii_lowercase())
        );
        assert_eq!(parse_md5("%Error verifying flash:x.bin\n"), None);
        assert_eq!(
            copied_bytes(
                "Accessing tftp://1.2.3.4/x.bin...\n!!!!\n[OK - 65536 bytes]\n\n65536 bytes copied in 0.129 secs (508031 bytes/sec)\n"
            ),
            Some(65536)
        );
        assert_eq!(copied_bytes("%Error opening x"), None);
    }
}
