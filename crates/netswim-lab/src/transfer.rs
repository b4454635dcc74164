//! The device's file-transfer clients: a TFTP client (RFC 1350, octet mode,
//! 512-byte blocks as IOS uses by default) for reads and writes, and a plain
//! HTTP/1.0 GET client, that pull from or push to wherever a `copy` URL
//! points, and the parsing of those URLs. Hand-written rather than
//! netswim-tftp's client because the device must send from its own loopback
//! address and feed received blocks straight into its digests and faults.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::net::UdpSocket;

/// Where a `copy` source URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferUrl {
    pub scheme: String,
    pub host: String,
    /// Explicit port, when the URL carries one (a lab extension for tests).
    pub port: Option<u16>,
    pub path: String,
    /// `user[:password]@` before the host (FTP, SCP).
    pub user: Option<String>,
    pub password: Option<String>,
}

/// Parses `tftp://host[:port]/path`; `None` when it is not a URL.
pub fn parse_url(text: &str) -> Option<TransferUrl> {
    let (scheme, rest) = text.split_once("://")?;
    let (authority, path) = rest.split_once('/')?;
    let (userinfo, authority) = match authority.rsplit_once('@') {
        Some((userinfo, host)) => (Some(userinfo), host),
        None => (None, authority),
    };
    let (user, password) = match userinfo.map(|info| info.split_once(':')) {
        Some(Some((user, password))) => (Some(user.to_string()), Some(password.to_string())),
        Some(None) => (userinfo.map(str::to_string), None),
        None => (None, None),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse().ok()?)),
        None => (authority, None),
    };
    if host.is_empty() || path.is_empty() {
        return None;
    }
    Some(TransferUrl {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_string(),
        port,
        path: path.to_string(),
        user,
        password,
    })
}

/// Why a transfer failed, worded as IOS words it in `%Error opening/copying`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferFailure {
    /// The server answered with a TFTP error.
    Server {
        code: u16,
        message: String,
    },
    TimedOut,
    /// The sink refused more bytes (flash full).
    NoSpace,
    Network(String),
}

impl TransferFailure {
    /// The parenthesised reason IOS prints.
    pub fn ios_reason(&self) -> String {
        match self {
            TransferFailure::Server { code: 1, .. } => "No such file or directory".into(),
            TransferFailure::Server { code: 2, .. } => "Permission denied".into(),
            TransferFailure::Server { message, .. } => message.clone(),
            TransferFailure::TimedOut => "Timed out".into(),
            TransferFailure::NoSpace => "Not enough space on device".into(),
            TransferFailure::Network(message) => message.clone(),
        }
    }
}

/// Slow-downs a fault asks a transfer to suffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferLimits {
    /// Stop making progress after this many bytes (the peer sees silence).
    pub stall_after_bytes: Option<u64>,
    pub bytes_per_sec: Option<u64>,
}

