//! SFTP and SCP against OpenSSH's `sftp` and `scp` (legacy `-O` and the
//! default SFTP mode) and curl's `sftp://` and `scp://` on loopback:
//! byte-identical downloads with the standing password and a per-transfer
//! key, SCP uploads into the upload area within its quota, and refusals
//! (traversal, symlink escape, writes, wrong or revoked credentials) that
//! leave the server serving.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use netswim_transfer::{FileserverConfig, Protocol, TransferResult};

/// Options every OpenSSH client call gets: no host key memory (the server
/// key is fresh each run), no agent, no config, bounded waits.
const SSH_OPTIONS: &[&str] = &[
    "-F",
    "/dev/null",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    "UserKnownHostsFile=/dev/null",
    "-o",
    "LogLevel=ERROR",
    "-o",
    "ConnectTimeout=30",
];

fn require_ssh_clients() {
    require("sftp", "openssh-client");
    require("scp", "openssh-client");
    require("ssh-keygen", "openssh-client");
    require("sshpass", "sshpass");
    require("curl", "curl");
}

fn ssh_config(fixture: &Fixture) -> FileserverConfig {
    let mut config = FileserverConfig::new(&fixture.root);
    config.sftp = Some("127.0.0.1:0".parse().unwrap());
    config.credentials.insert(USER, PASSWORD);
    config
}

/// How a client logs in.
enum Login<'a> {
    Password(&'a str, &'a str),
    Key(&'a str, &'a Path),
}

