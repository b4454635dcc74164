//! HTTP and HTTPS against curl on loopback: whole downloads, resumed
//! downloads (`-C -`), ranges, HEAD, conditional ranges, and bad input
//! (traversal, symlink escape, writes) refused while the server keeps
//! serving.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_downloads_over_http_and_https_are_byte_identical() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    for (name, url, insecure) in [
        ("http.bin", server.http(IMAGE), false),
        ("https.bin", server.https(IMAGE), true),
    ] {
        let out = fixture.out(name);
        let mut args = vec!["-f", "-o", out.to_str().unwrap(), url.as_str()];
        if insecure {
            args.insert(0, "-k");
        }
        let output = curl(&args).await;
        assert!(output.status.success(), "{url}: {output:?}");
        assert_eq!(sha256(&read(&out)), sha256(&fixture.image), "{url}");
    }
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_resumes_a_partial_download_to_the_same_bytes() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    for (name, url, insecure) in [
        ("http.part", server.http(IMAGE), false),
        ("https.part", server.https(IMAGE), true),
    ] {
        let out = fixture.out(name);
        // A download that broke off after 1 MiB and 7 bytes.
        std::fs::write(&out, &fixture.image[..1024 * 1024 + 7]).unwrap();
        let mut args = vec!["-f", "-C", "-", "-o", out.to_str().unwrap(), url.as_str()];
        if insecure {
            args.insert(0, "-k");
        }
        let output = curl(&args).await;
        assert!(output.status.success(), "{url}: {output:?}");
        assert_eq!(sha256(&read(&out)), sha256(&fixture.image), "{url}");
    }
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_head_and_conditional_ranges_follow_rfc_9110() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    let url = server.http(IMAGE);
    let size = fixture.image.len();

    // `-r` ranges, including a suffix range.
    for (range, expected) in [
        ("100-199", &fixture.image[100..200]),
        ("0-0", &fixture.image[0..1]),
        ("-1000", &fixture.image[size - 1000..]),
        ("3000000-", &fixture.image[3_000_000..]),
    ] {
        let output = curl(&["-f", "-r", range, &url]).await;
        assert!(output.status.success(), "{range}: {output:?}");
        assert_eq!(output.stdout, expected, "range {range}");
    }

    // HEAD: the validators and length, no body.
    let head = curl(&["-I", &url]).await;
    let headers = String::from_utf8_lossy(&head.stdout).to_ascii_lowercase();
    let etag = format!("etag: \"{}\"", sha256(&fixture.image));
    for expected in [
        "http/1.1 200",
        &format!("content-length: {size}"),
        "accept-ranges: bytes",
        &etag,
        "last-modified: ",
    ] {
        assert!(
            headers.contains(expected),
            "HEAD lacks {expected}: {headers}"
        );
    }

    // Past the end: 416 with the size.
    let output = curl(&[
        "-r",
        &format!("{size}-"),
        "-D",
        "-",
        "-o",
        "/dev/null",
        &url,
    ])
    .await;
    let headers = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
    assert!(headers.contains("416"), "{headers}");
    assert!(
        headers.contains(&format!("content-range: bytes */{size}")),
        "{headers}"
    );

    // If-Range: the current tag keeps the range, a stale one gets the whole file.
    let tag = format!("If-Range: \"{}\"", sha256(&fixture.image));
    assert_eq!(http_status(&["-r", "0-9", "-H", &tag, &url]).await, "206");
    let stale = "If-Range: \"0000\"";
    let output = curl(&["-r", "0-9", "-H", stale, &url]).await;
    assert_eq!(
        output.stdout.len(),
        size,
        "a stale If-Range must send the whole file"
    );
    // If-None-Match with the current tag: 304.
    let none_match = format!("If-None-Match: \"{}\"", sha256(&fixture.image));
    assert_eq!(http_status(&["-H", &none_match, &url]).await, "304");
    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_escapes_and_writes_are_refused_while_serving_continues() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    let base = server.http("");
    let base = base.trim_end_matches('/');
    for path in [
        "/../etc/passwd",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/%2e%2e%2fsecret",
        "/images/..%2f..%2fsecret",
        "/%252e%252e/secret",
        "//etc/passwd",
        "/escape",
        "/..%5csecret",
    ] {
        let status = http_status(&["--path-as-is", &format!("{base}{path}")]).await;
        assert!(
            status == "403" || status == "404",
            "{path} answered {status}"
        );
    }
    // A directory is not a file: no listings.
    assert_eq!(http_status(&[&format!("{base}/images/")]).await, "404");
    assert_eq!(http_status(&[&format!("{base}/")]).await, "404");
    for method in ["PUT", "POST", "DELETE", "PATCH"] {
        let status = http_status(&["-X", method, "--data", "x", &server.http(IMAGE)]).await;
        assert_eq!(status, "405", "{method}");
    }
    let upload = fixture.out("upload.bin");
    std::fs::write(&upload, b"new image").unwrap();
    let status = http_status(&["-T", upload.to_str().unwrap(), &server.http("new.bin")]).await;
    assert_eq!(status, "405");
    assert!(!fixture.root.join("new.bin").exists());
    // Still serving.
    let output = curl(&["-f", &server.http("images/small.txt")]).await;
    assert_eq!(output.stdout, b"hello device\n");
    let output = curl(&["-fk", &server.https("images/small.txt")]).await;
    assert_eq!(output.stdout, b"hello device\n");
    server.finish().await;
}

