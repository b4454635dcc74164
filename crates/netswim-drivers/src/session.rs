//! The SSH CLI session engine: one interactive PTY shell on one device,
//! driven like an engineer types (login, learn the prompt, `enable`, paging
//! off, one command at a time, answering confirmations), over russh.
//!
//! Why by hand on top of russh: no maintained Rust crate drives a network
//! device's CLI (prompt learning, `enable`, `--More--`-free output,
//! `[confirm]` questions); russh does the SSH protocol, this module the CLI.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::ChannelMsg;
use russh::cipher;
use russh::client::{self, Handle, KeyboardInteractiveAuthResponse};
use russh::kex;
use russh::keys::PublicKeyOrCertificate;
use russh::keys::ssh_key::{HashAlg, PublicKey};
use russh::mac;
use russh::{MethodKind, Preferred};
use tokio::time::Instant;

use crate::DriverError;

/// Which SSH algorithms a session offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithms {
    /// russh's defaults only (curve25519, Ed25519/ECDSA/RSA-SHA2, AEAD and CTR ciphers).
    #[default]
    Modern,
    /// The modern set first, then what old IOS speaks: diffie-hellman-group14-sha1
    /// and group1-sha1, `ssh-rsa` (SHA-1) host keys, aes-cbc, hmac-sha1. The
    /// modern set stays preferred, so a device that speaks it still gets it.
    Legacy,
}

const LEGACY_KEX: &[kex::Name] = &[
    kex::MLKEM768X25519_SHA256,
    kex::CURVE25519,
    kex::CURVE25519_PRE_RFC_8731,
    kex::DH_GEX_SHA256,
    kex::DH_G16_SHA512,
    kex::DH_G14_SHA256,
    kex::DH_G14_SHA1,
    kex::DH_G1_SHA1,
    kex::EXTENSION_SUPPORT_AS_CLIENT,
    kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
];

const LEGACY_CIPHERS: &[cipher::Name] = &[
    cipher::CHACHA20_POLY1305,
    cipher::AES_256_GCM,
    cipher::AES_256_CTR,
    cipher::AES_128_CTR,
    cipher::AES_256_CBC,
    cipher::AES_128_CBC,
];

const LEGACY_MACS: &[mac::Name] = &[
    mac::HMAC_SHA256_ETM,
    mac::HMAC_SHA512_ETM,
    mac::HMAC_SHA256,
    mac::HMAC_SHA512,
    mac::HMAC_SHA1,
];

impl Algorithms {
    fn preferred(self) -> Preferred {
        match self {
            Algorithms::Modern => Preferred::default(),
            Algorithms::Legacy => Preferred {
                kex: LEGACY_KEX.into(),
                // The default key list already ends with `ssh-rsa` (SHA-1).
                key: Preferred::DEFAULT.key,
                cipher: LEGACY_CIPHERS.into(),
                mac: LEGACY_MACS.into(),
                ..Preferred::default()
            },
        }
    }
}

/// How to reach and log in to one device.
#[derive(Clone)]
pub struct SessionOptions {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// Sent to `enable` when the device logs us in at a `>` prompt.
    pub enable_secret: Option<String>,
    pub algorithms: Algorithms,
    /// TCP connect, SSH handshake, authentication and reaching the first prompt.
    pub connect_timeout: Duration,
    /// One command, from sending it to the prompt coming back.
    pub command_timeout: Duration,
    /// The host key pinned earlier (OpenSSH public key text); `None` trusts on first use.
    pub pinned_host_key: Option<String>,
    /// Try keyboard-interactive before password (devices whose AAA only
    /// answers keyboard-interactive, and lock out after failed passwords).
    pub keyboard_interactive_first: bool,
}

impl std::fmt::Debug for SessionOptions {
    // Never print the password or the enable secret.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SessionOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("algorithms", &self.algorithms)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("pinned_host_key", &self.pinned_host_key)
            .field(
                "keyboard_interactive_first",
                &self.keyboard_interactive_first,
            )
            .finish_non_exhaustive()
    }
}

impl SessionOptions {
    /// Options with the usual timeouts (15 s connect, 60 s per command).
    pub fn new(host: &str, port: u16, username: &str, password: &str) -> Self {
        Self {
            host: host.to_string(),
            port,
            username: username.to_string(),
            password: password.to_string(),
            enable_secret: None,
            algorithms: Algorithms::Modern,
            connect_timeout: Duration::from_secs(15),
            command_timeout: Duration::from_secs(60),
            pinned_host_key: None,
            keyboard_interactive_first: false,
        }
    }
}

