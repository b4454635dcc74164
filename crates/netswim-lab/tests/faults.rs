//! Faults injected at run time through the control endpoint: refused logins,
//! corrupted and slow transfers, failed boots, devices that never return,
//! slow CLI replies.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use netswim_lab::image::{ImageSpec, make_bin};
use netswim_lab::lab::{DeviceStatus, Lab, control_request, serve_control};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

async fn lab_with_control(base: &str) -> (Arc<Lab>, SocketAddr) {
    let lab = Arc::new(start_lab(base, "ios:1", 1).await);
    let (control, _task) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    (lab, control)
}

async fn set_faults(control: SocketAddr, json: &str) -> DeviceStatus {
    let body = control_request(control, "PUT", "/devices/lab-sw-001/faults", Some(json))
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Logs in, enables, runs `lines` one by one, returns the transcript.
async fn run_lines(address: SocketAddr, lines: &[String]) -> String {
    let handle = connect_with_password(address).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    let mut transcript = String::new();
    for line in lines {
        shell.send(&format!("{line}\r")).await;
        transcript.push_str(&shell.read_until("lab-sw-001#").await);
    }
    transcript
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_failure_fault_refuses_logins_until_cleared() {
    let (lab, control) = lab_with_control("127.24.1.1").await;
    let address = lab.devices[0].handle.ssh_address();
    let status = set_faults(control, r#"{"auth_failure": true}"#).await;
    assert!(status.faults.auth_failure);
    let mut handle = connect(address).await;
    assert!(
        !handle
            .authenticate_password(USERNAME, PASSWORD)
            .await
            .unwrap()
            .success()
    );
    set_faults(control, "{}").await;
    let mut handle = connect(address).await;
    assert!(
        handle
            .authenticate_password(USERNAME, PASSWORD)
            .await
            .unwrap()
            .success()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_transfer_fault_changes_the_md5_and_the_image_does_not_boot() {
    let image = make_bin(&ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        min_dram_mb: 512,
        size: 64 * 1024,
    })
    .unwrap();
    let good_md5 = {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(&image))
    };
    let http = serve_http(image).await;
    let (lab, control) = lab_with_control("127.24.2.1").await;
    let device = lab.devices[0].handle.clone();
    set_faults(control, r#"{"corrupt_transfers": true}"#).await;
    let transcript = run_lines(
        device.ssh_address(),
        &[
            format!("copy http://{http}/new.bin flash:\r"),
            format!("verify /md5 flash:new.bin {good_md5}"),
            "conf t\rboot system flash:new.bin\rend".into(),
        ],
    )
    .await;
    assert!(
        transcript.contains("[OK - 65536/4096 bytes]"),
        "{transcript}"
    );
    assert!(
        transcript.contains("%Error verifying flash:new.bin\r\n"),
        "{transcript}"
    );
    set_faults(control, "{}").await;
    device.reload();
    // The boot path holds only the corrupted image: the device stays in rommon.
    let status = wait_settled(&lab, 0).await;
    assert_eq!(status.state, "rommon");
    assert_eq!(status.running_version, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn never_return_fault_leaves_the_device_down_until_reloaded_again() {
    let (lab, control) = lab_with_control("127.24.3.1").await;
    let device = lab.devices[0].handle.clone();
    set_faults(control, r#"{"never_return": true}"#).await;
    control_request(control, "POST", "/devices/lab-sw-001/reload", None)
        .await
        .unwrap();
    assert_eq!(wait_settled(&lab, 0).await.state, "down");
    assert!(
        tokio::net::TcpStream::connect(device.ssh_address())
            .await
            .is_err()
    );
    set_faults(control, "{}").await;
    control_request(control, "POST", "/devices/lab-sw-001/reload", None)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .unwrap();
    let status = &lab.status()[0];
    assert_eq!(status.state, "up");
    assert_eq!(status.reload_count, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn boot_failure_fault_sends_the_device_to_rommon() {
    let (lab, control) = lab_with_control("127.24.4.1").await;
    set_faults(control, r#"{"boot_failure": true}"#).await;
    control_request(control, "POST", "/devices/lab-sw-001/reload", None)
        .await
        .unwrap();
    assert_eq!(wait_settled(&lab, 0).await.state, "rommon");
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_cli_and_bandwidth_faults_slow_replies_and_transfers() {
    let http = serve_http(vec![0x42; 32 * 1024]).await;
    let (lab, control) = lab_with_control("127.24.5.1").await;
    let address = lab.devices[0].handle.ssh_address();
    set_faults(control, r#"{"slow_cli_ms": 400}"#).await;
    let handle = connect_with_password(address).await;
    let started = Instant::now();
    let (output, _) = exec(&handle, "show version").await;
    assert!(output.starts_with("Cisco IOS Software"));
    assert!(started.elapsed() >= Duration::from_millis(400));
    set_faults(control, r#"{"bandwidth_bytes_per_sec": 40960}"#).await;
    let started = Instant::now();
    let transcript = run_lines(address, &[format!("copy http://{http}/blob.bin flash:\r")]).await;
    assert!(transcript.contains("32768 bytes copied in"), "{transcript}");
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
}
