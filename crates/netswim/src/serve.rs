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
    // Upgrade runs a stop interrupted go on from their last finished step;
    // the scheduler starts due jobs (also ones another process inserted).
    let resumed = engine.resume_interrupted().await?;
    if !resumed.is_empty() {
        eprintln!("resumed {} interrupted upgrade run(s)", resumed.len());
    }
    tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_scheduler(std::future::pending::<()>()).await }
    });
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