/// SHA-256 fingerprint of an OpenSSH public key as `ssh-keygen -l` prints it.
pub fn fingerprint(openssh_key: &str) -> Result<String, DriverError> {
    let key =
        PublicKey::from_openssh(openssh_key.trim()).map_err(|error| DriverError::BadPinnedKey {
            reason: error.to_string(),
        })?;
    Ok(key.fingerprint(HashAlg::Sha256).to_string())
}

/// What the key check saw, shared between the russh handler and the session.
#[derive(Debug, Default)]
struct KeySeen {
    presented: Option<PublicKey>,
    mismatch: bool,
}

/// The russh client handler: pins the host key.
#[derive(Debug)]
struct KeyCheck {
    pinned: Option<PublicKey>,
    seen: Arc<Mutex<KeySeen>>,
}

impl client::Handler for KeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        presented: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match presented {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            // Network devices present bare keys; pin the certificate's key.
            PublicKeyOrCertificate::Certificate(certificate) => {
                PublicKey::new(certificate.public_key().clone(), "")
            }
        };
        let matches = self
            .pinned
            .as_ref()
            .is_none_or(|pinned| pinned.key_data() == key.key_data());
        if let Ok(mut seen) = self.seen.lock() {
            seen.presented = Some(key);
            seen.mismatch = !matches;
        }
        Ok(matches)
    }
}

/// The SSH authentication method that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    Password,
    KeyboardInteractive,
}

/// Privilege level of the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `>` prompt.
    User,
    /// `#` prompt.
    Privileged,
}

/// One answer to a question a command may ask (`[confirm]`, `Destination filename [x]?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// Text the question line contains.
    pub question: String,
    /// What to type (a newline follows), empty to accept the default.
    pub reply: String,
}

impl Answer {
    pub fn new(question: &str, reply: &str) -> Self {
        Self {
            question: question.to_string(),
            reply: reply.to_string(),
        }
    }

    /// Accept `[confirm]` and any `... [default]?` file name question with Enter.
    pub fn accept_defaults() -> Vec<Answer> {
        vec![Answer::new("[confirm]", ""), Answer::new("]?", "")]
    }
}

/// How a command that should end the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The device dropped the session (or fell silent); its output until then.
    Closed(String),
    /// The prompt came back: the device stays up; its output.
    Prompt(String),
}

/// An open CLI session on one device.
pub struct Session {
    options: SessionOptions,
    handle: Handle<KeyCheck>,
    channel: russh::Channel<client::Msg>,
    /// Output received and not yet consumed, normalised (no CR, backspaces applied).
    pending: String,
    hostname: String,
    mode: Mode,
    host_key: String,
    login: Login,
    /// Received bytes that end inside a UTF-8 character.
    undecoded: Vec<u8>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("host", &self.options.host)
            .field("hostname", &self.hostname)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects, logs in, learns the prompt, enters `enable` mode when a
    /// secret is given and turns paging off.
    pub async fn connect(options: SessionOptions) -> Result<Self, DriverError> {
        let deadline = Instant::now() + options.connect_timeout;
        let pinned = options
            .pinned_host_key
            .as_deref()
            .map(|text| {
                PublicKey::from_openssh(text.trim()).map_err(|error| DriverError::BadPinnedKey {
                    reason: error.to_string(),
                })
            })
            .transpose()?;
        let seen = Arc::new(Mutex::new(KeySeen::default()));
        let handler = KeyCheck {
            pinned: pinned.clone(),
            seen: seen.clone(),
        };
        let config = Arc::new(client::Config {
            preferred: options.algorithms.preferred(),
            inactivity_timeout: None,
            nodelay: true,
            ..Default::default()
        });
        let unreachable = |reason: String| DriverError::Unreachable {
            host: options.host.clone(),
            port: options.port,
            reason,
        };
        let connected = tokio::time::timeout_at(
            deadline,
            client::connect(config, (options.host.as_str(), options.port), handler),
        )
        .await
        .map_err(|_| {
            unreachable(format!(
                "no SSH handshake within {:?}",
                options.connect_timeout
            ))
        })?;
        let mut handle = match connected {
            Ok(handle) => handle,
            Err(error) => {
                let seen = seen
                    .lock()
                    .map(|seen| (seen.mismatch, seen.presented.clone()));
                if let (Ok((true, Some(presented))), Some(pinned)) = (seen, pinned) {
                    return Err(DriverError::HostKeyChanged {
                        host: options.host.clone(),
                        port: options.port,
                        pinned: pinned.fingerprint(HashAlg::Sha256).to_string(),
                        presented: presented.fingerprint(HashAlg::Sha256).to_string(),
                    });
                }
                return Err(unreachable(error.to_string()));
            }
        };
        let host_key = seen
            .lock()
            .ok()
            .and_then(|seen| seen.presented.clone())
            .ok_or_else(|| unreachable("the server presented no host key".into()))?
            .to_openssh()
            .map_err(|error| unreachable(error.to_string()))?;
        let login = tokio::time::timeout_at(deadline, authenticate(&mut handle, &options))
            .await
            .map_err(|_| DriverError::Timeout {
                host: options.host.clone(),
                what: "authenticating".into(),
                after: options.connect_timeout,
            })??;
        let channel = tokio::time::timeout_at(deadline, open_shell(&handle))
            .await
            .map_err(|_| DriverError::Timeout {
                host: options.host.clone(),
                what: "opening the shell".into(),
                after: options.connect_timeout,
            })?
            .map_err(|error| DriverError::Session {
                host: options.host.clone(),
                reason: format!("cannot open a shell: {error}"),
            })?;
        let mut session = Session {
            options,
            handle,
            channel,
            pending: String::new(),
            hostname: String::new(),
            mode: Mode::User,
            host_key,
            login,
            undecoded: Vec::new(),
        };
        session.log_in(deadline).await?;
        Ok(session)
    }

