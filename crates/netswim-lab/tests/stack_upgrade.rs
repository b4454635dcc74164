//! A stack upgrade by hand: pull the image over HTTP into the master's flash,
//! copy it to the other member's flash, `boot system switch all`, reload;
//! and the flash-full error when the image does not fit.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use netswim_lab::image::{ImageSpec, make_bin};
use netswim_lab::lab::Lab;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `body` to every GET (a tiny HTTP/1.0 file server).
async fn serve_http(body: Vec<u8>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 2048];
                let _ = stream.read(&mut request).await;
                let head = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    address
}

fn image(size: u64) -> Vec<u8> {
    make_bin(&ImageSpec {
        model: "WS-C3750X-24P".into(),
        version: "15.2(4)E10".into(),
        feature: "universalk9".into(),
        min_dram_mb: 256,
        size,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn http_copy_then_member_copy_then_boot_switch_all_upgrades_every_member() {
    const FILE: &str = "c3750e-universalk9-mz.152-4.E10.bin";
    let http = serve_http(image(300 * 1024)).await;
    // Seed 7 with index 0 gives a stack of 3750X members.
    let lab = start_lab("127.23.1.1", "ios-stack:1", 1).await;
    let device = lab.devices[0].handle.clone();
    assert_eq!(lab.status()[0].model, "WS-C3750X-24P");
    let members = lab.status()[0].members.len();
    let handle = connect_with_password(device.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!("copy http://{http}/{FILE} flash1:\r\r"))
        .await;
    let pulled = shell.read_until("lab-sw-001#").await;
    assert!(
        pulled.contains(&format!("Accessing http://{http}/{FILE}...\r\n")),
        "{pulled}"
    );
    assert!(
        pulled.contains("[OK - 307200/4096 bytes]\r\n\r\n307200 bytes copied in "),
        "{pulled}"
    );
    for member in 2..=members {
        shell
            .send(&format!("copy flash1:{FILE} flash{member}:\r\r"))
            .await;
        let copied = shell.read_until("lab-sw-001#").await;
        assert!(copied.contains("Copy in progress...C"), "{copied}");
        assert!(copied.contains("307200 bytes copied in "), "{copied}");
    }
    shell
        .send(&format!(
            "conf t\rboot system switch all flash:{FILE}\rend\rwr\rreload\r\r"
        ))
        .await;
    shell.read_to_close().await;
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .unwrap();
    let status = &lab.status()[0];
    assert_eq!(status.running_version.as_deref(), Some("15.2(4)E10"));
    for member in &status.members {
        assert_eq!(
            member.running_version.as_deref(),
            Some("15.2(4)E10"),
            "{member:?}"
        );
        assert_eq!(member.state, "Ready");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn member_left_on_the_old_image_is_version_mismatch_in_show_switch() {
    const FILE: &str = "c3750e-universalk9-mz.152-4.E10.bin";
    let http = serve_http(image(300 * 1024)).await;
    let lab = start_lab("127.23.2.1", "ios-stack:1", 1).await;
    let device = lab.devices[0].handle.clone();
    let handle = connect_with_password(device.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    // Only the master gets the new image and its own boot line; the other
    // members keep the `switch all` line and boot the old image.
    shell
        .send(&format!("copy http://{http}/{FILE} flash1:\r\r"))
        .await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!(
            "conf t\rboot system switch 1 flash:{FILE}\rend\rwr\rreload\r\r"
        ))
        .await;
    shell.read_to_close().await;
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .unwrap();
    let handle = connect_with_password(device.ssh_address()).await;
    let (output, _) = exec(&handle, "show switch").await;
    assert!(output.contains("*1       Master "), "{output}");
    assert!(output.contains(" 2       Member "), "{output}");
    assert!(output.contains("Version Mismatch"), "{output}");
    assert_eq!(lab.status()[0].members[1].state, "Version Mismatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_larger_than_free_flash_fails_with_not_enough_space() {
    let http = serve_http(image(600 * 1024)).await;
    let mut options = lab_options("127.23.3.1", "ios:1", 1);
    options.flash_size = Some(800 * 1024);
    let lab = Lab::start(&options).await.unwrap();
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send(&format!("copy http://{http}/big.bin flash:\r\r"))
        .await;
    let text = shell.read_until("lab-sw-001#").await;
    assert!(
        text.contains(&format!(
            "%Error copying http://{http}/big.bin (Not enough space on device)\r\n"
        )),
        "{text}"
    );
    let status = &lab.status()[0];
    assert!(
        status.file_systems[0]
            .files
            .iter()
            .all(|file| file.path != "big.bin")
    );
}
