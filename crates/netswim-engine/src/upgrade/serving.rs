//! Serving repository images to devices from inside the server: the
//! [`TransferService`] handle `netswim serve` (or a test) gives the engine
//! after starting netswim-transfer's servers on a [`PublishedFiles`]
//! source. A job publishes its image at `/<job-id>/<file name>` (the blob
//! file itself, never a copy), mints a random user/password for its
//! devices, and revokes both at its end. Credentials live in memory only,
//! so a restart revokes every job credential; a resumed job mints new ones.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex as StdMutex;

use netswim_transfer::{CredentialStore, PublishedFiles, TransferTracker};

use super::Protocol;
use crate::{Engine, EngineError};

/// Where devices reach the servers: the address they use (`--transfer-host`)
/// and the port of each protocol that runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferEndpoints {
    /// Host or address devices reach netswim at.
    pub host: String,
    pub tftp: Option<u16>,
    pub ftp: Option<u16>,
    /// SSH server: SCP and SFTP.
    pub ssh: Option<u16>,
    pub http: Option<u16>,
    pub https: Option<u16>,
}

/// A per-job login for FTP/SCP/SFTP.
#[derive(Clone, PartialEq, Eq)]
pub struct JobCredential {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for JobCredential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JobCredential")
            .field("user", &self.user)
            .field("password", &"***")
            .finish()
    }
}

/// The engine's handle on the in-process file servers.
#[derive(Debug)]
pub struct TransferService {
    published: PublishedFiles,
    credentials: CredentialStore,
    endpoints: TransferEndpoints,
    minted: StdMutex<HashMap<i64, JobCredential>>,
    tracker: Option<std::sync::Arc<TransferTracker>>,
}

impl TransferService {
    /// `published` and `credentials` must be the ones the servers were
    /// built with (clones share their maps).
    pub fn new(
        published: PublishedFiles,
        credentials: CredentialStore,
        endpoints: TransferEndpoints,
    ) -> Self {
        TransferService {
            published,
            credentials,
            endpoints,
            minted: StdMutex::new(HashMap::new()),
            tracker: None,
        }
    }

    /// Live byte counts come from the servers' tracker.
    pub fn with_tracker(mut self, tracker: std::sync::Arc<TransferTracker>) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// Bytes sent so far of `path` (as published, without the leading
    /// slash) to a client at `client`, when such a transfer runs now.
    pub fn bytes_sent(&self, client: std::net::IpAddr, path: &str) -> Option<u64> {
        self.tracker
            .as_ref()?
            .running()
            .into_iter()
            .filter(|transfer| {
                transfer.client.ip() == client && transfer.file.trim_start_matches('/') == path
            })
            .map(|transfer| transfer.bytes)
            .max()
    }

    pub fn endpoints(&self) -> &TransferEndpoints {
        &self.endpoints
    }

    /// Serves `file` at `/<job_id>/<file_name>`; returns the served path
    /// (without the leading slash).
    pub fn publish(
        &self,
        job_id: i64,
        file_name: &str,
        file: &Path,
        sha256_hex: &str,
    ) -> Result<String, EngineError> {
        let digest = hex::decode(sha256_hex)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        self.published
            .publish(&format!("{job_id}/{file_name}"), file, digest)
            .map_err(|error| EngineError::Invalid {
                what: "published file",
                reason: error.to_string(),
            })
    }

    /// Serves `file` at `path` (fallback images outside any job).
    pub fn publish_at(
        &self,
        path: &str,
        file: &Path,
        sha256_hex: &str,
    ) -> Result<String, EngineError> {
        let digest = hex::decode(sha256_hex)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
        self.published
            .publish(path, file, digest)
            .map_err(|error| EngineError::Invalid {
                what: "published file",
                reason: error.to_string(),
            })
    }

    /// Stops serving the job's files.
    pub fn unpublish_job(&self, job_id: i64) {
        self.published.unpublish_prefix(&job_id.to_string());
    }

    /// The job's login, minted on first call (random user and password).
    pub fn mint(&self, job_id: i64) -> JobCredential {
        let mut minted = super::context::lock(&self.minted);
        minted
            .entry(job_id)
            .or_insert_with(|| {
                let credential = JobCredential {
                    user: format!("job{job_id}x{}", random_hex(4)),
                    password: random_hex(16),
                };
                self.credentials
                    .insert(credential.user.clone(), credential.password.clone());
                credential
            })
            .clone()
    }

    /// Revokes the job's login (new logins fail; running transfers finish).
    pub fn revoke(&self, job_id: i64) {
        if let Some(credential) = super::context::lock(&self.minted).remove(&job_id) {
            self.credentials.revoke(&credential.user);
        }
    }

    /// Whether a job currently holds a login (tests check revocation).
    pub fn has_credential(&self, job_id: i64) -> bool {
        super::context::lock(&self.minted).contains_key(&job_id)
    }

