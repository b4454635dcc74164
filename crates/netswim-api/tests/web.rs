//! The web UI's page handlers over real HTTP: sessions, status codes, role
//! checks and form round trips (the browser suite in tests/browser drives
//! the same pages in Chromium).

mod common;

use common::{ADMIN_PASSWORD, TestServer, lab_tar};
use netswim_engine::ImportSpec;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in through the form; returns the `Cookie` header value.
async fn session(server: &TestServer, user: &str) -> String {
    let response = client()
        .post(server.url("/login"))
        .form(&[
            ("user", user),
            ("password", ADMIN_PASSWORD),
            ("next", "/jobs"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/jobs");
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    cookie.split(';').next().unwrap().to_owned()
}

async fn get(server: &TestServer, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = client()
        .get(server.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post(
    server: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(server.url(path))
        .header(COOKIE, cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn with_image(server: &TestServer) -> i64 {
    let (name, bytes) = lab_tar(64 * 1024, 256);
    let (_, outcome) = server
        .engine
        .import_upload(
            ImportSpec::default(),
            &name,
            Box::new(std::io::Cursor::new(bytes)),
            None,
            "test",
        )
        .await
        .unwrap();
    outcome.image.id
}

#[tokio::test]
async fn every_page_sends_a_visitor_without_a_session_to_the_login_page() {
    let server = TestServer::start().await;
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/images"),
        ("GET", "/images/1"),
        ("GET", "/devices"),
        ("GET", "/devices/1"),
        ("GET", "/analysis"),
        ("GET", "/distribute"),
        ("GET", "/activate"),
        ("GET", "/commit"),
        ("GET", "/rollback"),
        ("GET", "/jobs"),
        ("GET", "/jobs/1"),
        ("GET", "/jobs/1/events"),
        ("GET", "/jobs/1/log"),
        ("GET", "/settings"),
        ("POST", "/settings/protocol-order"),
        ("POST", "/distribute"),
        ("POST", "/jobs/1/control"),
    ] {
        for cookie in ["", "netswim_session=not-a-real-token"] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = client()
                .request(method.clone(), server.url(path))
                .header(COOKIE, cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
            let location = response.headers()[LOCATION].to_str().unwrap();
            assert!(
                location.starts_with("/login?next=%2F"),
                "{path}: {location}"
            );
        }
    }
    let (status, body) = get(&server, "", "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(r#"<label for="password">Password</label>"#),
        "{body}"
    );
}

#[tokio::test]
async fn login_sets_an_httponly_samestrict_cookie_and_a_wrong_password_gets_401_and_no_cookie() {
    let server = TestServer::start().await;
    let wrong = client()
        .post(server.url("/login"))
        .form(&[("user", "admin"), ("password", "nope"), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("Wrong user name or password")
    );

    let response = client()
        .post(server.url("/login"))
        .form(&[
            ("user", "admin"),
            ("password", ADMIN_PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()[LOCATION],
        "/",
        "only same-site paths are followed"
    );
    let cookie = response.headers()[SET_COOKIE].to_str().unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let cookie = cookie.split(';').next().unwrap().to_owned();
    assert_eq!(get(&server, &cookie, "/").await.0, StatusCode::OK);
    // Logging out revokes the session's token.
    let out = post(&server, &cookie, "/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(get(&server, &cookie, "/").await.0, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_page_answers_html_for_a_viewer_and_unknown_things_get_a_404_page() {
    let server = TestServer::start().await;
    let image = with_image(&server).await;
    let cookie = session(&server, "viewer").await;
    for path in [
        "/".to_owned(),
        "/images".into(),
        format!("/images/{image}"),
        "/devices".into(),
        "/devices?site=x&compliance=outdated".into(),
        "/analysis".into(),
        format!("/analysis?image_id={image}"),
        "/distribute".into(),
        format!("/distribute?image_id={image}"),
        format!("/distribute?image_id={image}&step=4"),
        "/activate".into(),
        "/activate?source=run".into(),
        "/activate?step=2&source=run&from_run=1".into(),
        "/commit".into(),
        "/rollback".into(),
        "/jobs".into(),
        "/jobs/1".into(),
        "/settings".into(),
    ] {
        let response = client()
            .get(server.url(&path))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let kind = response.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(kind.starts_with("text/html"), "{path}: {kind}");
        let body = response.text().await.unwrap();
        assert!(body.contains("<main id=\"main\">"), "{path}");
    }
    // The live fragment the job page refreshes is the progress block only.
    let (status, body) = get(&server, &cookie, "/jobs/1/progress").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.starts_with(r#"<div id="progress" data-status="success""#),
        "{body}"
    );
    // The image is on its page, the import job on the jobs page.
    let (_, body) = get(&server, &cookie, &format!("/images/{image}")).await;
    assert!(body.contains("c3750e-ipbasek9-tar.152-2.E7.tar"), "{body}");
    let (_, body) = get(&server, &cookie, "/jobs").await;
    assert!(
        body.contains("upload c3750e-ipbasek9-tar.152-2.E7.tar"),
        "{body}"
    );
    // With no device, the analysis shows the engine's refusal, not a crash.
    let (_, body) = get(&server, &cookie, &format!("/analysis?image_id={image}")).await;
    assert!(body.contains("role=\"alert\""), "{body}");
    // Users and tokens are admin-only: a viewer's settings page has none.
    let (_, body) = get(&server, &cookie, "/settings").await;
    assert!(!body.contains("API tokens"), "{body}");
    for path in ["/images/999", "/devices/999", "/jobs/999"] {
        let (status, body) = get(&server, &cookie, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(body.contains("Something went wrong"), "{path}: {body}");
    }
}

#[tokio::test]
async fn a_viewer_is_refused_every_change_with_403_and_nothing_changes() {
    let server = TestServer::start().await;
    let image = with_image(&server).await;
    let cookie = session(&server, "viewer").await;
    let audit_before = server.engine.store().count_audit().await.unwrap();
    for (path, form) in [
        (
            format!("/images/{image}/requirements"),
            vec![("min_ram_mb", "1")],
        ),
        (
            "/settings/protocol-order".into(),
            vec![("protocols", "tftp")],
        ),
        (
            "/settings/job-defaults".into(),
            vec![("max_parallel_devices", "1")],
        ),
        ("/settings/sites".into(), vec![("name", "x")]),
        (
            "/settings/users".into(),
            vec![
                ("name", "eve"),
                ("password", "password123"),
                ("role", "admin"),
            ],
        ),
        ("/settings/tokens".into(), vec![("name", "t")]),
        ("/devices/sync".into(), vec![]),
        (
            "/distribute".into(),
            vec![("image_id", "1"), ("device", "1")],
        ),
        ("/activate".into(), vec![("from_run", "1")]),
        ("/rollback".into(), vec![("device", "1"), ("confirm", "1")]),
        ("/jobs/1/control".into(), vec![("action", "cancel")]),
    ] {
        let response = post(&server, &cookie, &path, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("role viewer may not"),
            "{path}"
        );
    }
    let store = server.engine.store();
    assert_eq!(
        store.get_image(image).await.unwrap().min_ram_bytes,
        Some(256 * 1024 * 1024)
    );
    assert_eq!(store.list_users().await.unwrap().len(), 3);
    // Only the viewer's login was audited.
    assert_eq!(store.count_audit().await.unwrap(), audit_before);
}

#[tokio::test]
async fn forms_round_trip_requirements_protocol_order_sites_servers_users_and_tokens() {
    let server = TestServer::start().await;
    let image = with_image(&server).await;
    let cookie = session(&server, "admin").await;
    let store = server.engine.store();

    let response = post(
        &server,
        &cookie,
        &format!("/images/{image}/requirements"),
        &[("min_ram_mb", "512"), ("min_flash_mb", "")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        store.get_image(image).await.unwrap().min_ram_bytes,
        Some(512 * 1024 * 1024)
    );
    let (_, body) = get(&server, &cookie, &format!("/images/{image}")).await;
    assert!(
        body.contains(r#"name="min_ram_mb" type="number" min="0" value="512""#),
        "{body}"
    );

    let response = post(
        &server,
        &cookie,
        "/settings/protocol-order",
        &[("protocols", "TFTP, scp")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(store.protocol_order().await.unwrap(), ["tftp", "scp"]);
    let refused = post(
        &server,
        &cookie,
        "/settings/protocol-order",
        &[("protocols", "gopher")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("unknown protocol"));
    assert_eq!(store.protocol_order().await.unwrap(), ["tftp", "scp"]);

    post(
        &server,
        &cookie,
        "/settings/job-defaults",
        &[("max_parallel_devices", "7"), ("retries", "0")],
    )
    .await;
    let defaults = store.job_defaults().await.unwrap();
    assert_eq!(
        (&defaults["max_parallel_devices"], &defaults["retries"]),
        (&serde_json::json!(7), &serde_json::json!(0))
    );
    // Fields left empty are unset; keys the form does not show are kept.
    assert!(
        defaults.get("max_parallel_per_site").is_none(),
        "{defaults}"
    );
    assert_eq!(defaults["task_lease_seconds"], 60);
    let refused = post(
        &server,
        &cookie,
        "/settings/job-defaults",
        &[("max_parallel_devices", "0")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("at least 1"));
    // An empty field goes back to the built-in default.
    post(
        &server,
        &cookie,
        "/settings/job-defaults",
        &[("max_parallel_devices", ""), ("retries", "3")],
    )
    .await;
    let defaults = store.job_defaults().await.unwrap();
    assert!(defaults.get("max_parallel_devices").is_none(), "{defaults}");
    assert_eq!(defaults["retries"], 3);

    post(&server, &cookie, "/settings/sites", &[("name", "zurich")]).await;
    let site = store.find_site_by_name("zurich").await.unwrap().unwrap();
    let site_id = site.id.to_string();
    let response = post(
        &server,
        &cookie,
        "/settings/distribution-servers",
        &[
            ("name", "zrh-tftp"),
            ("url", "tftp://10.1.1.5/"),
            ("site", &site_id),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let servers = store.list_distribution_servers().await.unwrap();
    assert_eq!(servers.len(), 1);
    assert_eq!(servers[0].site_ids, [site.id]);
    let (_, body) = get(&server, &cookie, "/settings").await;
    assert!(
        body.contains("zrh-tftp") && body.contains("tftp://10.1.1.5/"),
        "{body}"
    );

    post(
        &server,
        &cookie,
        "/settings/users",
        &[
            ("name", "olga"),
            ("password", "long-enough-1"),
            ("role", "operator"),
        ],
    )
    .await;
    let olga = store.find_user_by_name("olga").await.unwrap().unwrap();
    assert_eq!(olga.role.as_str(), "operator");
    let olga_login = client()
        .post(server.url("/login"))
        .form(&[("user", "olga"), ("password", "long-enough-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        olga_login.status(),
        StatusCode::SEE_OTHER,
        "the new user can log in"
    );

    let issued = post(
        &server,
        &cookie,
        "/settings/tokens",
        &[("name", "ci"), ("role", "viewer"), ("days", "3")],
    )
    .await;
    assert_eq!(
        issued.status(),
        StatusCode::OK,
        "the new token is shown on the page, not in a URL"
    );
    let body = issued.text().await.unwrap();
    let token = body
        .split("<code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap()
        .to_owned();
    let api = reqwest::Client::new()
        .get(server.url("/api/v1/images"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        api.status(),
        StatusCode::OK,
        "the issued token works on the API"
    );

    let actions: Vec<String> = store
        .list_audit(100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    for action in [
        "image.requirements",
        "setting.set",
        "site.create",
        "distribution_server.create",
        "user.create",
        "token.create",
    ] {
        assert!(
            actions.iter().any(|seen| seen == action),
            "{action} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn a_rollback_needs_devices_and_the_reload_confirmed_before_a_job_is_recorded() {
    let server = TestServer::start().await;
    let cookie = session(&server, "operator").await;
    let jobs_before = server.engine.store().list_jobs().await.unwrap().len();
    for (form, hint) in [
        (vec![("device", "1")], "tick the confirmation box"),
        (vec![("confirm", "1")], "select at least one device"),
        (vec![("device", "999"), ("confirm", "1")], "999"),
    ] {
        let response = post(&server, &cookie, "/rollback", &form).await;
        assert!(response.status().is_client_error(), "{form:?}");
        let body = response.text().await.unwrap();
        assert!(body.contains(hint), "{form:?}: {body}");
    }
    assert_eq!(
        server.engine.store().list_jobs().await.unwrap().len(),
        jobs_before
    );
}
