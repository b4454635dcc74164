//! Image import through the API: by upload, by HTTP URL (netswim-transfer's
//! HTTP server) and by SFTP URL (a private OpenSSH `sshd` on 127.45.0.0/16),
//! de-duplication, and rejection of truncated archives and wrong checksums.

mod common;

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use netswim_store::BlobStore;
use serde_json::{Value, json};

const SIZE: u64 = 2 * 1024 * 1024;
const MIN_DRAM_MB: u32 = 256;

/// What every import of the lab tar must show in the image list.
fn assert_lab_image(image: &Value, bytes: &[u8]) {
    assert_eq!(image["family"], "c3750e", "{image}");
    assert_eq!(image["version"], "15.2(2)E7", "{image}");
    assert_eq!(image["size_bytes"], bytes.len() as u64, "{image}");
    assert_eq!(image["md5"], md5_hex(bytes), "{image}");
    assert_eq!(
        image["min_ram_bytes"],
        u64::from(MIN_DRAM_MB) * 1024 * 1024,
        "{image}"
    );
    assert_eq!(image["format"], "tar", "{image}");
}

async fn upload(
    server: &TestServer,
    name: &str,
    bytes: Vec<u8>,
    md5: Option<&str>,
) -> reqwest::Response {
    let mut query = vec![("file_name", name.to_owned())];
    if let Some(md5) = md5 {
        query.push(("md5", md5.to_owned()));
    }
    server
        .request("post", "/api/v1/images", Some("operator"))
        .query(&query)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn import_url(server: &TestServer, body: Value) -> Value {
    let response = server
        .request("post", "/api/v1/images/import", Some("operator"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let job: Value = response.json().await.unwrap();
    server.wait_job(job["id"].as_i64().unwrap()).await
}

async fn listed_images(server: &TestServer) -> Vec<Value> {
    server
        .get_json("/api/v1/images")
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn upload_of_a_lab_tar_is_listed_with_archive_metadata_and_same_bytes_give_one_image() {
    let server = TestServer::start().await;
    let (name, bytes) = lab_tar(SIZE, MIN_DRAM_MB);
    let response = upload(&server, &name, bytes.clone(), Some(&md5_hex(&bytes))).await;
    assert_eq!(response.status(), 201);
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["duplicate"], false);
    assert_eq!(first["verified"], json!(["md5 (given)"]));
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_lab_image(&images[0], &bytes);
    assert_eq!(images[0]["file_name"], name);

    // The same bytes under another name: still one image.
    let again = upload(&server, "renamed-copy.tar", bytes.clone(), None).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["image"]["id"], first["image"]["id"]);
    assert_eq!(listed_images(&server).await.len(), 1);
    // One blob on disk for the one image.
    let blobs = server.engine.blobs().list().await.unwrap();
    assert_eq!(blobs.len(), 1);
}

#[tokio::test]
async fn truncated_tar_and_wrong_md5_are_rejected_naming_the_problem_and_keep_nothing() {
    let server = TestServer::start().await;
    let (name, bytes) = lab_tar(SIZE, MIN_DRAM_MB);

    let wrong = "0123456789abcdef0123456789abcdef";
    let response = upload(&server, &name, bytes.clone(), Some(wrong)).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "image_rejected");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("MD5 mismatch"), "{message}");
    assert!(message.contains(wrong), "{message}");
    assert!(message.contains(&md5_hex(&bytes)), "{message}");
    assert!(!error["hint"].as_str().unwrap().is_empty());

    // Cut in the middle of the image member: the archive inspection's words.
    let truncated = bytes[..bytes.len() / 2].to_vec();
    let response = upload(&server, &name, truncated, None).await;
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    let message = error["message"].as_str().unwrap().to_ascii_lowercase();
    assert!(
        message.contains("truncat") || message.contains("tar checksum") || message.contains("end"),
        "{message}"
    );

    assert!(listed_images(&server).await.is_empty());
    assert!(server.engine.blobs().list().await.unwrap().is_empty());
    // Both attempts are recorded as failed import jobs.
    let jobs = server.get_json("/api/v1/jobs").await;
    let statuses: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failure", "failure"]);
}

