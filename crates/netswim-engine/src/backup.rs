//! Device backup ("back up current image"): copy a device's running image (or
//! a named file) off the device into the repository. Log in, ask the device
//! for the file's MD5 (`verify /md5`), start a one-shot TFTP server the
//! device can reach, have the device `copy` the file to it, then hand the
//! landed file to the normal import with the device's MD5 as the expected one.
//!
//! TFTP port: IOS `copy ... tftp://` has no way to name a port on real
//! devices, so production sets `device_backup_listen` to port 69. Any other
//! port (the default ephemeral one, used by tests) is written into the URL
//! as `tftp://host:port/name`, which the netswim lab accepts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use netswim_domain::image::bare_file_name;
use netswim_drivers::{Algorithms, Answer, Session, SessionOptions, detect_and_collect};
use netswim_store::{Device, Store};
use netswim_tftp::{
    Direction, LocalDirectory, ServerConfig, TftpServer, TransferRecord, UploadArea,
};
use tokio::sync::mpsc;

use crate::EngineError;
use crate::credentials::DeviceSecrets;
use crate::import::{OpenedSource, StepRecorder};
use crate::sync::SyncOptions;

/// Setting holding the address (`ip:port`) the backup TFTP server binds;
/// absent: the local address toward the device, ephemeral port.
pub const DEVICE_BACKUP_LISTEN_SETTING: &str = "device_backup_listen";

/// How long one `copy` of an image off a device may take.
const COPY_TIMEOUT: Duration = Duration::from_secs(3600);

/// Most bytes one backup may upload.
const BACKUP_QUOTA_BYTES: u64 = 16 << 30;

/// A staging folder removed when dropped (success, rejection or error).
pub(crate) struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), %error, "could not remove backup staging folder");
        }
    }
}

/// A file copied off a device, ready to import.
pub(crate) struct DeviceFetch {
    pub opened: OpenedSource,
    /// What the device's `verify /md5` printed.
    pub md5: String,
    pub staging: Staging,
}

/// Everything the backup needs from the engine.
pub(crate) struct BackupContext<'a> {
    pub store: &'a Store,
    pub key: &'a netswim_store::crypto::SecretKey,
    pub blobs_root: &'a Path,
    pub options: &'a SyncOptions,
    pub job_id: i64,
}

