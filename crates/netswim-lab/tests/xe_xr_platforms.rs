//! IOS-XE (Catalyst 9300) and IOS-XR (ASR 9006) lab devices over real SSH:
//! what each command prints, an XE bundle→install→bundle upgrade from a
//! tftpd-hpa served `make-image` file, and the XR add/activate/commit cycle
//! with its revert of an uncommitted release at reload. Ground truth from the
//! control endpoint.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use netswim_lab::cli::{MakeImageArgs, make_image};
use netswim_lab::lab::{DeviceStatus, control_get, serve_control};
use netswim_lab::server::DeviceHandle;

fn write_image(directory: &Path, platform: &str, model: &str, version: &str) -> String {
    let path = make_image(MakeImageArgs {
        platform: platform.into(),
        model: model.into(),
        version: version.into(),
        feature: "universalk9".into(),
        format: if platform == "iosxr" { "iso" } else { "bin" }.into(),
        size: "384KiB".into(),
        min_dram_mb: 4096,
        output: Some(directory.to_path_buf()),
    })
    .unwrap();
    path.file_name().unwrap().to_str().unwrap().to_string()
}

async fn status_of(control: SocketAddr, name: &str) -> DeviceStatus {
    let body = control_get(control, &format!("/devices/{name}"))
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Waits for the device to listen again after its `count - 1`th reload.
async fn wait_back(device: &DeviceHandle, count: u64) {
    tokio::time::timeout(Duration::from_secs(20), device.wait_listening(count))
        .await
        .expect("device came back from reload");
}

/// An XE shell in privileged mode with paging off.
async fn xe_shell(address: SocketAddr) -> (russh::client::Handle<TrustingClient>, Shell) {
    let handle = connect_with_password(address).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell
        .send(&format!("enable\r{ENABLE_SECRET}\rterminal length 0\r"))
        .await;
    shell.read_until("lab-sw-001#").await;
    shell.read_until("lab-sw-001#").await;
    (handle, shell)
}

const XR_PROMPT: &str = "RP/0/RSP0/CPU0:lab-rtr-001#";

/// An XR shell (no `enable` on XR) with paging off.
async fn xr_shell(address: SocketAddr) -> (russh::client::Handle<TrustingClient>, Shell) {
    let handle = connect_with_password(address).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until(XR_PROMPT).await;
    shell.send("terminal length 0\r").await;
    shell.read_until(XR_PROMPT).await;
    (handle, shell)
}

async fn run(shell: &mut Shell, command: &str, prompt: &str) -> String {
    shell.send(&format!("{command}\r")).await;
    shell.read_until(prompt).await
}

/// Polls `show install request` until no install operation runs, then
/// returns `show install log <id>`.
async fn wait_install(shell: &mut Shell, id: u32) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let request = run(shell, "show install request", XR_PROMPT).await;
        if request.contains("No install operation in progress") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running: {request}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    run(shell, &format!("show install log {id}"), XR_PROMPT).await
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxe_commands_print_catalyst_9300_output_matching_ground_truth() {
    let lab = start_lab("127.42.1.1", "iosxe:1", 1).await;
    let truth = lab.status().swap_remove(0);
    assert_eq!(truth.platform, "iosxe");
    assert_eq!(truth.model, "C9300-48P");
    assert_eq!(truth.install_mode.as_deref(), Some("bundle"));
    let image = "cat9k_iosxe.17.09.04a.SPA.bin";
    assert_eq!(truth.running_image, Some(format!("flash:{image}")));
    assert!(lab.inventory_csv().contains(",iosxe,"));
    let (_handle, mut shell) = xe_shell(lab.devices[0].handle.ssh_address()).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "show version",
            &[
                "Cisco IOS XE Software, Version 17.09.04a\r\n",
                "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4a, RELEASE SOFTWARE",
                "System image file is \"flash:cat9k_iosxe.17.09.04a.SPA.bin\"\r\n",
                "*    1 52    C9300-48P          17.09.04a         CAT9K_IOSXE           BUNDLE",
            ],
        ),
        ("sh ver | include BUNDLE", &["BUNDLE \r\n"]),
        (
            "show boot",
            &[
                "BOOT variable = flash:cat9k_iosxe.17.09.04a.SPA.bin;\r\n",
                "MANUAL_BOOT variable = no",
            ],
        ),
        (
            "show bootvar",
            &["BOOT variable = flash:cat9k_iosxe.17.09.04a.SPA.bin;\r\n"],
        ),
        (
            "show install summary",
            &[
                "[ Switch 1 ] Installed Package(s) Information:",
                "IMG   C    17.09.04a.0.6\r\n",
            ],
        ),
        ("dir bootflash:", &["Directory of bootflash:/", image]),
        ("dir flash:", &["Directory of flash:/", image]),
        (
            "show file systems",
            &["      disk     rw   bootflash: flash:\r\n"],
        ),
        (
            "install remove nothing",
            &["% Invalid input detected at '^' marker."],
        ),
    ];
    for (command, expected) in cases {
        let output = run(&mut shell, command, "lab-sw-001#").await;
        for text in *expected {
            assert!(
                output.contains(text),
                "{command}: missing {text:?} in {output}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxe_install_mode_upgrade_then_back_to_bundle_boots_from_the_bytes() {
    let root = tempfile::tempdir().unwrap();
    let file = write_image(root.path(), "iosxe", "C9300-48P", "17.12.01");
    assert_eq!(file, "cat9k_iosxe.17.12.01.SPA.bin");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = Arc::new(start_lab("127.42.2.1", "iosxe:1", 1).await);
    let (control, _server) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let device = lab.devices[0].handle.clone();
    let old_bundle = "cat9k_iosxe.17.09.04a.SPA.bin";

    // Bundle → install: copy, verify, install add … activate commit.
    let (_handle, mut shell) = xe_shell(device.ssh_address()).await;
    shell
        .send(&format!(
            "copy tftp://127.0.0.1:{tftp_port}/{file} flash:\r"
        ))
        .await;
    shell
        .read_until(&format!("Destination filename [{file}]? "))
        .await;
    shell.send("\r").await;
    let copy = shell.read_until("lab-sw-001#").await;
    assert!(copy.contains("bytes copied in"), "{copy}");
    let install = {
        shell
            .send(&format!(
                "install add file flash:{file} activate commit prompt-level none\r"
            ))
            .await;
        shell.read_to_close().await
    };
    for text in [
        "install_add_activate_commit: START",
        "Image added. Version: 17.12.01",
        "/flash/cat9k-rpbase.17.12.01.SPA.pkg",
        "SUCCESS: install_add_activate_commit",
    ] {
        assert!(install.contains(text), "missing {text:?} in {install}");
    }
    wait_back(&device, 2).await;
    let after = status_of(control, "lab-sw-001").await;
    assert_eq!(after.running_version.as_deref(), Some("17.12.01"));
    assert_eq!(after.running_image.as_deref(), Some("flash:packages.conf"));
    assert_eq!(after.install_mode.as_deref(), Some("install"));
    assert_eq!(after.boot_variable, "flash:packages.conf");
    assert!(after.config_saved);
    assert_eq!(after.reload_count, 1);
    let names: Vec<&str> = after.file_systems[0]
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    assert!(
        names.contains(&"cat9k-rpboot.17.12.01.SPA.pkg"),
        "{names:?}"
    );

    // Install mode shows in show version; remove inactive deletes the bundles.
    let (_handle, mut shell) = xe_shell(device.ssh_address()).await;
    let version = run(&mut shell, "show version", "lab-sw-001#").await;
    assert!(
        version.contains("System image file is \"flash:packages.conf\""),
        "{version}"
    );
    assert!(
        version.contains("17.12.01          CAT9K_IOSXE           INSTALL"),
        "{version}"
    );
    let summary = run(&mut shell, "show install summary", "lab-sw-001#").await;
    assert!(summary.contains("IMG   C    17.12.01.0.6"), "{summary}");
    let listed = run(
        &mut shell,
        "install remove inactive",
        "Do you want to remove the above files? [y/n]",
    )
    .await;
    assert!(listed.contains(&format!("/flash/{old_bundle}")), "{listed}");
    assert!(
        listed.contains("File is in use, will not delete."),
        "{listed}"
    );
    let removed = run(&mut shell, "y", "lab-sw-001#").await;
    assert!(
        removed.contains(&format!("Deleting file flash:{old_bundle} ... done.")),
        "{removed}"
    );
    let cleaned = status_of(control, "lab-sw-001").await;
    let names: Vec<&str> = cleaned.file_systems[0]
        .files
        .iter()
        .map(|file| file.path.as_str())
        .collect();
    assert!(!names.contains(&old_bundle), "{names:?}");
    assert!(!names.contains(&file.as_str()), "{names:?}");
    assert!(names.contains(&"packages.conf"), "{names:?}");

    // Install → bundle: copy the bundle again, boot system it, reload.
    shell
        .send(&format!(
            "copy tftp://127.0.0.1:{tftp_port}/{file} bootflash:\r\r"
        ))
        .await;
    let copy = shell.read_until("lab-sw-001#").await;
    assert!(copy.contains("bytes copied in"), "{copy}");
    shell
        .send(&format!(
            "configure terminal\rno boot system\rboot system bootflash:{file}\rend\rwrite memory\r"
        ))
        .await;
    shell.read_until("[OK]\r\nlab-sw-001#").await;
    shell.send("reload\r").await;
    shell.read_until("Proceed with reload? [confirm]").await;
    shell.send("\r").await;
    shell.read_to_close().await;
    wait_back(&device, 3).await;
    let bundle = status_of(control, "lab-sw-001").await;
    assert_eq!(bundle.install_mode.as_deref(), Some("bundle"));
    assert_eq!(bundle.running_version.as_deref(), Some("17.12.01"));
    assert_eq!(bundle.running_image, Some(format!("flash:{file}")));
    assert_eq!(bundle.reload_count, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxe_install_add_refuses_corrupt_or_foreign_bundles_without_reloading() {
    let root = tempfile::tempdir().unwrap();
    let good = write_image(root.path(), "iosxe", "C9300-48P", "17.12.01");
    let mut bytes = std::fs::read(root.path().join(&good)).unwrap();
    bytes[100_000] ^= 0x41;
    std::fs::write(root.path().join("corrupt.bin"), &bytes).unwrap();
    let foreign = write_image(root.path(), "iosxe", "WS-C3850-48P", "16.12.10");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.42.3.1", "iosxe:1", 1).await;
    let (_handle, mut shell) = xe_shell(lab.devices[0].handle.ssh_address()).await;
    let cases = [
        ("corrupt.bin", "not a valid IOS-XE package or it is corrupt"),
        (
            foreign.as_str(),
            "is not supported on this platform (cat9k)",
        ),
        ("missing.bin", "flash:missing.bin not found"),
    ];
    for (file, message) in cases {
        if file != "missing.bin" {
            shell
                .send(&format!(
                    "copy tftp://127.0.0.1:{tftp_port}/{file} flash:\r\r"
                ))
                .await;
            let copy = shell.read_until("lab-sw-001#").await;
            assert!(copy.contains("bytes copied in"), "{copy}");
        }
        let output = run(
            &mut shell,
            &format!("install add file flash:{file} activate commit prompt-level none"),
            "lab-sw-001#",
        )
        .await;
        assert!(output.contains(message), "{file}: {output}");
        assert!(
            output.contains("FAILED: install_add_activate_commit exit(1)"),
            "{output}"
        );
    }
    let truth = lab.status().swap_remove(0);
    assert_eq!(truth.reload_count, 0);
    assert_eq!(truth.running_version.as_deref(), Some("17.09.04a"));
    assert_eq!(truth.install_mode.as_deref(), Some("bundle"));
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxr_commands_print_asr9k_output_matching_ground_truth() {
    let lab = start_lab("127.42.4.1", "iosxr:1", 1).await;
    let truth = lab.status().swap_remove(0);
    assert_eq!(truth.platform, "iosxr");
    assert_eq!(truth.model, "ASR-9006");
    assert_eq!(truth.xr_active_packages, ["asr9k-xr-6.5.3"]);
    assert_eq!(truth.xr_committed_packages, ["asr9k-xr-6.5.3"]);
    assert_eq!(truth.file_systems[0].name, "harddisk:");
    assert!(lab.inventory_csv().contains(",iosxr,"));
    let table = netswim_lab::cli::status_table(std::slice::from_ref(&truth));
    assert!(
        table.contains("lab-rtr-001  iosxr    127.42.4.1:"),
        "{table}"
    );
    assert!(table.contains(" committed:asr9k-xr-6.5.3\n"), "{table}");
    let (_handle, mut shell) = xr_shell(lab.devices[0].handle.ssh_address()).await;
    let cases: &[(&str, &[&str])] = &[
        (
            "show version",
            &[
                "Cisco IOS XR Software, Version 6.5.3\r\n",
                " Workspace    : /auto/srcarchive15/prod/6.5.3/asr9k-x64/ws\r\n",
                "cisco ASR9K () processor\r\n",
                "System uptime is ",
            ],
        ),
        (
            "show install active",
            &[
                "Node 0/RSP0/CPU0 [RP]\r\n",
                "  Active Packages: 1\r\n        asr9k-xr-6.5.3 version=6.5.3 [Boot image]\r\n",
            ],
        ),
        (
            "sh install act summ",
            &["    Active Packages: 1\r\n        asr9k-xr-6.5.3 version=6.5.3 [Boot image]"],
        ),
        (
            "show install committed",
            &["  Committed Packages: 1\r\n        asr9k-xr-6.5.3"],
        ),
        (
            "show install inactive summary",
            &["    Inactive Packages: 0\r\n"],
        ),
        (
            "dir harddisk:",
            &[
                "Directory of harddisk:\r\n",
                "asr9k-mini-x64-6.5.3.iso\r\n",
                "kbytes total (",
            ],
        ),
        ("dir disk0:", &["Directory of disk0:\r\n", "kbytes free)"]),
        ("enable", &["% Invalid input detected at '^' marker."]),
        (
            "install activate id 7",
            &["Install operation id 7 does not exist"],
        ),
    ];
    for (command, expected) in cases {
        let output = run(&mut shell, command, XR_PROMPT).await;
        for text in *expected {
            assert!(
                output.contains(text),
                "{command}: missing {text:?} in {output}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxr_uncommitted_release_reverts_at_reload_and_a_committed_one_stays() {
    let root = tempfile::tempdir().unwrap();
    let file = write_image(root.path(), "iosxr", "ASR-9006", "7.1.3");
    assert_eq!(file, "asr9k-mini-x64-7.1.3.iso");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = Arc::new(start_lab("127.42.5.1", "iosxr:1", 1).await);
    let (control, _server) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let device = lab.devices[0].handle.clone();

    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    let add = run(
        &mut shell,
        &format!("install add source tftp://127.0.0.1:{tftp_port}/ {file}"),
        XR_PROMPT,
    )
    .await;
    assert!(
        add.contains("Install operation 1 started by admin:"),
        "{add}"
    );
    assert!(
        add.contains("Install operation will continue in the background"),
        "{add}"
    );
    let log = wait_install(&mut shell, 1).await;
    assert!(
        log.contains("Install operation 1 finished successfully"),
        "{log}"
    );
    let inactive = run(&mut shell, "show install inactive", XR_PROMPT).await;
    assert!(
        inactive.contains("asr9k-xr-7.1.3 version=7.1.3"),
        "{inactive}"
    );
    let added = status_of(control, "lab-rtr-001").await;
    assert_eq!(added.xr_inactive_packages, ["asr9k-xr-7.1.3"]);

    // Activate: the version changes only after the reload this starts.
    shell.send("install activate id 1\r").await;
    let activate = shell.read_to_close().await;
    assert!(
        activate.contains("Install operation 2 started by admin:"),
        "{activate}"
    );
    wait_back(&device, 2).await;
    let active = status_of(control, "lab-rtr-001").await;
    assert_eq!(active.running_version.as_deref(), Some("7.1.3"));
    assert_eq!(active.xr_active_packages, ["asr9k-xr-7.1.3"]);
    assert_eq!(active.xr_committed_packages, ["asr9k-xr-6.5.3"]);

    // Not committed: a reload goes back to the committed release.
    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    shell.send("reload\r").await;
    shell.read_until("Proceed with reload? [confirm]").await;
    shell.send("\r").await;
    shell.read_to_close().await;
    wait_back(&device, 3).await;
    let reverted = status_of(control, "lab-rtr-001").await;
    assert_eq!(reverted.running_version.as_deref(), Some("6.5.3"));
    assert_eq!(reverted.xr_active_packages, ["asr9k-xr-6.5.3"]);
    assert_eq!(reverted.reload_count, 2);

    // Activate again and commit: the release survives the next reload.
    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    shell.send("install activate id 1\r").await;
    shell.read_to_close().await;
    wait_back(&device, 4).await;
    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    let commit = run(&mut shell, "install commit", XR_PROMPT).await;
    assert!(commit.contains("finished successfully"), "{commit}");
    let committed = run(&mut shell, "show install committed summary", XR_PROMPT).await;
    assert!(
        committed.contains("asr9k-xr-7.1.3 version=7.1.3"),
        "{committed}"
    );
    let rollback = run(&mut shell, "install rollback to committed", XR_PROMPT).await;
    assert!(rollback.contains("already active"), "{rollback}");
    shell.send("reload\r\r").await;
    shell.read_to_close().await;
    wait_back(&device, 5).await;
    let kept = status_of(control, "lab-rtr-001").await;
    assert_eq!(kept.running_version.as_deref(), Some("7.1.3"));
    assert_eq!(kept.xr_committed_packages, ["asr9k-xr-7.1.3"]);
    assert_eq!(kept.reload_count, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxr_install_add_of_a_corrupt_iso_aborts_and_adds_nothing() {
    let root = tempfile::tempdir().unwrap();
    let file = write_image(root.path(), "iosxr", "ASR-9006", "7.1.3");
    let mut bytes = std::fs::read(root.path().join(&file)).unwrap();
    bytes[50_000] ^= 0x10;
    std::fs::write(root.path().join(&file), &bytes).unwrap();
    let foreign = write_image(root.path(), "iosxr", "NCS-5501", "7.3.2");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.42.6.1", "iosxr:1", 1).await;
    let (_handle, mut shell) = xr_shell(lab.devices[0].handle.ssh_address()).await;
    for (id, name, message) in [
        (1, file.as_str(), "failed checksum verification"),
        (2, foreign.as_str(), "is for platform ncs5500"),
    ] {
        run(
            &mut shell,
            &format!("install add source tftp://127.0.0.1:{tftp_port} {name}"),
            XR_PROMPT,
        )
        .await;
        let log = wait_install(&mut shell, id).await;
        assert!(
            log.lines()
                .any(|line| line.contains("ERROR! ") && line.contains(message)),
            "{name}: {log}"
        );
        assert!(
            log.contains(&format!("Install operation {id} aborted")),
            "{log}"
        );
    }
    let local = run(
        &mut shell,
        "install add source harddisk: nothing.iso",
        XR_PROMPT,
    )
    .await;
    assert!(
        local.contains("Cannot find nothing.iso in harddisk:"),
        "{local}"
    );
    let truth = lab.status().swap_remove(0);
    assert!(truth.xr_inactive_packages.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxr_install_add_runs_in_the_background_and_refuses_a_second_add_meanwhile() {
    let root = tempfile::tempdir().unwrap();
    let file = write_image(root.path(), "iosxr", "ASR-9006", "7.1.3");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.42.17.1", "iosxr:1", 1).await;
    let device = lab.devices[0].handle.clone();
    // 384 KiB at 96 KiB/s: about four seconds in the background.
    device.set_faults(netswim_lab::device::Faults {
        bandwidth_bytes_per_sec: Some(96 * 1024),
        ..Default::default()
    });
    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    let command = format!("install add source tftp://127.0.0.1:{tftp_port}/ {file}");
    let add = run(&mut shell, &command, XR_PROMPT).await;
    assert!(
        add.contains("Install operation 1 started by admin:"),
        "{add}"
    );
    assert!(
        add.contains("Install operation will continue in the background"),
        "{add}"
    );
    assert!(!add.contains("finished successfully"), "{add}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let request = run(&mut shell, "show install request", XR_PROMPT).await;
    assert!(request.contains("User admin, Op Id 1\r\n"), "{request}");
    assert!(request.contains(&format!("{command}\r\n")), "{request}");
    let percent: u64 = request
        .split("The install add operation 1 is ")
        .nth(1)
        .and_then(|rest| rest.split('%').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no progress line: {request}"));
    assert!((1..99).contains(&percent), "{request}");
    // Nothing is added before the operation ends.
    let inactive = run(&mut shell, "show install inactive", XR_PROMPT).await;
    assert!(inactive.contains("Inactive Packages: 0"), "{inactive}");
    let second = run(&mut shell, &command, XR_PROMPT).await;
    assert!(
        second.contains("Install operation 1 (install add source")
            && second.contains("is in progress"),
        "{second}"
    );
    assert!(second.contains("Install operation 2 aborted"), "{second}");
    let log = wait_install(&mut shell, 1).await;
    for text in [
        "Install operation 1 started by admin:",
        "Packages added:",
        "    asr9k-xr-7.1.3\r\n",
        "Install operation 1 finished successfully",
        "Ending operation 1",
    ] {
        assert!(log.contains(text), "missing {text:?} in {log}");
    }
    let last = run(&mut shell, "show install log", XR_PROMPT).await;
    assert!(last.contains("Install operation 2 aborted"), "{last}");
    let inactive = run(&mut shell, "show install inactive", XR_PROMPT).await;
    assert!(
        inactive.contains("asr9k-xr-7.1.3 version=7.1.3"),
        "{inactive}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn iosxr_install_log_says_why_a_stalled_or_too_big_download_aborted() {
    let root = tempfile::tempdir().unwrap();
    let file = write_image(root.path(), "iosxr", "ASR-9006", "7.1.3");
    let (_tftpd, tftp_port) = start_tftpd(root.path()).await;
    let lab = start_lab("127.42.18.1", "iosxr:1", 1).await;
    let device = lab.devices[0].handle.clone();
    let (_handle, mut shell) = xr_shell(device.ssh_address()).await;
    let command = format!("install add source tftp://127.0.0.1:{tftp_port}/ {file}");

    device.set_faults(netswim_lab::device::Faults {
        transfer_stall_after_bytes: Some(64 * 1024),
        ..Default::default()
    });
    run(&mut shell, &command, XR_PROMPT).await;
    let log = wait_install(&mut shell, 1).await;
    assert!(
        log.contains(&format!("ERROR! Failed to download {file}: Timed out")),
        "{log}"
    );
    assert!(log.contains("Install operation 1 aborted"), "{log}");

    device.set_faults(netswim_lab::device::Faults::default());
    {
        let mut model = device.lock();
        let disk = model.file_system_mut("harddisk:").unwrap();
        disk.capacity = disk.capacity - disk.free() + 100 * 1024;
    }
    run(&mut shell, &command, XR_PROMPT).await;
    let log = wait_install(&mut shell, 2).await;
    assert!(
        log.contains(&format!(
            "ERROR! Failed to download {file}: Not enough space on device"
        )),
        "{log}"
    );
    assert!(log.contains("Install operation 2 aborted"), "{log}");
    let truth = lab.status().swap_remove(0);
    assert!(truth.xr_inactive_packages.is_empty());
}

#[test]
fn make_image_names_platform_files_and_refuses_other_platforms_models_or_formats() {
    let root = tempfile::tempdir().unwrap();
    let args = |platform: &str, model: &str, version: &str, format: &str| MakeImageArgs {
        platform: platform.into(),
        model: model.into(),
        version: version.into(),
        feature: "universalk9".into(),
        format: format.into(),
        size: "64KiB".into(),
        min_dram_mb: 4096,
        output: Some(root.path().to_path_buf()),
    };
    for (platform, model, version, format, expected) in [
        (
            "iosxe",
            "C9300-48P",
            "17.09.04a",
            "bin",
            "cat9k_iosxe.17.09.04a.SPA.bin",
        ),
        (
            "iosxe",
            "WS-C3850-48P",
            "16.12.10",
            "bin",
            "cat3k_caa-universalk9.16.12.10.SPA.bin",
        ),
        (
            "iosxr",
            "ASR-9006",
            "6.5.3",
            "iso",
            "asr9k-mini-x64-6.5.3.iso",
        ),
        (
            "iosxr",
            "NCS-5501",
            "7.3.2",
            "iso",
            "ncs5500-mini-x-7.3.2.iso",
        ),
    ] {
        let path = make_image(args(platform, model, version, format)).unwrap();
        assert_eq!(path.file_name().unwrap().to_str().unwrap(), expected);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * 1024);
    }
    for (platform, model, version, format) in [
        ("iosxe", "ASR-9006", "6.5.3", "bin"),
        ("iosxr", "C9300-48P", "17.09.04a", "iso"),
        ("iosxe", "C9300-48P", "17.09.04a", "tar"),
        ("iosxr", "ASR-9006", "6.5.3", "tar"),
        ("iosxe", "C9300-48P", "15.2(7)E8", "bin"),
    ] {
        let error = make_image(args(platform, model, version, format)).unwrap_err();
        assert!(error.to_string().contains("hint"), "{error}");
    }
}