#[tokio::test]
async fn import_by_http_url_checks_the_md5_sidecar_and_deduplicates() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let (name, bytes) = lab_tar(SIZE, MIN_DRAM_MB);
    write_file(root.path(), &name, &bytes);
    write_file(
        root.path(),
        &format!("{name}.md5"),
        format!("{}  {name}\n", md5_hex(&bytes)).as_bytes(),
    );
    let bad_name = "c3750e-ipbasek9-tar.152-2.E6.tar";
    write_file(root.path(), bad_name, &bytes[..bytes.len() / 2]);

    let mut config = netswim_transfer::FileserverConfig::new(root.path());
    config.http = Some("127.0.0.1:0".parse().unwrap());
    let fileserver = netswim_transfer::Fileserver::bind(config).await.unwrap();
    let http = fileserver.addresses().http.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(fileserver.run(async {
        let _ = stopped.await;
    }));

    let job = import_url(&server, json!({"url": format!("http://{http}/{name}")})).await;
    assert_eq!(job["status"], "success", "{job}");
    let operations: Vec<&str> = job["runs"][0]["tasks"][0]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|operation| operation["name"].as_str().unwrap())
        .collect();
    assert_eq!(operations, ["fetch", "verify", "inspect", "record"]);
    let verify = &job["runs"][0]["tasks"][0]["operations"][1]["message"];
    assert!(
        verify.as_str().unwrap().contains("md5 (sidecar)"),
        "{verify}"
    );
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_lab_image(&images[0], &bytes);

    let job = import_url(&server, json!({"url": format!("http://{http}/{name}")})).await;
    assert_eq!(job["status"], "success");
    assert!(
        task_message(&job).contains("already in the repository"),
        "{job}"
    );
    assert_eq!(listed_images(&server).await.len(), 1);

    let job = import_url(&server, json!({"url": format!("http://{http}/{bad_name}")})).await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("image rejected"), "{job}");

    let job = import_url(
        &server,
        json!({"url": format!("http://{http}/missing.tar")}),
    )
    .await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("404"), "{job}");
    assert_eq!(listed_images(&server).await.len(), 1);

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