/// Copies `path` (default: the running image) off device `device_id` into a
/// staging folder, recording `connect`, `checksum on device` and `upload`.
pub(crate) async fn fetch_from_device(
    context: &BackupContext<'_>,
    device_id: i64,
    path: Option<&str>,
    step: &mut dyn StepRecorder,
) -> Result<DeviceFetch, EngineError> {
    let store = context.store;
    step.begin("connect").await?;
    let device = store.get_device(device_id).await?;
    let mut session = connect(context, &device).await?;
    if device.ssh_host_key.is_none() {
        // Trust on first use, as a sync does.
        store
            .set_device_host_key(device.id, Some(session.host_key()))
            .await?;
    }
    let path = match path {
        Some(path) => path.trim().to_owned(),
        None => {
            let facts = detect_and_collect(device.os, &mut session).await?;
            let running = facts.running_image.ok_or_else(|| EngineError::Invalid {
                what: "device backup",
                reason: format!(
                    "{} reports no running image (hint: name the file with a path such as flash:x.bin)",
                    device.name
                ),
            })?;
            // `show version` may print the image without a file system.
            if running.contains(':') {
                running
            } else {
                format!("flash:{}", running.trim_start_matches('/'))
            }
        }
    };
    let name = file_name_of(&path).ok_or_else(|| EngineError::Invalid {
        what: "device file",
        reason: format!("{path:?} names no file (hint: use a path such as flash:x.bin)"),
    })?;
    step.finish(&format!(
        "logged in to {} ({}); file {path}",
        device.name,
        session.hostname()
    ))
    .await?;

    step.begin("checksum on device").await?;
    let verify_output = session.run(&format!("verify /md5 {path}")).await?;
    let md5 = parse_verify_md5(&verify_output).ok_or_else(|| EngineError::Invalid {
        what: "verify /md5 output",
        reason: format!(
            "no `= <md5>` line in {:?} (hint: the device must support verify /md5)",
            verify_output.trim()
        ),
    })?;
    step.finish(&format!("md5 {md5} on the device")).await?;

    step.begin("upload").await?;
    let staging_path = context
        .blobs_root
        .parent()
        .unwrap_or(context.blobs_root)
        .join("device-backup")
        .join(format!("job-{}-{}", context.job_id, std::process::id()));
    tokio::fs::create_dir_all(&staging_path)
        .await
        .map_err(|error| EngineError::Io {
            path: staging_path.display().to_string(),
            reason: error.to_string(),
        })?;
    let staging = Staging(staging_path.clone());
    let listen = listen_address(store, &device).await?;
    let tftp_error = |error: netswim_tftp::TftpError| EngineError::Fetch {
        source_name: format!("backup TFTP server on {listen}"),
        reason: error.to_string(),
        hint: "set device_backup_listen to an address the device can reach",
    };
    let (accounting, mut records) = mpsc::unbounded_channel();
    let config = ServerConfig {
        upload: Some(Arc::new(
            UploadArea::new(&staging_path, BACKUP_QUOTA_BYTES).map_err(tftp_error)?,
        )),
        accounting: Some(accounting),
        ..ServerConfig::default()
    };
    let server = TftpServer::bind(
        listen,
        LocalDirectory::new(&staging_path).map_err(tftp_error)?,
        config,
    )
    .await
    .map_err(tftp_error)?;
    let bound = server.local_addr().map_err(tftp_error)?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server_task = tokio::spawn(server.run_until(
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(2),
    ));
    let url = tftp_url(bound, &name);
    // `Address or name of remote host [h]?` and `Destination filename [n]?`
    // default to what the URL says: Enter accepts them.
    let copied = session
        .run_answering(&format!("copy {path} {url}"), &Answer::accept_defaults())
        .await;
    session.close().await;
    let landed = match copied {
        Ok(_) => wait_for_upload(&mut records, &name).await,
        Err(error) => Err(error.into()),
    };
    let _ = stop.send(());
    let _ = server_task.await;
    let bytes = landed?;
    let file_path = staging_path.join(&name);
    let file = tokio::fs::File::open(&file_path)
        .await
        .map_err(|error| EngineError::Io {
            path: file_path.display().to_string(),
            reason: error.to_string(),
        })?;
    step.finish(&format!("{bytes} bytes uploaded by TFTP to {bound}"))
        .await?;
    Ok(DeviceFetch {
        opened: OpenedSource {
            reader: Box::new(file),
            producer: None,
            file_name: name,
        },
        md5,
        staging,
    })
}

async fn connect(context: &BackupContext<'_>, device: &Device) -> Result<Session, EngineError> {
    let profile_id = device
        .credential_profile_id
        .ok_or_else(|| EngineError::Invalid {
            what: "device",
            reason: format!(
                "{} has no credential profile (hint: assign one before a backup)",
                device.name
            ),
        })?;
    let profile = context.store.get_credential_profile(profile_id).await?;
    let secrets = DeviceSecrets::open(&profile.secret, context.key).map_err(|error| {
        EngineError::Invalid {
            what: "credential profile",
            reason: format!(
                "{} cannot be opened: {error} (hint: re-enter the credentials)",
                profile.name
            ),
        }
    })?;
    let options = SessionOptions {
        host: device.host.clone(),
        port: device.port,
        username: profile.username.clone(),
        password: secrets.password.clone(),
        enable_secret: secrets.enable_secret.clone(),
        algorithms: if context.options.allow_legacy_algorithms {
            Algorithms::Legacy
        } else {
            Algorithms::Modern
        },
        connect_timeout: context.options.connect_timeout,
        // The session's one timeout also bounds the `copy` of a whole image.
        command_timeout: COPY_TIMEOUT,
        pinned_host_key: device.ssh_host_key.clone(),
        keyboard_interactive_first: false,
    };
    Ok(Session::connect(options).await?)
}

