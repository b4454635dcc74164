//! The `netswim fileserver` command: its arguments, logging set-up and the
//! signal handling that turns SIGTERM or Ctrl-C into a graceful drain. The
//! binary only parses these arguments and calls `run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::TransferError;
use crate::fileserver::{FileserverConfig, TlsFiles, run_fileserver};
use crate::metrics::request_drain;

/// Serve files devices pull (TFTP, HTTP, HTTPS, FTP, SFTP, SCP) from one
/// directory.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct FileserverArgs {
    #[command(subcommand)]
    pub command: Option<FileserverCommand>,
    /// The directory served (read-only) by every server.
    #[arg(long, required = true)]
    pub root: Option<PathBuf>,
    /// TFTP listening address, e.g. 0.0.0.0:69.
    #[arg(long)]
    pub tftp: Option<SocketAddr>,
    /// HTTP listening address, e.g. 0.0.0.0:8080.
    #[arg(long)]
    pub http: Option<SocketAddr>,
    /// HTTPS listening address; needs --cert and --key.
    #[arg(long, requires_all = ["cert", "key"])]
    pub https: Option<SocketAddr>,
    /// TLS certificate chain (PEM) for HTTPS.
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// TLS private key (PEM) for HTTPS.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// FTP listening address (passive mode), e.g. 0.0.0.0:21.
    #[arg(long)]
    pub ftp: Option<SocketAddr>,
    /// Control listener: Prometheus metrics at GET /metrics, POST /drain
    /// starts the graceful drain (see `netswim fileserver drain`).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// SSH listening address serving SFTP and legacy SCP, e.g. 0.0.0.0:22.
    #[arg(long)]
    pub sftp: Option<SocketAddr>,
    /// SSH host key (unencrypted OpenSSH private key); generated at start
    /// when not given.
    #[arg(long)]
    pub host_key: Option<PathBuf>,
    /// Standing FTP/SFTP/SCP user name.
    #[arg(long, requires = "password")]
    pub user: Option<String>,
    /// Standing FTP/SFTP/SCP password.
    #[arg(long, requires = "user")]
    pub password: Option<String>,
    /// Directory TFTP, SCP and SFTP uploads (device backups, images pushed
    /// to a relay) go to; SFTP sees it at its path under --root.
    #[arg(long)]
    pub upload: Option<PathBuf>,
    /// Byte quota of the upload directory.
    #[arg(long, default_value_t = 4 * 1024 * 1024 * 1024)]
    pub upload_quota: u64,
    /// Seconds running transfers may take to finish after SIGTERM/Ctrl-C.
    #[arg(long, default_value_t = 30)]
    pub drain_timeout: u64,
    /// Log as JSON lines instead of text.
    #[arg(long)]
    pub log_json: bool,
}

/// Commands addressed to a running file server.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FileserverCommand {
    /// Ask a running file server to drain: refuse new transfers, let the
    /// running ones finish, then exit.
    Drain {
        /// The server's control listener (its --metrics address).
        #[arg(long)]
        control: SocketAddr,
    },
}

impl FileserverArgs {
    pub fn to_config(&self) -> Result<FileserverConfig, TransferError> {
        let Some(root) = &self.root else {
            return Err(TransferError::Config {
                reason: "no directory to serve".to_string(),
                hint: "give --root DIR",
            });
        };
        let mut config = FileserverConfig::new(root);
        config.tftp = self.tftp;
        config.http = self.http;
        config.ftp = self.ftp;
        config.sftp = self.sftp;
        config.control = self.metrics;
        config.host_key = self.host_key.clone();
        config.https = match (self.https, &self.cert, &self.key) {
            (Some(address), Some(cert), Some(key)) => Some((
                address,
                TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                },
            )),
            (Some(_), _, _) => {
                return Err(TransferError::Config {
                    reason: "--https needs a certificate and a key".to_string(),
                    hint: "add --cert FILE.pem --key FILE.pem",
                });
            }
            (None, _, _) => None,
        };
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            config.credentials.insert(user.clone(), password.clone());
        }
        config.upload = self
            .upload
            .as_ref()
            .map(|directory| (directory.clone(), self.upload_quota));
        config.drain_timeout = Duration::from_secs(self.drain_timeout);
        Ok(config)
    }
}

impl FileserverArgs {
    /// The arguments of `netswim relay`: a file server whose upload area
    /// is its root, so an image pushed once over SFTP or SCP (by the
    /// netswim server, per job) is served at once to the devices near it.
    pub fn into_relay(mut self) -> Result<Self, TransferError> {
        if self.command.is_some() {
            return Ok(self);
        }
        let Some(root) = self.root.clone() else {
            return Err(TransferError::Config {
                reason: "no directory to serve".to_string(),
                hint: "give --root DIR",
            });
        };
        if self.sftp.is_none() {
            return Err(TransferError::Config {
                reason: "a relay receives images over SFTP/SCP".to_string(),
                hint: "give --sftp ADDRESS, e.g. 0.0.0.0:2222",
            });
        }
        match &self.upload {
            Some(upload) if upload != &root => Err(TransferError::Config {
                reason: format!(
                    "a relay's upload area is its root, not {}",
                    upload.display()
                ),
                hint: "drop --upload (use `netswim fileserver` for a separate upload area)",
            }),
            _ => {
                self.upload = Some(root);
                Ok(self)
            }
        }
    }
}

