//! One running device: its SSH server (russh) on its own loopback address, the
//! interactive and exec channels that drive the IOS CLI, paging, the transfers
//! `copy` starts, and the reload cycle that drops sessions and rebinds.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use russh::keys::{Algorithm, PrivateKey};
use russh::server::{Auth, Handler, Msg, Session};
use russh::{Channel, ChannelId, ChannelMsg, MethodKind, MethodSet, Preferred};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::device::{Device, NetworkImage, PowerState};
use crate::error::LabError;
use crate::files::ContentTracker;
use crate::ftp_client::{FtpTarget, ftp_get, ftp_put};
use crate::ios_archive::{DownloadOptions, install_archive};
use crate::ios_cli::{Action, CliSession, split_file_path};
use crate::scp_client::{ScpTarget, scp_get, scp_put};
use crate::transfer::{
    TransferFailure, TransferLimits, TransferUrl, http_get, http_put, https_get, parse_url,
    tftp_get, tftp_put,
};

/// A device as the lab runs it: the model behind a lock, where it listens,
/// and the signal that starts a reload.
#[derive(Debug)]
pub struct DeviceHandle {
    device: Mutex<Device>,
    pub address: IpAddr,
    /// The SSH port (0 until first bound when an ephemeral port was asked).
    pub ssh_port: AtomicU16,
    /// Speak only the algorithms of old IOS (diffie-hellman-group14-sha1,
    /// ssh-rsa, aes-cbc, hmac-sha1).
    pub legacy_ssh: bool,
    reload_requested: Notify,
    /// How many times the SSH listener has been bound (once per boot).
    listening: tokio::sync::watch::Sender<u64>,
}

impl DeviceHandle {
    pub fn new(device: Device, address: IpAddr, ssh_port: u16, legacy_ssh: bool) -> Arc<Self> {
        Arc::new(Self {
            device: Mutex::new(device),
            address,
            ssh_port: AtomicU16::new(ssh_port),
            legacy_ssh,
            reload_requested: Notify::new(),
            listening: tokio::sync::watch::Sender::new(0),
        })
    }

    /// Locks the device model (never held across an await).
    pub fn lock(&self) -> MutexGuard<'_, Device> {
        self.device
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn ssh_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.ssh_port.load(Ordering::SeqCst))
    }

    /// Reloads the device now (as `reload` does).
    pub fn reload(&self) {
        self.lock().reload(Instant::now());
        self.reload_requested.notify_one();
    }

    /// Replaces the device's injected faults.
    pub fn set_faults(&self, faults: crate::device::Faults) {
        self.lock().set_faults(faults);
    }

    /// How many times the device has started listening (boots so far).
    pub fn listen_count(&self) -> u64 {
        *self.listening.borrow()
    }

    /// Waits until the device listens for the `count`-th time.
    pub async fn wait_listening(&self, count: u64) {
        let mut receiver = self.listening.subscribe();
        let _ = receiver.wait_for(|seen| *seen >= count).await;
    }
}

/// Host keys shared by the lab's devices.
#[derive(Debug, Clone)]
pub struct HostKeys {
    pub modern: Vec<PrivateKey>,
    pub legacy: Vec<PrivateKey>,
}

impl HostKeys {
    /// Generates an Ed25519 key, and an RSA key when legacy devices need one.
    pub fn generate(with_rsa: bool) -> Result<Self, LabError> {
        let error = |error: russh::keys::ssh_key::Error| LabError::HostKey {
            message: error.to_string(),
        };
        let mut rng = rand::rng();
        let ed25519 = PrivateKey::random(&mut rng, Algorithm::Ed25519).map_err(error)?;
        let mut legacy = Vec::new();
        if with_rsa {
            legacy
                .push(PrivateKey::random(&mut rng, Algorithm::Rsa { hash: None }).map_err(error)?);
        }
        Ok(Self {
            modern: vec![ed25519],
            legacy,
        })
    }

    /// The russh server configuration for a device.
    pub fn server_config(&self, legacy: bool) -> Arc<russh::server::Config> {
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::Password);
        methods.push(MethodKind::KeyboardInteractive);
        let mut config = russh::server::Config {
            server_id: russh::SshId::Standard(Cow::Borrowed("SSH-2.0-Cisco-1.25")),
            methods,
            auth_rejection_time: Duration::from_millis(300),
            auth_rejection_time_initial: Some(Duration::from_millis(0)),
            keys: self.modern.clone(),
            inactivity_timeout: Some(Duration::from_secs(3600)),
            nodelay: true,
            ..Default::default()
        };
        if legacy {
            config.keys = self.legacy.clone();
            config.preferred = Preferred {
                kex: Cow::Borrowed(&[russh::kex::DH_G14_SHA1, russh::kex::DH_G1_SHA1]),
                key: Cow::Borrowed(&[Algorithm::Rsa { hash: None }]),
                cipher: Cow::Borrowed(&[
                    russh::cipher::AES_128_CBC,
                    russh::cipher::AES_256_CBC,
                    russh::cipher::AES_128_CTR,
                ]),
                mac: Cow::Borrowed(&[russh::mac::HMAC_SHA1]),
                ..Preferred::default()
            };
        }
        Arc::new(config)
    }
}

