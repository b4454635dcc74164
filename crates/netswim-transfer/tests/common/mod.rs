//! Shared fixtures of the interop tests: a served tree with an image file,
//! a secret outside the root and a symlink escape; a self-signed
//! certificate; running the real client programs, failing with an install
//! hint when one is missing (a missing peer is a failure, never a skip).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use netswim_transfer::{
    BoundAddresses, CredentialStore, FileSource, Fileserver, FileserverConfig, FileserverReport,
    LocalDirectory, TlsFiles, TransferRecord,
};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

pub const IMAGE: &str = "c2960-lanbasek9-mz.150-2.SE11.bin";
pub const IMAGE_SIZE: usize = 3 * 1024 * 1024 + 12345;
pub const USER: &str = "netswim";
pub const PASSWORD: &str = "standing-pw";

pub fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "the interop peer `{program}` is missing (hint: apt-get update; \
         DEBIAN_FRONTEND=noninteractive apt-get install -y {package}; scripts/test-all.sh does this)"
    );
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic, non-repeating content so an offset error shows.
pub fn image_bytes() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..IMAGE_SIZE)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub root: PathBuf,
    pub image: Vec<u8>,
    pub tls: TlsFiles,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("images")).unwrap();
        let image = image_bytes();
        std::fs::write(root.join(IMAGE), &image).unwrap();
        std::fs::write(root.join("images/small.txt"), b"hello device\n").unwrap();
        std::fs::write(dir.path().join("secret"), b"do not serve\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("escape")).unwrap();
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        Fixture {
            dir,
            root,
            image,
            tls: TlsFiles { cert, key },
        }
    }

    pub fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> FileserverConfig {
        let any: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut config = FileserverConfig::new(&self.root);
        config.tftp = Some(any);
        config.http = Some(any);
        config.https = Some((any, self.tls.clone()));
        config.ftp = Some(any);
        config.sftp = Some(any);
        config.credentials.insert(USER, PASSWORD);
        config
    }
}

/// A file server running in the test's runtime until `stop`.
pub struct Running {
    pub addresses: BoundAddresses,
    pub credentials: CredentialStore,
    pub records: mpsc::UnboundedReceiver<TransferRecord>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<FileserverReport>,
}

impl Running {
    pub async fn start(config: FileserverConfig) -> Self {
        let source = std::sync::Arc::new(LocalDirectory::new(&config.root).unwrap());
        Self::start_with_source(config, source).await
    }

    pub async fn start_with_source<S: FileSource + std::fmt::Debug>(
        mut config: FileserverConfig,
        source: std::sync::Arc<S>,
    ) -> Self {
        let (sender, records) = mpsc::unbounded_channel();
        config.records = Some(sender);
        let credentials = config.credentials.clone();
        let server = Fileserver::with_source(config, source).await.unwrap();
        let addresses = server.addresses().clone();
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            server
                .run(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap()
        });
        Running {
            addresses,
            credentials,
            records,
            stop: Some(stop),
            task,
        }
    }

    pub fn http(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addresses.http.unwrap())
    }

    pub fn https(&self, path: &str) -> String {
        format!("https://{}/{path}", self.addresses.https.unwrap())
    }

    pub fn ftp(&self, path: &str) -> String {
        format!("ftp://{}/{path}", self.addresses.ftp.unwrap())
    }

    /// The SSH (SFTP/SCP) server's port.
    pub fn ssh_port(&self) -> String {
        self.addresses.sftp.unwrap().port().to_string()
    }

    pub fn tftp(&self, path: &str) -> String {
        format!("tftp://{}/{path}", self.addresses.tftp.unwrap())
    }

    /// Starts the drain; `finish` waits for its report.
    pub fn begin_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits for a drain started some other way (`POST /drain`).
    pub async fn ended_by_itself(self) -> FileserverReport {
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the drain must end")
            .unwrap()
    }

    pub async fn finish(mut self) -> FileserverReport {
        self.begin_stop();
        tokio::time::timeout(Duration::from_secs(60), self.task)
            .await
            .expect("the drain must end")
            .unwrap()
    }
}

/// Runs a client program off the runtime threads.
pub async fn run(program: &str, args: &[&str]) -> Output {
    let program = program.to_string();
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(&program)
            .args(&args)
            .output()
            .unwrap_or_else(|error| panic!("cannot run {program}: {error}"))
    })
    .await
    .unwrap()
}

/// `curl -sS` with `args`; returns the output (status code printed by
/// `-w` when asked).
pub async fn curl(args: &[&str]) -> Output {
    let mut all = vec!["-sS", "--max-time", "60"];
    all.extend_from_slice(args);
    run("curl", &all).await
}

pub async fn http_status(args: &[&str]) -> String {
    let mut all = vec!["-o", "/dev/null", "-w", "%{http_code}"];
    all.extend_from_slice(args);
    let output = curl(&all).await;
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}
