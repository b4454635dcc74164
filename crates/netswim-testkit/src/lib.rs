//! The upgrade test rig, test-only: a netswim-lab fleet over real SSH, an
//! engine on SQLite in a temporary folder with a local blob store, the
//! lab's inventory imported, and optionally the engine's in-process file
//! servers (TFTP, FTP, SCP/SFTP, HTTP) that jobs publish images on.
//!
//! One [`Rig::start`] replaces the set-up the upgrade tests and the upgrade
//! benchmark used to write out each; what only one test needs (a relay, an
//! API server, a CLI) stays in that test, built on the rig. The rig panics
//! with a message when set-up fails: it exists for tests.
//!
//! ```no_run
//! # async fn example() {
//! use netswim_testkit::{Rig, RigOptions, ios_image};
//! let mut options = RigOptions::new(2, "ios:2", "127.99.10.1".parse().unwrap());
//! options.file_servers = Some("127.99.0.1:0".parse().unwrap());
//! let rig = Rig::start(&options).await;
//! let (name, bytes) = ios_image("WS-C2960X-48FPD-L", "15.2(7)E8", 64 * 1024);
//! let image_id = rig.import_file(&name, &bytes).await;
//! # let _ = image_id;
//! # }
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use netswim_engine::inventory::import_csv;
use netswim_engine::upgrade::UpgradeTimeouts;
use netswim_engine::upgrade::serving::{TransferListen, TransferServers};
use netswim_engine::{Engine, ImportSource, ImportSpec};
use netswim_lab::image::{ImageFormat, ImageSpec, image_file_name, make_bin};
use netswim_lab::lab::{Lab, LabOptions, parse_mix};
use netswim_lab::platform::{PlatformImageSpec, make_platform_image, platform_image_file_name};
use netswim_store::crypto::SecretKey;
use netswim_store::{Image, Job, LocalBlobStore, Status, Store};
use netswim_transfer::TlsFiles;

/// The login every lab device accepts.
pub const LAB_USERNAME: &str = "admin";
/// The password of [`LAB_USERNAME`].
pub const LAB_PASSWORD: &str = "lab-password";
/// The enable secret of every lab device.
pub const LAB_ENABLE_SECRET: &str = "lab-enable";
/// Who the rig's helpers record as the actor of the jobs they submit.
pub const ACTOR: &str = "test";

/// A self-signed certificate for `host` and its key, written as
/// `cert.pem` and `key.pem` into `folder`.
pub fn self_signed_tls(folder: &Path, host: &str) -> TlsFiles {
    let certified = rcgen::generate_simple_self_signed(vec![host.to_owned()]).expect("certificate");
    let tls = TlsFiles {
        cert: folder.join("cert.pem"),
        key: folder.join("key.pem"),
    };
    std::fs::write(&tls.cert, certified.cert.pem()).expect("write certificate");
    std::fs::write(&tls.key, certified.signing_key.serialize_pem()).expect("write key");
    tls
}

/// What [`Rig::start`] builds. [`RigOptions::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct RigOptions {
    /// Number of lab devices.
    pub devices: usize,
    /// The lab's `--mix`, e.g. `ios-stack:4,ios:12,iosxe:4,iosxr:4`.
    pub mix: String,
    /// The first device's loopback address; the others follow it.
    pub address_base: Ipv4Addr,
    /// Where the engine's file servers (TFTP, FTP, SCP/SFTP, HTTP, HTTPS) listen,
    /// all on this address with ephemeral ports when the port is 0; `None`
    /// (the default) starts none and sets no transfer service.
    pub file_servers: Option<SocketAddr>,
    /// How long a lab device stays down on reload (default 1 s).
    pub reload_delay: Duration,
    /// The image every lab IOS device runs at start (default `15.2(2)E7`).
    pub image_version: String,
    /// Size of that image in bytes (default 64 KiB).
    pub image_size: u64,
    /// The lab's seed: models, sites, serials (default 11).
    pub seed: u64,
    /// The engine's upgrade timeouts; `None` (the default) keeps the
    /// engine's own.
    pub timeouts: Option<UpgradeTimeouts>,
    /// How long [`Rig::wait_job`] waits before it fails with the job's log;
    /// `None` (the default) waits as long as the job runs.
    pub job_timeout: Option<Duration>,
}

