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
