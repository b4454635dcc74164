//! Authentication, roles and the audit log, walked over the route table:
//! no token → 401 on every guarded route, a viewer on any mutation → 403,
//! and every mutation leaves an audit row naming who did what to which object.

mod common;

use common::*;
use netswim_api::routes::ROUTES;
use serde_json::{Value, json};

/// Fills `{id}`/`{key}` in a documented path.
fn concrete(path: &str, id: i64) -> String {
    path.replace("{id}", &id.to_string())
        .replace("{key}", "job_defaults")
}

#[tokio::test]
async fn every_guarded_route_answers_401_without_a_token_and_401_with_a_bad_one() {
    let server = TestServer::start().await;
    let mut checked = 0;
    for route in ROUTES.iter().filter(|route| route.role.is_some()) {
        let path = concrete(route.path, 1);
        for token in [None, Some("not-a-token")] {
            let mut request = server.request(route.method, &path, None);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                401,
                "{} {path} with {token:?}",
                route.method
            );
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["code"], "unauthorized");
            assert!(error["hint"].as_str().unwrap().contains("login"));
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} guarded routes");
}

/// One call per mutating route, in an order where each finds what it needs.
/// `{id}` is filled from the object the earlier step created.
struct Step {
    method: &'static str,
    path: &'static str,
    body: Value,
    /// Which earlier step's `id` goes into `{id}` (`None`: no id).
    id_from: Option<&'static str>,
    /// Name other steps use to refer to this step's result.
    name: &'static str,
}

fn steps() -> Vec<Step> {
    let step = |method, path, body, id_from, name| Step {
        method,
        path,
        body,
        id_from,
        name,
    };
    vec![
        step(
            "post",
            "/api/v1/login",
            json!({"user": "admin", "password": ADMIN_PASSWORD}),
            None,
            "login",
        ),
        step(
            "post",
            "/api/v1/credentials",
            json!({"name": "lab", "username": "admin", "password": "s3cret"}),
            None,
            "credential",
        ),
        step("post", "/api/v1/sites", json!({"name": "hq"}), None, "site"),
        step(
            "post",
            "/api/v1/devices",
            json!({"name": "sw1", "host": "127.45.1.1", "os": "ios", "credential_profile": "lab"}),
            None,
            "device",
        ),
        step(
            "put",
            "/api/v1/devices/{id}",
            json!({"name": "sw1", "host": "127.45.1.2", "os": "ios"}),
            Some("device"),
            "",
        ),
        step("post", "/api/v1/images", Value::Null, None, "image"),
        step("post", "/api/v1/images/import", Value::Null, None, "import"),
        step(
            "patch",
            "/api/v1/images/{id}/requirements",
            json!({"min_flash_bytes": 1000}),
            Some("image"),
            "",
        ),
        // Upgrade jobs: `"image_id": "IMAGE"` becomes the uploaded image's id.
        step(
            "post",
            "/api/v1/jobs/analysis",
            json!({"image_id": "IMAGE", "devices": {"names": ["sw1"]}}),
            None,
            "",
        ),
        step(
            "post",
            "/api/v1/jobs/distribution",
            json!({"image_id": "IMAGE", "devices": {"names": ["sw1"]}}),
            None,
            "",
        ),
        step(
            "post",
            "/api/v1/jobs/activation",
            json!({"image_id": "IMAGE", "devices": {"names": ["sw1"]}}),
            None,
            "",
        ),
        step(
            "post",
            "/api/v1/jobs/rollback",
            json!({"devices": {"names": ["sw1"]}}),
            None,
            "",
        ),
        // A job far in the future stays scheduled for the controls below.
        step(
            "post",
            "/api/v1/jobs/commit",
            json!({"devices": {"names": ["sw1"]}, "schedule": {"at": "2099-01-01T00:00:00Z"}}),
            None,
            "scheduled",
        ),
        step(
            "post",
            "/api/v1/jobs/{id}/pause",
            Value::Null,
            Some("scheduled"),
            "",
        ),
        step(
            "post",
            "/api/v1/jobs/{id}/resume",
            Value::Null,
            Some("scheduled"),
            "",
        ),
        step(
            "post",
            "/api/v1/jobs/{id}/cancel",
            Value::Null,
            Some("scheduled"),
            "",
        ),
        step(
            "delete",
            "/api/v1/images/{id}",
            Value::Null,
            Some("image"),
            "",
        ),
        step(
            "post",
            "/api/v1/devices/sync",
            json!({"device_ids": [999_999]}),
            None,
            "sync",
        ),
        step(
            "post",
            "/api/v1/devices/import",
            json!(
                "name,host,port,platform,username,password,site,role,peer\n\
                 sw-audit,127.45.9.9,22,ios,admin,admin,audit-site,access,\n"
            ),
            None,
            "",
        ),
        step(
            "delete",
            "/api/v1/devices/{id}",
            Value::Null,
            Some("device"),
            "",
        ),
        step(
            "delete",
            "/api/v1/credentials/{id}",
            Value::Null,
            Some("credential"),
            "",
        ),
        step(
            "post",
            "/api/v1/distribution-servers",
            json!({"name": "relay", "url": "http://127.45.1.3/"}),
            None,
            "relay",
        ),
        step(
            "delete",
            "/api/v1/distribution-servers/{id}",
            Value::Null,
            Some("relay"),
            "",
        ),
        step(
            "delete",
            "/api/v1/sites/{id}",
            Value::Null,
            Some("site"),
            "",
        ),
        step(
            "put",
            "/api/v1/settings/{key}",
            json!({"concurrency": 8}),
            None,
            "",
        ),
        step(
            "post",
            "/api/v1/users",
            json!({"name": "olga", "password": "long-password", "role": "operator"}),
            None,
            "user",
        ),
        step(
            "delete",
            "/api/v1/users/{id}",
            Value::Null,
            Some("user"),
            "",
        ),
        step(
            "post",
            "/api/v1/tokens",
            json!({"name": "ci", "role": "viewer", "days": 1}),
            None,
            "token",
        ),
        step(
            "delete",
            "/api/v1/tokens/{id}",
            Value::Null,
            Some("token"),
            "",
        ),
    ]
}