/// Runs a device forever: listen while up, drop everything on reload, come
/// back after the delay on whatever the boot path gives (or stay in rommon).
pub async fn run_device(handle: Arc<DeviceHandle>, config: Arc<russh::server::Config>) {
    loop {
        let power = handle.lock().power;
        match power {
            PowerState::Up { .. } => {
                let listener = match TcpListener::bind(handle.ssh_address()).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        eprintln!("lab: cannot listen on {}: {error}", handle.ssh_address());
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Ok(bound) = listener.local_addr() {
                    handle.ssh_port.store(bound.port(), Ordering::SeqCst);
                }
                handle.listening.send_modify(|count| *count += 1);
                let mut sessions = JoinSet::new();
                loop {
                    tokio::select! {
                        accepted = listener.accept() => {
                            let Ok((stream, _peer)) = accepted else { continue };
                            let _ = stream.set_nodelay(true);
                            let connection = Connection {
                                device: handle.clone(),
                                authenticated: false,
                            };
                            let config = config.clone();
                            sessions.spawn(async move {
                                if let Ok(session) = russh::server::run_stream(config, stream, connection).await {
                                    let _ = session.await;
                                }
                            });
                        }
                        _ = handle.reload_requested.notified() => break,
                        Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                    }
                }
                // The switch goes away mid-conversation: sockets just die.
                drop(listener);
                sessions.abort_all();
                handle.lock().active_sessions = 0;
            }
            PowerState::Reloading { until } => {
                let wait = until.saturating_duration_since(Instant::now());
                tokio::time::sleep(wait).await;
                let url = handle.lock().network_boot_url();
                let network = match url {
                    Some(url) => network_boot(handle.address, url).await,
                    None => None,
                };
                handle.lock().tick_with(Instant::now(), network.as_ref());
            }
            PowerState::Rommon | PowerState::Down => {
                // Only a reload from the control side can bring it back.
                handle.reload_requested.notified().await;
            }
        }
    }
}

/// Feeds received bytes to `tracker`, flipping the byte at `corrupt_at`
/// (the `corrupt_transfers` fault) once when this chunk reaches it.
fn receive(tracker: &mut ContentTracker, bytes: &[u8], corrupt_at: &mut Option<u64>) {
    match *corrupt_at {
        Some(offset) if tracker.size() + bytes.len() as u64 > offset => {
            let mut damaged = bytes.to_vec();
            let index = (offset.saturating_sub(tracker.size()) as usize).min(damaged.len() - 1);
            damaged[index] ^= 0xff;
            tracker.update(&damaged);
            *corrupt_at = None;
        }
        _ => tracker.update(bytes),
    }
}

/// The boot loader's TFTP load of a `tftp://host[:port]/path` boot entry
/// (IOS `boot system tftp://…`); `None` when nothing arrived, and the device
/// then stops at the boot loader.
async fn network_boot(local: IpAddr, url: String) -> Option<NetworkImage> {
    let parsed = parse_url(&url)?;
    let host = parsed.host.parse::<IpAddr>().ok()?;
    let server = SocketAddr::new(host, parsed.port.unwrap_or(69));
    let mut tracker = ContentTracker::new();
    let received = tftp_get(
        local,
        server,
        &parsed.path,
        Duration::from_secs(2),
        TransferLimits::default(),
        |bytes| {
            tracker.update(bytes);
            true
        },
    )
    .await;
    received.ok()?;
    Some(NetworkImage {
        record: tracker.finish(&parsed.path, 0),
        url,
    })
}

/// Where an `ftp://` URL logs in; IOS logs in anonymously without a user.
fn ftp_target(url: &TransferUrl, host: IpAddr) -> FtpTarget {
    FtpTarget {
        server: SocketAddr::new(host, url.port.unwrap_or(21)),
        user: url.user.clone().unwrap_or_else(|| "anonymous".into()),
        password: url.password.clone().unwrap_or_else(|| "IOS-User@".into()),
        path: url.path.clone(),
    }
}

/// Pulls `url` (TFTP, FTP, HTTP(S) or SCP) from the device's own address
/// into `sink`, which refuses bytes by returning `false`.
async fn fetch(
    local: IpAddr,
    url: &TransferUrl,
    host: IpAddr,
    limits: TransferLimits,
    sink: impl FnMut(&[u8]) -> bool + Send,
) -> Result<u64, TransferFailure> {
    let timeout = Duration::from_secs(2);
    match url.scheme.as_str() {
        "tftp" => {
            let server = SocketAddr::new(host, url.port.unwrap_or(69));
            tftp_get(local, server, &url.path, timeout, limits, sink).await
        }
        "ftp" => ftp_get(local, &ftp_target(url, host), timeout, limits, sink).await,
        "https" => {
            let server = SocketAddr::new(host, url.port.unwrap_or(443));
            https_get(local, server, &url.host, &url.path, timeout, limits, sink).await
        }
        "scp" => {
            let target = scp_target(url, host);
            scp_get(local, &target, Duration::from_secs(10), limits, sink).await
        }
        _ => {
            let server = SocketAddr::new(host, url.port.unwrap_or(80));
            http_get(local, server, &url.host, &url.path, timeout, limits, sink).await
        }
    }
}

