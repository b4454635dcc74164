//! "Back up current image": an import whose source is a lab IOS switch over
//! real SSH and TFTP. The stored image has the lab's ground-truth digests and
//! the right family/version; a second backup of the same bytes is the same
//! image; a file the device cannot read back (corrupted on arrival) is
//! rejected naming the device's error, and no staging file is left behind.
//! Loopback range 127.48.0.0/16 (this file: 127.48.1.0/24, 127.48.2.0/24).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use netswim_drivers::{Algorithms, Session, SessionOptions};
use netswim_engine::inventory::import_csv;
use netswim_engine::{DEVICE_BACKUP_LISTEN_SETTING, Engine, ImportSource, ImportSpec, JobDetail};
use netswim_lab::device::Faults;
use netswim_lab::image::{ImageSpec, make_bin};
use netswim_lab::lab::{DeviceStatus, Lab, LabOptions, control_get, parse_mix, serve_control};
use netswim_store::crypto::SecretKey;
use netswim_store::{LocalBlobStore, Status, Store};
use netswim_tftp::{LocalDirectory, ServerConfig, TftpServer};

struct Setup {
    lab: Arc<Lab>,
    control: SocketAddr,
    engine: Engine,
    device_id: i64,
    data: tempfile::TempDir,
}

async fn setup(base: &str) -> Setup {
    let lab = Arc::new(
        Lab::start(&LabOptions {
            devices: 1,
            mix: parse_mix("ios:1").unwrap(),
            address_base: base.parse::<Ipv4Addr>().unwrap(),
            ssh_port: 0,
            username: "admin".into(),
            password: "lab-password".into(),
            enable_secret: "lab-enable".into(),
            reload_delay: Duration::from_secs(1),
            seed: 8,
            image_version: "15.2(2)E7".into(),
            image_size: 96 * 1024,
            flash_size: None,
        })
        .await
        .unwrap(),
    );
    let (control, _task) = serve_control(lab.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let mut csv = String::new();
    for (index, line) in lab.inventory_csv().lines().enumerate() {
        let enable = if index == 0 {
            "enable_secret"
        } else {
            "lab-enable"
        };
        csv.push_str(&format!("{line},{enable}\n"));
    }
    let data = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        data.path().join("netswim.db").display()
    );
    let store = Store::open(&url).await.unwrap();
    let key = SecretKey::generate();
    let report = import_csv(&store, &key, &csv).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let device_id = store.list_devices().await.unwrap()[0].id;
    let blobs = LocalBlobStore::open(data.path().join("blobs"))
        .await
        .unwrap();
    let (engine, _) = Engine::start(store, blobs, key).await.unwrap();
    Setup {
        lab,
        control,
        engine,
        device_id,
        data,
    }
}

/// The lab's ground truth, as its control endpoint reports it.
async fn ground_truth(control: SocketAddr) -> DeviceStatus {
    let text = control_get(control, "/devices").await.unwrap();
    let mut devices: Vec<DeviceStatus> = serde_json::from_str(&text).unwrap();
    devices.remove(0)
}

