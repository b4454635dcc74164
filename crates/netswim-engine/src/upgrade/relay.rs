//! Distribution servers (relays): `netswim fileserver --root DIR --upload
//! DIR` instances (or any SSH server with SCP) near a site's devices. A
//! job pushes its image to each relay its devices use, once, then those
//! devices pull from the relay.
//!
//! URL form of a registered relay (its standing login and the ports of the
//! protocols devices pull with):
//! `scp://user:password@host:port/?ftp=2121&tftp=6969&http=8080&https=8443`.
//! The image is pushed with SCP (`scp -t`) into the relay's upload area at
//! `<file name>`; with `--upload` equal to `--root` it is served at once.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::ChannelMsg;
use tokio::io::AsyncReadExt;

use super::Protocol;
use super::serving::{JobCredential, device_url};
use crate::EngineError;

/// A relay as parsed from its registered URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Relay {
    pub id: i64,
    pub name: String,
    pub host: String,
    pub ssh_port: u16,
    pub user: String,
    pub password: String,
    pub ftp: Option<u16>,
    pub tftp: Option<u16>,
    pub http: Option<u16>,
    pub https: Option<u16>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Relay")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("ssh_port", &self.ssh_port)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Parses `scp://user:password@host[:port]/?ftp=P&tftp=P&http=P&https=P`.
    pub fn parse(id: i64, name: &str, url: &str) -> Result<Relay, EngineError> {
        let invalid = |reason: &str| EngineError::Invalid {
            what: "distribution server URL",
            reason: format!(
                "{name}: {reason} (hint: scp://user:password@host:port/?ftp=2121&tftp=6969&http=8080)"
            ),
        };
        let parsed = url::Url::parse(url).map_err(|error| invalid(&error.to_string()))?;
        if !matches!(parsed.scheme(), "scp" | "sftp") {
            return Err(invalid("the scheme must be scp or sftp"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| invalid("no host"))?
            .to_owned();
        if parsed.username().is_empty() {
            return Err(invalid("no user"));
        }
        let port_of = |key: &str| -> Result<Option<u16>, EngineError> {
            parsed
                .query_pairs()
                .find(|(name, _)| name == key)
                .map(|(_, value)| {
                    value
                        .parse::<u16>()
                        .map_err(|_| invalid(&format!("{key}={value} is not a port")))
                })
                .transpose()
        };
        Ok(Relay {
            id,
            name: name.to_owned(),
            host,
            ssh_port: parsed.port().unwrap_or(22),
            user: decode(parsed.username()),
            password: decode(parsed.password().unwrap_or_default()),
            ftp: port_of("ftp")?,
            tftp: port_of("tftp")?,
            http: port_of("http")?,
            https: port_of("https")?,
        })
    }

    /// Protocols devices can pull from this relay with.
    pub fn protocols(&self) -> Vec<Protocol> {
        let mut protocols = vec![Protocol::Scp, Protocol::Sftp];
        for (port, protocol) in [
            (self.ftp, Protocol::Ftp),
            (self.tftp, Protocol::Tftp),
            (self.http, Protocol::Http),
            (self.https, Protocol::Https),
        ] {
            if port.is_some() {
                protocols.push(protocol);
            }
        }
        protocols
    }

    /// The URL a device pulls `file_name` from with `protocol`.
    pub fn url(&self, protocol: Protocol, file_name: &str) -> Option<String> {
        let port = match protocol {
            Protocol::Scp | Protocol::Sftp => Some(self.ssh_port),
            Protocol::Ftp => self.ftp,
            Protocol::Tftp => self.tftp,
            Protocol::Http => self.http,
            Protocol::Https => self.https,
        }?;
        let login = JobCredential {
            user: self.user.clone(),
            password: self.password.clone(),
        };
        Some(device_url(
            protocol,
            &self.host,
            port,
            file_name,
            Some(&login),
        ))
    }

    /// Pushes `file` as `file_name` unless the relay already serves a file
    /// of that name and size (and, when it serves HTTP, that SHA-256).
    /// Returns whether bytes were sent.
    pub async fn ensure_image(
        &self,
        file: &Path,
        file_name: &str,
        size: u64,
        sha256: &str,
    ) -> Result<bool, EngineError> {
        let mut session = self.connect().await?;
        let present = self.stat_size(&mut session, file_name).await?;
        let same = match present {
            Some(found) if found == size => self.http_digest_matches(file_name, sha256).await,
            _ => false,
        };
        if same {
            let _ = session
                .disconnect(russh::Disconnect::ByApplication, "", "en")
                .await;
            return Ok(false);
        }
        if present.is_some() {
            return Err(self.error(
                &format!(
                    "it already has a different {file_name} (size {} bytes, want {size})",
                    present.unwrap_or_default()
                ),
                "remove the stale file from the relay's folder",
            ));
        }
        self.scp_push(&mut session, file, file_name, size).await?;
        let _ = session
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        Ok(true)
    }

    fn error(&self, reason: &str, hint: &'static str) -> EngineError {
        EngineError::Fetch {
            source_name: format!("distribution server {} ({})", self.name, self.host),
            reason: reason.to_owned(),
            hint,
        }
    }

    async fn connect(&self) -> Result<russh::client::Handle<RelayClient>, EngineError> {
        let hint = "check the distribution server's URL, login and that it runs";
        let config = Arc::new(russh::client::Config {
            inactivity_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        let mut session = tokio::time::timeout(
            Duration::from_secs(30),
            russh::client::connect(config, (self.host.as_str(), self.ssh_port), RelayClient),
        )
        .await
        .map_err(|_| self.error("connection timed out", hint))?
        .map_err(|error| self.error(&error.to_string(), hint))?;
        let accepted = session
            .authenticate_password(&self.user, &self.password)
            .await
            .map_err(|error| self.error(&error.to_string(), hint))?
            .success();
        if !accepted {
            return Err(self.error("the login was refused", hint));
        }
        Ok(session)
    }

    /// The size of `file_name` on the relay (SFTP stat), `None` when absent.
    async fn stat_size(
        &self,
        session: &mut russh::client::Handle<RelayClient>,
        file_name: &str,
    ) -> Result<Option<u64>, EngineError> {
        let hint = "the distribution server must offer the SFTP subsystem";
        let channel = session
            .channel_open_session()
            .await
            .map_err(|error| self.error(&error.to_string(), hint))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|error| self.error(&error.to_string(), hint))?;
        let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
            .await
            .map_err(|error| self.error(&error.to_string(), hint))?;
        let size = match sftp.metadata(file_name.to_owned()).await {
            Ok(metadata) => metadata.size,
            Err(_) => None,
        };
        let _ = sftp.close().await;
        Ok(size)
    }

    /// When the relay serves HTTP: whether its strong ETag is `sha256`.
    /// Without HTTP the size check stands alone.
    async fn http_digest_matches(&self, file_name: &str, sha256: &str) -> bool {
        let Some(url) = self.url(Protocol::Http, file_name) else {
            return true;
        };
        let client = reqwest::Client::new();
        match client.head(&url).send().await {
            Ok(response) if response.status().is_success() => response
                .headers()
                .get(reqwest::header::ETAG)
                .and_then(|value| value.to_str().ok())
                .map(|etag| etag.trim_matches('"').eq_ignore_ascii_case(sha256))
                .unwrap_or(true),
            _ => false,
        }
    }

    /// Legacy SCP sink protocol, client side (`scp -t`): written by hand
    /// because no maintained crate offers an SCP client over russh; the
    /// protocol is three control lines and the bytes.
    async fn scp_push(
        &self,
        session: &mut russh::client::Handle<RelayClient>,
        file: &Path,
        file_name: &str,
        size: u64,
    ) -> Result<(), EngineError> {
        let hint =
            "the distribution server must accept SCP uploads (netswim fileserver --upload DIR)";
        let fail = |reason: String| self.error(&reason, hint);
        let mut channel = session
            .channel_open_session()
            .await
            .map_err(|error| fail(error.to_string()))?;
        channel
            .exec(true, "scp -t .")
            .await
            .map_err(|error| fail(error.to_string()))?;
        wait_ack(&mut channel).await.map_err(&fail)?;
        let header = format!("C0644 {size} {file_name}\n");
        channel
            .data(header.as_bytes())
            .await
            .map_err(|error| fail(error.to_string()))?;
        wait_ack(&mut channel).await.map_err(&fail)?;
        let mut source = tokio::fs::File::open(file)
            .await
            .map_err(|error| fail(format!("cannot read {}: {error}", file.display())))?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = source
                .read(&mut buffer)
                .await
                .map_err(|error| fail(error.to_string()))?;
            if read == 0 {
                break;
            }
            channel
                .data(buffer.get(..read).unwrap_or_default())
                .await
                .map_err(|error| fail(error.to_string()))?;
        }
        channel
            .data(&b"\0"[..])
            .await
            .map_err(|error| fail(error.to_string()))?;
        wait_ack(&mut channel).await.map_err(&fail)?;
        let _ = channel.eof().await;
        Ok(())
    }
}

/// Waits for the SCP acknowledgement byte; a warning or error line fails.
async fn wait_ack(channel: &mut russh::Channel<russh::client::Msg>) -> Result<(), String> {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if let Some(first) = pending.first().copied() {
            if first == 0 {
                return Ok(());
            }
            if let Some(end) = pending.iter().position(|byte| *byte == b'\n') {
                let text = String::from_utf8_lossy(pending.get(1..end).unwrap_or_default());
                return Err(format!("the relay refused: {}", text.trim()));
            }
        }
        match channel.wait().await {
            Some(ChannelMsg::Data { data }) => pending.extend_from_slice(&data),
            Some(ChannelMsg::ExtendedData { data, .. }) => {
                tracing::debug!(message = %String::from_utf8_lossy(&data), "relay stderr");
            }
            Some(ChannelMsg::ExitStatus { exit_status }) if pending.is_empty() => {
                return Err(format!("scp ended with status {exit_status}"));
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                return Err("the relay closed the SCP channel".into());
            }
            Some(_) => {}
        }
    }
}

/// Relays are reached with their registered login; their host keys are
/// not pinned (what they serve is verified by MD5 on every device).
struct RelayClient;

impl russh::client::Handler for RelayClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_urls_give_login_ports_and_device_urls() {
        let relay = Relay::parse(
            3,
            "zurich",
            "scp://relay:s%40cret@127.62.0.9:2222/?ftp=2121&tftp=6969&http=8080",
        )
        .expect("valid");
        assert_eq!(
            (relay.user.as_str(), relay.password.as_str()),
            ("relay", "s@cret")
        );
        assert_eq!(
            relay.protocols(),
            vec![
                Protocol::Scp,
                Protocol::Sftp,
                Protocol::Ftp,
                Protocol::Tftp,
                Protocol::Http
            ]
        );
        assert_eq!(
            relay.url(Protocol::Tftp, "x.bin").as_deref(),
            Some("tftp://127.62.0.9:6969/x.bin")
        );
        assert_eq!(relay.url(Protocol::Https, "x.bin"), None);
        for bad in ["http://h/", "scp://h:22/", "scp://u:p@h/?ftp=x", "nonsense"] {
            assert!(Relay::parse(1, "bad", bad).is_err(), "{bad}");
        }
    }
}