impl TransferLimits {
    /// Waits as the limits demand after `total` bytes arrived since `started`.
    pub(crate) async fn pace(&self, total: u64, started: tokio::time::Instant) {
        if let Some(stall) = self.stall_after_bytes
            && total >= stall
        {
            std::future::pending::<()>().await;
        }
        if let Some(rate) = self.bytes_per_sec.filter(|rate| *rate > 0) {
            let due = started + Duration::from_secs_f64(total as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
        }
    }
}

const OPCODE_RRQ: u16 = 1;
const OPCODE_WRQ: u16 = 2;
const OPCODE_DATA: u16 = 3;
const OPCODE_ACK: u16 = 4;
const OPCODE_ERROR: u16 = 5;
const BLOCK_SIZE: usize = 512;
const RETRIES: u32 = 5;

fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

/// Downloads `path` from a TFTP server, feeding each block to `sink`; `sink`
/// returns false to abort (no space). Returns the byte count.
pub async fn tftp_get(
    local: IpAddr,
    server: SocketAddr,
    path: &str,
    timeout: Duration,
    limits: TransferLimits,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    let started = tokio::time::Instant::now();
    let network = |error: std::io::Error| TransferFailure::Network(error.to_string());
    let socket = UdpSocket::bind(SocketAddr::new(local, 0))
        .await
        .map_err(network)?;
    let mut request = Vec::with_capacity(path.len() + 16);
    request.extend_from_slice(&OPCODE_RRQ.to_be_bytes());
    request.extend_from_slice(path.as_bytes());
    request.push(0);
    request.extend_from_slice(b"octet");
    request.push(0);

    let mut last_sent = request;
    let mut last_target = server;
    let mut peer: Option<SocketAddr> = None;
    let mut expected_block: u16 = 1;
    let mut total: u64 = 0;
    let mut buffer = vec![0u8; BLOCK_SIZE + 4];
    let mut retries = 0;
    socket
        .send_to(&last_sent, last_target)
        .await
        .map_err(network)?;
    loop {
        let received = tokio::time::timeout(timeout, socket.recv_from(&mut buffer)).await;
        let (length, from) = match received {
            Err(_) => {
                retries += 1;
                if retries > RETRIES {
                    return Err(TransferFailure::TimedOut);
                }
                socket
                    .send_to(&last_sent, last_target)
                    .await
                    .map_err(network)?;
                continue;
            }
            Ok(result) => result.map_err(network)?,
        };
        // The server answers from a new port (its transfer ID); others are strays.
        match peer {
            None if from.ip() == server.ip() => peer = Some(from),
            Some(known) if known == from => {}
            _ => continue,
        }
        let packet = &buffer[..length];
        match read_u16(packet, 0) {
            Some(OPCODE_DATA) => {
                let Some(block) = read_u16(packet, 2) else {
                    continue;
                };
                let data = &packet[4..];
                if block == expected_block {
                    if !sink(data) {
                        let mut error = OPCODE_ERROR.to_be_bytes().to_vec();
                        error.extend_from_slice(&3u16.to_be_bytes());
                        error.extend_from_slice(b"Disk full or allocation exceeded\0");
                        let _ = socket.send_to(&error, from).await;
                        return Err(TransferFailure::NoSpace);
                    }
                    total += data.len() as u64;
                    retries = 0;
                    limits.pace(total, started).await;
                    let mut ack = OPCODE_ACK.to_be_bytes().to_vec();
                    ack.extend_from_slice(&block.to_be_bytes());
                    socket.send_to(&ack, from).await.map_err(network)?;
                    last_sent = ack;
                    last_target = from;
                    if data.len() < BLOCK_SIZE {
                        return Ok(total);
                    }
                    expected_block = expected_block.wrapping_add(1);
                } else if block == expected_block.wrapping_sub(1) {
                    // Our ACK was lost: say it again.
                    socket.send_to(&last_sent, from).await.map_err(network)?;
                }
            }
            Some(OPCODE_ERROR) => {
                let code = read_u16(packet, 2).unwrap_or(0);
                let message = packet
                    .get(4..)
                    .map(|bytes| {
                        String::from_utf8_lossy(bytes)
                            .trim_end_matches('\0')
                            .to_string()
                    })
                    .unwrap_or_default();
                return Err(TransferFailure::Server { code, message });
            }
            _ => continue,
        }
    }
}

/// Uploads `content` as `path` to a TFTP server (WRQ), sending from the
/// device's address; `progress` is called after each acknowledged block.
/// Returns the byte count.
pub async fn tftp_put(
    local: IpAddr,
    server: SocketAddr,
    path: &str,
    timeout: Duration,
    content: &[u8],
    mut progress: impl FnMut(u64),
) -> Result<u64, TransferFailure> {
    let network = |error: std::io::Error| TransferFailure::Network(error.to_string());
    let socket = UdpSocket::bind(SocketAddr::new(local, 0))
        .await
        .map_err(network)?;
    let mut request = Vec::with_capacity(path.len() + 16);
    request.extend_from_slice(&OPCODE_WRQ.to_be_bytes());
    request.extend_from_slice(path.as_bytes());
    request.push(0);
    request.extend_from_slice(b"octet");
    request.push(0);
    // Block n carries bytes (n-1)*512..; a final short (maybe empty) block ends it.
    let blocks = content.len() / BLOCK_SIZE + 1;
    let mut last_sent = request;
    let mut target = server;
    let mut peer: Option<SocketAddr> = None;
    // The ACK we wait for: 0 for the WRQ, then each block's number.
    let mut awaited: usize = 0;
    let mut buffer = vec![0u8; BLOCK_SIZE + 4];
    let mut retries = 0;
    socket.send_to(&last_sent, target).await.map_err(network)?;
    loop {
        let received = tokio::time::timeout(timeout, socket.recv_from(&mut buffer)).await;
        let (length, from) = match received {
            Err(_) => {
                retries += 1;
                if retries > RETRIES {
                    return Err(TransferFailure::TimedOut);
                }
                socket.send_to(&last_sent, target).await.map_err(network)?;
                continue;
            }
            Ok(result) => result.map_err(network)?,
        };
        match peer {
            None if from.ip() == server.ip() => peer = Some(from),
            Some(known) if known == from => {}
            _ => continue,
        }
        let packet = &buffer[..length];
        match read_u16(packet, 0) {
            Some(OPCODE_ACK) => {
                let Some(block) = read_u16(packet, 2) else {
                    continue;
                };
                if block != (awaited as u16) {
                    // A duplicate ACK: ignore it (no Sorcerer's Apprentice).
                    continue;
                }
                retries = 0;
                if awaited > 0 {
                    progress((awaited * BLOCK_SIZE).min(content.len()) as u64);
                }
                if awaited == blocks {
                    return Ok(content.len() as u64);
                }
                awaited += 1;
                let start = (awaited - 1) * BLOCK_SIZE;
                let end = (start + BLOCK_SIZE).min(content.len());
                let mut data = OPCODE_DATA.to_be_bytes().to_vec();
                data.extend_from_slice(&(awaited as u16).to_be_bytes());
                data.extend_from_slice(&content[start..end]);
                target = from;
                socket.send_to(&data, target).await.map_err(network)?;
                last_sent = data;
            }
            Some(OPCODE_ERROR) => {
                let code = read_u16(packet, 2).unwrap_or(0);
                let message = packet
                    .get(4..)
                    .map(|bytes| {
                        String::from_utf8_lossy(bytes)
                            .trim_end_matches('\0')
                            .to_string()
                    })
                    .unwrap_or_default();
                return Err(TransferFailure::Server { code, message });
            }
            _ => continue,
        }
    }
}

/// Downloads `path` over HTTP/1.0 from `server`, connecting from the device's
/// address, feeding the body to `sink`. Returns the byte count.
pub async fn http_get(
    local: IpAddr,
    server: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
    limits: TransferLimits,
    sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    let stream = connect_from(local, server, timeout).await?;
    http_get_over(stream, host, path, timeout, limits, sink).await
}

/// Connects a TCP stream from the device's own address.
pub(crate) async fn connect_from(
    local: IpAddr,
    server: SocketAddr,
    timeout: Duration,
) -> Result<tokio::net::TcpStream, TransferFailure> {
    let network = |error: std::io::Error| TransferFailure::Network(error.to_string());
    let socket = match local {
        IpAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
        IpAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
    }
    .map_err(network)?;
    socket.bind(SocketAddr::new(local, 0)).map_err(network)?;
    tokio::time::timeout(timeout, socket.connect(server))
        .await
        .map_err(|_| TransferFailure::TimedOut)?
        .map_err(|error| TransferFailure::Network(format!("Connection refused: {error}")))
}

/// Downloads `path` over HTTPS (TLS over the device's own TCP connection).
/// Like a switch without a trustpoint for the server, the lab device does
/// not verify the server's certificate; the transfer is still real TLS.
pub async fn https_get(
    local: IpAddr,
    server: SocketAddr,
    host: &str,
    path: &str,
    timeout: Duration,
    limits: TransferLimits,
    sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    let stream = connect_from(local, server, timeout).await?;
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| TransferFailure::Network(format!("bad server name {host}")))?;
    let connector = crate::tls::connector()
        .map_err(|error| TransferFailure::Network(format!("TLS unavailable: {error}")))?;
    let tls = tokio::time::timeout(timeout, connector.connect(name, stream))
        .await
        .map_err(|_| TransferFailure::TimedOut)?
        .map_err(|error| TransferFailure::Network(format!("TLS handshake failed: {error}")))?;
    http_get_over(tls, host, path, timeout, limits, sink).await
}

