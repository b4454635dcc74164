//! Upgrade job routes: requests the API refuses before a job exists (each
//! with a message naming what is wrong and a hint), the job list rows, the
//! summary and the log download.

mod common;

use common::*;
use netswim_api::routes::ROUTES;
use serde_json::{Value, json};

/// A server with one image, two sites and three devices.
async fn inventory() -> (TestServer, i64) {
    let server = TestServer::start().await;
    let (name, bytes) = lab_tar(64 * 1024, 128);
    let response = server
        .request("post", "/api/v1/images", Some("operator"))
        .query(&[("file_name", name)])
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let image: Value = response.json().await.unwrap();
    let image_id = image["image"]["id"].as_i64().unwrap();
    let mut site_ids = Vec::new();
    for site in ["zurich", "geneva"] {
        let response = server
            .request("post", "/api/v1/sites", Some("operator"))
            .json(&json!({"name": site}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        site_ids.push(response.json::<Value>().await.unwrap()["id"].clone());
    }
    for (name, os, platform, site, role) in [
        ("zh-sw1", "ios", "WS-C3750X-24P", &site_ids[0], "access"),
        ("zh-sw2", "ios", "WS-C2960X-48TS-L", &site_ids[0], "access"),
        ("ge-xe1", "iosxe", "C9300-24T", &site_ids[1], "core"),
    ] {
        let response = server
            .request("post", "/api/v1/devices", Some("operator"))
            .json(&json!({
                "name": name, "host": "127.65.200.1", "os": os, "platform": platform,
                "site_id": site, "role": role,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    (server, image_id)
}

#[tokio::test]
async fn upgrade_requests_naming_the_impossible_are_refused_with_what_and_a_hint() {
    let (server, image) = inventory().await;
    let sw1 = json!({"names": ["zh-sw1"]});
    // (route, body, status, words of the message, words of the hint)
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": 999, "devices": sw1}),
            404,
            "image 999 not found",
            "netswim image list",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": {"names": ["zh-sw1", "nope"]}}),
            404,
            "device nope not found",
            "netswim device list",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": {"ids": [424242]}}),
            404,
            "device 424242 not found",
            "netswim device list",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": {}}),
            400,
            "no devices chosen",
            "by site, role or platform",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": {"sites": ["zurich"], "roles": ["core"]}}),
            400,
            "no device matches site zurich and role core",
            "site, role and platform",
        ),
        (
            "/api/v1/jobs/commit",
            json!({"devices": {"platforms": ["iosxr"]}}),
            400,
            "no device matches platform iosxr",
            "netswim device list",
        ),
        (
            "/api/v1/jobs/rollback",
            json!({"devices": {"sites": ["bern"]}}),
            404,
            "site bern not found",
            "/api/v1/sites",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "schedule": {"at": "tomorrow"}}),
            400,
            "cannot read schedule time \"tomorrow\"",
            "RFC 3339",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1,
                   "schedule": {"at": "2030-01-01T02:00", "time_zone": "Mars/Olympus_Mons"}}),
            400,
            "unknown time zone \"Mars/Olympus_Mons\"",
            "IANA",
        ),
        (
            "/api/v1/jobs/commit",
            json!({"devices": sw1, "schedule": {"recurrence": "fortnightly"}}),
            400,
            "bad schedule",
            "recurrence is one of",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "protocol": ["scp"]}),
            400,
            "unknown field `protocol`",
            "protocols",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "protocols": []}),
            400,
            "`protocols` is empty",
            "protocol_order",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "protocols": ["gopher"]}),
            400,
            "bad distribution request",
            "spec's fields",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "max_parallel": 0}),
            400,
            "`max_parallel` is 0",
            "at least 1",
        ),
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1, "locations": {"ge-xe1": "bootflash:"}}),
            400,
            "names ge-xe1, which the job does not choose",
            "names of chosen devices",
        ),
        (
            "/api/v1/jobs/activation",
            json!({"devices": sw1}),
            400,
            "needs an image or a distribution run",
            "from_run",
        ),
        (
            "/api/v1/jobs/activation",
            json!({"from_run": 999}),
            404,
            "run 999 not found",
            "netswim job list",
        ),
        (
            "/api/v1/jobs/activation",
            json!({"from_run": 1}),
            400,
            "run 1 is a run of import job 1, not of a distribution",
            "distribution job",
        ),
        (
            "/api/v1/jobs/activation",
            json!({"image_id": image, "devices": sw1, "options": {"reload_timeout_secs": 0}}),
            400,
            "`reload_timeout_secs` is 0",
            "come back",
        ),
        (
            "/api/v1/analysis",
            json!({"image_id": image, "devices": sw1, "schedule": {"at": "2030-01-01T00:00:00Z"}}),
            400,
            "a live analysis takes no schedule",
            "/api/v1/jobs/analysis",
        ),
        (
            "/api/v1/jobs/analysis",
            json!({"image_id": image}),
            400,
            "bad analysis request",
            "spec's fields",
        ),
    ];
    let jobs_before = server.get_json("/api/v1/jobs").await;
    let audit_before = server.engine.store().count_audit().await.unwrap();
    for (path, body, status, message, hint) in cases {
        let response = server
            .request("post", path, Some("operator"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path} {body}");
        let error: Value = response.json().await.unwrap();
        let text = |field: &str| error[field].as_str().unwrap_or_default().to_owned();
        assert!(text("message").contains(message), "{path} {body}: {error}");
        assert!(text("hint").contains(hint), "{path} {body}: {error}");
        assert!(!text("message").contains('\n'), "{error}");
    }
    // Nothing was recorded for a refused request.
    assert_eq!(server.get_json("/api/v1/jobs").await, jobs_before);
    assert_eq!(
        server.engine.store().count_audit().await.unwrap(),
        audit_before
    );
}

