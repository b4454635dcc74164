//! `netswim demo`: one process with the server (API + web UI, SQLite in the
//! data folder), a lab of virtual devices over three sites (a few with
//! faults), lab-made images (current and target release per family) in the
//! repository, and the lab inventory imported and synced. A second run
//! reuses the data: same images (deduplicated by SHA-256), devices updated
//! by name.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use netswim_engine::{Engine, ImportSpec, SyncSpec};
use netswim_lab::device::Faults;
use netswim_lab::image::{ImageFormat, ImageSpec, image_file_name, make_image, parse_size};
use netswim_lab::lab::{Lab, LabOptions, parse_mix};
use netswim_lab::platform::{PlatformImageSpec, make_platform_image, platform_image_file_name};
use netswim_store::crypto::{SecretKey, generate_token, hash_password};
use netswim_store::{LocalBlobStore, Role, Store};

/// The file in the data folder holding the demo admin's password.
const PASSWORD_FILE: &str = "admin-password";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Data folder (database, blobs, secret key, admin password).
    #[arg(long, default_value = "netswim-demo")]
    data: PathBuf,
    /// Address of the web UI and API (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// First lab device address; the others count up from it (loopback).
    #[arg(long, default_value = "127.64.1.1")]
    lab_base: Ipv4Addr,
    /// How many lab devices.
    #[arg(long, default_value_t = 60)]
    devices: usize,
    /// Seconds a reloading lab device stays unreachable.
    #[arg(long, default_value_t = 5)]
    reload_secs: u64,
}

/// The device kinds of the demo fleet, cycled up to `--devices`.
const MIX: &str = "ios:20,ios-stack:12,iosxe:16,iosxr:12";

/// Site names, each holding a third of the fleet.
const SITES: [&str; 3] = ["zurich", "geneva", "basel"];

/// Lab images: (platform, model, version). The first of each family is
/// what the lab devices run at start, the second the upgrade target.
const IMAGES: &[(&str, &str, &str)] = &[
    ("ios", "WS-C2960X-48FPD-L", "15.2(2)E7"),
    ("ios", "WS-C2960X-48FPD-L", "15.2(7)E9"),
    ("ios", "WS-C3750X-24P", "15.2(2)E7"),
    ("ios", "WS-C3750X-24P", "15.2(4)E10"),
    ("iosxe", "C9300-48P", netswim_lab::lab::XE_START_VERSION),
    ("iosxe", "C9300-48P", "17.12.04"),
    ("iosxr", "ASR-9006", netswim_lab::lab::XR_START_VERSION),
    ("iosxr", "ASR-9006", "7.5.2"),
];

/// Size of every lab image (the lab's default running image size).
const IMAGE_SIZE: &str = "8MiB";