/// The configured listen address, or the local address the kernel would
/// use toward the device (a connected UDP socket sends nothing).
async fn listen_address(store: &Store, device: &Device) -> Result<SocketAddr, EngineError> {
    if let Some(value) = store.get_setting(DEVICE_BACKUP_LISTEN_SETTING).await?
        && let Some(text) = value.as_str()
    {
        return text.parse().map_err(|error| EngineError::Invalid {
            what: "device_backup_listen setting",
            reason: format!("{text:?}: {error} (hint: an ip:port such as 192.0.2.10:69)"),
        });
    }
    let unreachable = |reason: String| EngineError::Fetch {
        source_name: format!("route to {}", device.host),
        reason,
        hint: "set device_backup_listen to an address the device can reach",
    };
    let target = tokio::net::lookup_host((device.host.as_str(), device.port))
        .await
        .map_err(|error| unreachable(error.to_string()))?
        .next()
        .ok_or_else(|| unreachable("the name resolves to no address".into()))?;
    let unspecified: SocketAddr = if target.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = tokio::net::UdpSocket::bind(unspecified)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    probe
        .connect(target)
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    let local = probe
        .local_addr()
        .map_err(|error| unreachable(error.to_string()))?;
    Ok(SocketAddr::new(local.ip(), 0))
}

/// Waits (bounded) for the server's record of the upload named `name`.
async fn wait_for_upload(
    records: &mut mpsc::UnboundedReceiver<TransferRecord>,
    name: &str,
) -> Result<u64, EngineError> {
    let failed = |reason: String| {
        EngineError::fetch(
            &format!("upload of {name}"),
            reason,
            "retry the backup; check the device reaches the server over TFTP",
        )
    };
    let wait = async {
        while let Some(record) = records.recv().await {
            if record.direction == Direction::Write && bare_file_name(&record.file) == name {
                return record.result.map(|()| record.bytes).map_err(failed);
            }
        }
        Err(failed("the TFTP server stopped".into()))
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .unwrap_or_else(|_| {
            Err(failed(
                "the device reported the copy done but no upload arrived within 60 s".into(),
            ))
        })
}

/// `tftp://ip/name` on port 69; other ports go into the URL (lab only).
fn tftp_url(address: SocketAddr, name: &str) -> String {
    if address.port() == 69 {
        match address {
            SocketAddr::V4(v4) => format!("tftp://{}/{name}", v4.ip()),
            SocketAddr::V6(v6) => format!("tftp://[{}]/{name}", v6.ip()),
        }
    } else {
        format!("tftp://{address}/{name}")
    }
}

/// `flash:dir/x.bin` → `x.bin`.
fn file_name_of(path: &str) -> Option<String> {
    let after_fs = path.rsplit_once(':').map_or(path, |(_, rest)| rest);
    let name = bare_file_name(after_fs);
    (!name.is_empty() && name != "." && name != "..").then(|| name.to_owned())
}

/// The digest of `verify /md5 (flash:x) = 0123...` (IOS and IOS-XE).
fn parse_verify_md5(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (_, digest) = line.rsplit_once('=')?;
        let digest = digest.trim();
        (digest.len() == 32 && digest.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| digest.to_ascii_lowercase())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_md5_lines_yield_the_digest() {
        let cases = [
            (
                ".....Done!\nverify /md5 (flash:c2960x.bin) = 0A1B2C3D4E5F60718293A4B5C6D7E8F9\n",
                Some("0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            ),
            (
                "verify /md5 (bootflash:cat9k.SPA.bin) = 5b5c0e5ff3a1b7e2bb8d3a4c92f30a11",
                Some("5b5c0e5ff3a1b7e2bb8d3a4c92f30a11"),
            ),
            ("%Error opening flash:x (No such file or directory)", None),
            ("verify /md5 (flash:x) = 0123", None),
        ];
        for (output, expected) in cases {
            assert_eq!(parse_verify_md5(output).as_deref(), expected, "{output}");
        }
    }

    #[test]
    fn device_paths_name_their_file() {
        let cases = [
            ("flash:c2960x.bin", Some("c2960x.bin")),
            ("flash:/dir/x.bin", Some("x.bin")),
            ("bootflash:packages.conf", Some("packages.conf")),
            ("flash:", None),
        ];
        for (path, expected) in cases {
            assert_eq!(file_name_of(path).as_deref(), expected, "{path}");
        }
    }

    #[test]
    fn tftp_urls_carry_the_port_only_when_not_69() {
        let cases = [
            ("192.0.2.1:69", "tftp://192.0.2.1/x.bin"),
            ("127.48.0.1:40000", "tftp://127.48.0.1:40000/x.bin"),
            ("[2001:db8::1]:69", "tftp://[2001:db8::1]/x.bin"),
        ];
        for (address, expected) in cases {
            assert_eq!(tftp_url(address.parse().unwrap(), "x.bin"), expected);
        }
    }
}
