//! A lab started from a lab file: groups, single devices, redundancy peers,
//! per-device faults and fault rates give the expected inventory CSV and
//! ground truth, and the faults act on real SSH sessions; `--fault-rate` on
//! a `--mix` lab; the full-flash fault set and cleared at run time.

mod common;

use std::net::SocketAddr;

use common::*;
use netswim_lab::cli::plan_lab_file;
use netswim_lab::device::{FULL_FLASH_FILE, FULL_FLASH_FREE_BYTES};
use netswim_lab::fault_rates::{FaultKind, parse_fault_rates, selected};
use netswim_lab::lab::{DeviceStatus, Lab, control_request, serve_control};

const LAB_FILE: &str = r#"
[defaults]
address_base = "127.43.10.1"
seed = 11
image_size = "128KiB"
fault_rates = "corruption=0.5,slow-cli=1:20"

[[devices]]
name = "acc"
count = 4
site = "paris"
role = "access"
pairs = true

[[devices]]
name = "core-a"
model = "WS-C3750X-24P"
members = 2
image_version = "15.0(2)SE11"
site = "lyon"
role = "core"
peer = "core-b"
faults = { full_flash = true }

[[devices]]
name = "core-b"
model = "WS-C3750X-24P"
members = 2
image_version = "15.0(2)SE11"
site = "lyon"
role = "core"
peer = "core-a"
faults = { auth_failure = true }
"#;

async fn start(text: &str) -> Lab {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("lab.toml");
    std::fs::write(&path, text).unwrap();
    let (plan, options) =
        plan_lab_file(&path, &lab_options("127.0.0.1", "ios:1", 1), Vec::new()).unwrap();
    Lab::start_plan(&plan, &options).await.unwrap()
}