    /// The protocols served, in no particular order.
    pub fn protocols(&self) -> Vec<Protocol> {
        let endpoints = &self.endpoints;
        let mut protocols = Vec::new();
        if endpoints.ssh.is_some() {
            protocols.extend([Protocol::Scp, Protocol::Sftp]);
        }
        if endpoints.ftp.is_some() {
            protocols.push(Protocol::Ftp);
        }
        if endpoints.tftp.is_some() {
            protocols.push(Protocol::Tftp);
        }
        if endpoints.http.is_some() {
            protocols.push(Protocol::Http);
        }
        if endpoints.https.is_some() {
            protocols.push(Protocol::Https);
        }
        protocols
    }

    /// The URL a device copies `path` from with `protocol`, or `None` when
    /// that protocol is not served.
    pub fn url(
        &self,
        protocol: Protocol,
        path: &str,
        credential: &JobCredential,
    ) -> Option<String> {
        let endpoints = &self.endpoints;
        let port = match protocol {
            Protocol::Scp | Protocol::Sftp => endpoints.ssh,
            Protocol::Ftp => endpoints.ftp,
            Protocol::Tftp => endpoints.tftp,
            Protocol::Http => endpoints.http,
            Protocol::Https => endpoints.https,
        }?;
        Some(device_url(
            protocol,
            &endpoints.host,
            port,
            path,
            Some(credential),
        ))
    }
}

/// `scheme://[user:password@]host[:port]/path`; the port is left out when it
/// is the protocol's standard one (real IOS cannot name a TFTP port).
pub fn device_url(
    protocol: Protocol,
    host: &str,
    port: u16,
    path: &str,
    credential: Option<&JobCredential>,
) -> String {
    let (scheme, standard) = match protocol {
        Protocol::Scp => ("scp", 22),
        Protocol::Sftp => ("sftp", 22),
        Protocol::Ftp => ("ftp", 21),
        Protocol::Tftp => ("tftp", 69),
        Protocol::Http => ("http", 80),
        Protocol::Https => ("https", 443),
    };
    let login = match (protocol, credential) {
        (Protocol::Scp | Protocol::Sftp | Protocol::Ftp, Some(credential)) => {
            format!("{}:{}@", credential.user, credential.password)
        }
        _ => String::new(),
    };
    let port = if port == standard {
        String::new()
    } else {
        format!(":{port}")
    };
    format!(
        "{scheme}://{login}{host}{port}/{}",
        path.trim_start_matches('/')
    )
}

fn random_hex(bytes: usize) -> String {
    let data: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(data)
}

impl Engine {
    /// Gives the engine the in-process file servers (serve, tests).
    pub fn set_transfer_service(&self, service: std::sync::Arc<TransferService>) {
        *super::context::lock(&self.upgrade_state().transfer) = Some(service);
    }

    /// The in-process file servers, when started.
    pub fn transfer_service(&self) -> Option<std::sync::Arc<TransferService>> {
        super::context::lock(&self.upgrade_state().transfer).clone()
    }

    /// Serves the repository file with `sha256_hex` at `fallback/<name>` and
    /// records that in the settings (`tftp_fallback/<name>`), so that
    /// [`Engine::republish_tftp_fallbacks`] serves it again after a restart:
    /// a device's `boot system tftp://…` entry outlives the job and the
    /// process that wrote it. Returns the published path.
    pub(crate) async fn publish_tftp_fallback(
        &self,
        service: &TransferService,
        name: &str,
        sha256_hex: &str,
    ) -> Result<String, EngineError> {
        let blob = self.blobs().path_of(sha256_hex)?;
        let path = service.publish_at(&format!("{FALLBACK_DIR}/{name}"), &blob, sha256_hex)?;
        self.store()
            .set_setting(
                &format!("{FALLBACK_SETTING}{name}"),
                &serde_json::Value::String(sha256_hex.to_owned()),
            )
            .await?;
        Ok(path)
    }

    /// Publishes again every TFTP fallback image an earlier run published
    /// (call after [`Engine::set_transfer_service`]); returns how many. A
    /// fallback whose file left the repository is skipped with a warning.
    pub async fn republish_tftp_fallbacks(&self) -> Result<usize, EngineError> {
        let Some(service) = self.transfer_service() else {
            return Ok(0);
        };
        let mut published = 0;
        for (key, value) in self.store().list_settings().await? {
            let (Some(name), Some(sha256)) = (key.strip_prefix(FALLBACK_SETTING), value.as_str())
            else {
                continue;
            };
            let served = match self.blobs().path_of(sha256) {
                Ok(blob) if blob.exists() => {
                    service.publish_at(&format!("{FALLBACK_DIR}/{name}"), &blob, sha256)
                }
                Ok(_) => Err(EngineError::Invalid {
                    what: "tftp fallback",
                    reason: format!("{name} is no longer in the repository"),
                }),
                Err(error) => Err(error.into()),
            };
            match served {
                Ok(_) => published += 1,
                Err(error) => tracing::warn!(%name, %error, "tftp fallback not served"),
            }
        }
        Ok(published)
    }
}