/// `program` (sftp or scp) with the OpenSSH options of `login`, through
/// sshpass for passwords.
async fn openssh(program: &str, login: &Login<'_>, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = Vec::new();
    let program = match login {
        Login::Password(_, password) => {
            all.extend(["-p".into(), (*password).into(), program.into()]);
            // BatchMode (which `sftp -b` turns on) forbids password prompts;
            // the first value given wins, so this goes first.
            all.extend([
                "-o".into(),
                "BatchMode=no".into(),
                "-o".into(),
                "PubkeyAuthentication=no".into(),
                "-o".into(),
                "PreferredAuthentications=password".into(),
            ]);
            "sshpass"
        }
        Login::Key(_, key) => {
            all.extend([
                "-i".into(),
                key.display().to_string(),
                "-o".into(),
                "IdentitiesOnly=yes".into(),
                "-o".into(),
                "PreferredAuthentications=publickey".into(),
                "-o".into(),
                "BatchMode=yes".into(),
            ]);
            program
        }
    };
    all.extend(SSH_OPTIONS.iter().map(|option| option.to_string()));
    all.extend(args.iter().map(|arg| arg.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    run(program, &refs).await
}

fn user_of<'a>(login: &'a Login<'_>) -> &'a str {
    match login {
        Login::Password(user, _) | Login::Key(user, _) => user,
    }
}

/// `sftp -b` with `commands` (one per line); returns the output.
async fn sftp_batch(
    server: &Running,
    fixture: &Fixture,
    login: &Login<'_>,
    commands: &str,
) -> std::process::Output {
    let batch = fixture.out(&format!("batch-{}.txt", sha256(commands.as_bytes())));
    std::fs::write(&batch, commands).unwrap();
    let target = format!("{}@127.0.0.1", user_of(login));
    openssh(
        "sftp",
        login,
        &[
            "-P",
            &server.ssh_port(),
            "-b",
            batch.to_str().unwrap(),
            &target,
        ],
    )
    .await
}

/// `scp [-O] FROM TO` where a remote side is written `:path`.
async fn scp(
    server: &Running,
    login: &Login<'_>,
    legacy: bool,
    from: &str,
    to: &str,
) -> std::process::Output {
    let remote = |side: &str| match side.strip_prefix(':') {
        Some(path) => format!("{}@127.0.0.1:{path}", user_of(login)),
        None => side.to_string(),
    };
    let port = server.ssh_port();
    let mut args = vec!["-P", &port];
    if legacy {
        args.push("-O");
    }
    let (from, to) = (remote(from), remote(to));
    args.extend([from.as_str(), to.as_str()]);
    openssh("scp", login, &args).await
}

fn key_pair(fixture: &Fixture, name: &str) -> (PathBuf, String) {
    let key = fixture.out(name);
    let output = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    (key, public)
}

fn failed_with(output: &std::process::Output, needle: &str) -> bool {
    let stderr = String::from_utf8_lossy(&output.stderr).to_lowercase();
    !output.status.success() && stderr.contains(&needle.to_lowercase())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_sftp_and_scp_downloads_are_byte_identical() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let mut server = Running::start(ssh_config(&fixture)).await;
    let password = Login::Password(USER, PASSWORD);
    let image_sha = sha256(&fixture.image);

    let out = fixture.out("sftp.bin");
    let small = fixture.out("small.txt");
    let commands = format!(
        "ls -l\nget {IMAGE} {}\ncd images\nget small.txt {}\n",
        out.display(),
        small.display()
    );
    let output = sftp_batch(&server, &fixture, &password, &commands).await;
    assert!(output.status.success(), "{output:?}");
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains(IMAGE) && listing.contains("r--r--r--"),
        "{listing}"
    );
    assert_eq!(sha256(&read(&out)), image_sha);
    assert_eq!(read(&small), b"hello device\n");

    // A per-transfer key, created while the server runs.
    let (key, public) = key_pair(&fixture, "job-7");
    server.credentials.insert_key("job-7", &public).unwrap();
    let with_key = Login::Key("job-7", &key);
    let out = fixture.out("sftp-key.bin");
    let output = sftp_batch(
        &server,
        &fixture,
        &with_key,
        &format!("get /{IMAGE} {}\n", out.display()),
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), image_sha);

    for (legacy, login, name) in [
        (true, &password, "scp-legacy.bin"),
        (false, &password, "scp-sftp.bin"),
        (true, &with_key, "scp-legacy-key.bin"),
    ] {
        let out = fixture.out(name);
        let output = scp(
            &server,
            login,
            legacy,
            &format!(":{IMAGE}"),
            out.to_str().unwrap(),
        )
        .await;
        assert!(output.status.success(), "{name}: {output:?}");
        assert_eq!(sha256(&read(&out)), image_sha, "{name}");
    }
    // Legacy SCP with -p (times preserved) from a subdirectory.
    let out = fixture.out("scp-p.txt");
    let port = server.ssh_port();
    let output = openssh(
        "scp",
        &password,
        &[
            "-O",
            "-p",
            "-P",
            &port,
            &format!("{USER}@127.0.0.1:images/small.txt"),
            out.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(read(&out), b"hello device\n");

    // Every transfer is accounted with its protocol and full size.
    let mut seen = Vec::new();
    while let Ok(record) = server.records.try_recv() {
        if record.file == IMAGE {
            assert_eq!(record.result, TransferResult::Complete, "{record:?}");
            assert_eq!(record.bytes, IMAGE_SIZE as u64, "{record:?}");
            seen.push(record.protocol);
        }
    }
    assert_eq!(seen.iter().filter(|p| **p == Protocol::Sftp).count(), 3);
    assert_eq!(seen.iter().filter(|p| **p == Protocol::Scp).count(), 2);
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_sftp_and_scp_downloads_are_byte_identical() {
    require_ssh_clients();
    let version = run("curl", &["-V"]).await;
    let protocols = String::from_utf8_lossy(&version.stdout);
    assert!(
        protocols.contains(" sftp") && protocols.contains(" scp"),
        "this curl lacks sftp/scp (hint: install Debian's curl, built with libssh2): {protocols}"
    );
    let fixture = Fixture::new();
    let server = Running::start(ssh_config(&fixture)).await;
    let address = server.addresses.sftp.unwrap();
    let user = format!("{USER}:{PASSWORD}");
    for scheme in ["sftp", "scp"] {
        let out = fixture.out(&format!("curl.{scheme}"));
        let output = curl(&[
            "-f",
            "--insecure",
            "-u",
            &user,
            "-o",
            out.to_str().unwrap(),
            &format!("{scheme}://{address}/{IMAGE}"),
        ])
        .await;
        assert!(output.status.success(), "{scheme}: {output:?}");
        assert_eq!(sha256(&read(&out)), sha256(&fixture.image), "{scheme}");
    }
    // Resumed SFTP download: curl asks from an offset.
    let partial = fixture.out("curl.part");
    std::fs::write(&partial, &fixture.image[..1_000_000]).unwrap();
    let output = curl(&[
        "-f",
        "--insecure",
        "-C",
        "-",
        "-u",
        &user,
        "-o",
        partial.to_str().unwrap(),
        &format!("sftp://{address}/{IMAGE}"),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&partial)), sha256(&fixture.image));
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scp_uploads_land_in_the_upload_area_within_its_quota() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let uploads = fixture.out("uploads");
    std::fs::create_dir_all(uploads.join("backups")).unwrap();
    let mut config = ssh_config(&fixture);
    config.upload = Some((uploads.clone(), 100_000));
    let server = Running::start(config).await;
    let password = Login::Password(USER, PASSWORD);

    let config_file = fixture.out("running-config.txt");
    let content: Vec<u8> = (0..60_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&config_file, &content).unwrap();
    let output = scp(
        &server,
        &password,
        true,
        config_file.to_str().unwrap(),
        ":.",
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        sha256(&read(&uploads.join("running-config.txt"))),
        sha256(&content)
    );
    let output = scp(
        &server,
        &password,
        true,
        config_file.to_str().unwrap(),
        ":backups/sw1.cfg",
    )
    .await;
    // 60 000 + 60 000 bytes exceed the 100 000-byte quota.
    assert!(failed_with(&output, "quota"), "{output:?}");
    assert!(!uploads.join("backups/sw1.cfg").exists());
    let small = fixture.out("small.cfg");
    std::fs::write(&small, b"hostname sw1\n").unwrap();
    let output = scp(
        &server,
        &password,
        true,
        small.to_str().unwrap(),
        ":backups/sw1.cfg",
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(read(&uploads.join("backups/sw1.cfg")), b"hostname sw1\n");

    // Uploads never overwrite and never leave the upload area.
    let output = scp(
        &server,
        &password,
        true,
        small.to_str().unwrap(),
        ":backups/sw1.cfg",
    )
    .await;
    assert!(failed_with(&output, "exists"), "{output:?}");
    let output = scp(
        &server,
        &password,
        true,
        small.to_str().unwrap(),
        ":../escaped.cfg",
    )
    .await;
    assert!(!output.status.success(), "{output:?}");
    assert!(!fixture.dir.path().join("escaped.cfg").exists());
    // scp's default (SFTP) mode writes into the same area: outside the
    // served root, SFTP write paths are relative to it, as SCP's are.
    let output = scp(
        &server,
        &password,
        false,
        small.to_str().unwrap(),
        ":new.cfg",
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(read(&uploads.join("new.cfg")), b"hostname sw1\n");
    assert!(!fixture.root.join("new.cfg").exists());
    server.finish().await;
}

/// The names in `directory`, sorted (partial upload files included).
fn names_in(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `curl -T LOCAL sftp://ADDRESS/PATH` with the standing password.
async fn curl_put(server: &Running, local: &Path, path: &str) -> std::process::Output {
    curl(&[
        "--insecure",
        "-u",
        &format!("{USER}:{PASSWORD}"),
        "-T",
        local.to_str().unwrap(),
        &format!("sftp://{}/{path}", server.addresses.sftp.unwrap()),
    ])
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sftp_uploads_go_only_into_the_upload_area_within_its_quota() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let incoming = fixture.root.join("incoming");
    std::fs::create_dir_all(&incoming).unwrap();
    let mut config = ssh_config(&fixture);
    config.upload = Some((incoming.clone(), 100_000));
    let server = Running::start(config).await;
    let password = Login::Password(USER, PASSWORD);
    let content: Vec<u8> = (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let local = fixture.out("image.bin");
    std::fs::write(&local, &content).unwrap();
    let small = fixture.out("small.cfg");
    std::fs::write(&small, b"hostname sw1\n").unwrap();

    // OpenSSH `sftp put` into the area, then read back over SFTP.
    let back = fixture.out("back.bin");
    let output = sftp_batch(
        &server,
        &fixture,
        &password,
        &format!(
            "put {} /incoming/a.bin\nget /incoming/a.bin {}\n",
            local.display(),
            back.display()
        ),
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&incoming.join("a.bin"))), sha256(&content));
    assert_eq!(sha256(&read(&back)), sha256(&content));

    // curl: a second 60 000 bytes break the 100 000-byte quota mid-way;
    // the partial file is gone. A small one still fits.
    let output = curl_put(&server, &local, "incoming/b.bin").await;
    assert!(!output.status.success(), "{output:?}");
    assert_eq!(names_in(&incoming), ["a.bin"]);
    let output = curl_put(&server, &small, "incoming/c.cfg").await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(read(&incoming.join("c.cfg")), b"hostname sw1\n");

    // Outside the area the tree stays read-only; traversal and
    // overwrites are refused.
    for (command, expected) in [
        (
            format!("put {} /x.cfg", small.display()),
            "permission denied",
        ),
        (
            format!("put {} /images/x.cfg", small.display()),
            "permission denied",
        ),
        (
            format!("put {} /incoming/../x.cfg", small.display()),
            "permission denied",
        ),
        (
            format!("put {} /incoming/a.bin", small.display()),
            "failure",
        ),
    ] {
        let output = sftp_batch(&server, &fixture, &password, &format!("{command}\n")).await;
        assert!(failed_with(&output, expected), "{command}: {output:?}");
    }
    for path in ["x.cfg", "incoming/%2e%2e/x.cfg", "incoming/..%2fx.cfg"] {
        let output = curl_put(&server, &small, path).await;
        assert!(!output.status.success(), "{path}: {output:?}");
    }
    assert!(!fixture.root.join("x.cfg").exists());
    assert!(!fixture.root.join("images/x.cfg").exists());
    assert_eq!(names_in(&incoming), ["a.bin", "c.cfg"]);
    assert_eq!(read(&incoming.join("a.bin")), content);
    server.finish().await;
}

/// A relay: the upload area is the served root, so what the engine
/// pushes (SFTP or SCP) is served to devices at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_into_the_served_root_are_served_by_every_protocol() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let mut config = ssh_config(&fixture);
    config.http = Some("127.0.0.1:0".parse().unwrap());
    config.upload = Some((fixture.root.clone(), 1 << 30));
    let mut server = Running::start(config).await;
    let password = Login::Password(USER, PASSWORD);
    let pushed = fixture.out("pushed.bin");
    std::fs::write(&pushed, &fixture.image).unwrap();

    let output = sftp_batch(
        &server,
        &fixture,
        &password,
        &format!("put {} /images/sftp.bin\n", pushed.display()),
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let output = scp(
        &server,
        &password,
        true,
        pushed.to_str().unwrap(),
        ":scp.bin",
    )
    .await;
    assert!(output.status.success(), "{output:?}");

    for name in ["images/sftp.bin", "scp.bin"] {
        let output = curl(&["-f", &server.http(name)]).await;
        assert!(output.status.success(), "{name}: {output:?}");
        assert_eq!(sha256(&output.stdout), sha256(&fixture.image), "{name}");
        let copy = fixture.out("copy.bin");
        let output = scp(
            &server,
            &password,
            true,
            &format!(":{name}"),
            copy.to_str().unwrap(),
        )
        .await;
        assert!(output.status.success(), "{name}: {output:?}");
        assert_eq!(sha256(&read(&copy)), sha256(&fixture.image), "{name}");
    }
    let mut records = std::mem::replace(
        &mut server.records,
        tokio::sync::mpsc::unbounded_channel().1,
    );
    server.finish().await;
    let mut uploads = Vec::new();
    while let Ok(record) = records.try_recv() {
        if record.file == "images/sftp.bin" && record.protocol == Protocol::Sftp {
            uploads.push((record.bytes, record.result));
        }
    }
    assert!(
        uploads.contains(&(IMAGE_SIZE as u64, TransferResult::Complete)),
        "the SFTP upload is accounted complete: {uploads:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_writes_and_bad_logins_are_refused_and_serving_goes_on() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let server = Running::start(ssh_config(&fixture)).await;
    let password = Login::Password(USER, PASSWORD);
    let stolen = fixture.out("stolen");

    for path in ["../secret", "/../secret", "escape", "images/../../secret"] {
        let output = sftp_batch(
            &server,
            &fixture,
            &password,
            &format!("get {path} {}\n", stolen.display()),
        )
        .await;
        assert!(!output.status.success(), "sftp {path}: {output:?}");
        let output = scp(
            &server,
            &password,
            true,
            &format!(":{path}"),
            stolen.to_str().unwrap(),
        )
        .await;
        assert!(!output.status.success(), "scp -O {path}: {output:?}");
        assert!(!stolen.exists(), "{path} leaked");
    }
    let address = server.addresses.sftp.unwrap();
    for url in [
        "sftp://{a}/%2e%2e/secret",
        "scp://{a}/../secret",
        "sftp://{a}/escape",
    ] {
        let url = url.replace("{a}", &address.to_string());
        let output = curl(&[
            "-f",
            "--insecure",
            "-u",
            &format!("{USER}:{PASSWORD}"),
            "-o",
            stolen.to_str().unwrap(),
            &url,
        ])
        .await;
        assert!(!output.status.success(), "{url}: {output:?}");
        assert!(read(&stolen).is_empty() || read(&stolen) != b"do not serve\n");
    }

    // Writes of every kind on the read-only server.
    let local = fixture.out("local.txt");
    std::fs::write(&local, b"x").unwrap();
    for command in [
        format!("put {} new.txt", local.display()),
        "mkdir newdir".to_string(),
        format!("rm {IMAGE}"),
        format!("rename {IMAGE} moved.bin"),
        format!("chmod 777 {IMAGE}"),
    ] {
        let output = sftp_batch(&server, &fixture, &password, &format!("{command}\n")).await;
        assert!(
            failed_with(&output, "permission denied"),
            "{command}: {output:?}"
        );
    }
    assert!(!fixture.root.join("new.txt").exists() && fixture.root.join(IMAGE).exists());
    // Legacy SCP upload without an upload area.
    let output = scp(
        &server,
        &password,
        true,
        local.to_str().unwrap(),
        ":new.txt",
    )
    .await;
    assert!(
        failed_with(&output, "uploads are not enabled"),
        "{output:?}"
    );

    // Wrong password, unknown key, revoked credential.
    let wrong = Login::Password(USER, "guess");
    let output = sftp_batch(&server, &fixture, &wrong, "ls\n").await;
    assert!(!output.status.success(), "{output:?}");
    let (key, public) = key_pair(&fixture, "job-9");
    let with_key = Login::Key("job-9", &key);
    let output = sftp_batch(&server, &fixture, &with_key, "ls\n").await;
    assert!(!output.status.success(), "an unknown key must be refused");
    server.credentials.insert_key("job-9", &public).unwrap();
    let output = sftp_batch(&server, &fixture, &with_key, "ls\n").await;
    assert!(output.status.success(), "{output:?}");
    server.credentials.revoke("job-9");
    let output = sftp_batch(&server, &fixture, &with_key, "ls\n").await;
    assert!(!output.status.success(), "a revoked key must be refused");

    // Still serving.
    let out = fixture.out("after.bin");
    let output = scp(
        &server,
        &password,
        true,
        &format!(":{IMAGE}"),
        out.to_str().unwrap(),
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), sha256(&fixture.image));
    server.finish().await;
}

/// OpenSSH's sftp reads 255 KiB per request from a server announcing
/// `limits@openssh.com`; such replies wait for the client's window, and a
/// download used to stall after a few tens of MB when russh's session loop
/// blocked delivering queued requests. A large download must finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_sftp_downloads_a_large_file_in_255_kib_reads_without_stalling() {
    require_ssh_clients();
    let fixture = Fixture::new();
    let big: Vec<u8> = fixture
        .image
        .iter()
        .cycle()
        .take(64 << 20)
        .copied()
        .collect();
    std::fs::write(fixture.root.join("big.bin"), &big).unwrap();
    let server = Running::start(ssh_config(&fixture)).await;
    let password = Login::Password(USER, PASSWORD);
    let out = fixture.out("big.bin");
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        sftp_batch(
            &server,
            &fixture,
            &password,
            &format!("get big.bin {}\n", out.display()),
        ),
    )
    .await
    .expect("the download stalled");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), sha256(&big));
    server.finish().await;
}