impl RigOptions {
    /// Options for `devices` lab devices of `mix` from `address_base` on,
    /// everything else at its default.
    pub fn new(devices: usize, mix: &str, address_base: Ipv4Addr) -> RigOptions {
        RigOptions {
            devices,
            mix: mix.to_owned(),
            address_base,
            file_servers: None,
            reload_delay: Duration::from_secs(1),
            image_version: "15.2(2)E7".into(),
            image_size: 64 * 1024,
            seed: 11,
            timeouts: None,
            job_timeout: None,
        }
    }
}

/// A running lab and an engine over its inventory; dropping it stops the
/// lab's devices and removes the folder.
#[derive(Debug)]
pub struct Rig {
    /// The device lab; its status API is the tests' ground truth.
    pub lab: Arc<Lab>,
    /// The engine on the folder's SQLite store and blob store.
    pub engine: Engine,
    /// The engine's file servers, when [`RigOptions::file_servers`] asked.
    pub servers: Option<TransferServers>,
    /// Holds `netswim.db`, `blobs/` and the files the helpers write.
    pub folder: tempfile::TempDir,
    job_timeout: Option<Duration>,
}

impl Rig {
    /// Starts the lab, opens the store and blob store in a new temporary
    /// folder, imports the lab's inventory CSV (every row must import),
    /// starts the engine, sets the timeouts and starts the file servers.
    ///
    /// # Panics
    /// When any of these fails, naming the step.
    pub async fn start(options: &RigOptions) -> Rig {
        let lab = Arc::new(
            Lab::start(&LabOptions {
                devices: options.devices,
                mix: parse_mix(&options.mix).expect("lab mix"),
                address_base: options.address_base,
                ssh_port: 0,
                username: LAB_USERNAME.into(),
                password: LAB_PASSWORD.into(),
                enable_secret: LAB_ENABLE_SECRET.into(),
                reload_delay: options.reload_delay,
                seed: options.seed,
                image_version: options.image_version.clone(),
                image_size: options.image_size,
                flash_size: None,
            })
            .await
            .expect("lab starts"),
        );
        let folder = tempfile::tempdir().expect("tempdir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("netswim.db").display()
        );
        let store = Store::open(&url).await.expect("store");
        let blobs = LocalBlobStore::open(folder.path().join("blobs"))
            .await
            .expect("blobs");
        let key = SecretKey::generate();
        let report = import_csv(&store, &key, &lab.inventory_csv())
            .await
            .expect("inventory");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        let (engine, _) = Engine::start(store, blobs, key).await.expect("engine");
        if let Some(timeouts) = &options.timeouts {
            engine.set_upgrade_timeouts(*timeouts);
        }
        let servers = match options.file_servers {
            Some(address) => {
                // HTTPS with a self-signed certificate: lab devices, like
                // a switch without a trustpoint check, accept it.
                let tls = self_signed_tls(folder.path(), &address.ip().to_string());
                let servers = TransferServers::start(TransferListen {
                    transfer_host: None,
                    tftp: Some(address),
                    ftp: Some(address),
                    ssh: Some(address),
                    http: Some(address),
                    https: Some((address, tls)),
                    host_key: None,
                    records: None,
                })
                .await
                .expect("transfer servers");
                engine.set_transfer_service(servers.service.clone());
                Some(servers)
            }
            None => None,
        };
        Rig {
            lab,
            engine,
            servers,
            folder,
            job_timeout: options.job_timeout,
        }
    }

    /// The folder the rig's store, blobs and written files live in.
    pub fn folder(&self) -> &Path {
        self.folder.path()
    }

    /// The engine's file servers.
    ///
    /// # Panics
    /// When the rig was started without [`RigOptions::file_servers`].
    pub fn servers(&self) -> &TransferServers {
        self.servers
            .as_ref()
            .expect("the rig started file servers (RigOptions::file_servers)")
    }