/// The plain-HTTP listener sends files with `sendfile(2)` on its own
/// keep-alive loop and hands anything else to hyper: one curl connection
/// mixing both must get every answer right, and the sendfile transfers
/// must be accounted with their bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_keep_alive_connection_mixes_sendfile_and_hyper_answers() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let mut server = Running::start(fixture.config()).await;
    let size = fixture.image.len();
    let whole = fixture.out("whole.bin");
    let tail = fixture.out("tail.bin");
    let again = fixture.out("again.bin");
    let format = "%{http_code} %{num_connects} %{size_download}\\n";
    let image = server.http(IMAGE);
    let missing = server.http("images/missing.bin");
    // `--next` gives each URL its own options on one connection cache.
    let output = curl(&[
        "-w",
        format,
        "-o",
        whole.to_str().unwrap(),
        &image,
        "--next",
        "-sS",
        "-w",
        format,
        "-I",
        "-o",
        "/dev/null",
        &image,
        "--next",
        "-sS",
        "-w",
        format,
        "-o",
        "/dev/null",
        &missing,
        "--next",
        "-sS",
        "-w",
        format,
        "-r",
        "1000000-",
        "-o",
        tail.to_str().unwrap(),
        &image,
        "--next",
        "-sS",
        "-w",
        format,
        "-r",
        "1000000-",
        "-o",
        again.to_str().unwrap(),
        &image,
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(
        lines[0],
        format!("200 1 {size}"),
        "first download, new connection"
    );
    assert_eq!(
        lines[1], "200 0 0",
        "HEAD on the same connection: {lines:?}"
    );
    assert!(
        lines[2].starts_with("404 0"),
        "hyper's 404, same connection: {lines:?}"
    );
    for line in &lines[3..] {
        assert_eq!(
            line,
            &format!("206 0 {}", size - 1_000_000),
            "ranges after the hand-over to hyper: {lines:?}"
        );
    }
    assert_eq!(sha256(&read(&whole)), sha256(&fixture.image));
    assert_eq!(read(&tail), fixture.image[1_000_000..]);
    assert_eq!(read(&again), fixture.image[1_000_000..]);
    let mut records = std::mem::replace(
        &mut server.records,
        tokio::sync::mpsc::unbounded_channel().1,
    );
    server.finish().await;
    let mut accounted = Vec::new();
    while let Ok(record) = records.try_recv() {
        assert_eq!(
            record.result,
            netswim_transfer::TransferResult::Complete,
            "{record:?}"
        );
        accounted.push(record.bytes);
    }
    accounted.sort_unstable();
    let tail_bytes = (size - 1_000_000) as u64;
    assert_eq!(accounted, [tail_bytes, tail_bytes, size as u64]);
}

/// A drain that times out cuts a download running on the sendfile path:
/// reported as cut, and the client sees its connection end short.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_timeout_cuts_a_sendfile_download() {
    require("curl", "curl");
    let fixture = Fixture::new();
    // Larger than loopback socket buffers can hold, so the server is
    // still sending when the drain starts.
    let big: Vec<u8> = fixture
        .image
        .iter()
        .cycle()
        .take(48 << 20)
        .copied()
        .collect();
    std::fs::write(fixture.root.join("big.bin"), &big).unwrap();
    let mut config = fixture.config();
    config.drain_timeout = std::time::Duration::from_millis(300);
    let mut server = Running::start(config).await;
    let out = fixture.out("big.part");
    let slow = {
        let url = server.http("big.bin");
        let out = out.clone();
        tokio::spawn(async move {
            curl(&[
                "-f",
                "--limit-rate",
                "2M",
                "-o",
                out.to_str().unwrap(),
                &url,
            ])
            .await
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while read(&out).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.begin_stop();
    let report = server.finish().await;
    assert_eq!(report.cut.len(), 1, "{report:?}");
    assert_eq!(report.cut[0].file, "big.bin");
    assert!(report.cut[0].bytes < big.len() as u64);
    let finished = tokio::time::timeout(std::time::Duration::from_secs(30), slow)
        .await
        .expect("the cut client must see its connection end")
        .unwrap();
    assert!(!finished.status.success(), "{finished:?}");
    assert!(read(&out).len() < big.len());
}