/// Uploads `content` as `path` with an HTTP/1.1 PUT (IOS's `copy flash:X
/// http://...`), from the device's address over plain TCP or TLS.
pub async fn http_put(
    local: IpAddr,
    server: SocketAddr,
    host: &str,
    path: &str,
    tls: bool,
    timeout: Duration,
    content: &[u8],
) -> Result<u64, TransferFailure> {
    let stream = connect_from(local, server, timeout).await?;
    if !tls {
        return http_put_over(stream, host, path, timeout, content).await;
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| TransferFailure::Network(format!("bad server name {host}")))?;
    let connector = crate::tls::connector()
        .map_err(|error| TransferFailure::Network(format!("TLS unavailable: {error}")))?;
    let stream = tokio::time::timeout(timeout, connector.connect(name, stream))
        .await
        .map_err(|_| TransferFailure::TimedOut)?
        .map_err(|error| TransferFailure::Network(format!("TLS handshake failed: {error}")))?;
    http_put_over(stream, host, path, timeout, content).await
}

async fn http_put_over<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    path: &str,
    timeout: Duration,
    content: &[u8],
) -> Result<u64, TransferFailure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let network = |error: std::io::Error| TransferFailure::Network(error.to_string());
    let head = format!(
        "PUT /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: cisco-IOS\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        content.len()
    );
    stream.write_all(head.as_bytes()).await.map_err(network)?;
    stream.write_all(content).await.map_err(network)?;
    stream.flush().await.map_err(network)?;
    let mut reply = Vec::new();
    let mut buffer = [0u8; 1024];
    // The status line is all the device needs.
    while !reply.windows(2).any(|window| window == b"\r\n") {
        let read = tokio::time::timeout(timeout, stream.read(&mut buffer))
            .await
            .map_err(|_| TransferFailure::TimedOut)?
            .map_err(network)?;
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&buffer[..read]);
    }
    let status: u16 = String::from_utf8_lossy(&reply)
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    match status {
        200..=299 => Ok(content.len() as u64),
        401 | 403 | 405 => Err(TransferFailure::Server {
            code: 2,
            message: "Permission denied".into(),
        }),
        404 => Err(TransferFailure::Server {
            code: 1,
            message: "Not Found".into(),
        }),
        other => Err(TransferFailure::Server {
            code: 0,
            message: format!("HTTP status {other}"),
        }),
    }
}

