//! `archive download-sw` from a real TFTP server (netswim-tftp) and from
//! flash, its refusals, `archive copy-sw` repairing a `Version Mismatch`
//! member and `reload slot N`, all typed over SSH into lab stacks started
//! from lab files.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::*;
use netswim_lab::cli::plan_lab_file;
use netswim_lab::device::Faults;
use netswim_lab::image::{ImageSpec, make_tar};
use netswim_lab::lab::{DeviceStatus, Lab};
use netswim_tftp::{LocalDirectory, ServerConfig, TftpServer};

/// Starts a lab from lab-file text (written next to the served images).
async fn start_lab_file(directory: &Path, text: &str) -> Lab {
    let path = directory.join("lab.toml");
    std::fs::write(&path, text).unwrap();
    let (plan, options) =
        plan_lab_file(&path, &lab_options("127.0.0.1", "ios:1", 1), Vec::new()).unwrap();
    Lab::start_plan(&plan, &options).await.unwrap()
}

/// Serves `directory` with netswim's TFTP server on loopback.
async fn start_tftp(directory: &Path) -> SocketAddr {
    let server = TftpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        LocalDirectory::new(directory).unwrap(),
        ServerConfig::default(),
    )
    .await
    .unwrap();
    let address = server.local_addr().unwrap();
    tokio::spawn(server.run());
    address
}

fn write_tar(directory: &Path, model: &str, version: &str, feature: &str) -> String {
    let spec = ImageSpec {
        model: model.into(),
        version: version.into(),
        feature: feature.into(),
        min_dram_mb: 256,
        size: 400 * 1024,
    };
    let name =
        netswim_lab::image::image_file_name(&spec, netswim_lab::image::ImageFormat::Tar).unwrap();
    std::fs::write(directory.join(&name), make_tar(&spec).unwrap()).unwrap();
    name
}

/// An enabled interactive session on the lab's first device.
async fn enabled_shell(lab: &Lab) -> (russh::client::Handle<TrustingClient>, Shell, String) {
    let name = lab.devices[0].name.clone();
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until(&format!("{name}>")).await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until(&format!("{name}#")).await;
    shell.send("terminal length 0\r").await;
    shell.read_until(&format!("{name}#")).await;
    (handle, shell, format!("{name}#"))
}

async fn settled_status(lab: &Lab) -> DeviceStatus {
    wait_settled(lab, 0).await
}

