//! Shared helpers for the lab's integration tests: starting a small lab on
//! loopback, a russh client, and finding the third-party peers.

#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use netswim_lab::lab::{Lab, LabOptions, parse_mix};
use russh::ChannelMsg;
use russh::client::{self, Handle};

pub const USERNAME: &str = "admin";
pub const PASSWORD: &str = "lab-password";
pub const ENABLE_SECRET: &str = "lab-enable";

/// Starts a lab with ephemeral SSH ports on `base` (each test its own base).
pub async fn start_lab(base: &str, mix: &str, devices: usize) -> Lab {
    Lab::start(&lab_options(base, mix, devices)).await.unwrap()
}

/// The options `start_lab` uses, for tests that change one.
pub fn lab_options(base: &str, mix: &str, devices: usize) -> LabOptions {
    LabOptions {
        devices,
        mix: parse_mix(mix).unwrap(),
        address_base: base.parse::<Ipv4Addr>().unwrap(),
        ssh_port: 0,
        username: USERNAME.into(),
        password: PASSWORD.into(),
        enable_secret: ENABLE_SECRET.into(),
        reload_delay: Duration::from_secs(1),
        seed: 7,
        image_version: "15.2(2)E7".into(),
        image_size: 256 * 1024,
        flash_size: None,
    }
}

/// Waits until device `index` is no longer reloading and returns its status.
pub async fn wait_settled(lab: &Lab, index: usize) -> netswim_lab::lab::DeviceStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let status = lab.status().swap_remove(index);
        if status.state != "reloading" {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "device still reloading"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A client handler that trusts any host key (lab keys are fresh each run).
pub struct TrustingClient;

impl client::Handler for TrustingClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

pub async fn connect(address: SocketAddr) -> Handle<TrustingClient> {
    let config = Arc::new(client::Config::default());
    client::connect(config, address, TrustingClient)
        .await
        .unwrap()
}

pub async fn connect_with_password(address: SocketAddr) -> Handle<TrustingClient> {
    let mut handle = connect(address).await;
    let result = handle
        .authenticate_password(USERNAME, PASSWORD)
        .await
        .unwrap();
    assert!(result.success(), "password authentication failed");
    handle
}

/// Runs one command on an exec channel and returns its output and exit status.
pub async fn exec(handle: &Handle<TrustingClient>, command: &str) -> (String, Option<u32>) {
    let mut channel = handle.channel_open_session().await.unwrap();
    channel.exec(true, command).await.unwrap();
    let mut output = Vec::new();
    let mut status = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, channel.wait())
            .await
            .expect("exec channel timed out");
        match message {
            Some(ChannelMsg::Data { data }) => output.extend_from_slice(&data),
            Some(ChannelMsg::ExitStatus { exit_status }) => status = Some(exit_status),
            Some(ChannelMsg::Close) | None => break,
            Some(_) => {}
        }
    }
    (String::from_utf8_lossy(&output).to_string(), status)
}

/// An interactive PTY shell driven by a test.
pub struct Shell {
    pub channel: russh::Channel<client::Msg>,
    pub seen: String,
}

impl Shell {
    pub async fn open(handle: &Handle<TrustingClient>) -> Self {
        let channel = handle.channel_open_session().await.unwrap();
        channel
            .request_pty(true, "vt100", 80, 24, 0, 0, &[])
            .await
            .unwrap();
        channel.request_shell(true).await.unwrap();
        Self {
            channel,
            seen: String::new(),
        }
    }

    pub async fn send(&mut self, text: &str) {
        self.channel.data(text.as_bytes()).await.unwrap();
    }

    /// Reads until the output seen so far ends with `suffix`; returns what
    /// arrived since the last call.
    pub async fn read_until(&mut self, suffix: &str) -> String {
        let start = self.seen.len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.seen.len() == start || !self.seen.ends_with(suffix) {
            let message = tokio::time::timeout_at(deadline, self.channel.wait())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timed out waiting for {suffix:?}; got {:?}",
                        &self.seen[start..]
                    )
                });
            match message {
                Some(ChannelMsg::Data { data }) => {
                    self.seen.push_str(&String::from_utf8_lossy(&data))
                }
                Some(ChannelMsg::Close | ChannelMsg::Eof) | None => {
                    panic!(
                        "channel closed waiting for {suffix:?}; got {:?}",
                        &self.seen[start..]
                    )
                }
                Some(_) => {}
            }
        }
        self.seen[start..].to_string()
    }

    /// Reads until the channel closes (the device dropped the session).
    pub async fn read_to_close(&mut self) -> String {
        let start = self.seen.len();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            match tokio::time::timeout_at(deadline, self.channel.wait()).await {
                Ok(Some(ChannelMsg::Data { data })) => {
                    self.seen.push_str(&String::from_utf8_lossy(&data))
                }
                Ok(Some(ChannelMsg::Close | ChannelMsg::Eof) | None) => break,
                Ok(Some(_)) => {}
                Err(_) => panic!("session was not dropped"),
            }
        }
        self.seen[start..].to_string()
    }
}

/// Finds a third-party program or fails the test with the install hint.
pub fn require_peer(program: &str, package: &str) -> String {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .map(|output| output.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "interop peer `{program}` is missing: install it with `apt-get install -y {package}` \
         (a missing peer is a failure, never a skip)"
    );
    program.to_string()
}

/// OpenSSH client options that accept the lab's fresh host keys.
pub fn openssh_options(port: u16) -> Vec<String> {
    [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "ConnectTimeout=10",
        "-p",
    ]
    .iter()
    .map(|text| text.to_string())
    .chain([port.to_string()])
    .collect()
}

/// Starts `in.tftpd` on an ephemeral loopback port and waits until it answers.
pub async fn start_tftpd(root: &std::path::Path) -> (tokio::process::Child, u16) {
    let program = require_peer("in.tftpd", "tftpd-hpa");
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(program)
        .args(["-L", "-a", &format!("127.0.0.1:{port}"), "-s"])
        .arg(root)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("in.tftpd starts");
    // A read request for a missing file gets an ERROR packet once it listens.
    let probe = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let request = b"\x00\x01no-such-file\x00octet\x00";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        probe.send_to(request, ("127.0.0.1", port)).await.unwrap();
        let mut buffer = [0u8; 512];
        let answer =
            tokio::time::timeout(Duration::from_millis(200), probe.recv_from(&mut buffer)).await;
        if matches!(answer, Ok(Ok(_))) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "in.tftpd never answered"
        );
    }
    (child, port)
}