/// Where fallback images are served (`tftp://host/fallback/<name>`).
const FALLBACK_DIR: &str = "fallback";
/// Settings key prefix recording each published fallback's SHA-256.
const FALLBACK_SETTING: &str = "tftp_fallback/";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_urls_carry_login_and_non_standard_ports_only() {
        let credential = JobCredential {
            user: "job7".into(),
            password: "pw".into(),
        };
        let cases = [
            (
                Protocol::Scp,
                2222,
                Some(&credential),
                "scp://job7:pw@10.0.0.1:2222/7/x.bin",
            ),
            (
                Protocol::Tftp,
                69,
                Some(&credential),
                "tftp://10.0.0.1/7/x.bin",
            ),
            (
                Protocol::Ftp,
                21,
                Some(&credential),
                "ftp://job7:pw@10.0.0.1/7/x.bin",
            ),
            (Protocol::Http, 8080, None, "http://10.0.0.1:8080/7/x.bin"),
        ];
        for (protocol, port, login, expected) in cases {
            assert_eq!(
                device_url(protocol, "10.0.0.1", port, "/7/x.bin", login),
                expected
            );
        }
    }
}

/// Where the in-process file servers listen (`None` = that protocol off).
#[derive(Debug, Clone)]
pub struct TransferListen {
    /// The address devices reach the servers at (may differ from the bind
    /// addresses behind NAT); default the bind address's IP.
    pub transfer_host: Option<String>,
    pub tftp: Option<std::net::SocketAddr>,
    pub ftp: Option<std::net::SocketAddr>,
    /// SSH: SCP and SFTP.
    pub ssh: Option<std::net::SocketAddr>,
    pub http: Option<std::net::SocketAddr>,
    /// HTTPS with this certificate chain and key (devices must trust its
    /// CA: a trustpoint on IOS).
    pub https: Option<(std::net::SocketAddr, netswim_transfer::TlsFiles)>,
    /// SSH host key file (a fresh key per start when `None`).
    pub host_key: Option<std::path::PathBuf>,
    /// Every finished transfer is also sent here.
    pub records: Option<tokio::sync::mpsc::UnboundedSender<netswim_transfer::TransferRecord>>,
}

/// Running in-process file servers; dropping the handle does not stop
/// them, `shutdown` does (draining like `netswim fileserver`).
#[derive(Debug)]
pub struct TransferServers {
    pub service: std::sync::Arc<TransferService>,
    pub addresses: netswim_transfer::BoundAddresses,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl TransferServers {
    /// Binds the servers on a [`PublishedFiles`] source and starts them.
    pub async fn start(listen: TransferListen) -> Result<TransferServers, EngineError> {
        let published = PublishedFiles::new();
        let credentials = CredentialStore::default();
        // `root` is unused with a custom source.
        let mut config = netswim_transfer::FileserverConfig::new(std::env::temp_dir());
        config.tftp = listen.tftp;
        config.ftp = listen.ftp;
        config.sftp = listen.ssh;
        config.http = listen.http;
        config.https = listen.https.clone();
        config.host_key = listen.host_key.clone();
        config.credentials = credentials.clone();
        config.records = listen.records.clone();
        let server = netswim_transfer::Fileserver::with_source(
            config,
            std::sync::Arc::new(published.clone()),
        )
        .await
        .map_err(|error| EngineError::Invalid {
            what: "file server",
            reason: error.to_string(),
        })?;
        let addresses = server.addresses().clone();
        let tracker = server.tracker();
        let host = listen.transfer_host.clone().unwrap_or_else(|| {
            [
                addresses.sftp,
                addresses.tftp,
                addresses.ftp,
                addresses.http,
                addresses.https,
            ]
            .into_iter()
            .flatten()
            .next()
            .map(|address| address.ip().to_string())
            .unwrap_or_else(|| "127.0.0.1".into())
        });
        let endpoints = TransferEndpoints {
            host,
            tftp: addresses.tftp.map(|a| a.port()),
            ftp: addresses.ftp.map(|a| a.port()),
            ssh: addresses.sftp.map(|a| a.port()),
            http: addresses.http.map(|a| a.port()),
            https: addresses.https.map(|a| a.port()),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = server.run(shutdown).await {
                tracing::error!(%error, "in-process file servers stopped");
            }
        });
        Ok(TransferServers {
            service: std::sync::Arc::new(
                TransferService::new(published, credentials, endpoints).with_tracker(tracker),
            ),
            addresses,
            stop: Some(stop),
            task,
        })
    }

    /// Drains and stops the servers.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}
