//! `netswim serve`: opens the data folder (database, blob store, secret key),
//! creates the first admin, recovers from an unclean stop and serves the API.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use netswim_engine::Engine;
use netswim_store::crypto::{SecretKey, generate_token, hash_password};
use netswim_store::{LocalBlobStore, Role, Store};

/// Environment variable holding the first admin's password.
const ADMIN_PASSWORD_ENV: &str = "NETSWIM_ADMIN_PASSWORD";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data folder: `netswim.db`, `blobs/`, `secret.key` (created when missing).
    #[arg(long)]
    data: PathBuf,
    /// Database URL (default: SQLite `DATA/netswim.db`; or postgres://USER@HOST/DB).
    #[arg(long)]
    db: Option<String>,
    /// Address the API listens on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address devices reach netswim's file servers at (images are served
    /// from the repository to upgrade jobs); the servers bind it too
    /// unless given their own address.
    #[arg(long, default_value = "127.0.0.1")]
    transfer_host: String,
    /// TFTP server `ADDR:PORT` (default transfer host, port 6969; real
    /// IOS needs port 69), or `off`. With `--listen` on port 0 every
    /// default file-server port is ephemeral.
    #[arg(long)]
    tftp: Option<String>,
    /// FTP server `ADDR:PORT` (default transfer host, port 2121), or `off`.
    #[arg(long)]
    ftp: Option<String>,
    /// SSH (SCP and SFTP) server `ADDR:PORT` (default transfer host, port 2222), or `off`.
    #[arg(long)]
    sftp: Option<String>,
    /// HTTP server `ADDR:PORT` (default transfer host, port 8069), or `off`.
    #[arg(long)]
    http: Option<String>,
    /// HTTPS server `ADDR:PORT` (off unless given); needs --tls-cert and
    /// --tls-key, from a CA the devices trust (an IOS trustpoint).
    #[arg(long, requires_all = ["tls_cert", "tls_key"])]
    https: Option<SocketAddr>,
    /// Certificate chain (PEM) of the HTTPS server.
    #[arg(long, requires = "https")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of the HTTPS server.
    #[arg(long, requires = "https")]
    tls_key: Option<PathBuf>,
}

/// A file server's address: given, `off`, or the transfer host with a
/// default port.
fn server_address(
    given: Option<&str>,
    host: &str,
    port: u16,
    what: &str,
) -> Result<Option<SocketAddr>> {
    let text = match given {
        Some("off") => return Ok(None),
        Some(text) => text.to_owned(),
        None => format!("{host}:{port}"),
    };
    let address = text.parse().with_context(|| {
        format!("--{what} {text} is not ADDR:PORT (hint: e.g. 10.0.0.5:{port}, or off)")
    })?;
    Ok(Some(address))
}

pub async fn run(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("cannot create the data folder {}", args.data.display()))?;
    let url = args.db.clone().unwrap_or_else(|| {
        format!(
            "sqlite://{}?mode=rwc",
            args.data.join("netswim.db").display()
        )
    });
    let store = Store::open(&url).await?;
    let blobs = LocalBlobStore::open(args.data.join("blobs")).await?;
    let key = SecretKey::from_env_or_file(&args.data.join("secret.key"))?;
    ensure_admin(&store).await?;
    let (engine, recovery) = Engine::start(store, blobs, key).await?;
    if recovery.interrupted_jobs > 0 || !recovery.removed_blobs.is_empty() {
        eprintln!(
            "recovered from an unclean stop: {} job(s) marked interrupted, {} orphan blob(s) removed",
            recovery.interrupted_jobs,
            recovery.removed_blobs.len()
        );
    }
    let host = args.transfer_host.as_str();
    // An ephemeral API port (tests, several servers on one machine) makes
    // the file servers' default ports ephemeral too.
    let port = |fixed: u16| if args.listen.port() == 0 { 0 } else { fixed };
    let servers = netswim_engine::upgrade::serving::TransferServers::start(
        netswim_engine::upgrade::serving::TransferListen {
            transfer_host: Some(host.to_owned()),
            tftp: server_address(args.tftp.as_deref(), host, port(6969), "tftp")?,
            ftp: server_address(args.ftp.as_deref(), host, port(2121), "ftp")?,
            ssh: server_address(args.sftp.as_deref(), host, port(2222), "sftp")?,
            http: server_address(args.http.as_deref(), host, port(8069), "http")?,
            https: match (args.https, args.tls_cert, args.tls_key) {
                (Some(address), Some(cert), Some(key)) => {
                    Some((address, netswim_transfer::TlsFiles { cert, key }))
                }
                _ => None,
            },
            host_key: None,
            records: None,
        },
    )
    .await
    .context("cannot start the file servers (hint: pick free ports with --tftp/--ftp/--sftp/--http/--https or turn one off; --tls-cert/--tls-key must be readable PEM)")?;
    println!("netswim file servers on {host}: {:?}", servers.addresses);
    engine.set_transfer_service(servers.service.clone());
    engine.republish_tftp_fallbacks().await?;
    // Upgrade runs a crash interrupted continue from their last finished
    // operation; the scheduler starts due jobs.
    let resumed = engine.resume_interrupted().await?;
    if !resumed.is_empty() {
        eprintln!("resumed {} interrupted upgrade run(s)", resumed.len());
    }
    let scheduler = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.run_scheduler(std::future::pending()).await })
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (hint: pick a free address with --listen)",
                args.listen
            )
        })?;
    let address = listener.local_addr()?;
    // Tests and scripts wait for this line to know the port.
    println!("netswim API listening on http://{address}");
    let app = netswim_api::router(netswim_api::AppState::new(engine));
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("the API server stopped")?;
    scheduler.abort();
    servers.shutdown().await;
    Ok(())
}

/// First start: an `admin` user with `NETSWIM_ADMIN_PASSWORD`, or a generated
/// password printed once.
async fn ensure_admin(store: &Store) -> Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let (password, generated) = match std::env::var(ADMIN_PASSWORD_ENV) {
        Ok(password) if !password.is_empty() => (password, false),
        _ => (generate_token(), true),
    };
    store
        .insert_user("admin", &hash_password(&password)?, Role::Admin)
        .await?;
    if generated {
        println!(
            "created user admin with password {password} (shown once; set {ADMIN_PASSWORD_ENV} to choose it)"
        );
    } else {
        println!("created user admin with the password from {ADMIN_PASSWORD_ENV}");
    }
    Ok(())
}
