//! Activation, commit, rollback, scheduling and job control on the upgrade
//! runner against the in-process device lab over real SSH. Images reach
//! the devices' flash over real TFTP from a netswim-transfer file server
//! (test setup), and enter the library through the real import path.
//! Ground truth comes from the lab (`Lab::status`), never from netswim.
//! Loopback range 127.66.0.0/16; reload delay 1 s.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use md5::{Digest, Md5};
use netswim_domain::Os;
use netswim_drivers::upgrade::{self as device, CopyRequest};
use netswim_drivers::{Session, SessionOptions};
use netswim_engine::sync::{SyncOptions, sync_devices};
use netswim_engine::upgrade::{
    ActivationMode, ActivationOptions, ActivationSpec, CommitSpec, DeviceSelector, FailurePolicy,
    JobControl, RollbackSpec, Schedule, XeMode,
};
use netswim_lab::lab::DeviceStatus;
use netswim_store::{Job, Status};
use netswim_testkit::{
    LAB_ENABLE_SECRET, LAB_PASSWORD, LAB_USERNAME, Rig, RigOptions, ios_image, platform_image,
};
use netswim_transfer::{Fileserver, FileserverConfig};

const OLD_IOS: &str = "15.2(2)E7";
const NEW_IOS: &str = "15.2(7)E8";
const NEW_XR: &str = "7.3.2";
const JOB_TIMEOUT: Duration = Duration::from_secs(240);
const SWITCH: &str = "WS-C2960X-48FPD-L";

/// The rig (lab and engine, every device synced) and a TFTP server the
/// test puts images on devices from.
struct Setup {
    rig: Rig,
    files: tempfile::TempDir,
    tftp: SocketAddr,
}

impl Deref for Setup {
    type Target = Rig;

    fn deref(&self) -> &Rig {
        &self.rig
    }
}

impl Setup {
    async fn start(base: &str, mix: &str, devices: usize) -> Setup {
        let mut options = RigOptions::new(devices, mix, base.parse::<Ipv4Addr>().unwrap());
        options.image_version = OLD_IOS.into();
        options.job_timeout = Some(JOB_TIMEOUT);
        let rig = Rig::start(&options).await;
        let store = rig.engine.store();
        let listed = store.list_devices().await.unwrap();
        let options = SyncOptions {
            concurrency: 16,
            ..SyncOptions::default()
        };
        let results = sync_devices(store, rig.engine.key(), &listed, &options, &|_| {})
            .await
            .unwrap();
        for result in &results {
            assert_eq!(result.outcome.kind(), "synced", "{result:?}");
        }
        // A file server the devices pull test images from (setup only).
        let files = tempfile::tempdir().unwrap();
        let server_ip = base.rsplit_once('.').unwrap().0.to_owned() + ".250";
        let mut config = FileserverConfig::new(files.path());
        config.tftp = Some(format!("{server_ip}:0").parse().unwrap());
        let server = Fileserver::bind(config).await.unwrap();
        let tftp = server.addresses().tftp.unwrap();
        tokio::spawn(server.run(std::future::pending::<()>()));
        Setup { rig, files, tftp }
    }

    async fn session(&self, index: usize) -> Session {
        let address = self.lab.devices[index].handle.ssh_address();
        let mut options = SessionOptions::new(
            &address.ip().to_string(),
            address.port(),
            LAB_USERNAME,
            LAB_PASSWORD,
        );
        options.enable_secret = Some(LAB_ENABLE_SECRET.into());
        options.command_timeout = Duration::from_secs(30);
        Session::connect(options).await.unwrap()
    }

    /// Copies a file onto a device (every stack member) over TFTP.
    async fn put_on_device(&self, index: usize, os: Os, name: &str, bytes: &[u8], fs: &str) {
        std::fs::write(self.files.path().join(name), bytes).unwrap();
        let md5 = hex::encode(Md5::digest(bytes));
        let url = format!("tftp://{}/{name}", self.tftp);
        let mut session = self.session(index).await;
        if os == Os::Iosxr {
            // IOS-XR pulls files into harddisk: with `install add`.
            let source = format!("tftp://{}", self.tftp);
            device::xr_install_add(&mut session, &source, name, Duration::from_secs(60))
                .await
                .unwrap();
            return;
        }
        let request = CopyRequest::new(&url, &format!("{fs}{name}"), &md5);
        device::copy_image(&mut session, os, &request)
            .await
            .unwrap();
    }

    fn truth(&self, name: &str) -> DeviceStatus {
        self.lab
            .status()
            .into_iter()
            .find(|status| status.name == name)
            .unwrap()
    }

