//! The upgrade commands of the CLI (`analyze`, `distribute`, `job …`) run
//! as the real binary against an API served in process by the engine, over
//! a device lab (netswim-lab, real SSH) synced into the inventory. Ground
//! truth comes from the lab itself.
//! Loopback: 127.65.0.0/16 (API 127.65.0.1, labs 127.65.10.0/24, ...).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use netswim_lab::device::Faults;
use netswim_store::Role;
use netswim_store::crypto::hash_password;
use netswim_testkit::{Rig, RigOptions, lab_image};
use serde_json::Value;

const PASSWORD: &str = "upgrade-cli-password";

/// The rig (lab, engine with its file servers), the API on loopback, and a
/// logged-in CLI config.
struct Env {
    rig: Rig,
    config: tempfile::TempDir,
}

async fn env(devices: usize, mix: &str, base: Ipv4Addr) -> Env {
    let mut options = RigOptions::new(devices, mix, base);
    options.seed = 7;
    // The servers devices pull images from (SCP/SFTP, FTP, TFTP, HTTP).
    options.file_servers = Some("127.65.0.2:0".parse().expect("address"));
    let rig = Rig::start(&options).await;
    rig.engine
        .store()
        .insert_user(
            "admin",
            &hash_password(PASSWORD).expect("hash"),
            Role::Admin,
        )
        .await
        .expect("admin");

    let listener = tokio::net::TcpListener::bind("127.65.0.1:0")
        .await
        .expect("API listens");
    let address = listener.local_addr().expect("address");
    let app = netswim_api::router(netswim_api::AppState::new(rig.engine.clone()));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let env = Env {
        rig,
        config: tempfile::tempdir().expect("tempdir"),
    };
    let login = env
        .cli(&[
            "login",
            "--server",
            &format!("http://{address}"),
            "--user",
            "admin",
            "--json",
        ])
        .await;
    json_of(&login);
    let synced = env.cli(&["device", "sync", "--json"]).await;
    assert_eq!(json_of(&synced)["status"], "success", "sync");
    env
}