#[tokio::test]
async fn a_viewer_reads_job_views_but_submits_and_controls_nothing() {
    let (server, image) = inventory().await;
    let sw1 = json!({"names": ["zh-sw1"]});
    for (path, body) in [
        (
            "/api/v1/jobs/distribution",
            json!({"image_id": image, "devices": sw1}),
        ),
        (
            "/api/v1/jobs/activation",
            json!({"image_id": image, "devices": sw1}),
        ),
        (
            "/api/v1/jobs/analysis",
            json!({"image_id": image, "devices": sw1}),
        ),
        ("/api/v1/jobs/commit", json!({"devices": sw1})),
        ("/api/v1/jobs/rollback", json!({"devices": sw1})),
        ("/api/v1/jobs/1/cancel", Value::Null),
        ("/api/v1/jobs/1/pause", Value::Null),
        ("/api/v1/jobs/1/resume", Value::Null),
    ] {
        let response = server
            .request("post", path, Some("viewer"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "forbidden", "{path}");
    }
    // The upload in `inventory` is job 1: its views are open to a viewer.
    for path in [
        "/api/v1/jobs/1/summary",
        "/api/v1/jobs/1/log",
        "/api/v1/jobs",
    ] {
        let response = server
            .request("get", path, Some("viewer"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn job_list_rows_summary_and_log_describe_the_latest_run() {
    let (server, _) = inventory().await;
    let jobs = server.get_json("/api/v1/jobs").await;
    let row = &jobs[0];
    assert_eq!(row["kind"], "import");
    assert_eq!(row["status"], "success");
    assert!(row["run_id"].as_i64().is_some(), "{row}");
    assert_eq!(row["device_count"], 1, "{row}");
    let (started, ended) = (
        row["started_at"].as_i64().unwrap(),
        row["ended_at"].as_i64().unwrap(),
    );
    assert!(started <= ended, "{row}");

    let summary = server.get_json("/api/v1/jobs/1/summary").await;
    assert_eq!(
        summary,
        json!({"total": 1, "successful": 1, "failed": 0, "in_progress": 0, "not_started": 0, "cancelled": 0})
    );

    let response = server
        .request("get", "/api/v1/jobs/1/log", Some("viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"netswim-job-1.log\""
    );
    let log = response.text().await.unwrap();
    // One line per operation of the import: fetch, then the steps after it.
    assert!(log.lines().any(|line| line.contains("fetch")), "{log}");
    assert!(log.lines().all(|line| !line.is_empty()), "{log}");

    for path in [
        "/api/v1/jobs/999/summary",
        "/api/v1/jobs/999/log",
        "/api/v1/jobs/999/analysis",
    ] {
        let response = server
            .request("get", path, Some("viewer"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    // The analysis report of a job that is no analysis.
    let response = server
        .request("get", "/api/v1/jobs/1/analysis", Some("viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(
        error["message"],
        "job 1 is not an analysis (its kind is import)"
    );
}

#[test]
fn the_route_table_documents_every_upgrade_route_with_its_least_role() {
    let expected = [
        ("post", "/api/v1/analysis", "viewer", false),
        ("post", "/api/v1/jobs/analysis", "operator", true),
        ("get", "/api/v1/jobs/{id}/analysis", "viewer", false),
        ("post", "/api/v1/jobs/distribution", "operator", true),
        ("post", "/api/v1/jobs/activation", "operator", true),
        ("post", "/api/v1/jobs/commit", "operator", true),
        ("post", "/api/v1/jobs/rollback", "operator", true),
        ("post", "/api/v1/jobs/{id}/cancel", "operator", true),
        ("post", "/api/v1/jobs/{id}/pause", "operator", true),
        ("post", "/api/v1/jobs/{id}/resume", "operator", true),
        ("get", "/api/v1/jobs/{id}/summary", "viewer", false),
        ("get", "/api/v1/jobs/{id}/log", "viewer", false),
    ];
    for (method, path, role, mutates) in expected {
        let route = ROUTES
            .iter()
            .find(|route| route.method == method && route.path == path)
            .unwrap_or_else(|| panic!("{method} {path} not in ROUTES"));
        assert_eq!(route.role, Some(role), "{method} {path}");
        assert_eq!(route.mutates, mutates, "{method} {path}");
    }
    let document = netswim_api::routes::openapi_document();
    for (method, path, _, _) in expected {
        assert!(
            document["paths"][path][method]["summary"].is_string(),
            "{method} {path}"
        );
    }
}