/// How long a background IOS-XR download may go without a byte before the
/// device gives up on it (the `stall` fault's peer sees silence forever).
pub const XR_DOWNLOAD_IDLE_TIMEOUT: Duration = Duration::from_secs(3);

/// The background half of IOS-XR `install add source <URL>`: the download
/// into `harddisk:` with the device's transfer faults (stall, corruption,
/// bandwidth, no space), progress for `show install request`, then the
/// operation's end in `show install log`.
async fn xr_install_add(device: Arc<DeviceHandle>, id: u32, source: String, path: String) {
    let outcome = xr_download(&device, id, &source, &path).await;
    let mut model = device.lock();
    crate::xr_cli::finish_install_add(&mut model, id, outcome, Instant::now());
}

async fn xr_download(
    device: &Arc<DeviceHandle>,
    id: u32,
    source: &str,
    path: &str,
) -> Result<(), String> {
    use std::sync::atomic::AtomicU64;
    let file_system = "harddisk:";
    let failed = |reason: &str| format!("Failed to download {path}: {reason}");
    let Some(url) = parse_url(source) else {
        return Err(failed("Invalid argument"));
    };
    let Ok(host) = url.host.parse::<IpAddr>() else {
        return Err(failed("Unknown host"));
    };
    let (faults, free) = {
        let model = device.lock();
        let Some(fs) = model.file_system(file_system) else {
            return Err(failed("No such device"));
        };
        let free = fs.free() + fs.file(path).map_or(0, |file| file.size);
        (model.faults.clone(), free)
    };
    let limits = TransferLimits {
        stall_after_bytes: faults.transfer_stall_after_bytes,
        bytes_per_sec: faults.bandwidth_bytes_per_sec,
    };
    let mut corrupt_at = faults.corrupt_transfers.then_some(1024u64);
    let mut tracker = ContentTracker::new();
    let received = Arc::new(AtomicU64::new(0));
    let expected = Arc::new(AtomicU64::new(0));
    let mut head: Vec<u8> = Vec::new();
    let result = {
        let counted = received.clone();
        let announced = expected.clone();
        let tracker = &mut tracker;
        let sink = move |bytes: &[u8]| {
            if tracker.size() + bytes.len() as u64 > free {
                return false;
            }
            if head.len() < crate::image::BIN_HEADER_LENGTH {
                head.extend_from_slice(bytes);
                if let Some(header) = crate::image::read_bin_header(&head) {
                    let total = header.payload_length + crate::image::BIN_HEADER_LENGTH as u64;
                    announced.store(total, Ordering::SeqCst);
                }
            }
            receive(tracker, bytes, &mut corrupt_at);
            counted.store(tracker.size(), Ordering::SeqCst);
            true
        };
        let transfer = fetch(device.address, &url, host, limits, sink);
        tokio::pin!(transfer);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut seen = 0;
        let mut last_progress = Instant::now();
        loop {
            tokio::select! {
                result = &mut transfer => break result,
                _ = tick.tick() => {
                    let now = received.load(Ordering::SeqCst);
                    if now != seen {
                        seen = now;
                        last_progress = Instant::now();
                        let total = Some(expected.load(Ordering::SeqCst)).filter(|total| *total > 0);
                        crate::xr_cli::install_add_progress(&mut device.lock(), id, now, total);
                    } else if last_progress.elapsed() > XR_DOWNLOAD_IDLE_TIMEOUT {
                        break Err(TransferFailure::TimedOut);
                    }
                }
            }
        }
    };
    match result {
        Ok(_) => {}
        Err(TransferFailure::NoSpace) => return Err(failed("Not enough space on device")),
        Err(failure) => return Err(failed(&failure.ios_reason())),
    }
    let record = {
        let model = device.lock();
        tracker.finish(path, model.clock_seconds(Instant::now()))
    };
    let stored = device
        .lock()
        .file_system_mut(file_system)
        .is_some_and(|fs| fs.store(record));
    if !stored {
        return Err(failed("Not enough space on device"));
    }
    Ok(())
}

/// Where an `scp://` URL logs in (port 22 unless the URL says otherwise).
fn scp_target(url: &TransferUrl, host: IpAddr) -> ScpTarget {
    ScpTarget {
        server: SocketAddr::new(host, url.port.unwrap_or(22)),
        user: url.user.clone().unwrap_or_default(),
        password: url.password.clone().unwrap_or_default(),
        path: url.path.clone(),
    }
}