/// Logs to standard error: text by default, JSON lines with `json`.
/// `RUST_LOG` overrides the default level (info).
pub fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,libunftp=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests) keeps the first subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Completes on the first SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// Runs `netswim relay`: `netswim fileserver` with uploads into the root.
pub async fn run_relay(args: FileserverArgs) -> Result<(), TransferError> {
    run(args.into_relay()?).await
}

/// Runs `netswim fileserver` until SIGTERM/Ctrl-C and its drain end, then
/// prints the transfers the drain had to cut.
pub async fn run(args: FileserverArgs) -> Result<(), TransferError> {
    if let Some(FileserverCommand::Drain { control }) = args.command {
        let answer = request_drain(control).await?;
        println!("{answer}");
        return Ok(());
    }
    init_logging(args.log_json);
    let config = args.to_config()?;
    let report = run_fileserver(config, shutdown_signal()).await?;
    if report.cut.is_empty() {
        println!("drained: no transfer was cut");
    } else {
        println!("drain timed out; {} transfer(s) cut:", report.cut.len());
        for transfer in &report.cut {
            println!(
                "  {} {} {} ({} bytes sent)",
                transfer.protocol, transfer.client, transfer.file, transfer.bytes
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Command {
        #[command(flatten)]
        args: FileserverArgs,
    }

    fn parse(line: &[&str]) -> Result<FileserverArgs, clap::Error> {
        let mut argv = vec!["fileserver"];
        argv.extend_from_slice(line);
        Command::try_parse_from(argv).map(|command| command.args)
    }

    #[test]
    fn arguments_become_the_server_configuration() {
        let args = parse(&[
            "--root",
            "/srv",
            "--tftp",
            "0.0.0.0:69",
            "--http",
            "127.0.0.1:8080",
            "--https",
            "127.0.0.1:8443",
            "--cert",
            "c.pem",
            "--key",
            "k.pem",
            "--ftp",
            "127.0.0.1:2121",
            "--sftp",
            "127.0.0.1:2222",
            "--host-key",
            "/etc/netswim/host_ed25519",
            "--user",
            "ops",
            "--password",
            "pw",
            "--upload",
            "/up",
            "--upload-quota",
            "1000",
            "--drain-timeout",
            "5",
            "--metrics",
            "127.0.0.1:9469",
        ])
        .unwrap();
        let config = args.to_config().unwrap();
        assert_eq!(config.tftp, Some("0.0.0.0:69".parse().unwrap()));
        assert_eq!(config.http, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(config.https.as_ref().unwrap().1.key, PathBuf::from("k.pem"));
        assert!(config.credentials.accepts("ops", "pw"));
        assert_eq!(config.sftp, Some("127.0.0.1:2222".parse().unwrap()));
        assert_eq!(
            config.host_key,
            Some(PathBuf::from("/etc/netswim/host_ed25519"))
        );
        assert_eq!(config.upload, Some((PathBuf::from("/up"), 1000)));
        assert_eq!(config.drain_timeout, Duration::from_secs(5));
        assert_eq!(config.control, Some("127.0.0.1:9469".parse().unwrap()));
    }

    #[test]
    fn a_relay_uploads_into_its_root_over_ssh() {
        let relay = parse(&["--root", "/srv", "--sftp", "127.0.0.1:2222"])
            .unwrap()
            .into_relay()
            .unwrap();
        let config = relay.to_config().unwrap();
        assert_eq!(
            config.upload,
            Some((PathBuf::from("/srv"), 4 * 1024 * 1024 * 1024))
        );
        let same = parse(&[
            "--root",
            "/srv",
            "--sftp",
            "127.0.0.1:1",
            "--upload",
            "/srv",
        ]);
        assert!(same.unwrap().into_relay().is_ok());
        for line in [
            &["--root", "/srv", "--http", "127.0.0.1:80"][..],
            &["--root", "/srv", "--sftp", "127.0.0.1:1", "--upload", "/up"][..],
        ] {
            let refused = parse(line).unwrap().into_relay();
            assert!(
                matches!(refused, Err(TransferError::Config { .. })),
                "{line:?}"
            );
        }
    }

    #[test]
    fn drain_subcommand_needs_only_the_control_address() {
        let args = parse(&["drain", "--control", "127.0.0.1:9469"]).unwrap();
        assert!(matches!(
            args.command,
            Some(FileserverCommand::Drain { control }) if control.port() == 9469
        ));
        assert!(parse(&["drain"]).is_err());
        assert!(parse(&["--root", "/srv", "drain", "--control", "127.0.0.1:1"]).is_err());
    }

    #[test]
    fn incomplete_argument_sets_are_refused() {
        for line in [
            &["--root", "/srv", "--https", "127.0.0.1:8443"][..],
            &[
                "--root",
                "/srv",
                "--https",
                "127.0.0.1:8443",
                "--cert",
                "c.pem",
            ][..],
            &["--root", "/srv", "--ftp", "127.0.0.1:21", "--user", "ops"][..],
            &["--http", "127.0.0.1:80"][..],
        ] {
            assert!(parse(line).is_err(), "{line:?} must be refused");
        }
    }
}
