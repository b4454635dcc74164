//! Inventory import and sync against a 200-device lab of IOS switches and
//! stacks, IOS-XE Catalysts and IOS-XR routers over real SSH: stored facts
//! equal the lab's ground truth (from its control endpoint) for every
//! reachable device; an unreachable and a wrong-password device are reported
//! as such; a second sync records no changes; host keys are pinned.
//! Loopback: 127.46.100.0/24 and 127.46.101.0/24 (the 200-device test),
//! 127.44.102.0/24 and 127.44.103.0/24 (the host-key test).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netswim_drivers::CollectedFacts;
use netswim_engine::inventory::import_csv;
use netswim_engine::sync::{SyncOptions, SyncOutcome, sync_devices};
use netswim_lab::lab::{DeviceStatus, Lab, LabOptions, control_get, parse_mix, serve_control};
use netswim_store::Store;
use netswim_store::crypto::SecretKey;

const DEVICES: usize = 200;
const WRONG_PASSWORD_DEVICE: &str = "lab-sw-007";
const UNREACHABLE_DEVICE: &str = "lab-ghost";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncing_200_lab_devices_stores_their_ground_truth_and_reports_the_rest() {
    let started = Instant::now();
    let lab = Arc::new(
        Lab::start(&LabOptions {
            devices: DEVICES,
            mix: parse_mix("ios-stack:40,ios:75,ios+legacy:5,iosxe:40,iosxr:40").unwrap(),
            address_base: "127.46.100.1".parse::<Ipv4Addr>().unwrap(),
            ssh_port: 0,
            username: "admin".into(),
            password: "lab-password".into(),
            enable_secret: "lab-enable".into(),
            reload_delay: Duration::from_secs(1),
            seed: 5,
            image_version: "15.2(2)E7".into(),
            image_size: 16 * 1024,
            flash_size: None,
        })
        .await
        .unwrap(),
    );
    let (control, _control_task) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    // The lab's CSV (enable secret included), with one wrong password and
    // one row nobody answers.
    let mut csv = String::new();
    for line in lab.inventory_csv().lines() {
        let line = if line.starts_with(&format!("{WRONG_PASSWORD_DEVICE},")) {
            line.replace(",lab-password,", ",not-the-password,")
        } else {
            line.to_string()
        };
        csv.push_str(&format!("{line}\n"));
    }
    csv.push_str(&format!(
        "{UNREACHABLE_DEVICE},127.46.101.1,22,ios,admin,lab-password,site-99,access,,lab-enable\n"
    ));

    let folder = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("netswim.db").display()
    );
    let store = Store::open(&url).await.unwrap();
    let key = SecretKey::generate();
    let report = import_csv(&store, &key, &csv).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.created.len(), DEVICES + 1);
    // Two logins: the lab's and the wrong one.
    assert_eq!(report.credential_profiles_created.len(), 2);
    assert!(report.sites_created.contains(&"site-99".to_string()));

    let devices = store.list_devices().await.unwrap();
    let options = SyncOptions {
        concurrency: 48,
        connect_timeout: Duration::from_secs(30),
        command_timeout: Duration::from_secs(30),
        ..SyncOptions::default()
    };
    let seen = AtomicUsize::new(0);
    let progress = |_: &netswim_engine::sync::DeviceSyncResult| {
        seen.fetch_add(1, Ordering::Relaxed);
    };
    let results = sync_devices(&store, &key, &devices, &options, &progress)
        .await
        .unwrap();
    assert_eq!(results.len(), DEVICES + 1);
    assert_eq!(seen.load(Ordering::Relaxed), DEVICES + 1);
    let by_name: HashMap<&str, &SyncOutcome> = results
        .iter()
        .map(|result| (result.device_name.as_str(), &result.outcome))
        .collect();
    assert_eq!(
        by_name[UNREACHABLE_DEVICE].kind(),
        "unreachable",
        "{:?}",
        by_name[UNREACHABLE_DEVICE]
    );
    assert_eq!(
        by_name[WRONG_PASSWORD_DEVICE].kind(),
        "auth_failed",
        "{:?}",
        by_name[WRONG_PASSWORD_DEVICE]
    );
    let not_synced: Vec<_> = results
        .iter()
        .filter(|result| result.outcome.kind() != "synced")
        .map(|result| (&result.device_name, &result.outcome))
        .collect();
    assert_eq!(not_synced.len(), 2, "{not_synced:#?}");

    // Ground truth from the control endpoint, compared per device.
    let truth: Vec<DeviceStatus> =
        serde_json::from_str(&control_get(control, "/devices").await.unwrap()).unwrap();
    assert_eq!(truth.len(), DEVICES);
    let mut stacks = 0;
    let mut platforms: HashMap<String, usize> = HashMap::new();
    for status in &truth {
        let device = store
            .find_device_by_name(&status.name)
            .await
            .unwrap()
            .unwrap();
        let snapshot = store.latest_device_facts(device.id).await.unwrap();
        if status.name == WRONG_PASSWORD_DEVICE {
            assert!(snapshot.is_none());
            assert!(device.ssh_host_key.is_none());
            continue;
        }
        let facts: CollectedFacts = serde_json::from_value(snapshot.unwrap().facts).unwrap();
        let name = &status.name;
        assert_eq!(facts.version, status.running_version, "{name} version");
        assert_eq!(
            facts.model.as_deref(),
            Some(status.model.as_str()),
            "{name} model"
        );
        assert_eq!(
            facts.boot_path.join(";"),
            status.boot_variable,
            "{name} boot"
        );
        assert_eq!(
            facts.serial.as_deref(),
            Some(status.serial.as_str()),
            "{name} serial"
        );
        assert_eq!(
            facts.file_systems.len(),
            status.file_systems.len(),
            "{name} file systems"
        );
        for fs in &status.file_systems {
            let seen = facts
                .file_system(&fs.name)
                .unwrap_or_else(|| panic!("{name} has no {}", fs.name));
            // XR's `dir` states kbytes: the lab's bytes, rounded down.
            let (free, capacity) = if status.platform == "iosxr" {
                (fs.free / 1024 * 1024, fs.capacity / 1024 * 1024)
            } else {
                (fs.free, fs.capacity)
            };
            assert_eq!(seen.free_bytes, free, "{name} {} free", fs.name);
            assert_eq!(seen.total_bytes, capacity, "{name} {} total", fs.name);
        }
        // XR: the active release is among the packages; XE: booted from the bundle.
        for release in &status.xr_active_packages {
            assert!(
                facts
                    .packages
                    .iter()
                    .any(|package| package.name.contains(release.as_str())),
                "{name} active {release}: {:?}",
                facts.packages
            );
        }
        if status.platform == "iosxe" {
            assert_eq!(
                facts.install_mode,
                Some(netswim_domain::facts::InstallMode::Bundle),
                "{name} install mode"
            );
        }
        if status.members.len() > 1 {
            stacks += 1;
            assert_eq!(
                facts.stack_members.len(),
                status.members.len(),
                "{name} members"
            );
        }
        // Learned OS and platform, pinned host key.
        let os = match status.platform.as_str() {
            "iosxe" => netswim_domain::Os::Iosxe,
            "iosxr" => netswim_domain::Os::Iosxr,
            _ => netswim_domain::Os::Ios,
        };
        *platforms.entry(status.platform.clone()).or_insert(0) += 1;
        assert_eq!(device.os, Some(os), "{name} os");
        assert_eq!(facts.os, Some(os), "{name} facts os");
        assert_eq!(device.platform.as_deref(), Some(status.model.as_str()));
        assert!(device.ssh_host_key.is_some(), "{name} host key not pinned");
        if status.legacy_ssh {
            assert!(
                device
                    .ssh_host_key
                    .as_deref()
                    .unwrap()
                    .starts_with("ssh-rsa ")
            );
        }
    }
    // 40 stacks in the mix; lab-sw-007, the wrong-password one, is one of them.
    assert_eq!(stacks, 39);
    assert_eq!(platforms["ios"], 119);
    assert_eq!(platforms["iosxe"], 40);
    assert_eq!(platforms["iosxr"], 40);

    // A second sync with the pinned keys changes nothing.
    let one = store
        .find_device_by_name("lab-sw-001")
        .await
        .unwrap()
        .unwrap();
    let again = netswim_engine::sync::sync_device(&store, &key, &one, &options)
        .await
        .unwrap();
    match &again.outcome {
        SyncOutcome::Synced { changed_fields } => {
            // Uptime moves between syncs; nothing else does.
            assert!(
                changed_fields.iter().all(|field| field == "uptime_seconds"),
                "{changed_fields:?}"
            );
        }
        other => panic!("second sync: {other:?}"),
    }
    eprintln!(
        "synced {} devices in {:.1}s (concurrency {})",
        DEVICES + 1,
        started.elapsed().as_secs_f64(),
        options.concurrency
    );
}