/// One SSH connection to a device.
struct Connection {
    device: Arc<DeviceHandle>,
    authenticated: bool,
}

impl Drop for Connection {
    fn drop(&mut self) {
        if self.authenticated {
            let mut device = self.device.lock();
            device.active_sessions = device.active_sessions.saturating_sub(1);
        }
    }
}

impl Connection {
    fn credentials_match(&self, user: &str, password: &str) -> bool {
        let device = self.device.lock();
        matches!(device.power, PowerState::Up { .. })
            && !device.faults.auth_failure
            && user == device.username
            && password == device.password
    }
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        Ok(if self.credentials_match(user, password) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        user: &str,
        _submethods: &str,
        response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        let Some(mut response) = response else {
            return Ok(Auth::Partial {
                name: Cow::Borrowed(""),
                instructions: Cow::Borrowed(""),
                prompts: Cow::Owned(vec![(Cow::Borrowed("Password: "), false)]),
            });
        };
        let answer = response
            .next()
            .map(|bytes| String::from_utf8_lossy(&bytes).to_string())
            .unwrap_or_default();
        Ok(if self.credentials_match(user, &answer) {
            Auth::Accept
        } else {
            Auth::reject()
        })
    }

    async fn auth_succeeded(&mut self, _session: &mut Session) -> Result<(), Self::Error> {
        self.authenticated = true;
        self.device.lock().active_sessions += 1;
        Ok(())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        let device = self.device.clone();
        tokio::spawn(serve_channel(device, channel));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }
}

/// IOS sends CR LF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

const MORE: &str = " --More-- ";

/// A shell or exec channel driving one CLI session.
struct ChannelSession {
    device: Arc<DeviceHandle>,
    channel: Channel<Msg>,
    cli: CliSession,
    line: String,
    last_was_cr: bool,
    /// Output lines still to show after a `--More--`, and the action to run after.
    paging: Option<(VecDeque<String>, Option<Action>)>,
    closed: bool,
}

