//! SCP between lab switches and with OpenSSH: `copy scp://user@host/path
//! flash:` (the device as SCP client, password prompt), `copy flash:X
//! scp://...` pushes, and OpenSSH `scp` copying a file off a switch with
//! `ip scp server enable`; bytes match the ground truth md5 everywhere.

mod common;

use std::process::Command;

use common::*;
use md5::{Digest, Md5};

const IMAGE: &str = "c2960x-universalk9-mz.152-2.E7.bin";

fn md5_of(lab: &netswim_lab::lab::Lab, index: usize, path: &str) -> Option<String> {
    lab.status()[index].file_systems[0]
        .files
        .iter()
        .find(|file| file.path == path)
        .map(|file| file.md5.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn switches_pull_and_push_by_scp_with_a_password_prompt() {
    let lab = start_lab("127.43.40.1", "ios:2", 2).await;
    lab.devices[1].handle.lock().set_scp_server(true);
    let peer = lab.devices[1].handle.ssh_address();
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    let server = format!("scp://{USERNAME}@{}:{}", peer.ip(), peer.port());

    shell
        .send(&format!("copy {server}/flash:{IMAGE} flash:\r"))
        .await;
    shell
        .read_until(&format!("Destination filename [{IMAGE}]? "))
        .await;
    shell.send("pulled.bin\r").await;
    shell.read_until("Password: ").await;
    shell.send(&format!("{PASSWORD}\r")).await;
    let pulled = shell.read_until("lab-sw-001#").await;
    assert!(
        !pulled.contains(PASSWORD),
        "the password is not echoed: {pulled}"
    );
    assert!(pulled.contains("/4096 bytes]"), "{pulled}");
    let original = md5_of(&lab, 1, IMAGE).unwrap();
    assert_eq!(md5_of(&lab, 0, "pulled.bin"), Some(original.clone()));

    shell
        .send(&format!(
            "copy flash:pulled.bin {server}/flash:pushed.bin\r"
        ))
        .await;
    shell
        .read_until(&format!("Address or name of remote host [{}]? ", peer.ip()))
        .await;
    shell.send("\r").await;
    shell
        .read_until("Destination filename [flash:pushed.bin]? ")
        .await;
    shell.send("\r").await;
    shell.read_until("Password: ").await;
    shell.send(&format!("{PASSWORD}\r")).await;
    let pushed = shell.read_until("lab-sw-001#").await;
    assert!(pushed.contains("bytes copied in "), "{pushed}");
    assert_eq!(md5_of(&lab, 1, "pushed.bin"), Some(original));

    // (source URL, password, IOS reason)
    for (url, password, reason) in [
        (
            format!("{server}/flash:{IMAGE}"),
            "wrong",
            "(Permission denied)",
        ),
        (
            format!("{server}/flash:missing.bin"),
            PASSWORD,
            "(No such file or directory)",
        ),
    ] {
        shell.send(&format!("copy {url} flash:x.bin\r\r")).await;
        shell.read_until("Password: ").await;
        shell.send(&format!("{password}\r")).await;
        let failed = shell.read_until("lab-sw-001#").await;
        assert!(
            failed.contains(&format!("%Error opening {url} {reason}")),
            "{failed}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_scp_copies_a_file_off_a_switch_with_the_scp_server_enabled() {
    let scp = require_peer("scp", "openssh-client");
    let sshpass = require_peer("sshpass", "sshpass");
    let lab = start_lab("127.43.41.1", "ios:1", 1).await;
    let address = lab.devices[0].handle.ssh_address();
    let directory = tempfile::tempdir().unwrap();
    let local = directory.path().join("copy.bin");
    let run = |local: std::path::PathBuf| {
        let scp = scp.clone();
        let sshpass = sshpass.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(sshpass)
                .args(["-p", PASSWORD, &scp, "-O"])
                .args(openssh_options(address.port()).iter().map(|option| {
                    // `scp` spells the port option -P.
                    if option == "-p" {
                        "-P".to_string()
                    } else {
                        option.clone()
                    }
                }))
                .arg(format!("{USERNAME}@{}:flash:{IMAGE}", address.ip()))
                .arg(local)
                .output()
                .unwrap()
        })
    };
    // Without `ip scp server enable` the switch refuses.
    let refused = run(local.clone()).await.unwrap();
    assert!(!refused.status.success());
    assert!(!local.exists());
    lab.devices[0].handle.lock().set_scp_server(true);
    let copied = run(local.clone()).await.unwrap();
    assert!(
        copied.status.success(),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    let bytes = std::fs::read(&local).unwrap();
    assert_eq!(
        Some(hex::encode(Md5::digest(&bytes))),
        md5_of(&lab, 0, IMAGE)
    );
}
