//! Upgrade jobs end to end, in process: the device lab (netswim-lab) over
//! real SSH, the engine with its file servers (TFTP/FTP/SCP+SFTP/HTTP on
//! published blob-store files), a relay (`netswim_transfer` fileserver with
//! its upload area = its root) serving one site, SQLite store. Ground truth
//! from the lab's status API.
//! Loopback: 127.62.0.0/16 (servers 127.62.0.1, relay 127.62.0.9, labs
//! 127.62.10.0/24, 127.62.20.0/24, 127.62.30.0/24, ...).

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use netswim_engine::upgrade::serving::{TransferListen, TransferServers};
use netswim_engine::upgrade::{
    ActivationMode, ActivationOptions, AnalysisSpec, DeviceSelector, DistributionSpec, Protocol,
    Schedule, UpgradeTimeouts, XeMode,
};
use netswim_lab::device::Faults;
use netswim_lab::lab::DeviceStatus;
use netswim_store::{NewDistributionServer, Status};
use netswim_testkit::{Rig, RigOptions, ios_image, lab_image};
use netswim_transfer::{
    CredentialStore, Fileserver, FileserverConfig, Protocol as ServedProtocol, TransferRecord,
    TransferResult,
};
use tokio::sync::mpsc;

const RELAY_USER: &str = "relay";
const RELAY_PASSWORD: &str = "relay-password";
const IMAGE_SIZE: u64 = 1024 * 1024;

/// The rig (lab, engine, in-process servers), a relay for one site, and
/// the target images.
struct Harness {
    rig: Rig,
    relay_records: mpsc::UnboundedReceiver<TransferRecord>,
    relay_root: PathBuf,
    /// Target image per lab model: (image id, file name, md5, version).
    images: HashMap<String, (i64, String, String, String)>,
}

impl Deref for Harness {
    type Target = Rig;

    fn deref(&self) -> &Rig {
        &self.rig
    }
}

async fn harness(devices: usize, mix: &str, base: Ipv4Addr, relay_site: &str) -> Harness {
    let mut options = RigOptions::new(devices, mix, base);
    options.reload_delay = Duration::from_secs(3);
    options.file_servers = Some("127.62.0.1:0".parse().expect("address"));
    options.timeouts = Some(UpgradeTimeouts {
        transfer: Duration::from_secs(6),
        stall: Duration::from_secs(5),
        ..UpgradeTimeouts::default()
    });
    let rig = Rig::start(&options).await;

    // The relay: a fileserver whose upload area is its root.
    let relay_root = rig.folder().join("relay");
    std::fs::create_dir_all(&relay_root).expect("relay dir");
    let relay_address: SocketAddr = "127.62.0.9:0".parse().expect("address");
    let credentials = CredentialStore::default();
    credentials.insert(RELAY_USER, RELAY_PASSWORD);
    let (records, relay_records) = mpsc::unbounded_channel();
    let mut config = FileserverConfig::new(&relay_root);
    config.sftp = Some(relay_address);
    config.ftp = Some(relay_address);
    config.tftp = Some(relay_address);
    config.http = Some(relay_address);
    config.credentials = credentials;
    config.upload = Some((relay_root.clone(), 1 << 30));
    config.records = Some(records);
    let relay = Fileserver::bind(config).await.expect("relay binds");
    let bound = relay.addresses().clone();
    tokio::spawn(async move {
        let _ = relay.run(std::future::pending()).await;
    });
    let port = |address: Option<SocketAddr>| address.expect("bound").port();
    let relay_url = format!(
        "scp://{RELAY_USER}:{RELAY_PASSWORD}@127.62.0.9:{}/?ftp={}&tftp={}&http={}",
        port(bound.sftp),
        port(bound.ftp),
        port(bound.tftp),
        port(bound.http)
    );
    let store = rig.engine.store();
    let site = store
        .find_site_by_name(relay_site)
        .await
        .expect("site lookup")
        .expect("lab site exists");
    store
        .insert_distribution_server(&NewDistributionServer {
            name: "relay-1".into(),
            url: relay_url,
            site_ids: vec![site.id],
        })
        .await
        .expect("relay registered");

    let images = import_target_images(&rig).await;
    Harness {
        rig,
        relay_records,
        relay_root,
        images,
    }
}