async fn serve_channel(device: Arc<DeviceHandle>, mut channel: Channel<Msg>) {
    // Wait for the request that says what this channel is for.
    let mut session = loop {
        match channel.wait().await {
            Some(ChannelMsg::RequestShell { .. }) => {
                break ChannelSession::new(device, channel);
            }
            Some(ChannelMsg::Exec { command, .. }) => {
                let command = String::from_utf8_lossy(&command).to_string();
                let mut session = ChannelSession::new(device, channel);
                if command.split_whitespace().next() == Some("scp") {
                    session.scp(&command).await;
                    return;
                }
                session.cli.terminal_length = 0;
                session.exec(&command).await;
                return;
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return,
            Some(_) => {}
        }
    };
    session.send("\r\n").await;
    session.send_prompt().await;
    while !session.closed {
        match session.channel.wait().await {
            Some(ChannelMsg::Data { data }) => {
                for byte in data.iter() {
                    session.key(*byte).await;
                    if session.closed {
                        break;
                    }
                }
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    let _ = session.channel.close().await;
}

impl ChannelSession {
    fn new(device: Arc<DeviceHandle>, channel: Channel<Msg>) -> Self {
        Self {
            device,
            channel,
            cli: CliSession::new(),
            line: String::new(),
            last_was_cr: false,
            paging: None,
            closed: false,
        }
    }

    async fn send(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if self.channel.data(text.as_bytes()).await.is_err() {
            self.closed = true;
        }
    }

    async fn send_prompt(&mut self) {
        let prompt = self.cli.prompt(&self.device.lock());
        self.send(&prompt).await;
    }

    /// The `slow_cli_ms` fault.
    async fn slow_down(&self) {
        let delay = self.device.lock().faults.slow_cli_ms;
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
    }

    /// An exec channel: one command line, its output, exit status, close.
    async fn exec(&mut self, command: &str) {
        self.slow_down().await;
        let reply = {
            let mut device = self.device.lock();
            self.cli.handle_line(&mut device, command, Instant::now())
        };
        self.send(&crlf(&reply.output)).await;
        if let Some(action) = reply.action {
            self.act(action).await;
        }
        let _ = self.channel.exit_status(0).await;
        let _ = self.channel.eof().await;
        let _ = self.channel.close().await;
    }

    /// Reads from the channel until `buffer` holds at least `wanted` bytes;
    /// false when the client went away first.
    async fn fill(&mut self, buffer: &mut VecDeque<u8>, wanted: usize) -> bool {
        while buffer.len() < wanted {
            match self.channel.wait().await {
                Some(ChannelMsg::Data { data }) => buffer.extend(data.iter()),
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => return false,
                Some(_) => {}
            }
        }
        true
    }

    /// Reads one `\n`-terminated SCP control line.
    async fn scp_line(&mut self, buffer: &mut VecDeque<u8>) -> Option<String> {
        loop {
            if let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                return Some(String::from_utf8_lossy(&line[..end]).to_string());
            }
            let wanted = buffer.len() + 1;
            if !self.fill(buffer, wanted).await {
                return None;
            }
        }
    }

    /// The device's SCP server, sink side (`scp -t TARGET`), as pushes from
    /// engineers' scripts use it: needs `ip scp server enable`.
    async fn scp(&mut self, command: &str) {
        let target = command
            .split_whitespace()
            .skip(1)
            .filter(|word| !word.starts_with('-'))
            .last()
            .unwrap_or("flash:")
            .to_string();
        let enabled = self.device.lock().scp_server_enabled;
        let source_mode = command.split_whitespace().any(|word| word == "-f");
        let status = match (enabled, source_mode) {
            (false, _) => 1,
            (true, true) => self.scp_source(&target).await,
            (true, false) => self.scp_sink(&target).await,
        };
        let _ = self.channel.exit_status(status).await;
        let _ = self.channel.eof().await;
        let _ = self.channel.close().await;
    }

    /// The SCP server's source side (`scp -f FILE`): copies from the device,
    /// as `scp admin@switch:flash:x.bin .` or another device's `copy scp://`.
    async fn scp_source(&mut self, target: &str) -> u32 {
        let (file_system, path) = split_file_path(target);
        let mut buffer = VecDeque::new();
        // The sink starts with one zero byte.
        if !self.fill(&mut buffer, 1).await {
            return 1;
        }
        buffer.pop_front();
        let record = self
            .device
            .lock()
            .file_system(&file_system)
            .and_then(|fs| fs.file(&path))
            .cloned();
        let Some(record) = record else {
            let message = format!("\x01scp: {file_system}{path}: No such file or directory\n");
            let _ = self.channel.data(message.as_bytes()).await;
            return 1;
        };
        let Some(content) = crate::upload::file_content(&record) else {
            let message = format!("\x01scp: {file_system}{path}: I/O error\n");
            let _ = self.channel.data(message.as_bytes()).await;
            return 1;
        };
        // The name as requested: OpenSSH checks it against its request.
        let name = target.rsplit('/').next().unwrap_or(target);
        let header = format!("C0644 {} {name}\n", content.len());
        let _ = self.channel.data(header.as_bytes()).await;
        if !self.fill(&mut buffer, 1).await || buffer.pop_front() != Some(0) {
            return 1;
        }
        if self.channel.data(&content[..]).await.is_err() {
            return 1;
        }
        let _ = self.channel.data(&b"\0"[..]).await;
        if !self.fill(&mut buffer, 1).await {
            return 1;
        }
        0
    }

    async fn scp_sink(&mut self, target: &str) -> u32 {
        let (file_system, target_path) = split_file_path(target);
        let mut buffer = VecDeque::new();
        let _ = self.channel.data(&b"\0"[..]).await;
        while let Some(line) = self.scp_line(&mut buffer).await {
            let (kind, rest) = line.split_at(line.len().min(1));
            match kind {
                "C" => {
                    let mut fields = rest.splitn(3, ' ');
                    let (_mode, size, name) = (fields.next(), fields.next(), fields.next());
                    let (Some(size), Some(name)) =
                        (size.and_then(|size| size.parse::<u64>().ok()), name)
                    else {
                        let _ = self
                            .channel
                            .data(&b"\x01scp: protocol error: bad file line\n"[..])
                            .await;
                        return 1;
                    };
                    let is_directory = target_path.is_empty()
                        || self
                            .device
                            .lock()
                            .file_system(&file_system)
                            .is_some_and(|fs| {
                                fs.list(&target_path).is_some() && fs.file(&target_path).is_none()
                            });
                    let path = if is_directory {
                        if target_path.is_empty() {
                            name.to_string()
                        } else {
                            format!("{}/{name}", target_path.trim_end_matches('/'))
                        }
                    } else {
                        target_path.clone()
                    };
                    let free = {
                        let device = self.device.lock();
                        device
                            .file_system(&file_system)
                            .map(|fs| fs.free() + fs.file(&path).map_or(0, |file| file.size))
                    };
                    let Some(free) = free else {
                        let message = format!("\x01scp: {file_system}: No such device\n");
                        let _ = self.channel.data(message.as_bytes()).await;
                        return 1;
                    };
                    if size > free {
                        let message =
                            format!("\x01scp: {file_system}/{path}: No space left on device\n");
                        let _ = self.channel.data(message.as_bytes()).await;
                        return 1;
                    }
                    let _ = self.channel.data(&b"\0"[..]).await;
                    let mut tracker = ContentTracker::new();
                    let mut left = size as usize;
                    while left > 0 {
                        if buffer.is_empty() && !self.fill(&mut buffer, 1).await {
                            return 1;
                        }
                        let take = left.min(buffer.len());
                        let chunk: Vec<u8> = buffer.drain(..take).collect();
                        tracker.update(&chunk);
                        left -= take;
                    }
                    // The client ends each file with one zero byte.
                    if !self.fill(&mut buffer, 1).await {
                        return 1;
                    }
                    buffer.pop_front();
                    let modified = self.device.lock().clock_seconds(Instant::now());
                    let record = tracker.finish(&path, modified);
                    let stored = self
                        .device
                        .lock()
                        .file_system_mut(&file_system)
                        .is_some_and(|fs| fs.store(record));
                    if !stored {
                        let message =
                            format!("\x01scp: {file_system}/{path}: No space left on device\n");
                        let _ = self.channel.data(message.as_bytes()).await;
                        return 1;
                    }
                    let _ = self.channel.data(&b"\0"[..]).await;
                }
                // Times, directory entries and ends: acknowledged, not kept.
                "T" | "D" | "E" => {
                    let _ = self.channel.data(&b"\0"[..]).await;
                }
                _ => {
                    let _ = self.channel.data(&b"\x01scp: protocol error\n"[..]).await;
                    return 1;
                }
            }
        }
        0
    }

    /// One keystroke of an interactive session.
    async fn key(&mut self, byte: u8) {
        if self.paging.is_some() {
            self.page_key(byte).await;
            return;
        }
        match byte {
            b'\r' | b'\n' => {
                if byte == b'\n' && self.last_was_cr {
                    self.last_was_cr = false;
                    return;
                }
                self.last_was_cr = byte == b'\r';
                let line = std::mem::take(&mut self.line);
                self.send("\r\n").await;
                self.enter(&line).await;
            }
            0x08 | 0x7f => {
                self.last_was_cr = false;
                if self.line.pop().is_some() && self.cli.echo() {
                    self.send("\x08 \x08").await;
                }
            }
            0x1a => {
                self.last_was_cr = false;
                self.line.clear();
                self.send("^Z\r\n").await;
                self.enter("\u{1a}").await;
            }
            0x03 => {
                self.last_was_cr = false;
                self.line.clear();
                self.cli.pending = None;
                self.cli.platform_question = None;
                self.send("\r\n").await;
                self.send_prompt().await;
            }
            byte if (0x20..0x7f).contains(&byte) => {
                self.last_was_cr = false;
                self.line.push(byte as char);
                if self.cli.echo() {
                    let echoed = (byte as char).to_string();
                    self.send(&echoed).await;
                }
            }
            _ => self.last_was_cr = false,
        }
    }

    async fn enter(&mut self, line: &str) {
        self.slow_down().await;
        let reply = {
            let mut device = self.device.lock();
            self.cli.handle_line(&mut device, line, Instant::now())
        };
        let mut lines: VecDeque<String> = crlf(&reply.output)
            .split_inclusive("\r\n")
            .map(str::to_string)
            .collect();
        let page = self.cli.terminal_length.saturating_sub(1) as usize;
        if self.cli.terminal_length > 0 && lines.len() > page {
            let first: String = lines.drain(..page).collect();
            self.send(&first).await;
            self.send(MORE).await;
            self.paging = Some((lines, reply.action));
            return;
        }
        let all: String = lines.into_iter().collect();
        self.send(&all).await;
        self.finish(reply.action).await;
    }

    async fn finish(&mut self, action: Option<Action>) {
        if let Some(action) = action {
            self.act(action).await;
        }
        if !self.closed {
            self.send_prompt().await;
        }
    }

    async fn page_key(&mut self, byte: u8) {
        let Some((mut lines, action)) = self.paging.take() else {
            return;
        };
        let erase = format!(
            "{0}{1}{0}",
            "\x08".repeat(MORE.len()),
            " ".repeat(MORE.len())
        );
        self.send(&erase).await;
        let take = match byte {
            b' ' => self.cli.terminal_length.saturating_sub(1) as usize,
            b'\r' | b'\n' => 1,
            _ => 0,
        };
        if take == 0 {
            lines.clear();
        }
        let shown: String = lines.drain(..take.min(lines.len())).collect();
        self.send(&shown).await;
        if lines.is_empty() {
            self.finish(action).await;
        } else {
            self.send(MORE).await;
            self.paging = Some((lines, action));
        }
    }

    async fn act(&mut self, action: Action) {
        match action {
            Action::Disconnect => {
                let _ = self.channel.eof().await;
                let _ = self.channel.close().await;
                self.closed = true;
            }
            Action::Reload => self.act_reload(),
            Action::DownloadSw { source, options } => {
                Box::pin(self.download_sw(&source, &options)).await;
            }
            Action::ReloadMember(number) => self.reload_member(number),
            Action::Upload {
                file_system,
                path,
                url,
            } => {
                let output = self.upload(&file_system, &path, &url).await;
                self.send(&crlf(&output)).await;
            }
            Action::Copy {
                source,
                file_system,
                path,
            } => {
                let output = self.copy(&source, &file_system, &path).await;
                self.send(&crlf(&output)).await;
            }
            Action::XrInstallAdd { id, source, path } => {
                // The device works on it after the prompt is back, whether
                // or not this session stays.
                tokio::spawn(xr_install_add(self.device.clone(), id, source, path));
            }
        }
    }

    /// Runs a `copy` into flash: local between members, or pulled by TFTP.
    async fn copy(&mut self, source: &str, file_system: &str, path: &str) -> String {
        let started = Instant::now();
        if parse_url(source).is_none() {
            return self.copy_local(source, file_system, path, started);
        }
        let free = {
            let device = self.device.lock();
            let Some(fs) = device.file_system(file_system) else {
                return format!("%Error opening {file_system}{path} (No such device)\n");
            };
            fs.free() + fs.file(path).map_or(0, |file| file.size)
        };
        let (tracker, total) = match self.pull(source, free).await {
            Ok(pulled) => pulled,
            Err(text) => return text,
        };
        let elapsed = started.elapsed().as_secs_f64().max(0.001);
        let modified = self.device.lock().clock_seconds(Instant::now());
        let record = tracker.finish(path, modified);
        let stored = self
            .device
            .lock()
            .file_system_mut(file_system)
            .is_some_and(|fs| fs.store(record));
        if !stored {
            return format!("\n%Error copying {source} (Not enough space on device)\n");
        }
        // IOS reports the HTTP block size after the byte count.
        let ok = if source.starts_with("tftp") {
            format!("{total} bytes")
        } else {
            format!("{total}/4096 bytes")
        };
        format!(
            "!\n[OK - {ok}]\n\n{total} bytes copied in {elapsed:.3} secs ({} bytes/sec)\n",
            (total as f64 / elapsed) as u64
        )
    }

    /// Pulls a URL (TFTP or HTTP) with the device's transfer faults applied,
    /// printing IOS's `Accessing`/`Loading` lines and `!` progress; at most
    /// `limit` bytes are accepted. Returns the digested content and its size,
    /// or the IOS error text.
    async fn pull(&mut self, source: &str, limit: u64) -> Result<(ContentTracker, u64), String> {
        let Some(url) = parse_url(source) else {
            return Err(format!("%Error opening {source} (Invalid argument)\n"));
        };
        if !["tftp", "http", "https", "ftp", "scp"].contains(&url.scheme.as_str()) {
            return Err(format!(
                "%Error opening {source} (Protocol not supported by this lab device)\n"
            ));
        }
        let Ok(host) = url.host.parse::<IpAddr>() else {
            return Err(format!("%Error opening {source} (Unknown host)\n"));
        };
        let faults = self.device.lock().faults.clone();
        let limits = TransferLimits {
            stall_after_bytes: faults.transfer_stall_after_bytes,
            bytes_per_sec: faults.bandwidth_bytes_per_sec,
        };
        // The corruption fault flips one byte past the image header.
        let mut corrupt_at = faults.corrupt_transfers.then_some(1024u64);
        // The password typed at the SCP prompt is not echoed back.
        let source = &if url.scheme == "scp" {
            source.replace(
                &format!(":{}@", url.password.clone().unwrap_or_default()),
                "@",
            )
        } else {
            source.to_string()
        };
        let loading = if url.scheme == "tftp" {
            format!("Loading {} from {} (via Vlan1): ", url.path, url.host)
        } else if url.scheme == "scp" {
            // The size is only known once the server's `C` line arrives.
            String::new()
        } else if url.scheme == "ftp" {
            format!("Loading /{} ", url.path)
        } else {
            format!("Loading {source} ")
        };
        self.send(&crlf(&format!("Accessing {source}...\n{loading}")))
            .await;
        let mut tracker = ContentTracker::new();
        let (progress_sender, mut progress) = tokio::sync::mpsc::unbounded_channel::<()>();
        let mut blocks = 0u64;
        let local = self.device.address;
        let result = {
            let sink = |bytes: &[u8]| {
                if tracker.size() + bytes.len() as u64 > limit {
                    return false;
                }
                receive(&mut tracker, bytes, &mut corrupt_at);
                blocks += 1;
                if blocks % 20 == 0 {
                    let _ = progress_sender.send(());
                }
                true
            };
            let transfer = fetch(local, &url, host, limits, sink);
            tokio::pin!(transfer);
            loop {
                tokio::select! {
                    result = &mut transfer => break result,
                    Some(()) = progress.recv() => self.send("!").await,
                }
            }
        };
        match result {
            Ok(total) => Ok((tracker, total)),
            Err(TransferFailure::NoSpace) => Err(format!(
                "\n%Error copying {source} (Not enough space on device)\n"
            )),
            Err(failure) => Err(format!(
                "\n%Error opening {source} ({})\n",
                failure.ios_reason()
            )),
        }
    }

    /// `archive download-sw` from a server: the archive streams through
    /// memory (never stored whole in flash), then installs on the members.
    async fn download_sw(&mut self, source: &str, options: &DownloadOptions) {
        // A real switch streams the tar; the lab keeps only entry summaries.
        let pulled = self.pull(source, u64::MAX).await;
        let (tracker, total) = match pulled {
            Ok(pulled) => pulled,
            Err(text) => {
                self.send(&crlf(&text)).await;
                return;
            }
        };
        self.send(&crlf(&format!("\n[OK - {total} bytes]\n\n")))
            .await;
        let record = tracker.finish("update.tar", 0);
        let summary = record.archive.unwrap_or(crate::archive::ArchiveSummary {
            entries: Vec::new(),
            failure: Some(crate::archive::ArchiveFailure::Checksum),
        });
        let outcome = {
            let mut device = self.device.lock();
            install_archive(&mut device, &summary, options, Instant::now())
        };
        self.send(&crlf(&outcome.output)).await;
        if outcome.reload {
            self.act_reload();
        }
    }

    /// `copy flash:X tftp://host/path`: the device pushes the file (TFTP
    /// write request from its own address).
    async fn upload(&mut self, file_system: &str, path: &str, url: &TransferUrl) -> String {
        let started = Instant::now();
        let shown = format!("{file_system}{path}");
        let record = self
            .device
            .lock()
            .file_system(file_system)
            .and_then(|fs| fs.file(path))
            .cloned();
        let Some(record) = record else {
            return format!("%Error opening {shown} (No such file or directory)\n");
        };
        let target = format!("{}://{}/{}", url.scheme, url.host, url.path);
        if !["tftp", "ftp", "scp", "http", "https"].contains(&url.scheme.as_str()) {
            return format!(
                "%Error opening {target} (Protocol not supported by this lab device)\n"
            );
        }
        let Ok(host) = url.host.parse::<IpAddr>() else {
            return format!("%Error opening {target} (Unknown host)\n");
        };
        // Flash keeps digests, not bytes: rebuild (and check) the content.
        let Some(content) = crate::upload::file_content(&record) else {
            return format!(
                "%Error reading {shown} (I/O error: the lab keeps only digests of this file)\n"
            );
        };
        let local = self.device.address;
        let timeout = Duration::from_secs(2);
        let result = if url.scheme == "ftp" {
            ftp_put(local, &ftp_target(url, host), timeout, &content).await
        } else if url.scheme == "http" || url.scheme == "https" {
            let tls = url.scheme == "https";
            let port = url.port.unwrap_or(if tls { 443 } else { 80 });
            let server = SocketAddr::new(host, port);
            http_put(local, server, &url.host, &url.path, tls, timeout, &content).await
        } else if url.scheme == "scp" {
            let target = scp_target(url, host);
            scp_put(local, &target, Duration::from_secs(10), &content).await
        } else {
            let server = SocketAddr::new(host, url.port.unwrap_or(69));
            tftp_put(local, server, &url.path, timeout, &content, |_| {}).await
        };
        match result {
            Ok(total) => {
                let elapsed = started.elapsed().as_secs_f64().max(0.001);
                let bangs = "!".repeat((total / (10 * 1024)).clamp(1, 70) as usize);
                format!(
                    "{bangs}\n{total} bytes copied in {elapsed:.3} secs ({} bytes/sec)\n",
                    (total as f64 / elapsed) as u64
                )
            }
            Err(failure) => format!("%Error opening {target} ({})\n", failure.ios_reason()),
        }
    }

    fn act_reload(&mut self) {
        self.device.reload();
        self.closed = true;
    }

    /// `reload slot N`: the member boots again after the reload delay while
    /// the rest of the stack (and this session) stays up.
    fn reload_member(&self, number: u32) {
        let delay = {
            let mut device = self.device.lock();
            device.reload_member(number);
            device.reload_delay
        };
        let device = self.device.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            device.lock().boot_member(number);
        });
    }

    fn copy_local(&self, source: &str, file_system: &str, path: &str, started: Instant) -> String {
        let (source_fs, source_path) = split_file_path(source);
        let mut device = self.device.lock();
        let Some(record) = device
            .file_system(&source_fs)
            .and_then(|fs| fs.file(&source_path))
            .cloned()
        else {
            return format!(
                "%Error opening {source_fs}/{source_path} (No such file or directory)\n"
            );
        };
        let size = record.size;
        let record = crate::files::FileRecord {
            path: path.to_string(),
            ..record
        };
        let stored = device
            .file_system_mut(file_system)
            .is_some_and(|fs| fs.store(record));
        if !stored {
            return format!("%Error copying {source} (Not enough space on device)\n");
        }
        let elapsed = started.elapsed().as_secs_f64().max(0.001);
        let dots = "C".repeat((size / (256 * 1024)).clamp(1, 64) as usize);
        format!(
            "Copy in progress...{dots}\n{size} bytes copied in {elapsed:.3} secs ({} bytes/sec)\n",
            (size as f64 / elapsed) as u64
        )
    }
}