    /// Writes `bytes` as `name` into the folder and imports that file into
    /// the repository as an import job; returns the image id.
    ///
    /// # Panics
    /// When the import job does not succeed.
    pub async fn import_file(&self, name: &str, bytes: &[u8]) -> i64 {
        let path = self.folder().join(name);
        std::fs::write(&path, bytes).expect("image written");
        let job = self
            .engine
            .submit_import(
                ImportSpec {
                    source: Some(ImportSource::File { path }),
                    ..Default::default()
                },
                ACTOR,
            )
            .await
            .expect("import submitted");
        let job = self.wait_job(job.id).await;
        assert_eq!(job.status, Status::Success, "import of {name}");
        self.image_named(name).await.expect("imported").id
    }

    /// The repository's image with file name `name`, if any.
    pub async fn image_named(&self, name: &str) -> Option<Image> {
        self.engine
            .store()
            .list_images()
            .await
            .expect("images")
            .into_iter()
            .find(|image| image.file_name == name)
    }

    /// Imports `bytes` named `name` through the streamed-upload import;
    /// returns the stored image.
    ///
    /// # Panics
    /// When the import fails.
    pub async fn import_upload(&self, name: &str, bytes: &[u8]) -> Image {
        let reader: Box<dyn tokio::io::AsyncRead + Send + Unpin> =
            Box::new(std::io::Cursor::new(bytes.to_vec()));
        let (_, outcome) = self
            .engine
            .import_upload(ImportSpec::default(), name, reader, None, ACTOR)
            .await
            .expect("upload imported");
        outcome.image
    }

    /// Waits for job `job_id` to finish, woken by the engine's events and
    /// polling the store every 0.5 s as a safety net (a scheduled job has
    /// no run yet; a slow subscriber misses events).
    ///
    /// # Panics
    /// When [`RigOptions::job_timeout`] passes first, with the job's log.
    pub async fn wait_job(&self, job_id: i64) -> Job {
        let deadline = self
            .job_timeout
            .map(|timeout| tokio::time::Instant::now() + timeout);
        let mut events = self.engine.subscribe();
        loop {
            let job = self.engine.store().get_job(job_id).await.expect("job");
            if job.status.is_finished() {
                return job;
            }
            let mut wait = Duration::from_millis(500);
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                assert!(
                    !left.is_zero(),
                    "job {job_id} did not finish: {}",
                    self.engine.job_log(job_id).await.unwrap_or_default()
                );
                wait = wait.min(left);
            }
            let _ = tokio::time::timeout(wait, events.recv()).await;
        }
    }
}

/// A lab IOS `.bin` image for `model` at `version`, `size` bytes
/// (feature set `universalk9`, 256 MB DRAM): its file name and bytes.
///
/// # Panics
/// When the lab cannot build it (unknown model, unreadable version, too
/// small).
pub fn ios_image(model: &str, version: &str, size: u64) -> (String, Vec<u8>) {
    let spec = ImageSpec {
        model: model.into(),
        version: version.into(),
        feature: "universalk9".into(),
        min_dram_mb: 256,
        size,
    };
    (
        image_file_name(&spec, ImageFormat::Bin).expect("image name"),
        make_bin(&spec).expect("image"),
    )
}

/// A lab IOS-XE bundle (`cat9k_iosxe.V.SPA.bin`) or IOS-XR image
/// (`asr9k-mini-x64-V.iso`) for `model` at `version`, `size` bytes: its
/// file name and bytes.
///
/// # Panics
/// When the lab cannot build it.
pub fn platform_image(model: &str, version: &str, size: u64) -> (String, Vec<u8>) {
    let spec = PlatformImageSpec {
        model: model.into(),
        version: version.into(),
        size,
    };
    (
        platform_image_file_name(&spec).expect("image name"),
        make_platform_image(&spec).expect("image"),
    )
}

/// The lab image for a device of `platform` (the lab's `ios`, `iosxe` or
/// `iosxr`) and `model`: [`ios_image`] for IOS, [`platform_image`] else.
pub fn lab_image(platform: &str, model: &str, version: &str, size: u64) -> (String, Vec<u8>) {
    if platform == "ios" {
        ios_image(model, version, size)
    } else {
        platform_image(model, version, size)
    }
}