#[tokio::test]
async fn sync_records_what_changed_and_refuses_a_changed_host_key() {
    let options = |base: &str| LabOptions {
        devices: 1,
        mix: parse_mix("ios:1").unwrap(),
        address_base: base.parse::<Ipv4Addr>().unwrap(),
        ssh_port: 0,
        username: "admin".into(),
        password: "lab-password".into(),
        enable_secret: "lab-enable".into(),
        reload_delay: Duration::from_secs(1),
        seed: 9,
        image_version: "15.2(2)E7".into(),
        image_size: 16 * 1024,
        flash_size: None,
    };
    let lab = Lab::start(&options("127.44.102.1")).await.unwrap();
    // Another lab: same kind of device, its own host key.
    let impostor = Lab::start(&options("127.44.103.1")).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("netswim.db").display()
    );
    let store = Store::open(&url).await.unwrap();
    let key = SecretKey::generate();
    let mut csv = String::from("name,host,port,platform,username,password,enable_secret\n");
    let address = lab.devices[0].handle.ssh_address();
    csv.push_str(&format!(
        "sw,{},{},,admin,lab-password,lab-enable\n",
        address.ip(),
        address.port()
    ));
    csv.push_str("nx,127.44.102.250,22,nxos,admin,lab-password,lab-enable\n");
    import_csv(&store, &key, &csv).await.unwrap();
    let sync_options = SyncOptions {
        connect_timeout: Duration::from_secs(30),
        command_timeout: Duration::from_secs(30),
        ..SyncOptions::default()
    };
    let sync = |name: &'static str| {
        let store = &store;
        let key = &key;
        let sync_options = &sync_options;
        async move {
            let device = store.find_device_by_name(name).await.unwrap().unwrap();
            netswim_engine::sync::sync_device(store, key, &device, sync_options)
                .await
                .unwrap()
                .outcome
        }
    };

    // A device of an OS without a driver is reported, not contacted.
    assert_eq!(sync("nx").await.kind(), "unsupported");

    // First sync: the OS (unknown in the CSV) is detected and the key pinned.
    let SyncOutcome::Synced { changed_fields } = sync("sw").await else {
        panic!("first sync failed");
    };
    assert!(
        changed_fields.contains(&"version".to_string()),
        "{changed_fields:?}"
    );
    let device = store.find_device_by_name("sw").await.unwrap().unwrap();
    assert_eq!(device.os, Some(netswim_domain::Os::Ios));
    let pinned = device.ssh_host_key.clone().unwrap();

    // Change the device by hand: a copied file takes flash space.
    let mut session_options = netswim_drivers::SessionOptions::new(
        &address.ip().to_string(),
        address.port(),
        "admin",
        "lab-password",
    );
    session_options.enable_secret = Some("lab-enable".into());
    session_options.pinned_host_key = Some(pinned.clone());
    let mut session = netswim_drivers::Session::connect(session_options)
        .await
        .unwrap();
    let image = lab.status()[0].running_image.clone().unwrap();
    let image = image.trim_start_matches("flash:").trim_start_matches('/');
    session
        .run_confirming(&format!("copy flash:{image} flash:spare.bin"))
        .await
        .unwrap();
    session.close().await;
    let SyncOutcome::Synced { changed_fields } = sync("sw").await else {
        panic!("second sync failed");
    };
    assert!(
        changed_fields.contains(&"file_systems[0].free_bytes".to_string()),
        "{changed_fields:?}"
    );
    assert!(
        !changed_fields.contains(&"version".to_string()),
        "{changed_fields:?}"
    );

    // The device now answers with another key: refused, nothing stored.
    let other = impostor.devices[0].handle.ssh_address();
    let moved = netswim_store::Device {
        host: other.ip().to_string(),
        port: other.port(),
        ..store.find_device_by_name("sw").await.unwrap().unwrap()
    };
    store.update_device(&moved).await.unwrap();
    let outcome = sync("sw").await;
    let SyncOutcome::HostKeyChanged { message } = &outcome else {
        panic!("expected host_key_changed, got {outcome:?}");
    };
    let old = netswim_drivers::fingerprint(&pinned).unwrap();
    assert!(message.contains(&old), "{message}");
    let device = store.find_device_by_name("sw").await.unwrap().unwrap();
    assert_eq!(device.ssh_host_key.as_deref(), Some(pinned.as_str()));
    assert_eq!(
        store
            .device_fact_history(device.id, 10)
            .await
            .unwrap()
            .len(),
        2
    );
}