async fn send_step(
    server: &TestServer,
    step: &Step,
    role: &str,
    ids: &std::collections::HashMap<&str, i64>,
    image_dir: &std::path::Path,
) -> reqwest::Response {
    let id = step.id_from.map(|name| ids[name]).unwrap_or(1);
    let path = concrete(step.path, id);
    let mut request = server.request(step.method, &path, Some(role));
    request = match step.path {
        "/api/v1/images" => {
            let (name, bytes) = lab_tar(64 * 1024, 128);
            request.query(&[("file_name", name)]).body(bytes)
        }
        "/api/v1/images/import" => {
            let (name, bytes) = lab_tar(48 * 1024, 128);
            let path = write_file(image_dir, &name, &bytes);
            request.json(&json!({"path": path}))
        }
        "/api/v1/devices/import" => request.body(step.body.as_str().unwrap_or_default().to_owned()),
        _ if step.body["image_id"] == "IMAGE" => {
            let mut body = step.body.clone();
            body["image_id"] = json!(ids.get("image").copied().unwrap_or(1));
            request.json(&body)
        }
        _ if step.body.is_null() => request,
        _ => request.json(&step.body),
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_mutation_is_refused_to_a_viewer_and_audited_for_an_admin() {
    let server = TestServer::start().await;
    let image_dir = tempfile::tempdir().unwrap();
    let steps = steps();

    // The table covers every mutating route of the API, and only those.
    let mut documented: Vec<(&str, &str)> = ROUTES
        .iter()
        .filter(|route| route.mutates)
        .map(|route| (route.method, route.path))
        .collect();
    let mut covered: Vec<(&str, &str)> =
        steps.iter().map(|step| (step.method, step.path)).collect();
    documented.sort();
    covered.sort();
    assert_eq!(covered, documented);

    let dummy_ids: std::collections::HashMap<&str, i64> =
        steps.iter().map(|step| (step.name, 1)).collect();
    for step in steps.iter().filter(|step| step.path != "/api/v1/login") {
        let response = send_step(&server, step, "viewer", &dummy_ids, image_dir.path()).await;
        assert_eq!(
            response.status(),
            403,
            "viewer {} {}",
            step.method,
            step.path
        );
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["code"], "forbidden");
    }
    assert_eq!(
        server.engine.store().count_audit().await.unwrap(),
        0,
        "refusals wrote audit rows"
    );

    let mut ids = std::collections::HashMap::new();
    for step in &steps {
        if step.method == "delete" && step.path == "/api/v1/images/{id}" {
            // An image is not deleted while a job that names it runs.
            server.wait_jobs_ended().await;
        }
        let before = server.engine.store().count_audit().await.unwrap();
        let response = send_step(&server, step, "admin", &ids, image_dir.path()).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        let expected_ok = status.is_success();
        assert!(
            expected_ok,
            "admin {} {}: {status} {text}",
            step.method, step.path
        );
        if !step.name.is_empty() {
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let id = body["id"]
                .as_i64()
                .or_else(|| body["image"]["id"].as_i64())
                .unwrap_or(0);
            ids.insert(step.name, id);
        }
        if step.path == "/api/v1/tokens" {
            let tokens = server.get_json("/api/v1/tokens").await;
            let id = tokens
                .as_array()
                .unwrap()
                .iter()
                .find(|token| token["name"] == "ci")
                .and_then(|token| token["id"].as_i64())
                .unwrap();
            ids.insert("token", id);
        }
        let after = server.engine.store().count_audit().await.unwrap();
        assert!(
            after > before,
            "no audit row for {} {}",
            step.method,
            step.path
        );
        let newest = &server.engine.store().list_audit(1).await.unwrap()[0];
        assert_eq!(newest.actor, "admin", "{} {}", step.method, step.path);
        assert!(!newest.action.is_empty() && !newest.object.is_empty());
    }

    // Reading changes nothing.
    let before = server.engine.store().count_audit().await.unwrap();
    for route in ROUTES
        .iter()
        .filter(|route| route.method == "get" && route.path != "/api/v1/events")
    {
        let path = concrete(route.path, 1);
        let _ = server
            .request("get", &path, Some("admin"))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(server.engine.store().count_audit().await.unwrap(), before);
}

#[tokio::test]
async fn login_issues_a_token_that_works_and_a_wrong_password_gets_401() {
    let server = TestServer::start().await;
    let response = server
        .request("post", "/api/v1/login", None)
        .json(&json!({"user": "viewer", "password": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = server
        .request("post", "/api/v1/login", None)
        .json(&json!({"user": "viewer", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let issued: Value = response.json().await.unwrap();
    assert_eq!(issued["role"], "viewer");
    let token = issued["token"].as_str().unwrap();
    let response = server
        .http
        .get(server.url("/api/v1/images"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Credential profiles never show their secrets.
    let response = server
        .request("post", "/api/v1/credentials", Some("admin"))
        .json(&json!({"name": "lab", "username": "admin", "password": "hunter2-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let listed = server
        .http
        .get(server.url("/api/v1/credentials"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        listed.contains("\"lab\"") && !listed.contains("hunter2"),
        "{listed}"
    );
}

#[tokio::test]
async fn openapi_documents_every_route_and_every_documented_route_is_served() {
    let server = TestServer::start().await;
    let document: Value = server
        .http
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    for route in ROUTES {
        assert!(
            document["paths"][route.path][route.method].is_object(),
            "{} {} missing from the document",
            route.method,
            route.path
        );
        if route.path == "/api/v1/events" {
            continue;
        }
        // An unknown route or method answers 404/405 with no JSON error body.
        let response = server
            .request(route.method, &concrete(route.path, 999_999), Some("admin"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert_ne!(status, 405, "{} {} not routed", route.method, route.path);
        let error: Value = response.json().await.unwrap_or(Value::Null);
        if status == 404 {
            // A routed path answers "no such object", not "no such route".
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                message.contains("not found"),
                "{} {}: {error}",
                route.method,
                route.path
            );
            assert!(
                !message.contains("Not Found"),
                "{} {} not routed",
                route.method,
                route.path
            );
        }
        if status >= 400 {
            for field in ["code", "message", "hint"] {
                assert!(
                    error[field].is_string(),
                    "{} {}: {error}",
                    route.method,
                    route.path
                );
            }
        }
    }
}

#[tokio::test]
async fn metrics_count_requests_and_events_stream_job_progress() {
    let server = TestServer::start().await;
    let mut events = server
        .request("get", "/api/v1/events", Some("viewer"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let (name, bytes) = lab_tar(64 * 1024, 128);
    let response = server
        .request("post", "/api/v1/images", Some("operator"))
        .query(&[("file_name", name)])
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains("event: job.finished") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("no job.finished event")
            .unwrap()
            .expect("event stream ended");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: job.started"), "{seen}");
    assert!(seen.contains("\"operation\":\"fetch\""), "{seen}");
    assert!(seen.contains("\"status\":\"success\""), "{seen}");

    let metrics = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("netswim_images 1"), "{metrics}");
    assert!(
        metrics.contains("netswim_http_requests_total{method=\"POST\",status=\"201\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("netswim_jobs{status=\"success\"} 1"),
        "{metrics}"
    );
}