    /// The device's host key as OpenSSH public key text, to pin.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    /// How the device let us in.
    pub fn login(&self) -> Login {
        self.login
    }

    /// The hostname learned from the prompt.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The shell's privilege level.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The options this session was opened with.
    pub fn options(&self) -> &SessionOptions {
        &self.options
    }

    /// Runs one command and returns its output (without the echo and the prompt).
    pub async fn run(&mut self, command: &str) -> Result<String, DriverError> {
        self.run_answering(command, &[]).await
    }

    /// Runs a command that asks questions, answering the ones `answers` knows;
    /// a question without an answer is a timeout, never a guess.
    pub async fn run_answering(
        &mut self,
        command: &str,
        answers: &[Answer],
    ) -> Result<String, DriverError> {
        self.run_answering_within(command, answers, self.options.command_timeout)
            .await
    }

    /// [`Session::run_answering`] with its own timeout instead of the
    /// session's per-command one (image copies, installs).
    pub async fn run_answering_within(
        &mut self,
        command: &str,
        answers: &[Answer],
        timeout: Duration,
    ) -> Result<String, DriverError> {
        let deadline = Instant::now() + timeout;
        self.pending.clear();
        self.send(&format!("{command}\n")).await?;
        let mut answered_at = 0;
        loop {
            if let Some(output) = self.take_until_prompt() {
                let output = strip_echo(&output, command);
                return match rejection(&output) {
                    Some(message) => Err(DriverError::CommandRejected {
                        host: self.options.host.clone(),
                        command: command.to_string(),
                        message,
                    }),
                    None => Ok(output),
                };
            }
            // Answer a question once per time it appears (by position).
            if self.pending.len() > answered_at {
                let last = last_line(&self.pending);
                if looks_like_question(last)
                    && let Some(answer) = answers
                        .iter()
                        .find(|answer| last.contains(answer.question.as_str()))
                {
                    answered_at = self.pending.len();
                    let reply = format!("{}\n", answer.reply);
                    self.send(&reply).await?;
                    continue;
                }
            }
            self.receive(deadline, timeout, command).await?;
        }
    }