fn find<'a>(statuses: &'a [DeviceStatus], name: &str) -> &'a DeviceStatus {
    statuses.iter().find(|status| status.name == name).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn lab_file_groups_peers_and_faults_give_the_inventory_and_ground_truth() {
    let lab = start(LAB_FILE).await;
    let ports: Vec<u16> = lab
        .devices
        .iter()
        .map(|device| device.handle.ssh_address().port())
        .collect();
    // (name, address, site, role, peer)
    let expected = [
        ("acc-01", "127.43.10.1", "paris", "access", "acc-02"),
        ("acc-02", "127.43.10.2", "paris", "access", "acc-01"),
        ("acc-03", "127.43.10.3", "paris", "access", "acc-04"),
        ("acc-04", "127.43.10.4", "paris", "access", "acc-03"),
        ("core-a", "127.43.10.5", "lyon", "core", "core-b"),
        ("core-b", "127.43.10.6", "lyon", "core", "core-a"),
    ];
    let mut csv =
        String::from("name,host,port,platform,username,password,site,role,peer,enable_secret\n");
    for ((name, address, site, role, peer), port) in expected.iter().zip(&ports) {
        csv.push_str(&format!(
            "{name},{address},{port},ios,{USERNAME},{PASSWORD},{site},{role},{peer},{ENABLE_SECRET}\n"
        ));
    }
    assert_eq!(lab.inventory_csv(), csv);

    let statuses = lab.status();
    // (name, model, members, version)
    for (name, model, members, version) in [
        ("acc-01", "WS-C2960X-48FPD-L", 1, "15.2(2)E7"),
        ("core-a", "WS-C3750X-24P", 2, "15.0(2)SE11"),
    ] {
        let status = find(&statuses, name);
        assert_eq!(
            (
                status.model.as_str(),
                status.members.len(),
                status.running_version.as_deref()
            ),
            (model, members, Some(version)),
            "{name}"
        );
    }
    // The rates: every device is slow, corruption hits the devices the seed picks.
    for (index, status) in statuses.iter().enumerate() {
        assert_eq!(status.faults.slow_cli_ms, 20, "{}", status.name);
        assert_eq!(
            status.faults.corrupt_transfers,
            selected(11, index, FaultKind::Corruption, 0.5),
            "{}",
            status.name
        );
    }
    let corrupted = statuses
        .iter()
        .filter(|status| status.faults.corrupt_transfers)
        .count();
    assert!((1..6).contains(&corrupted), "seed 11 breaks some, not all");
    // Per-device faults: core-a's flashes are full, core-b refuses logins.
    let core_a = find(&statuses, "core-a");
    for file_system in &core_a.file_systems {
        assert_eq!(file_system.free, FULL_FLASH_FREE_BYTES, "{file_system:?}");
        assert!(file_system.files.iter().any(|f| f.path == FULL_FLASH_FILE));
    }
    assert!(find(&statuses, "acc-01").file_systems[0].free > 1024 * 1024);
    let address = |name: &str| -> SocketAddr { lab.device(name).unwrap().handle.ssh_address() };
    let mut refused = connect(address("core-b")).await;
    let auth = refused
        .authenticate_password(USERNAME, PASSWORD)
        .await
        .unwrap();
    assert!(!auth.success(), "auth-failure fault lets nobody in");
    let accepted = connect_with_password(address("core-a")).await;
    let mut shell = Shell::open(&accepted).await;
    shell.read_until("core-a>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("core-a#").await;
    shell.send("dir flash1:\r").await;
    let listing = shell.read_until("core-a#").await;
    assert!(
        listing.contains(&format!("{FULL_FLASH_FILE}\r\n"))
            && listing.contains(&format!("({FULL_FLASH_FREE_BYTES} bytes free)")),
        "{listing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fault_rate_flag_on_a_mix_lab_picks_devices_from_the_seed() {
    let lab = start_lab("127.43.11.1", "ios:6", 6).await;
    let rates = parse_fault_rates("auth-failure=0.5,bandwidth-cap=1:64KiB").unwrap();
    lab.apply_fault_rates(5, &rates);
    let statuses = lab.status();
    let picked: Vec<bool> = statuses
        .iter()
        .map(|status| status.faults.auth_failure)
        .collect();
    let expected: Vec<bool> = (0..6)
        .map(|index| selected(5, index, FaultKind::AuthFailure, 0.5))
        .collect();
    assert_eq!(picked, expected);
    assert!(
        statuses
            .iter()
            .all(|status| status.faults.bandwidth_bytes_per_sec == Some(64 * 1024))
    );
    // Over SSH: exactly the picked devices refuse the password.
    for (device, refused) in lab.devices.iter().zip(&expected) {
        let mut handle = connect(device.handle.ssh_address()).await;
        let auth = handle
            .authenticate_password(USERNAME, PASSWORD)
            .await
            .unwrap();
        assert_eq!(auth.success(), !refused, "{}", device.name);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn full_flash_fault_set_at_run_time_fails_copies_until_cleared() {
    let lab = std::sync::Arc::new(start_lab("127.43.12.1", "ios:1", 1).await);
    let (control, _task) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let put = |json: &'static str| async move {
        let body = control_request(control, "PUT", "/devices/lab-sw-001/faults", Some(json))
            .await
            .unwrap();
        serde_json::from_str::<DeviceStatus>(&body).unwrap()
    };
    let full = put(r#"{"full_flash": true}"#).await;
    assert!(full.faults.full_flash);
    assert_eq!(full.file_systems[0].free, FULL_FLASH_FREE_BYTES);
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell
        .send("copy flash:c2960x-universalk9-mz.152-2.E7.bin flash:second.bin\r\r")
        .await;
    let copy = shell.read_until("lab-sw-001#").await;
    assert!(copy.contains("(Not enough space on device)"), "{copy}");
    let cleared = put("{}").await;
    assert!(!cleared.faults.full_flash);
    assert!(cleared.file_systems[0].free > 1024 * 1024);
    assert!(
        !cleared.file_systems[0]
            .files
            .iter()
            .any(|file| file.path == FULL_FLASH_FILE)
    );
    shell
        .send("copy flash:c2960x-universalk9-mz.152-2.E7.bin flash:second.bin\r\r")
        .await;
    let copy = shell.read_until("lab-sw-001#").await;
    assert!(copy.contains("bytes copied in"), "{copy}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lab_file_xe_and_xr_groups_give_their_platforms_in_the_inventory_and_ground_truth() {
    let lab = start(
        r#"
[defaults]
address_base = "127.46.20.1"
image_size = "64KiB"
model = "WS-C3750X-24P"

[[devices]]
name = "edge"
count = 2
platform = "iosxe"

[[devices]]
name = "pe"
platform = "iosxr"
image_version = "7.3.2"
model = "NCS-5501"

[[devices]]
name = "sw"
"#,
    )
    .await;
    let statuses = lab.status();
    // (name, platform, model, version, running image)
    let expected = [
        (
            "edge-01",
            "iosxe",
            "C9300-48P",
            "17.09.04a",
            "flash:cat9k_iosxe.17.09.04a.SPA.bin",
        ),
        (
            "edge-02",
            "iosxe",
            "C9300-48P",
            "17.09.04a",
            "flash:cat9k_iosxe.17.09.04a.SPA.bin",
        ),
        (
            "pe",
            "iosxr",
            "NCS-5501",
            "7.3.2",
            "harddisk:/ncs5500-mini-x-7.3.2.iso",
        ),
        (
            "sw",
            "ios",
            "WS-C3750X-24P",
            "15.2(2)E7",
            "flash:c3750e-universalk9-mz.152-2.E7.bin",
        ),
    ];
    let csv: Vec<String> = lab.inventory_csv().lines().map(str::to_string).collect();
    assert_eq!(csv.len(), expected.len() + 1);
    for (row, (name, platform, model, version, image)) in expected.iter().enumerate() {
        let status = find(&statuses, name);
        assert_eq!(
            (
                status.platform.as_str(),
                status.model.as_str(),
                status.running_version.as_deref(),
                status.running_image.as_deref(),
            ),
            (*platform, *model, Some(*version), Some(*image)),
            "{name}"
        );
        assert!(
            csv[row + 1].starts_with(&format!("{name},127.46.20.{},", row + 1)),
            "{}",
            csv[row + 1]
        );
        assert!(
            csv[row + 1].contains(&format!(",{platform},{USERNAME},{PASSWORD},")),
            "{}",
            csv[row + 1]
        );
        // The serial in the ground truth is the one the device prints.
        assert!(!status.serial.is_empty(), "{name}");
        assert_eq!(status.members.len(), 1);
        assert_eq!(status.members[0].serial, status.serial);
    }
    let pe = find(&statuses, "pe");
    assert_eq!(pe.xr_active_packages, vec!["ncs5500-xr-7.3.2".to_string()]);
    assert_eq!(pe.xr_committed_packages, pe.xr_active_packages);
    assert_eq!(
        find(&statuses, "edge-01").install_mode.as_deref(),
        Some("bundle")
    );
    // Devices of one lab have distinct serials.
    let serials: std::collections::HashSet<&str> =
        statuses.iter().map(|s| s.serial.as_str()).collect();
    assert_eq!(serials.len(), statuses.len());
    // Over SSH, each device answers `show version` with its platform's release.
    for (name, _, _, version, _) in &expected {
        let handle = connect_with_password(lab.device(name).unwrap().handle.ssh_address()).await;
        let (output, _) = exec(&handle, "show version").await;
        assert!(output.contains(version), "{name}: {output}");
    }
}