impl Env {
    /// Runs the CLI binary (off the runtime's threads) with this config.
    async fn cli(&self, args: &[&str]) -> Output {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        let config = self.config.path().to_owned();
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_netswim"))
                .args(&args)
                .env("XDG_CONFIG_HOME", &config)
                .env("HOME", &config)
                .env("NETSWIM_PASSWORD", PASSWORD)
                .stdin(Stdio::null())
                .output()
                .expect("netswim runs")
        })
        .await
        .expect("CLI thread")
    }

    /// Writes a lab image for `model` at `version` (an IOS `.bin`, or the
    /// IOS-XE/IOS-XR image of `platform`) and imports it with the CLI.
    async fn import_image(&self, model: &str, version: &str) -> (i64, String) {
        let platform = self
            .rig
            .lab
            .status()
            .into_iter()
            .find(|device| device.model == model)
            .map(|device| device.platform)
            .unwrap_or_else(|| "ios".into());
        let (name, bytes) = lab_image(&platform, model, version, 256 * 1024);
        let path: PathBuf = self.rig.folder().join(&name);
        std::fs::write(&path, bytes).expect("write");
        let imported = json_of(
            &self
                .cli(&["image", "import", path_str(&path), "--json"])
                .await,
        );
        let id = imported["image"]["id"].as_i64().expect("image id");
        (id, name)
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "netswim failed: {}{}",
        String::from_utf8_lossy(&output.stderr),
        text(output)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_reports_each_chosen_device_from_its_synced_facts_as_table_json_and_job() {
    let env = env(3, "ios:2,iosxr:1", "127.65.10.1".parse().expect("ip")).await;
    let statuses = env.rig.lab.status();
    let ios: Vec<_> = statuses.iter().filter(|d| d.platform == "ios").collect();
    let xr = statuses
        .iter()
        .find(|d| d.platform == "iosxr")
        .expect("an XR device");
    assert_eq!(ios.len(), 2);
    let (image_id, file_name) = env.import_image(&ios[0].model, "15.2(7)E8").await;

    // By platform, the image named by file name: a table row per IOS device.
    let table = env.cli(&["analyze", &file_name, "--platform", "ios"]).await;
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let table = text(&table);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("DEVICE"), "{table}");
    assert_eq!(lines.len(), 4, "{table}");
    for device in &ios {
        let row = lines
            .iter()
            .find(|line| line.starts_with(&device.name))
            .unwrap_or_else(|| panic!("{} missing:\n{table}", device.name));
        let expected_status = if device.model == ios[0].model {
            "ready"
        } else {
            "not_applicable"
        };
        assert_eq!(
            row.split_whitespace().nth(1),
            Some(expected_status),
            "{row}"
        );
        assert!(
            row.contains("upgrade") || expected_status == "not_applicable",
            "{row}"
        );
    }
    assert!(!table.contains(&xr.name), "{table}");

    // JSON, the image by id, devices by name: the XR device is not applicable.
    let report = json_of(
        &env.cli(&[
            "analyze",
            &image_id.to_string(),
            &ios[0].name,
            &xr.name,
            "--json",
        ])
        .await,
    );
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{report}");
    let row_of = |name: &str| {
        rows.iter()
            .find(|row| row["device"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {report}"))
    };
    assert_eq!(row_of(&ios[0].name)["applicable"], true);
    assert_eq!(row_of(&ios[0].name)["direction"], "upgrade");
    assert_eq!(row_of(&ios[0].name)["method"]["method"], "copy");
    assert!(row_of(&ios[0].name)["flash"][0]["free_bytes"].as_u64() > Some(0));
    assert_eq!(row_of(&xr.name)["applicable"], false);

    // As a job: recorded, listed, and its report is the same analysis.
    let job_report = json_of(
        &env.cli(&[
            "analyze",
            &file_name,
            &ios[0].name,
            &xr.name,
            "--job",
            "--json",
        ])
        .await,
    );
    assert_eq!(job_report["rows"], report["rows"]);
    let list = text(&env.cli(&["job", "list"]).await);
    assert!(
        list.lines()
            .any(|line| line.split_whitespace().nth(2) == Some("analysis")),
        "{list}"
    );

    // A commit scheduled in a time zone waits; the job controls act on it.
    let scheduled = json_of(
        &env.cli(&[
            "commit",
            &xr.name,
            "--at",
            "2099-01-01T02:00",
            "--time-zone",
            "Europe/Zurich",
            "--name",
            "new-year-commit",
            "--json",
        ])
        .await,
    );
    assert_eq!(scheduled["status"], "scheduled", "{scheduled}");
    assert_eq!(scheduled["name"], "new-year-commit");
    let id = scheduled["id"].as_i64().expect("job id").to_string();
    for (verb, status) in [
        ("pause", "paused"),
        ("resume", "scheduled"),
        ("cancel", "cancelled"),
    ] {
        let answer = env.cli(&["job", verb, &id]).await;
        assert_eq!(
            text(&answer).trim(),
            format!("job {id} {status}"),
            "{verb}: {}",
            String::from_utf8_lossy(&answer.stderr)
        );
    }

    // Unknown names are refused with the API's message and hint.
    let refused = env.cli(&["analyze", &file_name, "no-such-switch"]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("device no-such-switch not found") && stderr.contains("hint:"),
        "{stderr}"
    );
    let refused = env.cli(&["analyze", "no-such-image.bin", "--all"]).await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("no image named no-such-image.bin"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distribute_with_parallel_activation_waits_and_the_lab_runs_the_target() {
    let env = env(6, "ios:4,iosxr:2", "127.65.20.1".parse().expect("ip")).await;
    let statuses = env.rig.lab.status();
    let ios: Vec<String> = statuses
        .iter()
        .filter(|device| device.platform == "ios")
        .map(|device| device.name.clone())
        .collect();
    let ios_model = statuses
        .iter()
        .find(|device| device.platform == "ios")
        .map(|device| device.model.clone())
        .expect("IOS devices");
    assert!(
        statuses
            .iter()
            .filter(|device| device.platform == "ios")
            .all(|device| device.model == ios_model),
        "the seed gives one IOS model"
    );
    let xr_model = statuses
        .iter()
        .find(|device| device.platform == "iosxr")
        .map(|device| device.model.clone())
        .expect("XR devices");
    let (_, ios_file) = env.import_image(&ios_model, "15.2(7)E8").await;
    let (xr_image, _) = env.import_image(&xr_model, "7.3.2").await;

    // A device whose transfers arrive corrupted fails the job: exit code 1,
    // the device's line says why, the other devices succeed.
    let faulty = &ios[1];
    let handle = &env.rig.lab.device(faulty).expect("device").handle;
    handle.set_faults(Faults {
        corrupt_transfers: true,
        ..Faults::default()
    });
    let mut args = vec!["distribute", &ios_file];
    args.extend(ios.iter().map(String::as_str));
    args.extend(["--retries", "0", "--wait"]);
    let failed = env.cli(&args).await;
    let stdout = text(&failed);
    let stderr = String::from_utf8_lossy(&failed.stderr).into_owned();
    assert_eq!(failed.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("ended partial"), "{stderr}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing:\n{stdout}"))
            .to_owned()
    };
    assert_eq!(line(faulty).split_whitespace().nth(1), Some("failure"));
    assert!(line(faulty).contains("corrupt"), "{}", line(faulty));
    for name in ios.iter().filter(|name| *name != faulty) {
        assert_eq!(line(name).split_whitespace().nth(1), Some("success"));
    }
    handle.set_faults(Faults::default());
    let partial_job = stdout
        .lines()
        .last()
        .and_then(|line| line.split_whitespace().nth(1))
        .expect("job id in the last line")
        .to_owned();

    // Activate what that distribution delivered, one device at a time: only
    // its successful devices reload into the target.
    let activated = env
        .cli(&[
            "activate",
            "--from-job",
            &partial_job,
            "--order",
            "sequential",
            "--wait",
        ])
        .await;
    let stdout = text(&activated);
    assert!(
        activated.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&activated.stderr)
    );
    assert!(!stdout.contains(faulty.as_str()), "{stdout}");
    for device in env.rig.lab.status() {
        let expected = if ios.contains(&device.name) && device.name != *faulty {
            Some("15.2(7)E8")
        } else if device.platform == "ios" {
            Some("15.2(2)E7")
        } else {
            device.running_version.as_deref()
        };
        assert_eq!(
            device.running_version.as_deref(),
            expected,
            "{}",
            device.name
        );
    }

    // IOS: distribute and activate 4 at a time, following the job; the
    // devices already on the target are not reloaded again.
    args.truncate(2 + ios.len());
    args.extend(["--activate", "parallel", "--max-parallel", "4", "--wait"]);
    let done = env.cli(&args).await;
    let stdout = text(&done);
    assert!(
        done.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default().to_owned();
    assert!(last.ends_with("success"), "{stdout}");
    let job_id: i64 = last
        .split_whitespace()
        .nth(1)
        .and_then(|id| id.parse().ok())
        .expect("job id in the last line");

    // IOS-XR by platform, JSON: activated and committed.
    let xr = json_of(
        &env.cli(&[
            "distribute",
            &xr_image.to_string(),
            "--platform",
            "iosxr",
            "--activate",
            "parallel",
            "--wait",
            "--json",
        ])
        .await,
    );
    assert_eq!(xr["status"], "success", "{xr}");

    // Ground truth: every device runs the target, reloaded once for it.
    for device in env.rig.lab.status() {
        if device.platform == "ios" {
            assert_eq!(
                device.running_version.as_deref(),
                Some("15.2(7)E8"),
                "{}",
                device.name
            );
            assert_eq!(device.reload_count, 1, "{}", device.name);
        } else {
            let release = |packages: &[String]| packages.iter().any(|p| p.contains("7.3.2"));
            assert!(release(&device.xr_active_packages), "{device:?}");
            assert!(release(&device.xr_committed_packages), "{device:?}");
        }
        assert_eq!(device.state, "up", "{}", device.name);
    }

    // The job views agree: summary, list row, log.
    let summary = json_of(
        &env.cli(&["job", "summary", &job_id.to_string(), "--json"])
            .await,
    );
    assert_eq!(summary["total"], 4, "{summary}");
    assert_eq!(summary["successful"], 4, "{summary}");
    let list = text(&env.cli(&["job", "list"]).await);
    let row: Vec<&str> = list
        .lines()
        .find(|line| line.split_whitespace().next() == Some(&job_id.to_string()))
        .map(|line| line.split_whitespace().collect())
        .unwrap_or_default();
    assert_eq!(row.get(2), Some(&"distribution"), "{list}");
    assert_eq!(row.get(4), Some(&"4"), "{list}");
    assert_eq!(row.get(5), Some(&"success"), "{list}");
    let log_file = env.rig.folder().join("job.log");
    let saved = env
        .cli(&["job", "log", &job_id.to_string(), "-o", path_str(&log_file)])
        .await;
    assert!(saved.status.success());
    let log = std::fs::read_to_string(&log_file).expect("log file");
    for name in &ios {
        assert!(log.contains(name.as_str()), "{name} not in the log:\n{log}");
    }
    // Watching a finished job returns at once with its outcome.
    let watched = env.cli(&["job", "watch", &job_id.to_string()]).await;
    assert!(watched.status.success());
}
