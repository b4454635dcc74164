//! OpenSSH's `ssh` (with `sshpass`) against lab devices, by exec and
//! interactively, as network engineers use it. A missing peer fails the test.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Runs `sshpass -p PASSWORD ssh <options> extra... admin@host [command]`,
/// feeding `input` on stdin; returns stdout.
async fn openssh(
    host: std::net::SocketAddr,
    extra: &[&str],
    command: Option<&str>,
    input: &str,
) -> String {
    let sshpass = require_peer("sshpass", "sshpass");
    require_peer("ssh", "openssh-client");
    let mut process = Command::new(sshpass);
    process
        .args(["-p", PASSWORD, "ssh"])
        .args(openssh_options(host.port()))
        .args(extra)
        .arg(format!("{USERNAME}@{}", host.ip()))
        .args(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = process.spawn().expect("sshpass starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("ssh finished in time")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        !stdout.is_empty(),
        "ssh printed nothing; stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_exec_runs_show_version() {
    let lab = start_lab("127.21.1.1", "ios:1", 1).await;
    let output = openssh(
        lab.devices[0].handle.ssh_address(),
        &[],
        Some("show version"),
        "",
    )
    .await;
    assert!(
        output.starts_with("Cisco IOS Software, C2960X Software"),
        "{output}"
    );
    assert!(output.contains("lab-sw-001 uptime is "));
    assert!(output.contains("cisco WS-C2960X-48FPD-L (APM86XXX) processor"));
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_interactive_session_runs_piped_commands() {
    let lab = start_lab("127.21.2.1", "ios-stack:1", 1).await;
    let script = format!(
        "enable\n{ENABLE_SECRET}\nterminal length 0\nshow switch\ndir flash2:\nshow running-config | include boot\nexit\n"
    );
    let output = openssh(lab.devices[0].handle.ssh_address(), &["-tt"], None, &script).await;
    let output = output.replace("\r\n", "\n");
    assert!(
        output.contains("lab-sw-001>enable\nPassword: \n"),
        "{output}"
    );
    assert!(!output.contains(ENABLE_SECRET), "secret echoed: {output}");
    assert!(output.contains("lab-sw-001#show switch\nSwitch/Stack Mac Address : "));
    assert!(output.contains("\n 2       Member "), "{output}");
    assert!(output.contains("Directory of flash2:/\n"));
    assert!(output.contains("boot-start-marker\nboot system switch all flash:"));
    assert!(output.ends_with("lab-sw-001#exit\n"), "{output}");
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_connects_to_a_legacy_device_with_old_ios_algorithms() {
    let lab = start_lab("127.21.3.1", "ios+legacy:1", 1).await;
    let legacy = [
        "-o",
        "KexAlgorithms=diffie-hellman-group14-sha1",
        "-o",
        "HostKeyAlgorithms=ssh-rsa",
        "-o",
        "Ciphers=aes128-cbc",
        "-o",
        "MACs=hmac-sha1",
    ];
    let output = openssh(
        lab.devices[0].handle.ssh_address(),
        &legacy,
        Some("show version"),
        "",
    )
    .await;
    assert!(output.starts_with("Cisco IOS Software"), "{output}");
}

/// Runs `sshpass -p PASSWORD scp -O ... FILE admin@host:TARGET`; returns success.
async fn openssh_scp_push(
    host: std::net::SocketAddr,
    file: &std::path::Path,
    target: &str,
) -> bool {
    let sshpass = require_peer("sshpass", "sshpass");
    require_peer("scp", "openssh-client");
    let options: Vec<String> = openssh_options(host.port())
        .into_iter()
        .map(|option| {
            if option == "-p" {
                "-P".to_string()
            } else {
                option
            }
        })
        .collect();
    let status = Command::new(sshpass)
        .args(["-p", PASSWORD, "scp", "-O"])
        .args(options)
        .arg(file)
        .arg(format!("{USERNAME}@{}:{target}", host.ip()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    tokio::time::timeout(Duration::from_secs(30), status)
        .await
        .expect("scp finished in time")
        .unwrap()
        .success()
}

#[tokio::test(flavor = "multi_thread")]
async fn openssh_scp_push_needs_ip_scp_server_enable_and_keeps_the_md5() {
    let lab = start_lab("127.21.4.1", "ios:1", 1).await;
    let address = lab.devices[0].handle.ssh_address();
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("push.bin");
    let content: Vec<u8> = (0..300_000u32)
        .map(|index| (index * 7 % 256) as u8)
        .collect();
    std::fs::write(&file, &content).unwrap();
    let md5 = {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(&content))
    };
    assert!(
        !openssh_scp_push(address, &file, "flash:/push.bin").await,
        "SCP must fail while the SCP server is disabled"
    );
    let script = format!("enable\n{ENABLE_SECRET}\nconf t\nip scp server enable\nend\nexit\n");
    openssh(address, &["-tt"], None, &script).await;
    assert!(openssh_scp_push(address, &file, "flash:/push.bin").await);
    let status = &lab.status()[0];
    let pushed = status.file_systems[0]
        .files
        .iter()
        .find(|entry| entry.path == "push.bin")
        .expect("pushed file in flash");
    assert_eq!(pushed.size, 300_000);
    assert_eq!(pushed.md5, md5);
}