pub async fn run(args: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create the data folder {}", args.data.display()))?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        args.data.join("netswim.db").display()
    );
    let store = Store::open(&url).await?;
    let blobs = LocalBlobStore::open(args.data.join("blobs")).await?;
    let key = SecretKey::from_env_or_file(&args.data.join("secret.key"))?;
    let password = demo_password(&args.data)?;
    ensure_admin(&store, &password).await?;
    let (engine, _recovery) = Engine::start(store, blobs, key).await?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (hint: another demo runs? pick a free address with --listen)",
                args.listen
            )
        })?;
    let address = listener.local_addr()?;
    let app = netswim_api::router(netswim_api::AppState::new(engine.clone()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });

    let files = start_transfer_servers(&engine, address.ip()).await?;
    // Upgrade runs an earlier stop interrupted go on; the scheduler starts
    // scheduled jobs when they are due.
    let resumed = engine.resume_interrupted().await?;
    if !resumed.is_empty() {
        println!("resumed {} interrupted upgrade run(s)", resumed.len());
    }
    let scheduler = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_scheduler(std::future::pending::<()>()).await }
    });
    let mut lab = start_lab(&args).await?;
    import_images(&engine).await?;
    let report =
        netswim_engine::inventory::import_csv(engine.store(), engine.key(), &lab.inventory_csv())
            .await?;
    forget_lab_host_keys(&engine, &lab).await?;
    println!(
        "lab: {} devices on {}.. over sites {}; inventory: {} created, {} updated",
        lab.devices.len(),
        args.lab_base,
        SITES.join(", "),
        report.created.len(),
        report.updated.len()
    );
    // Scripts and the browser tests wait for this line.
    println!("netswim demo: open http://{address}/ and log in as admin with password {password}");
    println!(
        "first: Devices shows the synced fleet; Analysis → pick an image; then Distribute. Ctrl-C stops."
    );
    let sync = engine
        .submit_sync(SyncSpec::default(), "demo")
        .await
        .context("cannot start the inventory sync")?;
    let engine_for_sync = engine.clone();
    let sync_watch = tokio::spawn(async move {
        match wait_for_job(&engine_for_sync, sync.id).await {
            Ok(status) => println!("inventory sync (job {}) ended: {status}", sync.id),
            Err(error) => eprintln!("inventory sync (job {}): {error:#}", sync.id),
        }
    });

    let _ = tokio::signal::ctrl_c().await;
    println!("stopping…");
    sync_watch.abort();
    let _ = stop_tx.send(true);
    scheduler.abort();
    // Open event streams (job pages) would hold a graceful stop forever.
    match tokio::time::timeout(Duration::from_secs(3), server).await {
        Ok(Ok(Ok(()))) | Err(_) => {}
        Ok(Ok(Err(error))) => eprintln!("the web server stopped with an error: {error}"),
        Ok(Err(error)) => eprintln!("the web server task failed: {error}"),
    }
    // Drained with a bound: a device stuck mid-transfer must not hold Ctrl-C.
    let _ = tokio::time::timeout(Duration::from_secs(10), files.shutdown()).await;
    lab.shutdown();
    Ok(())
}

/// Starts the TFTP, HTTP, FTP and SFTP/SCP servers devices pull images
/// from (ephemeral ports on the web UI's address), serving what jobs
/// publish from the blob store, and hands them to the engine.
async fn start_transfer_servers(
    engine: &Engine,
    ip: std::net::IpAddr,
) -> Result<netswim_engine::upgrade::serving::TransferServers> {
    use netswim_engine::upgrade::serving::{TransferListen, TransferServers};
    let ip = if ip.is_unspecified() {
        std::net::IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        ip
    };
    let any_port = Some(SocketAddr::new(ip, 0));
    let servers = TransferServers::start(TransferListen {
        transfer_host: Some(ip.to_string()),
        tftp: any_port,
        ftp: any_port,
        ssh: any_port,
        http: any_port,
        https: None,
        host_key: None,
        records: None,
    })
    .await
    .context("cannot start the image file servers")?;
    engine.set_transfer_service(servers.service.clone());
    engine.republish_tftp_fallbacks().await?;
    Ok(servers)
}

/// The admin password: generated on first run, kept (mode 0600) in the data folder.
fn demo_password(data: &Path) -> Result<String> {
    let path = data.join(PASSWORD_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", path.display()));
        }
    }
    let password = generate_token();
    write_private(&path, &password)?;
    Ok(password)
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// The `admin` user with the demo password (created, or its password reset
/// to the stored one so the printed login always works).
async fn ensure_admin(store: &Store, password: &str) -> Result<()> {
    let hash = hash_password(password)?;
    match store.find_user_by_name("admin").await? {
        Some(user) => store.set_user_password_hash(user.id, &hash).await?,
        None => {
            store.insert_user("admin", &hash, Role::Admin).await?;
        }
    }
    Ok(())
}

