//! `copy ftp://user:password@host/path flash:` pulls and `copy flash:X
//! ftp://...` pushes by a lab switch against a real FTP server (pyftpdlib):
//! bytes match on both sides; a wrong password gets IOS's error.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use md5::{Digest, Md5};
use netswim_lab::image::{ImageSpec, make_bin};
use tokio::process::{Child, Command};

const FTP_USER: &str = "backup";
const FTP_PASSWORD: &str = "s3cret";

/// Starts pyftpdlib (writable, one user) on an ephemeral loopback port and
/// waits until it accepts connections.
async fn start_ftpd(root: &Path) -> (Child, u16) {
    let present = std::process::Command::new("python3")
        .args(["-c", "import pyftpdlib"])
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    assert!(
        present,
        "interop peer pyftpdlib is missing: install it with \
         `pip install --break-system-packages pyftpdlib` (a missing peer is a failure, never a skip)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-m", "pyftpdlib", "-i", "127.0.0.1", "-w", "-u", FTP_USER])
        .args(["-P", FTP_PASSWORD, "-p", &port.to_string(), "-d"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("pyftpdlib starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pyftpdlib did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, port)
}

fn md5_hex(bytes: &[u8]) -> String {
    hex::encode(Md5::digest(bytes))
}

#[tokio::test(flavor = "multi_thread")]
async fn ftp_pull_and_push_carry_the_same_bytes_and_bad_logins_fail() {
    let root = tempfile::tempdir().unwrap();
    let image = make_bin(&ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        min_dram_mb: 512,
        size: 300 * 1024,
    })
    .unwrap();
    let name = "c2960x-universalk9-mz.152-7.E8.bin";
    std::fs::write(root.path().join(name), &image).unwrap();
    let (_ftpd, port) = start_ftpd(root.path()).await;
    let lab = start_lab("127.43.30.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    let server = format!("ftp://{FTP_USER}:{FTP_PASSWORD}@127.0.0.1:{port}");

    shell
        .send(&format!("copy {server}/{name} flash:\r\r"))
        .await;
    let pulled = shell.read_until("lab-sw-001#").await;
    assert!(
        pulled.contains(&format!("[OK - {}/4096 bytes]", image.len())),
        "{pulled}"
    );
    let status = lab.status().swap_remove(0);
    let stored = status.file_systems[0]
        .files
        .iter()
        .find(|file| file.path == name)
        .expect("the pulled image is in flash");
    assert_eq!(stored.md5, md5_hex(&image));

    shell
        .send(&format!("copy flash:{name} {server}/pushed.bin\r\r\r"))
        .await;
    let pushed = shell.read_until("lab-sw-001#").await;
    assert!(
        pushed.contains(&format!("{} bytes copied in ", image.len())),
        "{pushed}"
    );
    let received = std::fs::read(root.path().join("pushed.bin")).unwrap();
    assert_eq!(md5_hex(&received), md5_hex(&image));

    // (URL, IOS reason)
    for (url, reason) in [
        (
            format!("ftp://{FTP_USER}:wrong@127.0.0.1:{port}/{name}"),
            "(Incorrect Login/Password)",
        ),
        (
            format!("{server}/missing.bin"),
            "(No such file or directory)",
        ),
    ] {
        shell.send(&format!("copy {url} flash:x.bin\r\r")).await;
        let failed = shell.read_until("lab-sw-001#").await;
        assert!(
            failed.contains(&format!("%Error opening {url} {reason}")),
            "{failed}"
        );
    }
}