/// A private OpenSSH server with its own host key and config; killed on drop.
struct Sshd {
    child: Child,
    address: SocketAddr,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(command: &mut Command) {
    let status = command.status().unwrap_or_else(|error| {
        panic!("cannot run {command:?}: {error} (install openssh-server and openssh-client)")
    });
    assert!(status.success(), "{command:?} failed");
}

fn start_sshd(directory: &Path, address: Ipv4Addr) -> Sshd {
    let sshd = Path::new("/usr/sbin/sshd");
    assert!(
        sshd.exists(),
        "OpenSSH sshd is missing (hint: apt-get install openssh-server; scripts/test-all.sh installs it)"
    );
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(directory.join("host_key")));
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(directory.join("client_key")));
    std::fs::copy(
        directory.join("client_key.pub"),
        directory.join("authorized_keys"),
    )
    .unwrap();
    // Privilege separation needs this folder to exist.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let port = {
        let probe = TcpListener::bind((address, 0)).unwrap();
        probe.local_addr().unwrap().port()
    };
    let config = format!(
        "Port {port}\nListenAddress {address}\nHostKey {host}\nPidFile {pid}\nAuthorizedKeysFile {keys}\n\
         PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
         PermitRootLogin yes\nStrictModes no\nUsePAM no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n",
        host = directory.join("host_key").display(),
        pid = directory.join("sshd.pid").display(),
        keys = directory.join("authorized_keys").display(),
    );
    let config_path = directory.join("sshd_config");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config_path)
        .stdout(Stdio::null())
        .spawn()
        .expect("cannot start sshd");
    let address = SocketAddr::from((address, port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err() {
        assert!(Instant::now() < deadline, "sshd did not start on {address}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd { child, address }
}

fn current_user() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn import_by_sftp_url_from_openssh_is_listed_with_archive_metadata() {
    let server = TestServer::start().await;
    let directory = tempfile::tempdir().unwrap();
    let sshd = start_sshd(directory.path(), Ipv4Addr::new(127, 45, 0, 21));
    let (name, bytes) = lab_tar(SIZE, MIN_DRAM_MB);
    let image_path = write_file(directory.path(), &name, &bytes);
    let url = format!(
        "sftp://{}@{}{}",
        current_user(),
        sshd.address,
        image_path.display()
    );
    let identity = directory.path().join("client_key").display().to_string();
    let job = import_url(
        &server,
        json!({"url": url, "identity_file": identity, "md5": md5_hex(&bytes)}),
    )
    .await;
    assert_eq!(job["status"], "success", "{job}");
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_lab_image(&images[0], &bytes);

    // A wrong path fails the job with the server's answer, nothing kept.
    let missing = format!(
        "sftp://{}@{}/nonexistent/{name}",
        current_user(),
        sshd.address
    );
    let job = import_url(&server, json!({"url": missing, "identity_file": identity})).await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("cannot fetch"), "{job}");
    assert_eq!(listed_images(&server).await.len(), 1);
}

#[tokio::test]
async fn requirements_are_editable_and_delete_is_refused_while_a_scheduled_job_uses_the_image() {
    let server = TestServer::start().await;
    let (name, bytes) = lab_tar(SIZE, MIN_DRAM_MB);
    let uploaded: Value = upload(&server, &name, bytes, None)
        .await
        .json()
        .await
        .unwrap();
    let id = uploaded["image"]["id"].as_i64().unwrap();

    let response = server
        .request(
            "patch",
            &format!("/api/v1/images/{id}/requirements"),
            Some("operator"),
        )
        .json(&json!({"min_ram_bytes": 536870912u64, "min_flash_bytes": 64000000u64}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let image = server.get_json(&format!("/api/v1/images/{id}")).await;
    assert_eq!(image["min_ram_bytes"], 536870912u64);
    assert_eq!(image["min_flash_bytes"], 64000000u64);

    let store = server.engine.store();
    let job = store
        .insert_job(&netswim_store::NewJob {
            kind: "distribution".into(),
            name: "nightly".into(),
            spec: json!({"image_id": id, "device_ids": [1]}),
            schedule: json!({"kind": "at"}),
            status: netswim_store::Status::Scheduled,
            created_by: Some("admin".into()),
            next_run_at: None,
        })
        .await
        .unwrap();
    let response = server
        .request("delete", &format!("/api/v1/images/{id}"), Some("operator"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 409);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("nightly"),
        "{error}"
    );

    store
        .set_job_status(job.id, netswim_store::Status::Cancelled)
        .await
        .unwrap();
    let response = server
        .request("delete", &format!("/api/v1/images/{id}"), Some("operator"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(listed_images(&server).await.is_empty());
    assert!(server.engine.blobs().list().await.unwrap().is_empty());
}

fn minisign(arguments: &[&str], directory: &Path) {
    let status = Command::new("minisign")
        .args(arguments)
        .current_dir(directory)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|error| {
            panic!("cannot run minisign: {error} (hint: apt-get install minisign; scripts/test-all.sh installs it)")
        });
    assert!(status.success(), "minisign {arguments:?} failed");
}

#[tokio::test]
async fn minisign_sidecar_signatures_verify_against_trusted_keys_and_bad_ones_reject() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    minisign(
        &["-G", "-W", "-p", "trusted.pub", "-s", "trusted.key"],
        keys.path(),
    );
    minisign(
        &["-G", "-W", "-p", "other.pub", "-s", "other.key"],
        keys.path(),
    );
    let (name, bytes) = lab_tar(256 * 1024, MIN_DRAM_MB);
    let signed = write_file(root.path(), &name, &bytes);
    minisign(
        &[
            "-S",
            "-s",
            keys.path().join("trusted.key").to_str().unwrap(),
            "-m",
            signed.to_str().unwrap(),
        ],
        keys.path(),
    );
    // Same image bytes, signed by a key nobody trusts.
    let stranger_name = "c3750e-ipbasek9-tar.152-2.E5.tar";
    let stranger = write_file(root.path(), stranger_name, &bytes);
    minisign(
        &[
            "-S",
            "-s",
            keys.path().join("other.key").to_str().unwrap(),
            "-m",
            stranger.to_str().unwrap(),
        ],
        keys.path(),
    );
    // Signed bytes altered afterwards.
    let (tampered_name, mut tampered_bytes) = ("c3750e-ipbasek9-tar.152-2.E4.tar", bytes.clone());
    let tampered = write_file(root.path(), tampered_name, &tampered_bytes);
    minisign(
        &[
            "-S",
            "-s",
            keys.path().join("trusted.key").to_str().unwrap(),
            "-m",
            tampered.to_str().unwrap(),
        ],
        keys.path(),
    );
    let last = tampered_bytes.len() - 1;
    tampered_bytes[last] ^= 1;
    std::fs::write(&tampered, &tampered_bytes).unwrap();

    let mut config = netswim_transfer::FileserverConfig::new(root.path());
    config.http = Some("127.0.0.1:0".parse().unwrap());
    let fileserver = netswim_transfer::Fileserver::bind(config).await.unwrap();
    let http = fileserver.addresses().http.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(fileserver.run(async {
        let _ = stopped.await;
    }));

    // No trusted key yet: a signature cannot be checked, so the image is refused.
    let job = import_url(&server, json!({"url": format!("http://{http}/{name}")})).await;
    assert_eq!(job["status"], "failure");
    assert!(
        task_message(&job).contains("no signing key is trusted"),
        "{job}"
    );

    let trusted = std::fs::read_to_string(keys.path().join("trusted.pub")).unwrap();
    let response = server
        .request(
            "put",
            "/api/v1/settings/trusted_signing_keys",
            Some("admin"),
        )
        .json(&json!([trusted]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    let job = import_url(
        &server,
        json!({"url": format!("http://{http}/{stranger_name}")}),
    )
    .await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("not trusted"), "{job}");

    let job = import_url(
        &server,
        json!({"url": format!("http://{http}/{tampered_name}")}),
    )
    .await;
    assert_eq!(job["status"], "failure");
    assert!(
        task_message(&job).contains("signature does not verify"),
        "{job}"
    );

    let job = import_url(&server, json!({"url": format!("http://{http}/{name}")})).await;
    assert_eq!(job["status"], "success", "{job}");
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["signature_status"], "verified");

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn import_by_tftp_url_from_netswim_tftp_server() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let (name, bytes) = lab_tar(512 * 1024, MIN_DRAM_MB);
    write_file(root.path(), &name, &bytes);
    let mut config = netswim_transfer::FileserverConfig::new(root.path());
    config.tftp = Some("127.45.0.31:0".parse().unwrap());
    let fileserver = netswim_transfer::Fileserver::bind(config).await.unwrap();
    let tftp = fileserver.addresses().tftp.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(fileserver.run(async {
        let _ = stopped.await;
    }));

    let job = import_url(
        &server,
        json!({"url": format!("tftp://{tftp}/{name}"), "md5": md5_hex(&bytes)}),
    )
    .await;
    assert_eq!(job["status"], "success", "{job}");
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_lab_image(&images[0], &bytes);

    let job = import_url(&server, json!({"url": format!("tftp://{tftp}/absent.tar")})).await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("cannot fetch"), "{job}");

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn multipart_upload_with_md5_field_is_imported_and_a_wrong_md5_field_rejects() {
    let server = TestServer::start().await;
    let (name, bytes) = lab_tar(256 * 1024, MIN_DRAM_MB);
    let form = |md5: &str| {
        let boundary = "netswim-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"md5\"\r\n\r\n{md5}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        (format!("multipart/form-data; boundary={boundary}"), body)
    };
    let (content_type, body) = form("ffffffffffffffffffffffffffffffff");
    let response = server
        .request("post", "/api/v1/images", Some("operator"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("MD5 mismatch"),
        "{error}"
    );

    let (content_type, body) = form(&md5_hex(&bytes));
    let response = server
        .request("post", "/api/v1/images", Some("operator"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let imported: Value = response.json().await.unwrap();
    assert_eq!(imported["verified"], json!(["md5 (given)"]));
    assert_lab_image(&imported["image"], &bytes);
    assert_eq!(imported["image"]["file_name"], name);
}

#[tokio::test]
async fn import_by_ftp_url_with_a_login_from_netswim_ftp_server() {
    let server = TestServer::start().await;
    let root = tempfile::tempdir().unwrap();
    let (name, bytes) = lab_tar(512 * 1024, MIN_DRAM_MB);
    write_file(root.path(), &name, &bytes);
    let mut config = netswim_transfer::FileserverConfig::new(root.path());
    config.ftp = Some("127.45.0.41:0".parse().unwrap());
    config.credentials.insert("images", "ftp-secret");
    let fileserver = netswim_transfer::Fileserver::bind(config).await.unwrap();
    let ftp = fileserver.addresses().ftp.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(fileserver.run(async {
        let _ = stopped.await;
    }));

    let job = import_url(
        &server,
        json!({"url": format!("ftp://images:ftp-secret@{ftp}/{name}"), "md5": md5_hex(&bytes)}),
    )
    .await;
    assert_eq!(job["status"], "success", "{job}");
    // The password never shows in the job, nor is it stored with it.
    assert!(!job.to_string().contains("ftp-secret"), "{job}");
    let stored = server
        .engine
        .store()
        .get_job(job["id"].as_i64().unwrap())
        .await
        .unwrap();
    assert!(
        !stored.spec.to_string().contains("ftp-secret"),
        "{}",
        stored.spec
    );
    assert!(
        stored.spec.to_string().contains("images:***@"),
        "{}",
        stored.spec
    );
    let images = listed_images(&server).await;
    assert_eq!(images.len(), 1);
    assert_lab_image(&images[0], &bytes);

    let job = import_url(
        &server,
        json!({"url": format!("ftp://images:wrong@{ftp}/{name}")}),
    )
    .await;
    assert_eq!(job["status"], "failure");
    assert!(task_message(&job).contains("cannot fetch"), "{job}");

    let _ = stop.send(());
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn import_from_a_device_runs_as_a_job_and_mixed_sources_are_refused() {
    let server = TestServer::start().await;
    // An unknown device: refused before any job exists.
    let response = server
        .request("post", "/api/v1/images/import", Some("operator"))
        .json(&json!({"device_id": 999, "path": "flash:x.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        server
            .get_json("/api/v1/jobs")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A device and a URL at once is a bad request, not a guess.
    let response = server
        .request("post", "/api/v1/images/import", Some("operator"))
        .json(&json!({"device_id": 1, "url": "http://127.45.0.40/x.bin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("device_id"),
        "{body}"
    );
}