async fn start_lab(args: &DemoArgs) -> Result<Lab> {
    let options = LabOptions {
        devices: args.devices,
        mix: parse_mix(MIX)?,
        address_base: args.lab_base,
        ssh_port: 0,
        username: "admin".into(),
        password: "demo-lab".into(),
        enable_secret: "cisco".into(),
        reload_delay: Duration::from_secs(args.reload_secs),
        seed: 7,
        image_version: "15.2(2)E7".into(),
        image_size: parse_size(IMAGE_SIZE)?,
        flash_size: None,
    };
    let mut lab = Lab::start(&options).await.with_context(|| {
        format!(
            "cannot start the lab on {} (hint: pick another --lab-base in 127.0.0.0/8)",
            args.lab_base
        )
    })?;
    let count = lab.devices.len();
    for (index, device) in lab.devices.iter_mut().enumerate() {
        device.site = SITES[index * SITES.len() / count.max(1)].to_owned();
    }
    // A few faulty devices, always the same ones, at the end of the last
    // site: one refuses logins, one has a full flash, one fails to boot.
    let faults = [
        Faults {
            auth_failure: true,
            ..Faults::default()
        },
        Faults {
            full_flash: true,
            ..Faults::default()
        },
        Faults {
            boot_failure: true,
            ..Faults::default()
        },
    ];
    let faulty = lab
        .devices
        .iter()
        .filter(|device| device.name.starts_with("lab-sw-"))
        .rev()
        .take(faults.len());
    for (device, fault) in faulty.zip(faults) {
        device.handle.set_faults(fault);
    }
    Ok(lab)
}

/// Imports every demo image the repository does not hold yet (the images
/// are deterministic: a second run finds them by name and records no job).
async fn import_images(engine: &Engine) -> Result<()> {
    let size = parse_size(IMAGE_SIZE)?;
    let held: std::collections::HashSet<String> = engine
        .store()
        .list_images()
        .await?
        .into_iter()
        .map(|image| image.file_name)
        .collect();
    for (platform, model, version) in IMAGES {
        let (name, bytes) = if *platform == "ios" {
            let spec = ImageSpec {
                model: (*model).into(),
                version: (*version).into(),
                feature: "universalk9".into(),
                min_dram_mb: 256,
                size,
            };
            (
                image_file_name(&spec, ImageFormat::Bin)?,
                make_image(&spec, ImageFormat::Bin)?,
            )
        } else {
            let spec = PlatformImageSpec {
                model: (*model).into(),
                version: (*version).into(),
                size,
            };
            (
                platform_image_file_name(&spec)?,
                make_platform_image(&spec)?,
            )
        };
        if held.contains(&name) {
            continue;
        }
        engine
            .import_upload(
                ImportSpec::default(),
                &name,
                Box::new(std::io::Cursor::new(bytes)),
                None,
                "demo",
            )
            .await
            .with_context(|| format!("cannot import the demo image {name}"))?;
    }
    Ok(())
}

/// The lab makes new SSH host keys at every start; the demo forgets the
/// keys it pinned for its own lab devices (by their lab names) so the sync
/// pins the new ones. Devices outside the lab keep theirs.
async fn forget_lab_host_keys(engine: &Engine, lab: &Lab) -> Result<()> {
    let store = engine.store();
    for device in &lab.devices {
        if let Some(found) = store.find_device_by_name(&device.name).await?
            && found.ssh_host_key.is_some()
        {
            store.set_device_host_key(found.id, None).await?;
        }
    }
    Ok(())
}

/// Waits until the job's status is finished, woken by the job's events.
async fn wait_for_job(engine: &Engine, job_id: i64) -> Result<String> {
    let mut events = engine.subscribe();
    loop {
        let job = engine.store().get_job(job_id).await?;
        if job.status.is_finished() {
            return Ok(job.status.as_str().to_owned());
        }
        // A lagging receiver or a quiet minute: look at the job again.
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match events.recv().await {
                    Ok(event) if event.job_id == Some(job_id) => break,
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        return Err(anyhow::anyhow!("the engine stopped"));
                    }
                }
            }
            Ok(())
        })
        .await
        .unwrap_or(Ok(()))?;
    }
}