/// The HTTP/1.0 GET itself, over any stream.
async fn http_get_over<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    path: &str,
    timeout: Duration,
    limits: TransferLimits,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = tokio::time::Instant::now();
    let network = |error: std::io::Error| TransferFailure::Network(error.to_string());
    let request = format!(
        "GET /{path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: cisco-IOS\r\nAccept: */*\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(network)?;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut head = Vec::new();
    // Read until the end of the headers.
    let body_start = loop {
        let read = tokio::time::timeout(timeout, stream.read(&mut buffer))
            .await
            .map_err(|_| TransferFailure::TimedOut)?
            .map_err(network)?;
        if read == 0 {
            return Err(TransferFailure::Network(
                "Connection closed by server".into(),
            ));
        }
        head.extend_from_slice(&buffer[..read]);
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        if head.len() > 64 * 1024 {
            return Err(TransferFailure::Network("Bad HTTP response".into()));
        }
    };
    let head_text = String::from_utf8_lossy(&head[..body_start]).to_string();
    let status: u16 = head_text
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    match status {
        200 => {}
        404 => {
            return Err(TransferFailure::Server {
                code: 1,
                message: "Not Found".into(),
            });
        }
        403 | 401 => {
            return Err(TransferFailure::Server {
                code: 2,
                message: "Forbidden".into(),
            });
        }
        other => {
            return Err(TransferFailure::Server {
                code: 0,
                message: format!("HTTP status {other}"),
            });
        }
    }
    let mut total = 0u64;
    let first = &head[body_start..];
    if !first.is_empty() {
        if !sink(first) {
            return Err(TransferFailure::NoSpace);
        }
        total += first.len() as u64;
        limits.pace(total, started).await;
    }
    // With a Content-Length the body ends there: TLS servers may close
    // without a close_notify, which reads as an error rather than an end.
    let length: Option<u64> = head_text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    });
    loop {
        if length.is_some_and(|length| total >= length) {
            return Ok(total);
        }
        let read = tokio::time::timeout(timeout, stream.read(&mut buffer))
            .await
            .map_err(|_| TransferFailure::TimedOut)?
            .map_err(network)?;
        if read == 0 {
            return Ok(total);
        }
        if !sink(&buffer[..read]) {
            return Err(TransferFailure::NoSpace);
        }
        total += read as u64;
        limits.pace(total, started).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_host_port_and_path() {
        let check = |text: &str, expected: Option<(&str, &str, Option<u16>, &str)>| {
            let parsed = parse_url(text);
            let actual = parsed.as_ref().map(|url| {
                (
                    url.scheme.as_str(),
                    url.host.as_str(),
                    url.port,
                    url.path.as_str(),
                )
            });
            assert_eq!(actual, expected, "{text}");
        };
        check(
            "tftp://10.1.1.1/img.bin",
            Some(("tftp", "10.1.1.1", None, "img.bin")),
        );
        check(
            "tftp://127.0.0.1:6969/dir/img.bin",
            Some(("tftp", "127.0.0.1", Some(6969), "dir/img.bin")),
        );
        check("http://user:pw@host/x", Some(("http", "host", None, "x")));
        check("flash:x.bin", None);
        let ftp = parse_url("ftp://backup:s3cret@10.0.0.9:2121/images/x.tar").unwrap();
        assert_eq!(
            (ftp.user.as_deref(), ftp.password.as_deref(), ftp.port),
            (Some("backup"), Some("s3cret"), Some(2121))
        );
        let scp = parse_url("scp://admin@10.0.0.9/x.bin").unwrap();
        assert_eq!((scp.user.as_deref(), scp.password), (Some("admin"), None));
        check("tftp://host/", None);
    }

    /// A one-shot scripted TFTP server: answers an RRQ with the given bytes.
    async fn serve_once(content: Vec<u8>) -> SocketAddr {
        let listener = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut buffer = [0u8; 1024];
            let (_, client) = listener.recv_from(&mut buffer).await.unwrap();
            let transfer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            // An exact multiple of 512 ends with an empty block.
            let chunks = content
                .chunks(512)
                .chain((content.len() % 512 == 0).then_some(&[][..]));
            for (index, chunk) in chunks.enumerate() {
                let block = index as u16 + 1;
                let mut packet = OPCODE_DATA.to_be_bytes().to_vec();
                packet.extend_from_slice(&block.to_be_bytes());
                packet.extend_from_slice(chunk);
                transfer.send_to(&packet, client).await.unwrap();
                let (length, _) = transfer.recv_from(&mut buffer).await.unwrap();
                assert_eq!(read_u16(&buffer[..length], 0), Some(OPCODE_ACK));
            }
        });
        address
    }

    #[tokio::test]
    async fn tftp_get_receives_every_block() {
        for size in [0usize, 100, 512, 5000] {
            let content: Vec<u8> = (0..size).map(|index| (index % 253) as u8).collect();
            let server = serve_once(content.clone()).await;
            let mut received = Vec::new();
            let total = tftp_get(
                "127.0.0.1".parse().unwrap(),
                server,
                "file",
                Duration::from_secs(2),
                TransferLimits::default(),
                |bytes| {
                    received.extend_from_slice(bytes);
                    true
                },
            )
            .await
            .unwrap();
            assert_eq!(total as usize, size);
            assert_eq!(received, content);
        }
    }

    /// A one-shot HTTP server answering with `status` and `body`.
    async fn http_once(status: &'static str, body: Vec<u8>) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request).await.unwrap();
            let head = format!(
                "HTTP/1.0 {status}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await.unwrap();
            stream.write_all(&body).await.unwrap();
        });
        address
    }

    #[tokio::test]
    async fn http_get_receives_the_body_and_maps_not_found() {
        let body: Vec<u8> = (0..200_000u32).map(|index| (index % 249) as u8).collect();
        let server = http_once("200 OK", body.clone()).await;
        let mut received = Vec::new();
        let local = "127.0.0.1".parse().unwrap();
        let total = http_get(
            local,
            server,
            "127.0.0.1",
            "x.bin",
            Duration::from_secs(2),
            TransferLimits::default(),
            |bytes| {
                received.extend_from_slice(bytes);
                true
            },
        )
        .await
        .unwrap();
        assert_eq!(total, 200_000);
        assert_eq!(received, body);
        let server = http_once("404 Not Found", Vec::new()).await;
        let missing = http_get(
            local,
            server,
            "h",
            "x",
            Duration::from_secs(2),
            TransferLimits::default(),
            |_| true,
        )
        .await;
        assert_eq!(
            missing.unwrap_err().ios_reason(),
            "No such file or directory"
        );
    }

    #[tokio::test]
    async fn bandwidth_limit_slows_the_transfer() {
        let server = serve_once(vec![1; 20 * 512]).await;
        let started = std::time::Instant::now();
        let limits = TransferLimits {
            bytes_per_sec: Some(20 * 1024),
            ..TransferLimits::default()
        };
        let total = tftp_get(
            "127.0.0.1".parse().unwrap(),
            server,
            "f",
            Duration::from_secs(2),
            limits,
            |_| true,
        )
        .await
        .unwrap();
        assert_eq!(total, 10_240);
        assert!(
            started.elapsed() >= Duration::from_millis(450),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn stalled_transfer_makes_no_progress() {
        let server = serve_once(vec![1; 4096]).await;
        let limits = TransferLimits {
            stall_after_bytes: Some(1024),
            ..TransferLimits::default()
        };
        let mut seen = 0;
        let transfer = tftp_get(
            "127.0.0.1".parse().unwrap(),
            server,
            "f",
            Duration::from_secs(2),
            limits,
            |bytes| {
                seen += bytes.len();
                true
            },
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(500), transfer)
                .await
                .is_err()
        );
        assert_eq!(seen, 1024);
    }

    #[tokio::test]
    async fn tftp_get_stops_when_the_sink_is_full() {
        let server = serve_once(vec![7; 4000]).await;
        let mut seen = 0;
        let result = tftp_get(
            "127.0.0.1".parse().unwrap(),
            server,
            "f",
            Duration::from_secs(2),
            TransferLimits::default(),
            |bytes| {
                seen += bytes.len();
                seen <= 1024
            },
        )
        .await;
        assert_eq!(result, Err(TransferFailure::NoSpace));
    }
}
