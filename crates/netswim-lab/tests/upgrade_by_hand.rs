//! The by-hand upgrade network engineers script, against a lab device:
//! `copy tftp://` from tftpd-hpa serving a `make-image` file, `verify /md5`,
//! `boot system`, `write memory`, `reload`; ground truth from the control
//! endpoint. A corrupted copy is never booted.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use netswim_lab::cli::{MakeImageArgs, make_image};
use netswim_lab::lab::{DeviceStatus, control_get, serve_control};

fn write_image(directory: &Path, version: &str) -> std::path::PathBuf {
    make_image(MakeImageArgs {
        platform: "ios".into(),
        model: "WS-C2960X-48FPD-L".into(),
        version: version.into(),
        feature: "universalk9".into(),
        format: "bin".into(),
        size: "512KiB".into(),
        min_dram_mb: 512,
        output: Some(directory.to_path_buf()),
    })
    .unwrap()
}

async fn device_status(control: SocketAddr, name: &str) -> DeviceStatus {
    let body = control_get(control, &format!("/devices/{name}"))
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Logs in, enables, and runs the upgrade dialogue up to the reload.
async fn upgrade_by_hand(
    address: SocketAddr,
    tftp_port: u16,
    file: &str,
    boot_path: &str,
) -> String {
    let handle = connect_with_password(address).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until(">").await;
    shell
        .send(&format!("enable\r{ENABLE_SECRET}\rterminal length 0\r"))
        .await;
    shell.read_until("#").await;
    shell.read_until("#").await;
    shell
        .send(&format!(
            "copy tftp://127.0.0.1:{tftp_port}/{file} flash:\r"
        ))
        .await;
    shell
        .read_until(&format!("Destination filename [{file}]? "))
        .await;
    shell.send("\r").await;
    let copy = shell.read_until("#").await;
    shell.send(&format!("verify /md5 flash:{file}\r")).await;
    let verify = shell.read_until("#").await;
    shell
        .send(&format!(
            "configure terminal\rboot system {boot_path}\rend\rwrite memory\r"
        ))
        .await;
    shell.read_until("[OK]\r\nlab-sw-001#").await;
    shell.send("reload\r").await;
    shell.read_until("Proceed with reload? [confirm]").await;
    shell.send("\r").await;
    shell.read_to_close().await;
    format!("{copy}{verify}")
}

#[tokio::test(flavor = "multi_thread")]
async fn tftp_copy_boot_system_write_reload_runs_the_new_version() {
    let root = tempfile::tempdir().unwrap();
    let image = write_image(root.path(), "15.2(7)E8");
    let file = image.file_name().unwrap().to_str().unwrap().to_string();
    let expected_md5 = {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(std::fs::read(&image).unwrap()))
    };
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = Arc::new(start_lab("127.22.1.1", "ios:1", 1).await);
    let (control, _server) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let device = lab.devices[0].handle.clone();

    let transcript = upgrade_by_hand(
        device.ssh_address(),
        tftp_port,
        &file,
        &format!("flash:{file}"),
    )
    .await;
    assert!(
        transcript.contains("[OK - 524288 bytes]\r\n\r\n524288 bytes copied in "),
        "{transcript}"
    );
    assert!(
        transcript.contains(&format!("verify /md5 (flash:{file}) = {expected_md5}\r\n")),
        "{transcript}"
    );

    let during = device_status(control, "lab-sw-001").await;
    assert_eq!(during.state, "reloading");
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .unwrap();
    let after = device_status(control, "lab-sw-001").await;
    assert_eq!(after.state, "up");
    assert_eq!(after.running_version.as_deref(), Some("15.2(7)E8"));
    assert_eq!(after.running_image, Some(format!("flash:{file}")));
    assert_eq!(after.reload_count, 1);
    let copied = after.file_systems[0]
        .files
        .iter()
        .find(|entry| entry.path == file)
        .unwrap();
    assert_eq!(copied.md5, expected_md5);
    assert_eq!(copied.size, 524_288);
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupted_copy_is_not_booted() {
    let root = tempfile::tempdir().unwrap();
    let image = write_image(root.path(), "15.2(7)E8");
    let file = image.file_name().unwrap().to_str().unwrap().to_string();
    let mut bytes = std::fs::read(&image).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&image, bytes).unwrap();
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = Arc::new(start_lab("127.22.2.1", "ios:2", 2).await);
    let (control, _server) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    // First device: corrupt image first on the path, the old one after it.
    let first = lab.devices[0].handle.clone();
    let old = lab.status()[0].running_image.clone().unwrap();
    upgrade_by_hand(
        first.ssh_address(),
        tftp_port,
        &file,
        &format!("flash:{file};{old}"),
    )
    .await;
    tokio::time::timeout(Duration::from_secs(5), first.wait_listening(2))
        .await
        .unwrap();
    let status = device_status(control, "lab-sw-001").await;
    assert_eq!(status.running_version.as_deref(), Some("15.2(2)E7"));

    // Second device: only the corrupt image on the path: it stays in rommon.
    let second = lab.devices[1].handle.clone();
    let address = second.ssh_address();
    let transcript = {
        // The device's hostname differs; drive the same dialogue by hand.
        let handle = connect_with_password(address).await;
        let mut shell = Shell::open(&handle).await;
        shell.read_until("lab-sw-002>").await;
        shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
        shell.read_until("lab-sw-002#").await;
        shell
            .send(&format!(
                "copy tftp://127.0.0.1:{tftp_port}/{file} flash:\r\r"
            ))
            .await;
        let copy = shell.read_until("lab-sw-002#").await;
        shell
            .send(&format!(
                "conf t\rboot system flash:{file}\rend\rwrite memory\rreload\r"
            ))
            .await;
        shell.read_until("Proceed with reload? [confirm]").await;
        shell.send("\r").await;
        shell.read_to_close().await;
        copy
    };
    assert!(transcript.contains("[OK - 524288 bytes]"), "{transcript}");
    wait_settled(&lab, 1).await;
    let status = device_status(control, "lab-sw-002").await;
    assert_eq!(status.state, "rommon");
    assert_eq!(status.running_version, None);
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_file_on_the_tftp_server_prints_the_ios_error() {
    let root = tempfile::tempdir().unwrap();
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.22.3.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!(
            "copy tftp://127.0.0.1:{tftp_port}/nothing.bin flash:\r\r"
        ))
        .await;
    let text = shell.read_until("lab-sw-001#").await;
    assert!(
        text.contains(&format!("%Error opening tftp://127.0.0.1:{tftp_port}/nothing.bin (No such file or directory)\r\n")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn control_endpoint_lists_devices_and_rejects_unknown_names() {
    let lab = Arc::new(start_lab("127.22.4.1", "ios-stack:1,ios:1", 2).await);
    let (control, _server) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let body = control_get(control, "/devices").await.unwrap();
    let devices: Vec<DeviceStatus> = serde_json::from_str(&body).unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices[0].members.len() >= 2);
    assert_eq!(devices[0].file_systems[1].name, "flash2:");
    assert!(devices.iter().all(|device| device.state == "up"));
    let missing = control_get(control, "/devices/nope").await;
    assert!(
        matches!(
            missing,
            Err(netswim_lab::LabError::Control { status: 404, .. })
        ),
        "{missing:?}"
    );
    let table = netswim_lab::cli::status_table(&devices);
    assert!(table.starts_with("NAME "));
    assert!(table.contains("lab-sw-002"));
    let csv = lab.inventory_csv();
    assert!(
        csv.starts_with("name,host,port,platform,username,password,site,role,peer,enable_secret\n")
    );
    assert!(
        csv.lines()
            .skip(1)
            .all(|line| line.ends_with(",lab-enable"))
    );
    assert!(csv.contains(&format!(
        "lab-sw-001,127.22.4.1,{},ios,admin,",
        devices[0].port
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn tar_archive_pulled_by_tftp_extracts_and_boots() {
    let root = tempfile::tempdir().unwrap();
    let archive = make_image(MakeImageArgs {
        platform: "ios".into(),
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        format: "tar".into(),
        size: "600KiB".into(),
        min_dram_mb: 512,
        output: Some(root.path().to_path_buf()),
    })
    .unwrap();
    let file = archive.file_name().unwrap().to_str().unwrap().to_string();
    assert_eq!(file, "c2960x-universalk9-tar.152-7.E8.tar");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.22.5.1", "ios:1", 1).await;
    let device = lab.devices[0].handle.clone();
    let handle = connect_with_password(device.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell
        .send(&format!("enable\r{ENABLE_SECRET}\rterminal length 0\r"))
        .await;
    shell.read_until("lab-sw-001#").await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!(
            "copy tftp://127.0.0.1:{tftp_port}/{file} flash:\r\r"
        ))
        .await;
    let copy = shell.read_until("lab-sw-001#").await;
    assert!(copy.contains("[OK - 614400 bytes]"), "{copy}");
    shell
        .send(&format!("archive tar /xtract flash:{file} flash:\r"))
        .await;
    let extract = shell.read_until("lab-sw-001#").await;
    let dir = "c2960x-universalk9-mz.152-7.E8";
    assert!(extract.contains("extracting info ("), "{extract}");
    assert!(
        extract.contains(&format!("{dir}/ (directory)\r\n")),
        "{extract}"
    );
    assert!(
        extract.contains(&format!("extracting {dir}/{dir}.bin (")),
        "{extract}"
    );
    shell.send(&format!("dir flash:{dir}\r")).await;
    let listing = shell.read_until("lab-sw-001#").await;
    assert!(
        listing.contains(&format!("Directory of flash:/{dir}/\r\n")),
        "{listing}"
    );
    assert!(listing.contains(&format!("  {dir}.bin\r\n")), "{listing}");
    shell
        .send(&format!(
            "conf t\rboot system flash:/{dir}/{dir}.bin\rend\rwrite memory\rreload\r\r"
        ))
        .await;
    shell.read_to_close().await;
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .unwrap();
    let status = &lab.status()[0];
    assert_eq!(status.running_version.as_deref(), Some("15.2(7)E8"));
    assert_eq!(status.running_image, Some(format!("flash:{dir}/{dir}.bin")));
}
