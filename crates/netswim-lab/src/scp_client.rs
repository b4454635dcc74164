//! The device's SCP client (the classic `scp -f`/`scp -t` protocol over an
//! SSH exec channel, russh) for `copy scp://user@host/path flash:` and
//! `copy flash:X scp://user@host/path`: connects from the device's own
//! address and authenticates with the password the CLI asked for.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use russh::{Channel, ChannelMsg};

use crate::transfer::{TransferFailure, TransferLimits};

/// Where, as whom and which file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScpTarget {
    pub server: SocketAddr,
    pub user: String,
    pub password: String,
    pub path: String,
}

/// Accepts any host key: like a switch without `ip ssh stricthostkeycheck`.
struct AnyHostKey;

impl client::Handler for AnyHostKey {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

fn failed(error: impl std::fmt::Display) -> TransferFailure {
    TransferFailure::Network(error.to_string())
}

async fn open(
    local: IpAddr,
    target: &ScpTarget,
    command: String,
    timeout: Duration,
) -> Result<(Handle<AnyHostKey>, Channel<client::Msg>), TransferFailure> {
    let socket = match local {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(failed)?;
    socket.bind(SocketAddr::new(local, 0)).map_err(failed)?;
    let stream = tokio::time::timeout(timeout, socket.connect(target.server))
        .await
        .map_err(|_| TransferFailure::TimedOut)?
        .map_err(|error| TransferFailure::Network(format!("Connection refused: {error}")))?;
    let config = Arc::new(client::Config::default());
    let mut handle =
        tokio::time::timeout(timeout, client::connect_stream(config, stream, AnyHostKey))
            .await
            .map_err(|_| TransferFailure::TimedOut)?
            .map_err(failed)?;
    let auth = handle
        .authenticate_password(&target.user, &target.password)
        .await
        .map_err(failed)?;
    if !auth.success() {
        return Err(TransferFailure::Server {
            code: 2,
            message: "Permission denied".into(),
        });
    }
    let channel = handle.channel_open_session().await.map_err(failed)?;
    channel.exec(true, command).await.map_err(failed)?;
    Ok((handle, channel))
}

/// Bytes from the channel, read as the protocol needs them.
struct Incoming {
    channel: Channel<client::Msg>,
    buffer: VecDeque<u8>,
    timeout: Duration,
}

impl Incoming {
    async fn fill(&mut self, wanted: usize) -> Result<(), TransferFailure> {
        while self.buffer.len() < wanted {
            let message = tokio::time::timeout(self.timeout, self.channel.wait())
                .await
                .map_err(|_| TransferFailure::TimedOut)?;
            match message {
                Some(ChannelMsg::Data { data }) => self.buffer.extend(data.iter()),
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    return Err(TransferFailure::Network(
                        "Connection closed by server".into(),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn line(&mut self) -> Result<String, TransferFailure> {
        loop {
            if let Some(end) = self.buffer.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line[..end]).to_string());
            }
            let wanted = self.buffer.len() + 1;
            self.fill(wanted).await?;
        }
    }

    /// One status byte: 0 is OK, 1/2 carry an error line.
    async fn status(&mut self) -> Result<(), TransferFailure> {
        self.fill(1).await?;
        match self.buffer.pop_front() {
            Some(0) => Ok(()),
            _ => Err(remote_error(&self.line().await.unwrap_or_default())),
        }
    }
}

fn remote_error(text: &str) -> TransferFailure {
    let lower = text.to_ascii_lowercase();
    if lower.contains("no such file") {
        TransferFailure::Server {
            code: 1,
            message: text.into(),
        }
    } else if lower.contains("no space") {
        TransferFailure::NoSpace
    } else if lower.contains("permission denied") {
        TransferFailure::Server {
            code: 2,
            message: text.into(),
        }
    } else {
        TransferFailure::Server {
            code: 0,
            message: text.trim_start_matches("scp: ").trim().to_string(),
        }
    }
}

/// Pulls the target file (`scp -f`), feeding it to `sink` (false: no space).
pub async fn scp_get(
    local: IpAddr,
    target: &ScpTarget,
    timeout: Duration,
    limits: TransferLimits,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    let started = tokio::time::Instant::now();
    let (_handle, channel) =
        open(local, target, format!("scp -f {}", target.path), timeout).await?;
    let mut incoming = Incoming {
        channel,
        buffer: VecDeque::new(),
        timeout,
    };
    incoming.channel.data(&b"\0"[..]).await.map_err(failed)?;
    let header = loop {
        incoming.fill(1).await?;
        if let Some(1 | 2) = incoming.buffer.front() {
            incoming.buffer.pop_front();
            return Err(remote_error(&incoming.line().await?));
        }
        let line = incoming.line().await?;
        // `T` (times) lines come first when the server preserves times.
        if line.starts_with('T') {
            incoming.channel.data(&b"\0"[..]).await.map_err(failed)?;
            continue;
        }
        break line;
    };
    let size: u64 = header
        .strip_prefix('C')
        .and_then(|rest| rest.split(' ').nth(1))
        .and_then(|size| size.parse().ok())
        .ok_or_else(|| TransferFailure::Network(format!("bad SCP header `{header}`")))?;
    incoming.channel.data(&b"\0"[..]).await.map_err(failed)?;
    let mut left = size;
    let mut total = 0u64;
    while left > 0 {
        if incoming.buffer.is_empty() {
            incoming.fill(1).await?;
        }
        let take = (left as usize).min(incoming.buffer.len());
        let chunk: Vec<u8> = incoming.buffer.drain(..take).collect();
        if !sink(&chunk) {
            return Err(TransferFailure::NoSpace);
        }
        left -= take as u64;
        total += take as u64;
        limits.pace(total, started).await;
    }
    incoming.status().await?;
    incoming.channel.data(&b"\0"[..]).await.map_err(failed)?;
    let _ = incoming.channel.eof().await;
    Ok(total)
}

/// Pushes `content` as the target file (`scp -t`).
pub async fn scp_put(
    local: IpAddr,
    target: &ScpTarget,
    timeout: Duration,
    content: &[u8],
) -> Result<u64, TransferFailure> {
    let (_handle, channel) =
        open(local, target, format!("scp -t {}", target.path), timeout).await?;
    let mut incoming = Incoming {
        channel,
        buffer: VecDeque::new(),
        timeout,
    };
    incoming.status().await?;
    let name = target
        .path
        .rsplit(['/', ':'])
        .next()
        .unwrap_or(&target.path);
    let header = format!("C0644 {} {name}\n", content.len());
    incoming
        .channel
        .data(header.as_bytes())
        .await
        .map_err(failed)?;
    incoming.status().await?;
    incoming.channel.data(content).await.map_err(failed)?;
    incoming.channel.data(&b"\0"[..]).await.map_err(failed)?;
    incoming.status().await?;
    let _ = incoming.channel.eof().await;
    Ok(content.len() as u64)
}