/// One target image per model the lab runs, imported into the repository.
async fn import_target_images(rig: &Rig) -> HashMap<String, (i64, String, String, String)> {
    let mut models: Vec<(String, String)> = rig
        .lab
        .status()
        .into_iter()
        .map(|device| (device.model, device.platform))
        .collect();
    models.sort();
    models.dedup();
    let mut images = HashMap::new();
    for (model, platform) in models {
        let version = match platform.as_str() {
            "ios" => "15.2(7)E8",
            "iosxe" => "17.12.04",
            _ => "7.3.2",
        };
        let (name, bytes) = lab_image(&platform, &model, version, IMAGE_SIZE);
        let id = rig.import_file(&name, &bytes).await;
        let image = rig.engine.store().get_image(id).await.expect("image");
        images.insert(
            model,
            (image.id, name, image.md5.clone(), version.to_owned()),
        );
    }
    images
}

fn by_model(statuses: &[DeviceStatus]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in statuses {
        groups
            .entry(device.model.clone())
            .or_default()
            .push(device.name.clone());
    }
    groups
}

/// Distributes each model's image to its devices; returns job id per model.
async fn distribute_all(h: &Harness, extra: impl Fn(&mut DistributionSpec)) -> Vec<i64> {
    let mut jobs = Vec::new();
    for (model, names) in by_model(&h.lab.status()) {
        let (image_id, ..) = &h.images[&model];
        let mut spec = DistributionSpec {
            image_id: *image_id,
            devices: DeviceSelector {
                names,
                ..Default::default()
            },
            max_parallel: Some(50),
            ..Default::default()
        };
        extra(&mut spec);
        let job = h
            .engine
            .submit_distribution(spec, Schedule::default(), "test")
            .await
            .expect("distribution submitted");
        jobs.push(job.id);
    }
    jobs
}

/// Whether every member file system of the device holds `file` with `md5`.
fn holds_image(device: &DeviceStatus, file: &str, md5: &str) -> bool {
    let targets: Vec<_> = device
        .file_systems
        .iter()
        .filter(|fs| !fs.name.starts_with("nvram"))
        .filter(|fs| {
            fs.files
                .iter()
                .any(|f| f.path.trim_start_matches('/') == file && f.md5 == md5)
        })
        .collect();
    let members = device.members.len().max(1);
    targets.len() >= members
}

