//! Uploads from the device (`copy flash:X tftp://host/path`, the image
//! backup before an upgrade) to netswim's TFTP server: the bytes that arrive
//! have the md5 the device's ground truth states; a corrupted file is refused.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use common::*;
use md5::{Digest, Md5};
use netswim_lab::device::Faults;
use netswim_lab::image::{ImageSpec, make_bin};
use netswim_tftp::{LocalDirectory, ServerConfig, TftpServer, UploadArea};

/// netswim's TFTP server serving and accepting uploads into `directory`.
async fn start_tftp(directory: &Path) -> SocketAddr {
    let config = ServerConfig {
        upload: Some(Arc::new(UploadArea::new(directory, 1 << 30).unwrap())),
        ..ServerConfig::default()
    };
    let server = TftpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        LocalDirectory::new(directory).unwrap(),
        config,
    )
    .await
    .unwrap();
    let address = server.local_addr().unwrap();
    tokio::spawn(server.run());
    address
}

fn md5_of(path: &Path) -> String {
    hex::encode(Md5::digest(std::fs::read(path).unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn flash_files_upload_by_tftp_with_the_ground_truth_md5() {
    let root = tempfile::tempdir().unwrap();
    let tftp = start_tftp(root.path()).await;
    let lab = start_lab("127.43.20.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    let truth = lab
        .status()
        .swap_remove(0)
        .file_systems
        .swap_remove(0)
        .files;
    // (flash file, name given in the URL, answer to the filename prompt, stored as)
    let cases = [
        (
            "c2960x-universalk9-mz.152-2.E7.bin",
            "backup.bin",
            "",
            "backup.bin",
        ),
        ("vlan.dat", "x.dat", "vlan-backup.dat", "vlan-backup.dat"),
    ];
    for (file, in_url, answer, stored) in cases {
        shell
            .send(&format!("copy flash:{file} tftp://{tftp}/{in_url}\r"))
            .await;
        shell
            .read_until("Address or name of remote host [127.0.0.1]? ")
            .await;
        shell.send("\r").await;
        shell
            .read_until(&format!("Destination filename [{in_url}]? "))
            .await;
        shell.send(&format!("{answer}\r")).await;
        let transcript = shell.read_until("lab-sw-001#").await;
        let expected = truth.iter().find(|f| f.path == file).unwrap();
        assert!(
            transcript.contains(&format!("{} bytes copied in ", expected.size)),
            "{transcript}"
        );
        assert_eq!(md5_of(&root.path().join(stored)), expected.md5, "{file}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_or_missing_files_are_not_uploaded() {
    let root = tempfile::tempdir().unwrap();
    let image = make_bin(&ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        min_dram_mb: 512,
        size: 64 * 1024,
    })
    .unwrap();
    std::fs::write(root.path().join("new.bin"), &image).unwrap();
    let tftp = start_tftp(root.path()).await;
    let lab = start_lab("127.43.21.1", "ios:1", 1).await;
    lab.devices[0].handle.set_faults(Faults {
        corrupt_transfers: true,
        ..Faults::default()
    });
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!("copy tftp://{tftp}/new.bin flash:\r\r"))
        .await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!("copy flash:new.bin tftp://{tftp}/back.bin\r\r\r"))
        .await;
    let refused = shell.read_until("lab-sw-001#").await;
    assert!(
        refused.contains("%Error reading flash:new.bin (I/O error"),
        "{refused}"
    );
    assert!(!root.path().join("back.bin").exists());
    shell
        .send(&format!("copy flash:nothing.bin tftp://{tftp}/x\r"))
        .await;
    let missing = shell.read_until("lab-sw-001#").await;
    assert!(
        missing.contains("%Error opening flash:nothing.bin (No such file or directory)"),
        "{missing}"
    );
}