/// Polls the ground truth until `done` holds (member reloads run on their own).
async fn wait_for(lab: &Lab, done: impl Fn(&DeviceStatus) -> bool) -> DeviceStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let status = lab.status().swap_remove(0);
        if done(&status) {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "{status:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const STACK_3750: &str = r#"
[defaults]
address_base = "ADDRESS"
image_size = "256KiB"
[[devices]]
name = "stack"
model = "WS-C3750X-24P"
members = 3
image_version = "15.0(2)SE11"
"#;

fn lab_text(template: &str, address: &str) -> String {
    template.replace("ADDRESS", address)
}

#[tokio::test(flavor = "multi_thread")]
async fn download_sw_from_tftp_installs_on_every_member_and_reloads_into_it() {
    let root = tempfile::tempdir().unwrap();
    let tar = write_tar(root.path(), "WS-C3750X-24P", "15.2(4)E10", "universalk9");
    let tftp = start_tftp(root.path()).await;
    let lab = start_lab_file(root.path(), &lab_text(STACK_3750, "127.43.1.1")).await;
    let device = lab.devices[0].handle.clone();
    let (_handle, mut shell, prompt) = enabled_shell(&lab).await;
    shell
        .send(&format!(
            "archive download-sw /overwrite /reload tftp://{tftp}/{tar}\r"
        ))
        .await;
    let transcript = shell.read_to_close().await;
    let directory = "c3750e-universalk9-mz.152-4.E10";
    for fragment in [
        format!("Loading {tar} from 127.0.0.1 (via Vlan1): "),
        "examining image...\r\n".to_string(),
        format!("  Image Directory:       {directory}\r\n"),
        "Old image for switch 3: flash3:/c3750e-universalk9-mz.150-2.SE11.bin\r\n  Old image will be deleted before download.\r\n".to_string(),
        format!("New software image installed in flash2:{directory}\r\n"),
        "All software images installed.\r\nRequested system reload in progress...\r\n".to_string(),
    ] {
        assert!(transcript.contains(&fragment), "{fragment:?} in\n{transcript}");
    }
    drop(shell);
    tokio::time::timeout(Duration::from_secs(20), device.wait_listening(2))
        .await
        .expect("the stack comes back after the reload");
    let status = settled_status(&lab).await;
    assert_eq!(status.state, "up");
    assert_eq!(status.reload_count, 1);
    assert_eq!(
        status.boot_variable,
        format!("flash:{directory}/{directory}.bin")
    );
    for member in &status.members {
        assert_eq!(member.running_version.as_deref(), Some("15.2(4)E10"));
        assert_eq!(member.state, "Ready");
    }
    for file_system in &status.file_systems {
        let paths: Vec<&str> = file_system.files.iter().map(|f| f.path.as_str()).collect();
        assert!(
            !paths.contains(&"c3750e-universalk9-mz.150-2.SE11.bin"),
            "{paths:?}"
        );
        assert!(paths.contains(&format!("{directory}/{directory}.bin").as_str()));
    }
    // `show boot` agrees with the ground truth after the reload.
    let (_handle, mut shell, prompt_again) = enabled_shell(&lab).await;
    assert_eq!(prompt, prompt_again);
    shell.send("show boot\r").await;
    let boot = shell.read_until(&prompt).await;
    assert!(
        boot.contains(&format!("flash:{directory}/{directory}.bin")),
        "{boot}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn download_sw_refusals_print_the_reason_and_leave_flash_unchanged() {
    let root = tempfile::tempdir().unwrap();
    let foreign = write_tar(root.path(), "WS-C2960X-48FPD-L", "15.2(7)E8", "universalk9");
    let other_feature = write_tar(root.path(), "WS-C3750X-24P", "15.2(4)E10", "ipservicesk9");
    let good = write_tar(root.path(), "WS-C3750X-24P", "15.2(4)E10", "universalk9");
    let tftp = start_tftp(root.path()).await;
    let text = lab_text(STACK_3750, "127.43.2.1")
        .replace("members = 3", "members = 2\nflash_size = \"600KiB\"");
    let lab = start_lab_file(root.path(), &text).await;
    let (_handle, mut shell, prompt) = enabled_shell(&lab).await;
    let before = settled_status(&lab).await.file_systems;
    // (command, faults during it, expected text)
    let cases = [
        (
            format!("archive download-sw tftp://{tftp}/{foreign}"),
            Faults::default(),
            "Error: system number 1 is not supported by that system (WS-C3750X-24P).",
        ),
        (
            format!("archive download-sw tftp://{tftp}/{other_feature}"),
            Faults::default(),
            "Error: system number 2 does not support the same feature set.",
        ),
        (
            format!("archive download-sw /leave-old-sw tftp://{tftp}/{good}"),
            Faults::default(),
            "Error: There is insufficient space in flash1: to install the required\r\nError: image.  Clean up some old images, and try again.",
        ),
        (
            format!("archive download-sw /overwrite tftp://{tftp}/{good}"),
            Faults {
                corrupt_transfers: true,
                ..Faults::default()
            },
            "%Tar checksum error",
        ),
        (
            format!("archive download-sw /overwrite tftp://{tftp}/missing.tar"),
            Faults::default(),
            "(No such file or directory)",
        ),
        (
            "archive download-sw /overwrite /bogus flash:x.tar".to_string(),
            Faults::default(),
            "% Invalid input detected at '^' marker.",
        ),
    ];
    for (command, faults, expected) in cases {
        lab.devices[0].handle.set_faults(faults);
        shell.send(&format!("{command}\r")).await;
        let transcript = shell.read_until(&prompt).await;
        assert!(
            transcript.contains(expected),
            "{command}: {expected:?} in\n{transcript}"
        );
        assert_eq!(settled_status(&lab).await.file_systems, before, "{command}");
    }
    // With /overwrite the old image makes room and the install succeeds.
    lab.devices[0].handle.set_faults(Faults::default());
    shell
        .send(&format!(
            "archive download-sw /overwrite tftp://{tftp}/{good}\r"
        ))
        .await;
    let transcript = shell.read_until(&prompt).await;
    assert!(
        transcript.contains("All software images installed."),
        "{transcript}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_sw_repairs_a_version_mismatch_and_reload_slot_brings_the_member_back() {
    let root = tempfile::tempdir().unwrap();
    let tar = write_tar(root.path(), "WS-C3750X-24P", "15.2(4)E10", "universalk9");
    let tftp = start_tftp(root.path()).await;
    let lab = start_lab_file(root.path(), &lab_text(STACK_3750, "127.43.3.1")).await;
    let device = lab.devices[0].handle.clone();
    // First the tar lands in flash; the install reads it from there.
    let (_handle, mut shell, prompt) = enabled_shell(&lab).await;
    shell
        .send(&format!("copy tftp://{tftp}/{tar} flash1:\r\r"))
        .await;
    shell.read_until(&prompt).await;
    shell
        .send(&format!(
            "archive download-sw /destination-system 1 /force-reload flash1:{tar}\r"
        ))
        .await;
    shell.read_to_close().await;
    tokio::time::timeout(Duration::from_secs(20), device.wait_listening(2))
        .await
        .unwrap();
    let states = |status: &DeviceStatus| -> Vec<String> {
        status.members.iter().map(|m| m.state.clone()).collect()
    };
    let status = settled_status(&lab).await;
    assert_eq!(
        states(&status),
        ["Ready", "Version Mismatch", "Version Mismatch"]
    );
    let (_handle, mut shell, prompt) = enabled_shell(&lab).await;
    shell.send("show switch\r").await;
    let table = shell.read_until(&prompt).await;
    assert_eq!(table.matches("Version Mismatch").count(), 2, "{table}");
    shell
        .send("archive copy-sw /destination-system 2 1\r")
        .await;
    let copied = shell.read_until(&prompt).await;
    for fragment in [
        "System software to be uploaded:\r\n",
        "New software image installed in flash2:c3750e-universalk9-mz.152-4.E10\r\n",
        "All software images installed.\r\n",
    ] {
        assert!(copied.contains(fragment), "{fragment:?} in\n{copied}");
    }
    shell.send("reload slot 2\r").await;
    shell.read_until("Proceed with reload? [confirm]").await;
    shell.send("\r").await;
    shell.read_until(&prompt).await;
    let status = wait_for(&lab, |status| status.members[1].state == "Ready").await;
    assert_eq!(states(&status), ["Ready", "Ready", "Version Mismatch"]);
    // Without destinations copy-sw finds the mismatched member itself.
    shell.send("archive copy-sw 1\r").await;
    let copied = shell.read_until(&prompt).await;
    assert!(
        copied.contains("Extracting images from archive into flash3:"),
        "{copied}"
    );
    assert!(!copied.contains("into flash2:"), "{copied}");
    shell.send("reload slot 3\r\r").await;
    shell.read_until(&prompt).await;
    let status = wait_for(&lab, |status| status.members[2].state == "Ready").await;
    assert_eq!(states(&status), ["Ready", "Ready", "Ready"]);
    assert_eq!(
        status.reload_count, 1,
        "slot reloads are not device reloads"
    );
    shell.send("reload slot 4\r").await;
    let missing = shell.read_until(&prompt).await;
    assert!(
        missing.contains("Switch 4 is not present in the stack"),
        "{missing}"
    );
}
