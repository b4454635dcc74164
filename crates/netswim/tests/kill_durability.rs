//! `kill -9` durability of upgrade jobs: a real `netswim serve` process
//! runs two scheduled distribution jobs with parallel activation over 100
//! lab devices (80 IOS switches, 20 IOS-XR routers with commit), reload 3 s,
//! images pulled from serve's own file servers, and is killed with SIGKILL
//! at five points (during transfers, after a boot variable is set, during
//! an XR commit, while waiting for a device to return, during validation),
//! restarted each time. The jobs complete, lab ground
//! truth shows every device on the target and reloaded exactly once, and
//! every operation row recorded before a kill is still there.
//!
//! The jobs are written into the SQLite database with the engine library
//! before the first start (scheduled a second ahead); serve's scheduler
//! starts them. Loopback: lab 127.66.10.1–100, API and file servers
//! 127.66.10.251 (ephemeral ports).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use netswim_engine::inventory::import_csv;
use netswim_engine::sync::{SyncOptions, sync_devices};
use netswim_engine::upgrade::{
    ActivationOptions, DISTRIBUTION_JOB, DeviceSelector, DistributionSpec, Schedule,
};
use netswim_engine::{Engine, ImportSpec};
use netswim_lab::image::{ImageFormat, ImageSpec, image_file_name, make_bin};
use netswim_lab::lab::{Lab, LabOptions, parse_mix};
use netswim_lab::platform::{PlatformImageSpec, make_platform_image, platform_image_file_name};
use netswim_store::crypto::SecretKey;
use netswim_store::{LocalBlobStore, Status, Store};

const USERNAME: &str = "admin";
const PASSWORD: &str = "lab-password";
const ENABLE_SECRET: &str = "lab-enable";
const OLD_IOS: &str = "15.2(2)E7";
const NEW_IOS: &str = "15.2(7)E8";
const NEW_XR: &str = "7.3.2";
const IOS_DEVICES: usize = 80;
const XR_DEVICES: usize = 20;

/// A running `netswim serve`; SIGKILLed on drop.
struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netswim"))
            .args([
                "serve",
                "--listen",
                "127.66.10.251:0",
                "--transfer-host",
                "127.66.10.251",
                "--data",
            ])
            .arg(data)
            .env("NETSWIM_ADMIN_PASSWORD", "first-admin-password")
            .env_remove("NETSWIM_SECRET_KEY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("netswim serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("netswim API listening on ") {
                    let _ = sender.send(());
                }
            }
        });
        receiver
            .recv_timeout(Duration::from_secs(60))
            .expect("netswim serve did not announce its address");
        Server { child }
    }

    /// `kill -9`: std's `Child::kill` sends SIGKILL on Unix.
    fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

/// Every operation row of the upgrade jobs: id → (name, task).
async fn operations(store: &Store, jobs: &[i64]) -> BTreeMap<i64, (String, i64)> {
    let mut rows = BTreeMap::new();
    for job in jobs {
        for run in store.list_runs(*job).await.unwrap() {
            for task in store.list_tasks(run.id).await.unwrap() {
                for op in store.list_operations(task.id).await.unwrap() {
                    rows.insert(op.id, (op.name.clone(), op.task_id));
                }
            }
        }
    }
    rows
}