async fn backup(setup: &Setup, path: Option<&str>) -> JobDetail {
    let spec = ImportSpec {
        source: Some(ImportSource::Device {
            device_id: setup.device_id,
            path: path.map(str::to_owned),
        }),
        ..ImportSpec::default()
    };
    let job = setup.engine.submit_import(spec, "tester").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let detail = setup.engine.job_detail(job.id).await.unwrap();
        if detail.job.status != Status::Running {
            return detail;
        }
        assert!(
            Instant::now() < deadline,
            "backup job still running after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn operations(detail: &JobDetail) -> Vec<(String, Status, String)> {
    detail.runs[0].1[0]
        .1
        .iter()
        .map(|op| (op.name.clone(), op.status, op.message.clone()))
        .collect()
}

fn staging_is_empty(data: &Path) {
    let staging = data.join("device-backup");
    let left: Vec<_> = std::fs::read_dir(&staging)
        .map(|entries| entries.flatten().map(|entry| entry.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backing_up_the_running_image_stores_the_device_bytes_once() {
    let setup = setup("127.48.1.1").await;
    let truth = ground_truth(setup.control).await;
    let running = truth
        .running_image
        .clone()
        .expect("the lab device runs an image");
    let running_name = running.rsplit([':', '/']).next().unwrap().to_owned();
    let file = truth.file_systems[0]
        .files
        .iter()
        .find(|file| file.path == running_name)
        .unwrap_or_else(|| panic!("{running_name} not in {:?}", truth.file_systems[0]))
        .clone();

    let first = backup(&setup, None).await;
    let ops = operations(&first);
    assert_eq!(first.job.status, Status::Success, "{ops:?}");
    let names: Vec<&str> = ops.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "connect",
            "checksum on device",
            "upload",
            "fetch",
            "verify",
            "inspect",
            "record"
        ]
    );
    assert!(ops[1].2.contains(&file.md5), "{ops:?}");
    assert_eq!(ops[4].2, "verified: md5 (given)");
    let store = setup.engine.store();
    let image = store
        .find_image_by_sha256(&file.sha256)
        .await
        .unwrap()
        .expect("an image row with the device file's sha256");
    assert_eq!(image.md5, file.md5);
    assert_eq!(image.size_bytes, file.size);
    assert_eq!(image.file_name, running_name);
    assert_eq!(image.family.as_deref(), Some("c2960x"));
    assert_eq!(image.version.as_deref(), Some("15.2(2)E7"));
    staging_is_empty(setup.data.path());

    // Same bytes again, named by path this time: the same image.
    let second = backup(&setup, Some(&format!("flash:{running_name}"))).await;
    assert_eq!(
        second.job.status,
        Status::Success,
        "{:?}",
        operations(&second)
    );
    let task = &second.runs[0].1[0].0;
    assert_eq!(
        task.message,
        format!("already in the repository as image {}", image.id)
    );
    assert_eq!(task.device_id, Some(setup.device_id));
    assert_eq!(store.list_images().await.unwrap().len(), 1);
    staging_is_empty(setup.data.path());
    drop(setup.lab);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_device_file_is_rejected_naming_the_problem() {
    let setup = setup("127.48.2.1").await;
    // The backup server listens where the test says (not the default).
    setup
        .engine
        .store()
        .set_setting(
            DEVICE_BACKUP_LISTEN_SETTING,
            &serde_json::json!("127.48.2.200:0"),
        )
        .await
        .unwrap();
    // Put a file on flash through a transfer the device corrupts.
    let served = tempfile::tempdir().unwrap();
    let image = make_bin(&ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        min_dram_mb: 512,
        size: 64 * 1024,
    })
    .unwrap();
    std::fs::write(served.path().join("new.bin"), &image).unwrap();
    let server = TftpServer::bind(
        "127.48.2.201:0".parse().unwrap(),
        LocalDirectory::new(served.path()).unwrap(),
        ServerConfig::default(),
    )
    .await
    .unwrap();
    let tftp = server.local_addr().unwrap();
    let _server = tokio::spawn(server.run());
    let device = &setup.lab.devices[0];
    device.handle.set_faults(Faults {
        corrupt_transfers: true,
        ..Faults::default()
    });
    let address = device.handle.ssh_address();
    let mut options = SessionOptions::new(
        &address.ip().to_string(),
        address.port(),
        "admin",
        "lab-password",
    );
    options.enable_secret = Some("lab-enable".into());
    options.algorithms = Algorithms::Legacy;
    options.connect_timeout = Duration::from_secs(30);
    let mut session = Session::connect(options).await.unwrap();
    session
        .run_confirming(&format!("copy tftp://{tftp}/new.bin flash:"))
        .await
        .unwrap();
    session.close().await;
    let truth = ground_truth(setup.control).await;
    let on_flash = truth.file_systems[0]
        .files
        .iter()
        .find(|file| file.path == "new.bin")
        .expect("new.bin on flash");

    let detail = backup(&setup, Some("flash:new.bin")).await;
    let ops = operations(&detail);
    assert_eq!(detail.job.status, Status::Failure, "{ops:?}");
    let (name, status, message) = ops.last().unwrap();
    assert_eq!(
        (name.as_str(), *status),
        ("upload", Status::Failure),
        "{ops:?}"
    );
    assert!(
        message.contains("%Error reading flash:new.bin"),
        "{message}"
    );
    assert!(
        setup
            .engine
            .store()
            .find_image_by_sha256(&on_flash.sha256)
            .await
            .unwrap()
            .is_none()
    );
    assert!(setup.engine.store().list_images().await.unwrap().is_empty());
    staging_is_empty(setup.data.path());
}