/// Uploads the relay accepted (SCP pushes) of `file`.
fn relay_uploads(records: &mut mpsc::UnboundedReceiver<TransferRecord>) -> Vec<TransferRecord> {
    let mut all = Vec::new();
    while let Ok(record) = records.try_recv() {
        all.push(record);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distribution_puts_each_image_on_every_member_through_relay_or_local_server() {
    let mut h = harness(
        24,
        "ios-stack:4,ios:12,iosxe:4,iosxr:4",
        "127.62.10.1".parse().expect("ip"),
        "site-1",
    )
    .await;
    let jobs = distribute_all(&h, |_| {}).await;
    for job_id in &jobs {
        let job = h.wait_job(*job_id).await;
        let log = h.engine.job_log(*job_id).await.unwrap_or_default();
        assert_eq!(job.status, Status::Success, "job {job_id}:\n{log}");
        // Credentials minted for the job are revoked at its end.
        assert!(!h.servers().service.has_credential(*job_id));
    }
    let statuses = h.lab.status();
    for device in &statuses {
        let (_, file, md5, _) = &h.images[&device.model];
        assert!(
            holds_image(device, file, md5),
            "{} lacks {file}",
            device.name
        );
    }
    // The relay got each image its site needed exactly once (pushed by
    // SCP into its upload area), and served it to the site's devices.
    let records = relay_uploads(&mut h.relay_records);
    let site_models: std::collections::BTreeSet<String> = h
        .lab
        .devices
        .iter()
        .filter(|device| device.site == "site-1")
        .filter_map(|device| {
            statuses
                .iter()
                .find(|status| status.name == device.name)
                .map(|status| status.model.clone())
        })
        .collect();
    for model in &site_models {
        let (_, file, ..) = &h.images[model];
        let pushes = records
            .iter()
            .filter(|r| {
                r.protocol == ServedProtocol::Scp
                    && r.file.ends_with(file.as_str())
                    && r.result == TransferResult::Complete
                    && r.client.ip().to_string() == "127.0.0.1"
            })
            .count();
        assert!(h.relay_root.join(file).exists(), "relay holds {file}");
        assert_eq!(pushes, 1, "{file} pushed {pushes} times");
    }
    // Every device of the relay's site pulled from the relay, no other did.
    let pulled_by: std::collections::BTreeSet<String> = records
        .iter()
        .filter(|r| {
            r.result == TransferResult::Complete && r.client.ip().to_string() != "127.0.0.1"
        })
        .map(|r| r.client.ip().to_string())
        .collect();
    let site_hosts: std::collections::BTreeSet<String> = statuses
        .iter()
        .filter(|status| {
            h.lab
                .devices
                .iter()
                .any(|device| device.name == status.name && device.site == "site-1")
        })
        .map(|status| status.host.clone())
        .collect();
    assert_eq!(pulled_by, site_hosts);

    // A second distribution of the same images: nothing is copied again.
    let again = distribute_all(&h, |_| {}).await;
    for job_id in again {
        let job = h.wait_job(job_id).await;
        assert_eq!(job.status, Status::Success);
        let detail = h.engine.job_detail(job_id).await.expect("detail");
        for (_, tasks) in &detail.runs {
            for (task, operations) in tasks {
                let transfer = operations
                    .iter()
                    .find(|op| op.name == "transfer")
                    .expect("transfer op");
                assert!(
                    transfer.message.contains("already present"),
                    "{}: {}",
                    task.subject,
                    transfer.message
                );
            }
        }
    }
}

/// 10% of a 50-device fleet faulty, one of each kind: a stalled transfer, a
/// corrupted transfer, a full flash with nothing deletable, a switch whose
/// flash images do not boot (the lab's `boot_failure`: it must come back
/// through the distribution's TFTP fallback, the image it ran served by
/// netswim's TFTP server after being backed up from a device), and a
/// damaged image that verifies but does not boot (back on the old image
/// from flash).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_percent_faulty_devices_fail_with_a_specific_message_none_left_down() {
    let h = harness(
        50,
        "ios:40,iosxe:5,iosxr:5",
        "127.62.20.1".parse().expect("ip"),
        "site-2",
    )
    .await;
    const BOOT_FAILURE: &str = "lab-sw-008";
    const DAMAGED_IMAGE: &str = "lab-sw-010";
    let faults: [(&str, Faults, &str); 4] = [
        (
            "lab-sw-002",
            Faults {
                transfer_stall_after_bytes: Some(64 * 1024),
                ..Default::default()
            },
            "transfer stalled",
        ),
        (
            "lab-sw-004",
            Faults {
                corrupt_transfers: true,
                ..Default::default()
            },
            "image corrupted in transfer",
        ),
        (
            "lab-sw-006",
            Faults {
                full_flash: true,
                ..Default::default()
            },
            "needs 1,048,576 bytes",
        ),
        (
            BOOT_FAILURE,
            Faults {
                boot_failure: true,
                ..Default::default()
            },
            "loaded the TFTP fallback",
        ),
    ];
    // The damaged image: its payload is flipped but its MD5 is the
    // repository's, so it transfers and verifies; the switch refuses to boot
    // it and falls back to the image it ran.
    let (damaged_name, mut damaged) = ios_image("WS-C2960X-48FPD-L", "15.2(7)E9", IMAGE_SIZE);
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x5a;
    let damaged_id = h.import_file(&damaged_name, &damaged).await;
    for (name, fault, _) in &faults {
        h.lab
            .device(name)
            .expect("device")
            .handle
            .set_faults(fault.clone());
    }
    let activate = ActivationOptions {
        mode: ActivationMode::Parallel,
        max_parallel: Some(50),
        reload_timeout_secs: Some(30),
        ..Default::default()
    };
    // The running image is not in the repository: the first IOS switch
    // backs it up, the TFTP fallback then serves it.
    let mut jobs = distribute_all(&h, |spec| {
        spec.retries = Some(1);
        spec.devices.names.retain(|name| name != DAMAGED_IMAGE);
        spec.activate = Some(activate.clone());
        spec.backup_current_image = Some(true);
        spec.tftp_fallback = Some(true);
    })
    .await;
    let job = h
        .engine
        .submit_distribution(
            DistributionSpec {
                image_id: damaged_id,
                devices: DeviceSelector {
                    names: vec![DAMAGED_IMAGE.into()],
                    ..Default::default()
                },
                activate: Some(activate.clone()),
                ..Default::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .expect("submitted");
    jobs.push(job.id);
    let mut messages = HashMap::new();
    for job_id in &jobs {
        h.wait_job(*job_id).await;
        let detail = h.engine.job_detail(*job_id).await.expect("detail");
        for (_, tasks) in &detail.runs {
            for (task, _) in tasks {
                messages.insert(task.subject.clone(), (task.status, task.message.clone()));
            }
        }
    }
    for (name, _, expected) in &faults {
        let (status, message) = &messages[*name];
        assert_eq!(*status, Status::Failure, "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
    }
    for name in [BOOT_FAILURE, DAMAGED_IMAGE] {
        let (_, message) = &messages[name];
        assert!(
            message.contains("came back on 15.2(2)E7")
                && message.contains("boot configuration restored"),
            "{name}: {message}"
        );
    }
    let failed: Vec<_> = messages
        .iter()
        .filter(|(_, (status, _))| *status != Status::Success)
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(failed.len(), faults.len() + 1, "{messages:#?}");
    assert_eq!(messages.len(), 50);
    // Each running image went into the repository once.
    let mut names: Vec<String> = h
        .engine
        .store()
        .list_images()
        .await
        .expect("images")
        .into_iter()
        .map(|image| image.file_name)
        .collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        count,
        names.len(),
        "an image was backed up twice: {names:?}"
    );
    assert!(
        names.iter().any(|name| name.contains("152-2.E7")),
        "{names:?}"
    );
    // None is left down; the others run their target; the boot-failure
    // switch runs its old image from netswim's TFTP server.
    for device in h.lab.status() {
        assert_eq!(device.state, "up", "{}", device.name);
        let (_, _, _, version) = &h.images[&device.model];
        let expected =
            device.name != DAMAGED_IMAGE && !faults.iter().any(|(name, ..)| *name == device.name);
        assert_eq!(
            device.running_version.as_deref() == Some(version.as_str()),
            expected,
            "{}: runs {:?}",
            device.name,
            device.running_version
        );
        if device.name == BOOT_FAILURE {
            let image = device.running_image.as_deref().unwrap_or_default();
            assert!(
                image.starts_with("tftp://127.62.0.1:")
                    && image.contains("/fallback/")
                    && image.ends_with("152-2.E7.bin"),
                "{image}"
            );
        }
    }

    // After a restart (new file servers, nothing published) the engine
    // serves the fallback again: the device's boot entry outlives the job.
    let restarted = TransferServers::start(TransferListen {
        transfer_host: None,
        tftp: Some("127.62.0.1:0".parse().expect("address")),
        ftp: None,
        ssh: None,
        http: None,
        https: None,
        host_key: None,
        records: None,
    })
    .await
    .expect("restarted servers");
    h.engine.set_transfer_service(restarted.service.clone());
    let republished = h
        .engine
        .republish_tftp_fallbacks()
        .await
        .expect("republish");
    assert!(republished >= 1, "{republished}");
    let running = h
        .lab
        .status()
        .into_iter()
        .find(|device| device.name == BOOT_FAILURE)
        .and_then(|device| device.running_image)
        .expect("running image");
    let (_, name) = running.rsplit_once("/fallback/").expect("fallback path");
    let bytes = netswim_tftp::client::get_bytes(
        restarted.addresses.tftp.expect("tftp bound"),
        &format!("fallback/{name}"),
        &netswim_tftp::ClientOptions::default(),
    )
    .await
    .expect("fallback served after the restart");
    let image = h
        .image_named(name)
        .await
        .expect("fallback image in the repository");
    assert_eq!(bytes.len() as u64, image.size_bytes);
    assert_eq!(
        hex::encode(<md5::Md5 as md5::Digest>::digest(&bytes)),
        image.md5
    );
}

/// Runs one distribution job with chained parallel activation per model
/// (XE devices split between bundle and install mode), one after another.
async fn distribute_and_activate(h: &Harness, max_parallel: u32) -> Vec<i64> {
    let mut jobs = Vec::new();
    for (model, names) in by_model(&h.lab.status()) {
        let (image_id, ..) = &h.images[&model];
        let groups: Vec<(Vec<String>, XeMode)> = if model.starts_with("C9300") {
            let half = names.len() / 2;
            vec![
                (names[..half].to_vec(), XeMode::Current),
                (names[half..].to_vec(), XeMode::Install),
            ]
        } else {
            vec![(names, XeMode::Current)]
        };
        for (names, xe_mode) in groups {
            let spec = DistributionSpec {
                image_id: *image_id,
                devices: DeviceSelector {
                    names,
                    ..Default::default()
                },
                max_parallel: Some(max_parallel),
                activate: Some(ActivationOptions {
                    mode: ActivationMode::Parallel,
                    max_parallel: Some(max_parallel),
                    xe_mode,
                    commit: Some(true),
                    reload_timeout_secs: Some(60),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let job = h
                .engine
                .submit_distribution(spec, Schedule::default(), "test")
                .await
                .expect("distribution submitted");
            let finished = h.wait_job(job.id).await;
            let log = if finished.status == Status::Success {
                String::new()
            } else {
                h.engine.job_log(job.id).await.unwrap_or_default()
            };
            assert_eq!(finished.status, Status::Success, "job {}:\n{log}", job.id);
            jobs.push(job.id);
        }
    }
    jobs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_devices_distribute_through_a_relay_and_activate_50_at_a_time() {
    let mut h = harness(
        200,
        "ios-stack:40,ios:80,iosxe:40,iosxr:40",
        "127.62.40.1".parse().expect("ip"),
        "site-1",
    )
    .await;
    let started = std::time::Instant::now();
    distribute_and_activate(&h, 50).await;
    eprintln!(
        "200 devices distributed and activated in {:?}",
        started.elapsed()
    );
    let statuses = h.lab.status();
    for device in &statuses {
        let (_, file, md5, version) = &h.images[&device.model];
        assert_eq!(device.state, "up", "{}", device.name);
        assert_eq!(
            device.running_version.as_deref(),
            Some(version.as_str()),
            "{} runs {:?}",
            device.name,
            device.running_version
        );
        for member in &device.members {
            assert_eq!(
                member.running_version.as_deref(),
                Some(version.as_str()),
                "{} member {}",
                device.name,
                member.number
            );
        }
        if device.platform == "iosxr" {
            assert!(
                device
                    .xr_committed_packages
                    .iter()
                    .any(|package| package.contains(version.as_str())),
                "{} committed {:?}",
                device.name,
                device.xr_committed_packages
            );
        } else if device.platform == "ios" {
            assert!(
                holds_image(device, file, md5),
                "{} lacks {file}",
                device.name
            );
        }
        assert!(device.reload_count >= 1, "{} never reloaded", device.name);
    }
    // The relay received each image its site needs exactly once, and no
    // other image.
    let records = relay_uploads(&mut h.relay_records);
    let mut pushed: Vec<String> = records
        .iter()
        .filter(|r| {
            r.protocol == ServedProtocol::Scp
                && r.client.ip().to_string() == "127.0.0.1"
                && r.result == TransferResult::Complete
        })
        .map(|r| r.file.trim_start_matches('/').to_owned())
        .collect();
    pushed.sort();
    let mut needed: Vec<String> = h
        .lab
        .devices
        .iter()
        .filter(|device| device.site == "site-1")
        .filter_map(|device| statuses.iter().find(|status| status.name == device.name))
        .map(|status| h.images[&status.model].1.clone())
        .collect();
    needed.sort();
    needed.dedup();
    assert!(!needed.is_empty());
    assert_eq!(pushed, needed, "relay uploads against the site's images");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analysis_job_reports_readiness_per_device_from_live_facts() {
    let h = harness(
        6,
        "ios:4,iosxr:2",
        "127.62.30.1".parse().expect("ip"),
        "site-1",
    )
    .await;
    h.lab
        .device("lab-sw-002")
        .expect("device")
        .handle
        .set_faults(Faults {
            full_flash: true,
            ..Default::default()
        });
    let (image_id, file, ..) = h.images["WS-C2960X-48FPD-L"].clone();
    let job = h
        .engine
        .submit_analysis(
            AnalysisSpec {
                name: None,
                image_id,
                devices: DeviceSelector {
                    all: true,
                    ..Default::default()
                },
                method: None,
            },
            Schedule::default(),
            "test",
        )
        .await
        .expect("analysis submitted");
    assert!(job.name.starts_with(&format!("Analyze_{file}_")));
    let job = h.wait_job(job.id).await;
    assert_eq!(job.status, Status::Success);
    let report = h.engine.analysis_report(job.id).await.expect("report");
    assert_eq!(report.rows.len(), 6);
    let status: HashMap<_, _> = report
        .rows
        .iter()
        .map(|row| (row.device.clone(), row.status()))
        .collect();
    assert_eq!(status["lab-sw-001"], "ready");
    assert_eq!(status["lab-sw-002"], "not_ready");
    assert_eq!(status["lab-rtr-005"], "not_applicable");
    assert_eq!(report.summary.ready, 3);
    assert_eq!(report.summary.not_ready, 1);
    assert_eq!(report.summary.not_applicable, 2);
    // The live analysis (stored facts, no job) agrees.
    let live = h
        .engine
        .analyse(&AnalysisSpec {
            name: None,
            image_id,
            devices: DeviceSelector {
                all: true,
                ..Default::default()
            },
            method: None,
        })
        .await
        .expect("analyse");
    assert_eq!(live.summary, report.summary);
}

/// While a device pulls the image from netswim's own servers, the task's
/// `operation.progress` events carry the bytes sent so far and the total,
/// whatever the protocol (the devices' downloads are capped so the
/// transfer lasts a few seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_transfer_reports_the_bytes_pulled_so_far_over_every_protocol() {
    const SIZE: u64 = 24 * 1024 * 1024;
    let mut options = RigOptions::new(5, "ios:5", "127.62.40.1".parse().expect("ip"));
    options.file_servers = Some("127.62.0.1:0".parse().expect("address"));
    let rig = Rig::start(&options).await;
    let (name, bytes) = ios_image("WS-C2960X-48FPD-L", "15.2(7)E8", SIZE);
    let image_id = rig.import_file(&name, &bytes).await;

    let mut events = rig.engine.subscribe();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let collector = {
        let seen = std::sync::Arc::clone(&seen);
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) if event.kind == "operation.progress" => {
                        seen.lock().expect("lock").push(event);
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                }
            }
        })
    };
    // IOS pulls over SCP, FTP, HTTP, HTTPS and TFTP (not SFTP).
    let protocols = [
        Protocol::Scp,
        Protocol::Ftp,
        Protocol::Http,
        Protocol::Https,
        Protocol::Tftp,
    ];
    let mut jobs = Vec::new();
    for (index, protocol) in protocols.into_iter().enumerate() {
        let device = format!("lab-sw-{:03}", index + 1);
        rig.lab
            .device(&device)
            .expect("device")
            .handle
            .set_faults(Faults {
                bandwidth_bytes_per_sec: Some(8 * 1024 * 1024),
                ..Default::default()
            });
        let spec = DistributionSpec {
            image_id,
            devices: DeviceSelector {
                names: vec![device],
                ..Default::default()
            },
            protocols: Some(vec![protocol]),
            use_distribution_servers: Some(false),
            ..Default::default()
        };
        let job = rig
            .engine
            .submit_distribution(spec, Schedule::default(), "test")
            .await
            .expect("distribution submitted");
        jobs.push((job.id, protocol));
    }
    for (job_id, protocol) in &jobs {
        let job = rig.wait_job(*job_id).await;
        let log = rig.engine.job_log(*job_id).await.expect("log");
        assert_eq!(job.status, Status::Success, "{protocol:?}: {log}");
    }
    collector.abort();
    let progress = seen.lock().expect("lock").clone();
    for (job_id, protocol) in jobs {
        let counts: Vec<u64> = progress
            .iter()
            .filter(|event| event.job_id == Some(job_id))
            .filter(|event| event.payload["operation"] == "transfer")
            .filter_map(|event| {
                assert_eq!(event.payload["protocol"], serde_json::json!(protocol));
                let total = event.payload.get("total")?;
                assert_eq!(total.as_u64(), Some(SIZE), "{event:?}");
                event.payload["bytes"].as_u64()
            })
            .collect();
        assert!(
            counts.iter().any(|bytes| *bytes > 0 && *bytes < SIZE),
            "{protocol:?}: no count during the transfer: {counts:?}"
        );
        assert!(
            counts.windows(2).all(|pair| pair[0] < pair[1]),
            "{protocol:?}: counts go up: {counts:?}"
        );
    }
}