    /// Runs a command after which the device should drop the session
    /// (`reload`, an install that reloads), answering its questions:
    /// [`Ending::Closed`] when the session ends (or falls silent after an
    /// answer, as a reloading device may leave its TCP connection open),
    /// [`Ending::Prompt`] when the prompt came back instead. A question
    /// without an answer is a timeout.
    pub async fn run_until_closed(
        &mut self,
        command: &str,
        answers: &[Answer],
        timeout: Duration,
    ) -> Result<Ending, DriverError> {
        let deadline = Instant::now() + timeout;
        self.pending.clear();
        self.send(&format!("{command}\n")).await?;
        let mut answered_at = 0;
        let mut answered_any = false;
        loop {
            if let Some(output) = self.take_until_prompt() {
                return Ok(Ending::Prompt(strip_echo(&output, command)));
            }
            if self.pending.len() > answered_at {
                let last = last_line(&self.pending);
                if looks_like_question(last)
                    && let Some(answer) = answers
                        .iter()
                        .find(|answer| last.contains(answer.question.as_str()))
                {
                    answered_at = self.pending.len();
                    answered_any = true;
                    let reply = format!("{}\n", answer.reply);
                    self.send(&reply).await?;
                    continue;
                }
            }
            match self.receive(deadline, timeout, command).await {
                Ok(()) => {}
                Err(DriverError::Session { .. }) => {
                    return Ok(Ending::Closed(strip_echo(&self.pending, command)));
                }
                Err(DriverError::Timeout { .. })
                    if answered_any && !looks_like_question(last_line(&self.pending)) =>
                {
                    return Ok(Ending::Closed(strip_echo(&self.pending, command)));
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Runs a command and answers `[confirm]` and `filename [x]?` with Enter.
    pub async fn run_confirming(&mut self, command: &str) -> Result<String, DriverError> {
        self.run_answering(command, &Answer::accept_defaults())
            .await
    }

    /// Drops the connection and logs in again (after a reload, a dropped
    /// session), retrying until the connect timeout has passed once more.
    pub async fn reconnect(&mut self) -> Result<(), DriverError> {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
        let mut options = self.options.clone();
        // Stay pinned to the key this session already saw.
        options.pinned_host_key = Some(self.host_key.clone());
        let deadline = Instant::now() + self.options.connect_timeout;
        loop {
            match Session::connect(options.clone()).await {
                Ok(session) => {
                    *self = session;
                    return Ok(());
                }
                Err(DriverError::Unreachable { .. }) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Logs out politely and closes the connection.
    pub async fn close(self) {
        let _ = self.channel.data(&b"exit\n"[..]).await;
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }

    async fn log_in(&mut self, deadline: Instant) -> Result<(), DriverError> {
        // Wait for the first prompt after the banner and learn the hostname.
        loop {
            let last = last_line(&self.pending).trim_end();
            if let Some((hostname, mode)) = parse_prompt(last) {
                self.hostname = hostname;
                self.mode = mode;
                self.pending.clear();
                break;
            }
            self.receive(
                deadline,
                self.options.connect_timeout,
                "waiting for the first prompt",
            )
            .await?;
        }
        if self.mode == Mode::User
            && let Some(secret) = self.options.enable_secret.clone()
        {
            self.enable(&secret, deadline).await?;
        }
        for command in ["terminal length 0", "terminal width 511"] {
            self.run(command).await?;
        }
        Ok(())
    }

    async fn enable(&mut self, secret: &str, deadline: Instant) -> Result<(), DriverError> {
        self.pending.clear();
        self.send("enable\n").await?;
        let mut sent_secret = false;
        loop {
            if let Some(output) = self.take_until_prompt() {
                if self.mode == Mode::Privileged {
                    return Ok(());
                }
                let reason = match output.lines().rev().find(|line| line.starts_with('%')) {
                    Some(line) => format!("enable refused: {}", line.trim()),
                    None => "enable secret refused".to_string(),
                };
                return Err(self.auth_failed(reason));
            }
            let last = last_line(&self.pending).trim_end();
            if last.ends_with("assword:") {
                if sent_secret {
                    // Asked again: the secret was wrong; give up the retries.
                    self.send("\x03").await?;
                    return Err(self.auth_failed("enable secret refused".into()));
                }
                sent_secret = true;
                let mut reply = secret.to_string();
                reply.push('\n');
                self.pending.clear();
                self.send(&reply).await?;
                continue;
            }
            self.receive(
                deadline,
                self.options.connect_timeout,
                "entering enable mode",
            )
            .await?;
        }
    }

    fn auth_failed(&self, reason: String) -> DriverError {
        DriverError::AuthFailed {
            host: self.options.host.clone(),
            port: self.options.port,
            username: self.options.username.clone(),
            reason,
        }
    }

    async fn send(&mut self, text: &str) -> Result<(), DriverError> {
        self.channel
            .data(text.as_bytes())
            .await
            .map_err(|error| DriverError::Session {
                host: self.options.host.clone(),
                reason: error.to_string(),
            })
    }

    /// Waits for the next piece of output and appends it to `pending`.
    async fn receive(
        &mut self,
        deadline: Instant,
        budget: Duration,
        what: &str,
    ) -> Result<(), DriverError> {
        let message = tokio::time::timeout_at(deadline, self.channel.wait())
            .await
            .map_err(|_| DriverError::Timeout {
                host: self.options.host.clone(),
                what: format!("`{what}` (last output: {:?})", tail(&self.pending, 80)),
                after: budget,
            })?;
        match message {
            Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                self.undecoded.extend_from_slice(&data);
                // A character split across two packets waits for its rest.
                let complete = match std::str::from_utf8(&self.undecoded) {
                    Ok(_) => self.undecoded.len(),
                    Err(error) if error.error_len().is_none() => error.valid_up_to(),
                    Err(_) => self.undecoded.len(),
                };
                let bytes: Vec<u8> = self.undecoded.drain(..complete).collect();
                push_normalised(&mut self.pending, &String::from_utf8_lossy(&bytes));
                Ok(())
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close | ChannelMsg::ExitStatus { .. }) | None => {
                Err(DriverError::Session {
                    host: self.options.host.clone(),
                    reason: format!("the device closed the session during `{what}`"),
                })
            }
            Some(_) => Ok(()),
        }
    }

    /// When `pending` ends with this device's prompt: the text before it,
    /// consumed, and the mode the prompt shows.
    fn take_until_prompt(&mut self) -> Option<String> {
        let cut = self.pending.rfind('\n').map_or(0, |index| index + 1);
        let last = self.pending[cut..].trim_end();
        let (hostname, mode) = parse_prompt(last)?;
        if hostname != self.hostname {
            return None;
        }
        self.mode = mode;
        let output = self.pending[..cut].to_string();
        self.pending.clear();
        Some(output)
    }
}

/// Password, then keyboard-interactive when the device offers it (many IOS
/// images answer every prompt of it with the password); in the other order
/// when `SessionOptions::keyboard_interactive_first` says so.
async fn authenticate(
    handle: &mut Handle<KeyCheck>,
    options: &SessionOptions,
) -> Result<Login, DriverError> {
    let broken = |error: russh::Error| DriverError::Unreachable {
        host: options.host.clone(),
        port: options.port,
        reason: format!("SSH session broke during authentication: {error}"),
    };
    if options.keyboard_interactive_first {
        if keyboard_interactive(handle, options)
            .await
            .map_err(broken)?
        {
            return Ok(Login::KeyboardInteractive);
        }
        if password(handle, options).await.map_err(broken)?.is_none() {
            return Ok(Login::Password);
        }
    } else {
        match password(handle, options).await.map_err(broken)? {
            None => return Ok(Login::Password),
            Some(remaining) if remaining.contains(&MethodKind::KeyboardInteractive) => {
                if keyboard_interactive(handle, options)
                    .await
                    .map_err(broken)?
                {
                    return Ok(Login::KeyboardInteractive);
                }
            }
            Some(_) => {}
        }
    }
    Err(DriverError::AuthFailed {
        host: options.host.clone(),
        port: options.port,
        username: options.username.clone(),
        reason: "password and keyboard-interactive login rejected".into(),
    })
}

/// `None` on success, else the methods the server still offers.
async fn password(
    handle: &mut Handle<KeyCheck>,
    options: &SessionOptions,
) -> Result<Option<russh::MethodSet>, russh::Error> {
    let result = handle
        .authenticate_password(options.username.clone(), options.password.clone())
        .await?;
    Ok(match result {
        client::AuthResult::Success => None,
        client::AuthResult::Failure {
            remaining_methods, ..
        } => Some(remaining_methods),
    })
}

async fn keyboard_interactive(
    handle: &mut Handle<KeyCheck>,
    options: &SessionOptions,
) -> Result<bool, russh::Error> {
    let mut response = handle
        .authenticate_keyboard_interactive_start(options.username.clone(), None)
        .await?;
    // A device asks a few rounds at most; more means it is looping on us.
    for _ in 0..5 {
        match response {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(false),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts
                    .iter()
                    .map(|prompt| {
                        if prompt.prompt.to_ascii_lowercase().contains("user") {
                            options.username.clone()
                        } else {
                            options.password.clone()
                        }
                    })
                    .collect();
                response = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await?;
            }
        }
    }
    Ok(false)
}

async fn open_shell(
    handle: &Handle<KeyCheck>,
) -> Result<russh::Channel<client::Msg>, russh::Error> {
    let channel = handle.channel_open_session().await?;
    // A wide terminal so the device does not wrap long lines.
    channel
        .request_pty(true, "vt100", 511, 24, 0, 0, &[])
        .await?;
    channel.request_shell(true).await?;
    Ok(channel)
}

/// Appends device output without carriage returns, with backspaces applied
/// and ANSI escape sequences dropped, so prompts and lines compare as text.
fn push_normalised(buffer: &mut String, text: &str) {
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '\r' | '\0' | '\x07' => {}
            '\x08' => {
                if !buffer.ends_with('\n') {
                    buffer.pop();
                }
            }
            '\x1b' => {
                // CSI: ESC [ params final-byte.
                if chars.peek() == Some(&'[') {
                    chars.next();
                    for next in chars.by_ref() {
                        if next.is_ascii_alphabetic() || next == '~' {
                            break;
                        }
                    }
                }
            }
            other => buffer.push(other),
        }
    }
}

fn last_line(text: &str) -> &str {
    text.rsplit('\n').next().unwrap_or(text)
}

fn tail(text: &str, count: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars[chars.len().saturating_sub(count)..].iter().collect()
}

/// `Switch>`, `Switch#`, `Switch(config-if)#`, `RP/0/RSP0/CPU0:router#` →
/// (hostname, mode). A line with spaces or other text is no prompt.
pub fn parse_prompt(line: &str) -> Option<(String, Mode)> {
    let line = line.trim_end();
    let (body, mode) = if let Some(body) = line.strip_suffix('#') {
        (body, Mode::Privileged)
    } else if let Some(body) = line.strip_suffix('>') {
        (body, Mode::User)
    } else {
        return None;
    };
    // Configuration submodes: `host(config-if)`.
    let hostname = match body.strip_suffix(')') {
        Some(inner) => inner.rsplit_once('(')?.0,
        None => body,
    };
    let valid = !hostname.is_empty()
        && hostname
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c));
    valid.then(|| (hostname.to_string(), mode))
}

fn looks_like_question(line: &str) -> bool {
    let line = line.trim_end();
    line.ends_with('?') || line.ends_with(']') || line.ends_with(':')
}

/// Drops the echoed command line from the start of the output.
fn strip_echo(output: &str, command: &str) -> String {
    match output.split_once('\n') {
        Some((first, rest)) if first.trim_end().ends_with(command.trim()) => rest.to_string(),
        _ if output.trim_end().ends_with(command.trim()) && !output.contains('\n') => String::new(),
        _ => output.to_string(),
    }
}

/// The device's words when it rejected a command.
fn rejection(output: &str) -> Option<String> {
    const MARKERS: [&str; 8] = [
        "%Error",
        "% Error",
        "% Invalid input",
        "% Incomplete command",
        "% Ambiguous command",
        "% Unknown command",
        "% Invalid command",
        "% Bad IP address",
    ];
    output
        .lines()
        .map(str::trim)
        .find(|line| MARKERS.iter().any(|marker| line.starts_with(marker)))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_recognised_with_their_mode() {
        let cases = [
            ("Switch>", Some(("Switch", Mode::User))),
            ("lab-sw-001#", Some(("lab-sw-001", Mode::Privileged))),
            ("core1(config-if)#", Some(("core1", Mode::Privileged))),
            (
                "RP/0/RSP0/CPU0:xr-pe1#",
                Some(("RP/0/RSP0/CPU0:xr-pe1", Mode::Privileged)),
            ),
            ("Destination filename [x.bin]? ", None),
            ("Proceed with reload? [confirm]", None),
            ("Password: ", None),
            ("a b#", None),
            ("#", None),
        ];
        for (line, expected) in cases {
            let expected = expected.map(|(host, mode)| (host.to_string(), mode));
            assert_eq!(parse_prompt(line), expected, "{line:?}");
        }
    }

    #[test]
    fn output_is_normalised_before_matching() {
        let mut buffer = String::new();
        push_normalised(
            &mut buffer,
            "ab\r\n --More-- \x08\x08\x08\x08\x08\x08\x08\x08\x08\x08line\x1b[K\r\n",
        );
        assert_eq!(buffer, "ab\nline\n");
    }

    #[test]
    fn rejections_are_found_in_the_output() {
        assert_eq!(
            rejection("        ^\n% Invalid input detected at '^' marker.\n").as_deref(),
            Some("% Invalid input detected at '^' marker.")
        );
        assert_eq!(rejection("Cisco IOS Software\n"), None);
    }

    #[test]
    fn the_echo_is_dropped() {
        assert_eq!(strip_echo("show clock\n*10:00\n", "show clock"), "*10:00\n");
        assert_eq!(strip_echo("terminal length 0", "terminal length 0"), "");
    }
}
