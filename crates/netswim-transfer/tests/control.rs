//! The control listener: Prometheus metrics at `GET /metrics` count the
//! bytes of finished transfers per protocol, and `POST /drain` (what
//! `netswim fileserver drain --control ADDR` sends) drains the server
//! without a signal.

mod common;

use common::*;
use netswim_transfer::metrics::request_drain;

fn metric_value(text: &str, name_and_labels: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_transfers_and_post_drain_ends_the_server() {
    require("curl", "curl");
    let fixture = Fixture::new();
    let mut config = fixture.config();
    config.control = Some("127.0.0.1:0".parse().unwrap());
    let server = Running::start(config).await;
    let control = server.addresses.control.unwrap();
    let user = format!("{USER}:{PASSWORD}");

    for url in [
        server.http(IMAGE),
        format!("sftp://{}/{IMAGE}", server.addresses.sftp.unwrap()),
        server.ftp(IMAGE),
    ] {
        let output = curl(&["-f", "--insecure", "-u", &user, "-o", "/dev/null", &url]).await;
        assert!(output.status.success(), "{url}: {output:?}");
    }
    let missing = curl(&["-o", "/dev/null", &server.http("absent.bin")]).await;
    assert!(missing.status.success());

    let scrape = curl(&["-f", &format!("http://{control}/metrics")]).await;
    assert!(scrape.status.success(), "{scrape:?}");
    let text = String::from_utf8_lossy(&scrape.stdout);
    for protocol in ["http", "sftp", "ftp"] {
        let labels = format!("{{protocol=\"{protocol}\",result=\"complete\"}}");
        assert_eq!(
            metric_value(&text, &format!("netswim_transfer_bytes_total{labels}")),
            Some(IMAGE_SIZE as u64),
            "{protocol} bytes in\n{text}"
        );
        assert_eq!(
            metric_value(&text, &format!("netswim_transfers_total{labels}")),
            Some(1),
            "{protocol} count in\n{text}"
        );
        assert_eq!(
            metric_value(
                &text,
                &format!("netswim_transfers_active{{protocol=\"{protocol}\"}}")
            ),
            Some(0)
        );
    }
    assert!(
        text.contains("netswim_transfer_duration_seconds_bucket"),
        "{text}"
    );

    // Only POST drains.
    let get = http_status(&[&format!("http://{control}/drain")]).await;
    assert_eq!(get, "405");
    let answer = request_drain(control).await.unwrap();
    assert!(answer.starts_with("draining"), "{answer}");
    let report = server.ended_by_itself().await;
    assert!(report.cut.is_empty(), "{report:?}");
    // Everything is closed once the drain ended.
    let after = curl(&["-o", "/dev/null", &format!("http://{control}/metrics")]).await;
    assert!(!after.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_request_to_a_non_control_address_fails_with_a_hint() {
    let fixture = Fixture::new();
    let server = Running::start(fixture.config()).await;
    // The HTTP file server is not a control listener: 404, not 202.
    let error = request_drain(server.addresses.http.unwrap())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("--metrics"), "{error}");
    let closed = "127.0.0.1:1".parse().unwrap();
    let error = request_drain(closed).await.unwrap_err().to_string();
    assert!(error.contains("cannot reach"), "{error}");
    server.finish().await;
}