    async fn task_messages(&self, job: &Job) -> Vec<(String, Status, String)> {
        let store = self.engine.store();
        let run = store.list_runs(job.id).await.unwrap().pop().unwrap();
        store
            .list_tasks(run.id)
            .await
            .unwrap()
            .into_iter()
            .map(|task| (task.subject, task.status, task.message))
            .collect()
    }
}

fn names(setup: &Setup, range: std::ops::Range<usize>) -> Vec<String> {
    setup.lab.devices[range]
        .iter()
        .map(|device| device.name.clone())
        .collect()
}

fn chosen(names: Vec<String>) -> DeviceSelector {
    DeviceSelector {
        names,
        ..DeviceSelector::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sequential_activation_of_ten_devices_never_has_two_down_and_rollback_restores_the_old_image()
 {
    let setup = Setup::start("127.66.1.1", "ios:10", 10).await;
    let (name, bytes) = ios_image(SWITCH, NEW_IOS, 64 * 1024);
    let image = setup.import_upload(&name, &bytes).await;
    for index in 0..10 {
        setup
            .put_on_device(index, Os::Ios, &name, &bytes, "flash:")
            .await;
    }
    let old_images: Vec<String> = (0..10)
        .map(|index| {
            setup
                .truth(&setup.lab.devices[index].name)
                .running_image
                .unwrap()
        })
        .collect();

    // Sample the lab's ground truth while the job runs.
    let stop = Arc::new(AtomicBool::new(false));
    let most_down = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (lab, stop, most_down) = (setup.lab.clone(), stop.clone(), most_down.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let down = lab
                    .status()
                    .iter()
                    .filter(|status| status.state != "up")
                    .count();
                most_down.fetch_max(down, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let job = setup
        .engine
        .submit_activation(
            ActivationSpec {
                image_id: Some(image.id),
                devices: DeviceSelector {
                    all: true,
                    ..DeviceSelector::default()
                },
                options: ActivationOptions {
                    mode: ActivationMode::Sequential,
                    reload_timeout_secs: Some(60),
                    ..ActivationOptions::default()
                },
                ..ActivationSpec::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .unwrap();
    assert!(
        job.name.starts_with(&format!("Activate_{name}_")),
        "{}",
        job.name
    );
    let job = setup.wait_job(job.id).await;
    stop.store(true, Ordering::SeqCst);
    sampler.await.unwrap();
    let log = setup.engine.job_log(job.id).await.unwrap();
    assert_eq!(job.status, Status::Success, "{log}");
    // One device was seen reloading (the sampler works), never two.
    assert_eq!(most_down.load(Ordering::SeqCst), 1, "{log}");
    let summary = setup.engine.job_summary(job.id).await.unwrap();
    assert_eq!((summary.total, summary.successful), (10, 10));
    for (index, lab_device) in setup.lab.devices.iter().enumerate() {
        let truth = setup.truth(&lab_device.name);
        assert_eq!(truth.running_version.as_deref(), Some(NEW_IOS), "{truth:?}");
        assert_eq!(truth.reload_count, 1, "{}", lab_device.name);
        // Boot: the new image first, then the one it ran, saved.
        assert_eq!(
            truth.boot_variable,
            format!("flash:{name};{}", old_images[index]),
            "{}",
            lab_device.name
        );
        assert!(truth.config_saved);
    }
    // The log has a line per operation with its device and status.
    for step in ["set boot", "reload", "wait for return", "validate"] {
        let lines = log
            .lines()
            .filter(|line| line.contains(&format!(". {step}\tsuccess")))
            .count();
        assert_eq!(lines, 10, "{step}: {log}");
    }

    // Roll two of them back: they run the image they ran before.
    let back = names(&setup, 0..2);
    let rollback = setup
        .engine
        .submit_rollback(
            RollbackSpec {
                devices: chosen(back.clone()),
                reload_timeout_secs: Some(60),
                ..RollbackSpec::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .unwrap();
    let rollback = setup.wait_job(rollback.id).await;
    assert_eq!(
        rollback.status,
        Status::Success,
        "{}",
        setup.engine.job_log(rollback.id).await.unwrap()
    );
    for (index, device_name) in back.iter().enumerate() {
        let truth = setup.truth(device_name);
        assert_eq!(truth.running_version.as_deref(), Some(OLD_IOS), "{truth:?}");
        assert_eq!(truth.running_image.as_ref(), Some(&old_images[index]));
        assert_eq!(truth.reload_count, 2);
    }
    assert_eq!(
        setup
            .truth(&setup.lab.devices[2].name)
            .running_version
            .as_deref(),
        Some(NEW_IOS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_fails_to_boot_gets_the_boot_config_restored_and_stop_policy_spares_the_rest()
{
    let setup = Setup::start("127.66.2.1", "ios:2", 2).await;
    // The library's copy is damaged inside (its MD5 is the library's, its
    // payload checksum is wrong): the switch refuses to boot it and falls
    // back to the next boot entry, the image it ran.
    let (name, mut bytes) = ios_image(SWITCH, NEW_IOS, 64 * 1024);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    let image = setup.import_upload(&name, &bytes).await;
    for index in 0..2 {
        setup
            .put_on_device(index, Os::Ios, &name, &bytes, "flash:")
            .await;
    }
    let first = setup.lab.devices[0].name.clone();
    let second = setup.lab.devices[1].name.clone();
    let before = setup.truth(&first);
    let job = setup
        .engine
        .submit_activation(
            ActivationSpec {
                image_id: Some(image.id),
                devices: chosen(vec![first.clone(), second.clone()]),
                options: ActivationOptions {
                    mode: ActivationMode::Sequential,
                    reload_timeout_secs: Some(60),
                    failure_policy: Some(FailurePolicy::Stop),
                    ..ActivationOptions::default()
                },
                ..ActivationSpec::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .unwrap();
    let job = setup.wait_job(job.id).await;
    let log = setup.engine.job_log(job.id).await.unwrap();
    assert_eq!(job.status, Status::Failure, "{log}");
    let tasks = setup.task_messages(&job).await;
    let (_, status, message) = tasks.iter().find(|task| task.0 == first).unwrap();
    assert_eq!(*status, Status::Failure, "{log}");
    assert!(
        message.contains(&format!("came back on {OLD_IOS}"))
            && message.contains(NEW_IOS)
            && message.contains("boot configuration restored"),
        "{message}"
    );
    let (_, status, message) = tasks.iter().find(|task| task.0 == second).unwrap();
    assert_eq!(*status, Status::Cancelled, "{message}");
    assert!(message.contains("earlier device failed"), "{message}");
    let truth = setup.truth(&first);
    assert_eq!(truth.state, "up");
    assert_eq!(truth.running_version.as_deref(), Some(OLD_IOS));
    assert_eq!(truth.boot_variable, before.boot_variable);
    assert!(truth.config_saved);
    assert_eq!(setup.truth(&second).reload_count, 0);
    let summary = setup.engine.job_summary(job.id).await.unwrap();
    assert_eq!(
        (summary.failed, summary.cancelled, summary.successful),
        (1, 1, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ios_xr_activation_without_commit_rolls_back_and_a_commit_job_makes_it_stay() {
    let setup = Setup::start("127.66.3.1", "iosxr:1", 1).await;
    let (name, bytes) = platform_image("ASR-9006", NEW_XR, 128 * 1024);
    let image = setup.import_upload(&name, &bytes).await;
    setup
        .put_on_device(0, Os::Iosxr, &name, &bytes, "harddisk:")
        .await;
    let router = setup.lab.devices[0].name.clone();
    let start = setup.truth(&router);
    let activate = |commit: bool| ActivationSpec {
        image_id: Some(image.id),
        devices: chosen(vec![router.clone()]),
        options: ActivationOptions {
            commit: Some(commit),
            reload_timeout_secs: Some(60),
            ..ActivationOptions::default()
        },
        ..ActivationSpec::default()
    };
    let job = setup
        .engine
        .submit_activation(activate(false), Schedule::default(), "test")
        .await
        .unwrap();
    let job = setup.wait_job(job.id).await;
    let log = setup.engine.job_log(job.id).await.unwrap();
    assert_eq!(job.status, Status::Success, "{log}");
    let truth = setup.truth(&router);
    assert_eq!(truth.running_version.as_deref(), Some(NEW_XR), "{log}");
    assert_ne!(truth.xr_active_packages, truth.xr_committed_packages);
    assert_eq!(truth.xr_committed_packages, start.xr_committed_packages);

    let rollback = setup
        .engine
        .submit_rollback(
            RollbackSpec {
                devices: chosen(vec![router.clone()]),
                reload_timeout_secs: Some(60),
                ..RollbackSpec::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .unwrap();
    let rollback = setup.wait_job(rollback.id).await;
    let log = setup.engine.job_log(rollback.id).await.unwrap();
    assert_eq!(rollback.status, Status::Success, "{log}");
    let truth = setup.truth(&router);
    assert_eq!(truth.xr_active_packages, start.xr_active_packages, "{log}");
    assert_eq!(truth.running_version, start.running_version);

    // Activate again (the release is still added), then commit as a job.
    let again = setup
        .engine
        .submit_activation(activate(false), Schedule::default(), "test")
        .await
        .unwrap();
    let again = setup.wait_job(again.id).await;
    assert_eq!(again.status, Status::Success);
    let commit = setup
        .engine
        .submit_commit(
            CommitSpec {
                devices: chosen(vec![router.clone()]),
                ..CommitSpec::default()
            },
            Schedule::default(),
            "test",
        )
        .await
        .unwrap();
    let commit = setup.wait_job(commit.id).await;
    let log = setup.engine.job_log(commit.id).await.unwrap();
    assert_eq!(commit.status, Status::Success, "{log}");
    let truth = setup.truth(&router);
    assert_eq!(truth.running_version.as_deref(), Some(NEW_XR));
    assert_eq!(
        truth.xr_active_packages, truth.xr_committed_packages,
        "{log}"
    );
    assert_eq!(truth.reload_count, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_job_starts_when_due_and_cancel_stops_the_devices_not_yet_started() {
    let setup = Setup::start("127.66.4.1", "ios:3", 3).await;
    let (name, bytes) = ios_image(SWITCH, NEW_IOS, 64 * 1024);
    let image = setup.import_upload(&name, &bytes).await;
    for index in 0..3 {
        setup
            .put_on_device(index, Os::Ios, &name, &bytes, "flash:")
            .await;
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let scheduler = {
        let engine = setup.engine.clone();
        tokio::spawn(async move {
            engine
                .run_scheduler(async {
                    let _ = stop_rx.await;
                })
                .await;
        })
    };
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let submitted = jiff::Timestamp::now();
    let job = setup
        .engine
        .submit_activation(
            ActivationSpec {
                image_id: Some(image.id),
                devices: DeviceSelector {
                    all: true,
                    ..DeviceSelector::default()
                },
                options: ActivationOptions {
                    mode: ActivationMode::Sequential,
                    reload_timeout_secs: Some(60),
                    ..ActivationOptions::default()
                },
                ..ActivationSpec::default()
            },
            Schedule {
                at: Some(at.to_string()),
                time_zone: Some("Europe/Zurich".into()),
                ..Schedule::default()
            },
            "test",
        )
        .await
        .unwrap();
    assert_eq!(job.status, Status::Scheduled);
    assert_eq!(
        job.next_run_at.map(|at| at.as_millis()),
        Some(at.as_millisecond())
    );
    // Paused while scheduled: it does not start when due; resumed: it does.
    let paused = setup
        .engine
        .control_job(job.id, JobControl::Pause)
        .await
        .unwrap();
    assert_eq!(paused.status, Status::Paused);
    let store = setup.engine.store();
    // Wait until the due time has passed by a few scheduler ticks.
    while jiff::Timestamp::now() < at + jiff::SignedDuration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(store.list_runs(job.id).await.unwrap().is_empty());
    let resumed = setup
        .engine
        .control_job(job.id, JobControl::Resume)
        .await
        .unwrap();
    assert_eq!(resumed.status, Status::Scheduled);
    // The first device starts; cancel then: it finishes (never stopped
    // between reload and validation), the others never start.
    let first_running = loop {
        if let Some(run) = store.list_runs(job.id).await.unwrap().last() {
            let tasks = store.list_tasks(run.id).await.unwrap();
            if let Some(task) = tasks.iter().find(|task| task.status == Status::Running) {
                let operations = store.list_operations(task.id).await.unwrap();
                if operations.iter().any(|op| op.name == "reload") {
                    break task.subject.clone();
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let run_started = store.list_runs(job.id).await.unwrap()[0]
        .started_at
        .unwrap();
    assert!(run_started.as_millis() >= at.as_millisecond());
    assert!(run_started.as_millis() >= submitted.as_millisecond() + 2_000);
    setup
        .engine
        .control_job(job.id, JobControl::Cancel)
        .await
        .unwrap();
    let job = setup.wait_job(job.id).await;
    let log = setup.engine.job_log(job.id).await.unwrap();
    assert_eq!(job.status, Status::Cancelled, "{log}");
    let summary = setup.engine.job_summary(job.id).await.unwrap();
    assert_eq!(
        (summary.successful, summary.cancelled, summary.total),
        (1, 2, 3),
        "{log}"
    );
    let mut reloaded = HashSet::new();
    for lab_device in &setup.lab.devices {
        let truth = setup.truth(&lab_device.name);
        assert_eq!(truth.state, "up");
        if truth.reload_count > 0 {
            reloaded.insert(lab_device.name.clone());
            assert_eq!(truth.running_version.as_deref(), Some(NEW_IOS));
        }
    }
    assert_eq!(reloaded, HashSet::from([first_running]));
    assert!(
        setup
            .engine
            .control_job(job.id, JobControl::Cancel)
            .await
            .is_err()
    );
    let _ = stop_tx.send(());
    scheduler.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ios_xe_activates_in_install_and_bundle_mode_and_a_stack_boots_every_member_on_the_target()
{
    const NEW_XE: &str = "17.12.01";
    let setup = Setup::start("127.66.5.1", "iosxe:2,ios-stack:1", 3).await;
    let (xe_name, xe_bytes) = platform_image("C9300-48P", NEW_XE, 128 * 1024);
    let xe_image = setup.import_upload(&xe_name, &xe_bytes).await;
    let statuses = setup.lab.status();
    let xe: Vec<String> = statuses
        .iter()
        .filter(|status| status.platform == "iosxe")
        .map(|status| status.name.clone())
        .collect();
    let stack = statuses
        .iter()
        .find(|status| status.members.len() > 1)
        .expect("a stack in the lab")
        .clone();
    assert_eq!(xe.len(), 2);
    // An image for the stack's own model (its family boots only that).
    let (ios_name, ios_bytes) = ios_image(&stack.model, NEW_IOS, 64 * 1024);
    let ios_image_row = setup.import_upload(&ios_name, &ios_bytes).await;
    for (index, lab_device) in setup.lab.devices.iter().enumerate() {
        if xe.contains(&lab_device.name) {
            setup
                .put_on_device(index, Os::Iosxe, &xe_name, &xe_bytes, "flash:")
                .await;
        } else {
            // Every stack member's flash gets the image.
            std::fs::write(setup.files.path().join(&ios_name), &ios_bytes).unwrap();
            let md5 = hex::encode(Md5::digest(&ios_bytes));
            let url = format!("tftp://{}/{ios_name}", setup.tftp);
            let request = CopyRequest::new(&url, &format!("flash:{ios_name}"), &md5);
            let members: Vec<String> = (1..=stack.members.len())
                .map(|member| format!("flash{member}:"))
                .collect();
            let mut session = setup.session(index).await;
            device::copy_image_to_members(&mut session, Os::Ios, &request, &members)
                .await
                .unwrap();
        }
    }
    let mut jobs = Vec::new();
    for (name, mode) in [(&xe[0], XeMode::Install), (&xe[1], XeMode::Bundle)] {
        jobs.push(
            setup
                .engine
                .submit_activation(
                    ActivationSpec {
                        image_id: Some(xe_image.id),
                        devices: chosen(vec![name.clone()]),
                        options: ActivationOptions {
                            xe_mode: mode,
                            reload_timeout_secs: Some(60),
                            ..ActivationOptions::default()
                        },
                        ..ActivationSpec::default()
                    },
                    Schedule::default(),
                    "test",
                )
                .await
                .unwrap(),
        );
    }
    jobs.push(
        setup
            .engine
            .submit_activation(
                ActivationSpec {
                    image_id: Some(ios_image_row.id),
                    devices: chosen(vec![stack.name.clone()]),
                    options: ActivationOptions {
                        reload_timeout_secs: Some(60),
                        ..ActivationOptions::default()
                    },
                    ..ActivationSpec::default()
                },
                Schedule::default(),
                "test",
            )
            .await
            .unwrap(),
    );
    for job in &jobs {
        let done = setup.wait_job(job.id).await;
        let log = setup.engine.job_log(job.id).await.unwrap();
        assert_eq!(done.status, Status::Success, "{log}");
    }
    let install = setup.truth(&xe[0]);
    assert_eq!(install.running_version.as_deref(), Some(NEW_XE));
    assert_eq!(install.install_mode.as_deref(), Some("install"));
    let bundle = setup.truth(&xe[1]);
    assert_eq!(bundle.running_version.as_deref(), Some(NEW_XE));
    assert_eq!(bundle.install_mode.as_deref(), Some("bundle"));
    let stack_now = setup.truth(&stack.name);
    assert_eq!(stack_now.running_version.as_deref(), Some(NEW_IOS));
    for member in &stack_now.members {
        assert_eq!(
            member.running_version.as_deref(),
            Some(NEW_IOS),
            "{member:?}"
        );
    }
    for name in [&xe[0], &xe[1], &stack.name] {
        assert_eq!(setup.truth(name).reload_count, 1, "{name}");
    }
}
