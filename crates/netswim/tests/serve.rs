//! `netswim serve` as a real process: the CLI client end to end (login,
//! image import, list), and `kill -9` in the middle of an upload.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "first-admin-password";

/// A running `netswim serve`; killed (SIGKILL) on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Server {
    serve_with(data, &[])
}

fn serve_with(data: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_netswim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .args(extra)
        .env("NETSWIM_ADMIN_PASSWORD", PASSWORD)
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
            if let Some(url) = line.strip_prefix("netswim API listening on ") {
                let _ = sender.send(url.to_owned());
            }
        }
    });
    let url = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("netswim serve did not announce its address");
    Server { child, url }
}

fn client(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netswim"))
        .args(args)
        .env("XDG_CONFIG_HOME", config)
        .env("HOME", config)
        .env("NETSWIM_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("netswim runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "netswim failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn lab_tar(directory: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let spec = netswim_lab::image::ImageSpec {
        model: "WS-C3750X-24P".into(),
        version: "15.2(2)E7".into(),
        feature: "ipbasek9".into(),
        min_dram_mb: 256,
        size: 1024 * 1024,
    };
    let name =
        netswim_lab::image::image_file_name(&spec, netswim_lab::image::ImageFormat::Tar).unwrap();
    let bytes = netswim_lab::image::make_tar(&spec).unwrap();
    let path = directory.join(name);
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

#[test]
fn cli_login_import_and_list_json_against_a_real_server() {
    let data = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let server = serve(data.path());

    let login = json_of(&client(
        config.path(),
        &[
            "login",
            "--server",
            &server.url,
            "--user",
            "admin",
            "--json",
        ],
    ));
    assert_eq!(login["role"], "admin");
    let saved = config.path().join("netswim").join("client.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&saved).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "token file mode");
    }
    // The secret key file is private too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("secret.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "secret key mode");
    }

    let (path, bytes) = lab_tar(config.path());
    let md5 = {
        use md5::Digest;
        hex::encode(md5::Md5::digest(&bytes))
    };
    let imported = json_of(&client(
        config.path(),
        &[
            "image",
            "import",
            path.to_str().unwrap(),
            "--md5",
            &md5,
            "--json",
        ],
    ));
    assert_eq!(imported["image"]["version"], "15.2(2)E7");
    assert_eq!(imported["duplicate"], false);

    let listed = json_of(&client(config.path(), &["image", "list", "--json"]));
    let images = listed.as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["family"], "c3750e");
    assert_eq!(images[0]["md5"], md5);
    assert_eq!(images[0]["size_bytes"], bytes.len() as u64);
    assert_eq!(images[0]["min_ram_bytes"], 256u64 * 1024 * 1024);

    // People get a table.
    let table = client(config.path(), &["image", "list"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.starts_with("ID"), "{text}");
    assert!(
        text.contains("c3750e") && text.contains("15.2(2)E7") && text.contains("256 MiB"),
        "{text}"
    );

    // A wrong MD5 fails the command with the server's words.
    let rejected = client(
        config.path(),
        &[
            "image",
            "import",
            path.to_str().unwrap(),
            "--md5",
            "00000000000000000000000000000000",
        ],
    );
    assert!(!rejected.status.success());
    let error = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        error.contains("MD5 mismatch") && error.contains("hint"),
        "{error}"
    );

    let device = json_of(&client(
        config.path(),
        &[
            "device",
            "add",
            "sw1",
            "--host",
            "127.45.2.1",
            "--os",
            "ios",
            "--json",
        ],
    ));
    assert_eq!(device["name"], "sw1");
    let devices = json_of(&client(config.path(), &["device", "list", "--json"]));
    assert_eq!(devices[0]["host"], "127.45.2.1");
    let shown = json_of(&client(config.path(), &["image", "show", "1", "--json"]));
    assert_eq!(shown["version"], "15.2(2)E7");

    let jobs = json_of(&client(config.path(), &["job", "list", "--json"]));
    let statuses: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failure", "success"]);
}

/// Blob files (not the temporary folder) under `DATA/blobs`.
fn blob_files(data: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let root = data.join("blobs");
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        if entry.file_name() == "tmp" || !entry.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(entry.path()).unwrap().flatten() {
            found.push(file.path());
        }
    }
    found
}

fn temporary_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("blobs").join("tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_upload_leaves_no_orphan_blob_no_half_image_and_the_job_interrupted() {
    let data = tempfile::tempdir().unwrap();
    let server = serve(data.path());
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/login", server.url))
        .json(&json!({"user": "admin", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_owned();

    // An upload that sends 4 MiB and then pauses, as a stalled client would.
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(receiver));
    let upload = tokio::spawn({
        let http = http.clone();
        let url = format!(
            "{}/api/v1/images?file_name=c3750e-ipbasek9-tar.152-2.E7.tar",
            server.url
        );
        let token = token.clone();
        async move { http.post(url).bearer_auth(token).body(body).send().await }
    });
    for _ in 0..4 {
        sender.send(Ok(vec![7u8; 1024 * 1024])).await.unwrap();
    }

    // Wait until the server has written bytes and recorded a running job.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let jobs: Value = http
            .get(format!("{}/api/v1/jobs", server.url))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let running = jobs
            .as_array()
            .unwrap()
            .iter()
            .any(|job| job["status"] == "running");
        if running && temporary_files(data.path()) > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the upload never started: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // kill -9 (std's Child::kill sends SIGKILL).
    drop(server);
    drop(sender);
    let _ = upload.await;

    let server = serve(data.path());
    let jobs: Value = http
        .get(format!("{}/api/v1/jobs", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0]["status"], "interrupted");
    let detail: Value = http
        .get(format!("{}/api/v1/jobs/{}", server.url, jobs[0]["id"]))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["runs"][0]["status"], "interrupted");
    assert_eq!(
        detail["runs"][0]["tasks"][0]["operations"][0]["name"],
        "fetch"
    );
    assert_eq!(
        detail["runs"][0]["tasks"][0]["operations"][0]["status"],
        "interrupted"
    );
    let images: Value = http
        .get(format!("{}/api/v1/images", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(images, json!([]));
    assert!(blob_files(data.path()).is_empty());
    assert_eq!(temporary_files(data.path()), 0);
}

/// A byte stream fed from a channel (reqwest wants a `Stream`).
fn tokio_stream_from(
    mut receiver: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |context| receiver.poll_recv(context))
}

#[test]
fn serve_answers_https_with_the_given_certificate_and_refuses_https_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let netswim_transfer::TlsFiles { cert, key } =
        netswim_testkit::self_signed_tls(dir.path(), "127.0.0.1");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let _server = serve_with(
        &dir.path().join("data"),
        &[
            "--https",
            &address,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    // Nothing is published outside a job: a TLS handshake with our
    // certificate, then 404.
    let answer = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&cert)
        .arg(format!("https://{address}/1/none.bin"))
        .output()
        .expect("curl runs (apt-get install curl)");
    assert_eq!(String::from_utf8_lossy(&answer.stdout), "404");

    let refused = Command::new(env!("CARGO_BIN_EXE_netswim"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--https",
            &address,
            "--data",
        ])
        .arg(dir.path().join("other"))
        .output()
        .expect("netswim runs");
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(said.contains("--tls-cert"), "{said}");
}
