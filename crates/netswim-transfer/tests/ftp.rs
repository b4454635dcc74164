//! FTP against curl (passive mode) and lftp on loopback: byte-identical
//! downloads with the standing user and with a per-transfer credential,
//! and refusals (traversal, writes, wrong password, revoked credential)
//! that leave the server serving. TFTP through the same source is checked
//! here too.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_and_lftp_downloads_over_ftp_are_byte_identical() {
    require("curl", "curl");
    require("lftp", "lftp");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    let user = format!("{USER}:{PASSWORD}");

    let out = fixture.out("curl.bin");
    let output = curl(&[
        "-f",
        "--ftp-pasv",
        "-u",
        &user,
        "-o",
        out.to_str().unwrap(),
        &server.ftp(IMAGE),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), sha256(&fixture.image));

    // Resumed FTP download (REST).
    let partial = fixture.out("curl.part");
    std::fs::write(&partial, &fixture.image[..500_000]).unwrap();
    let output = curl(&[
        "-f",
        "-C",
        "-",
        "-u",
        &user,
        "-o",
        partial.to_str().unwrap(),
        &server.ftp(IMAGE),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&partial)), sha256(&fixture.image));

    let out = fixture.out("lftp.bin");
    let address = server.addresses.ftp.unwrap();
    let script = format!(
        "set net:max-retries 1; get {IMAGE} -o {}; get images/small.txt -o {}; bye",
        out.display(),
        fixture.out("small.txt").display()
    );
    let output = run(
        "lftp",
        &[
            "-u",
            &format!("{USER},{PASSWORD}"),
            "-e",
            &script,
            &format!("ftp://{address}"),
        ],
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), sha256(&fixture.image));
    assert_eq!(read(&fixture.out("small.txt")), b"hello device\n");

    // Listing shows the files, read-only.
    let output = curl(&["-f", "-u", &user, &server.ftp("")]).await;
    let listing = String::from_utf8_lossy(&output.stdout);
    assert!(
        listing.contains(IMAGE) && listing.contains("r--r--r--"),
        "{listing}"
    );
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_refuses_traversal_writes_and_wrong_credentials_while_serving() {
    require("curl", "curl");
    require("lftp", "lftp");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    let address = server.addresses.ftp.unwrap();
    let user = format!("{USER}:{PASSWORD}");
    let lftp = |script: String| {
        let login = format!("{USER},{PASSWORD}");
        let url = format!("ftp://{address}");
        async move {
            run(
                "lftp",
                &[
                    "-u",
                    &login,
                    "-e",
                    &format!("set net:max-retries 1; {script}; bye"),
                    &url,
                ],
            )
            .await
        }
    };

    for path in ["../../etc/passwd", "../secret", "escape", "/../secret"] {
        let out = fixture.out("stolen");
        let output = lftp(format!("get {path} -o {}", out.display())).await;
        assert!(!output.status.success(), "get {path} must fail: {output:?}");
        assert!(read(&out).is_empty(), "{path} leaked");
    }
    // Absolute paths are rooted at the served root.
    let output = curl(&["-f", "-u", &user, &format!("ftp://{address}/%2Fetc/passwd")]).await;
    assert!(!output.status.success());

    // Writes: STOR, DELE, MKD refused; nothing appears in the root.
    let upload = fixture.out("upload.bin");
    std::fs::write(&upload, b"new image").unwrap();
    let output = curl(&[
        "-u",
        &user,
        "-T",
        upload.to_str().unwrap(),
        &server.ftp("new.bin"),
    ])
    .await;
    assert!(!output.status.success(), "STOR must fail");
    assert!(!fixture.root.join("new.bin").exists());
    let output = lftp(format!("put {} -o put.bin", upload.display())).await;
    assert!(!output.status.success(), "lftp put must fail: {output:?}");
    let output = lftp(format!("rm {IMAGE}")).await;
    assert!(!output.status.success(), "DELE must fail");
    assert!(fixture.root.join(IMAGE).exists());
    let output = lftp("mkdir newdir".to_string()).await;
    assert!(!output.status.success(), "MKD must fail");

    // Wrong password and unknown user.
    for login in [format!("{USER}:wrong"), "anonymous:guest".to_string()] {
        let output = curl(&["-f", "-u", &login, &server.ftp(IMAGE)]).await;
        assert!(!output.status.success(), "{login} must be refused");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains("530")
                || output.status.code() == Some(67),
            "{output:?}"
        );
    }

    // Per-transfer credential: works while it exists, refused once revoked.
    server.credentials.insert("job-42", "one-time");
    let output = curl(&[
        "-f",
        "-u",
        "job-42:one-time",
        &server.ftp("images/small.txt"),
    ])
    .await;
    assert_eq!(output.stdout, b"hello device\n", "{output:?}");
    assert!(server.credentials.revoke("job-42"));
    let output = curl(&[
        "-f",
        "-u",
        "job-42:one-time",
        &server.ftp("images/small.txt"),
    ])
    .await;
    assert!(
        !output.status.success(),
        "a revoked credential must be refused"
    );

    // Still serving the standing user.
    let output = curl(&["-f", "-u", &user, &server.ftp("images/small.txt")]).await;
    assert_eq!(output.stdout, b"hello device\n");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tftp_serves_the_same_source_and_refuses_escapes() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    let out = fixture.out("tftp.bin");
    let output = curl(&[
        "--tftp-blksize",
        "1468",
        "-o",
        out.to_str().unwrap(),
        &server.tftp(IMAGE),
    ])
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sha256(&read(&out)), sha256(&fixture.image));
    for path in ["escape", "..%2fsecret"] {
        let output = curl(&["-o", "/dev/null", &server.tftp(path)]).await;
        assert!(!output.status.success(), "{path} must be refused");
    }
    server.finish().await;
}
