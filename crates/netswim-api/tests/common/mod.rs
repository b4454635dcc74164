//! Shared helpers for the API tests: a server on loopback with users of each
//! role, lab-made images, and job polling.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netswim_engine::Engine;
use netswim_lab::image::{ImageFormat, ImageSpec, image_file_name, make_tar};
use netswim_store::crypto::{SecretKey, hash_password, hash_token};
use netswim_store::{LocalBlobStore, NewApiToken, Role, Store};
use serde_json::Value;

pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestServer {
    pub base: String,
    pub engine: Engine,
    pub data: tempfile::TempDir,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let data = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            data.path().join("netswim.db").display()
        );
        let store = Store::open(&url).await.unwrap();
        let blobs = LocalBlobStore::open(data.path().join("blobs"))
            .await
            .unwrap();
        for (name, role) in [
            ("admin", Role::Admin),
            ("operator", Role::Operator),
            ("viewer", Role::Viewer),
        ] {
            let user = store
                .insert_user(name, &hash_password(ADMIN_PASSWORD).unwrap(), role)
                .await
                .unwrap();
            store
                .insert_api_token(&NewApiToken {
                    user_id: Some(user.id),
                    name: format!("{name} test token"),
                    token_hash: hash_token(&token_of(name)),
                    role,
                    expires_at: None,
                })
                .await
                .unwrap();
        }
        let (engine, _) = Engine::start(store, blobs, SecretKey::generate())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address: SocketAddr = listener.local_addr().unwrap();
        let app = netswim_api::router(netswim_api::AppState::new(engine.clone()));
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            base: format!("http://{address}"),
            engine,
            data,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, method: &str, path: &str, role: Option<&str>) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
        let builder = self.http.request(method, self.url(path));
        match role {
            Some(role) => builder.bearer_auth(token_of(role)),
            None => builder,
        }
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .request("get", path, Some("admin"))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Polls until no job is running or waiting to start (generous deadline).
    pub async fn wait_jobs_ended(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let jobs = self.get_json("/api/v1/jobs").await;
            let busy: Vec<&Value> = jobs
                .as_array()
                .into_iter()
                .flatten()
                .filter(|job| matches!(job["status"].as_str(), Some("running" | "not_started")))
                .collect();
            if busy.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "jobs still running: {busy:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls a job until it is no longer running (generous deadline).
    pub async fn wait_job(&self, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let job = self.get_json(&format!("/api/v1/jobs/{id}")).await;
            if job["status"] != "running" {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} still running: {job}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The fixed token text each test user holds.
pub fn token_of(role: &str) -> String {
    format!("test-token-for-{role}-0123456789abcdef")
}

/// A lab-made IOS `.tar` (C3750-X family `c3750e`, 15.2(2)E7, 256 MiB DRAM).
pub fn lab_tar(size: u64, min_dram_mb: u32) -> (String, Vec<u8>) {
    let spec = ImageSpec {
        model: "WS-C3750X-24P".into(),
        version: "15.2(2)E7".into(),
        feature: "ipbasek9".into(),
        min_dram_mb,
        size,
    };
    (
        image_file_name(&spec, ImageFormat::Tar).unwrap(),
        make_tar(&spec).unwrap(),
    )
}

pub fn write_file(directory: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(bytes))
}

/// The message of the job's (single) task.
pub fn task_message(job: &Value) -> String {
    job["runs"][0]["tasks"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