/// Waits until an operation named `name` newer than `after` exists.
async fn wait_for_operation(store: &Store, jobs: &[i64], name: &str, after: i64) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(240);
    loop {
        let rows = operations(store, jobs).await;
        if let Some((id, _)) = rows.iter().find(|(id, (op, _))| **id > after && op == name) {
            return *id;
        }
        let finished = futures_util::future::join_all(jobs.iter().map(|job| store.get_job(*job)))
            .await
            .into_iter()
            .all(|job| job.unwrap().status.is_finished());
        assert!(
            !finished,
            "the jobs ended before a {name:?} operation to kill at"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {name:?} operation within 240 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_at_five_points_of_a_100_device_distribution_and_activation_completes_it_without_a_second_reload()
 {
    let lab = Lab::start(&LabOptions {
        devices: IOS_DEVICES + XR_DEVICES,
        mix: parse_mix(&format!("ios:{IOS_DEVICES},iosxr:{XR_DEVICES}")).unwrap(),
        address_base: "127.66.10.1".parse::<Ipv4Addr>().unwrap(),
        ssh_port: 0,
        username: USERNAME.into(),
        password: PASSWORD.into(),
        enable_secret: ENABLE_SECRET.into(),
        reload_delay: Duration::from_secs(3),
        seed: 17,
        image_version: OLD_IOS.into(),
        image_size: 64 * 1024,
        flash_size: None,
    })
    .await
    .unwrap();
    // Up for weeks, as real devices are: a resumed task tells a reload it
    // sent from one that never reached the device by the uptime.
    for device in &lab.devices {
        device.handle.lock().uptime_at_start = Duration::from_secs(30 * 86_400);
    }
    let data = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        data.path().join("netswim.db").display()
    );
    let key = SecretKey::from_env_or_file(&data.path().join("secret.key")).unwrap();
    let store = Store::open(&url).await.unwrap();
    let report = import_csv(&store, &key, &lab.inventory_csv())
        .await
        .unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let listed = store.list_devices().await.unwrap();
    let options = SyncOptions {
        concurrency: 32,
        ..SyncOptions::default()
    };
    for result in sync_devices(&store, &key, &listed, &options, &|_| {})
        .await
        .unwrap()
    {
        assert_eq!(result.outcome.kind(), "synced", "{result:?}");
    }

    // The target images (imported into the library below).
    let ios_spec = ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: NEW_IOS.into(),
        feature: "universalk9".into(),
        min_dram_mb: 256,
        size: 64 * 1024,
    };
    let ios_name = image_file_name(&ios_spec, ImageFormat::Bin).unwrap();
    let ios_bytes = make_bin(&ios_spec).unwrap();
    let xr_spec = PlatformImageSpec {
        model: "ASR-9006".into(),
        version: NEW_XR.into(),
        size: 128 * 1024,
    };
    let xr_name = platform_image_file_name(&xr_spec).unwrap();
    let xr_bytes = make_platform_image(&xr_spec).unwrap();

    // Library images and the two jobs, written before serve first starts.
    let blobs = LocalBlobStore::open(data.path().join("blobs"))
        .await
        .unwrap();
    let (engine, _) = Engine::start(store, blobs, key).await.unwrap();
    let mut jobs = Vec::new();
    for (name, bytes, platform, parallel) in [
        (&ios_name, &ios_bytes, "ios", 20),
        (&xr_name, &xr_bytes, "iosxr", 10),
    ] {
        let reader: Box<dyn tokio::io::AsyncRead + Send + Unpin> =
            Box::new(std::io::Cursor::new(bytes.clone()));
        let (_, outcome) = engine
            .import_upload(ImportSpec::default(), name, reader, None, "test")
            .await
            .unwrap();
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(1);
        let job = engine
            .submit_distribution(
                DistributionSpec {
                    image_id: outcome.image.id,
                    devices: DeviceSelector {
                        platforms: vec![platform.into()],
                        ..DeviceSelector::default()
                    },
                    max_parallel: Some(parallel),
                    activate: Some(ActivationOptions {
                        max_parallel: Some(parallel),
                        reload_timeout_secs: Some(120),
                        ..ActivationOptions::default()
                    }),
                    ..DistributionSpec::default()
                },
                Schedule {
                    at: Some(at.to_string()),
                    ..Schedule::default()
                },
                "test",
            )
            .await
            .unwrap();
        assert_eq!(job.kind, DISTRIBUTION_JOB);
        assert_eq!(job.status, Status::Scheduled);
        jobs.push(job.id);
    }
    drop(engine);
    let reader = Store::open(&url).await.unwrap();

    let mut server = Server::start(data.path());
    let mut mark = 0;
    let mut kills = Vec::new();
    for point in [
        "transfer",
        "set boot",
        "install commit",
        "wait for return",
        "validate",
    ] {
        let seen = wait_for_operation(&reader, &jobs, point, mark).await;
        // Kill while that operation is in flight (or just ended).
        let before = operations(&reader, &jobs).await;
        server.kill_9();
        let after_kill = operations(&reader, &jobs).await;
        for (id, row) in &before {
            assert_eq!(after_kill.get(id), Some(row), "operation {id} lost");
        }
        mark = after_kill.keys().next_back().copied().unwrap_or(seen);
        kills.push((point, seen, before));
        server = Server::start(data.path());
    }

    // The last server finishes the jobs.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    loop {
        let mut done = true;
        for job in &jobs {
            done &= reader.get_job(*job).await.unwrap().status.is_finished();
        }
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "jobs did not finish after the restarts"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(server);
    let final_rows = operations(&reader, &jobs).await;
    for (point, _, before) in &kills {
        for (id, row) in before {
            assert_eq!(
                final_rows.get(id),
                Some(row),
                "row {id} before the {point} kill"
            );
        }
    }
    for job in &jobs {
        let stored = reader.get_job(*job).await.unwrap();
        let run = reader.list_runs(*job).await.unwrap().pop().unwrap();
        let mut failed = Vec::new();
        for task in reader.list_tasks(run.id).await.unwrap() {
            if task.status == Status::Success {
                continue;
            }
            // Every attempt's operations, to tell what the device went through.
            let operations: Vec<String> = reader
                .list_operations(task.id)
                .await
                .unwrap()
                .into_iter()
                .map(|op| {
                    format!(
                        "{} {} {:?}..{:?} {}",
                        op.name,
                        op.status.as_str(),
                        op.started_at.map(|t| t.as_millis()),
                        op.ended_at.map(|t| t.as_millis()),
                        op.message
                    )
                })
                .collect();
            failed.push((task.subject, task.status, task.message, operations));
        }
        let runs = reader.list_runs(*job).await.unwrap().len();
        assert_eq!(
            stored.status,
            Status::Success,
            "{runs} run(s); kills {:?}: {failed:#?}",
            kills
                .iter()
                .map(|(point, seen, _)| (point, seen))
                .collect::<Vec<_>>()
        );
    }
    for status in lab.status() {
        let target = if status.platform == "iosxr" {
            NEW_XR
        } else {
            NEW_IOS
        };
        assert_eq!(status.state, "up", "{}", status.name);
        assert_eq!(
            status.running_version.as_deref(),
            Some(target),
            "{}",
            status.name
        );
        assert_eq!(status.reload_count, 1, "{} reloaded again", status.name);
        if status.platform == "iosxr" {
            assert_eq!(
                status.xr_active_packages, status.xr_committed_packages,
                "{}",
                status.name
            );
        }
    }
}
