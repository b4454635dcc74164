//! The device's FTP client (RFC 959, passive mode, binary type) for
//! `copy ftp://user:password@host/path flash:` and `copy flash:X ftp://...`.
//! Hand-written: the device must connect from its own loopback address and
//! feed received bytes straight into its digests and transfer faults, which
//! no FTP client crate allows; it needs only USER/PASS/TYPE/PASV/RETR/STOR.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::transfer::{TransferFailure, TransferLimits};

/// Where and as whom to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FtpTarget {
    pub server: SocketAddr,
    pub user: String,
    pub password: String,
    pub path: String,
}

struct Control {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    timeout: Duration,
}

fn network(error: std::io::Error) -> TransferFailure {
    TransferFailure::Network(error.to_string())
}

async fn connect_from(
    local: IpAddr,
    server: SocketAddr,
    timeout: Duration,
) -> Result<TcpStream, TransferFailure> {
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

impl Control {
    /// Reads one reply (multi-line `123-` ... `123 ` aware): code and text.
    async fn reply(&mut self) -> Result<(u16, String), TransferFailure> {
        let mut text = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(self.timeout, self.reader.read_line(&mut line))
                .await
                .map_err(|_| TransferFailure::TimedOut)?
                .map_err(network)?;
            if read == 0 {
                return Err(TransferFailure::Network(
                    "Connection closed by server".into(),
                ));
            }
            text.push_str(&line);
            let code = line.get(..3).and_then(|code| code.parse::<u16>().ok());
            if let Some(code) = code
                && line.as_bytes().get(3) == Some(&b' ')
            {
                return Ok((code, text.trim_end().to_string()));
            }
        }
    }

    async fn command(&mut self, line: &str) -> Result<(u16, String), TransferFailure> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(network)?;
        self.reply().await
    }
}

/// An unexpected reply as IOS reports it.
fn refused(code: u16, text: &str) -> TransferFailure {
    match code {
        530 => TransferFailure::Server {
            code: 0,
            message: "Incorrect Login/Password".into(),
        },
        550 => TransferFailure::Server {
            code: 1,
            message: "No such file or directory".into(),
        },
        552 => TransferFailure::NoSpace,
        _ => TransferFailure::Server {
            code: 0,
            message: text.to_string(),
        },
    }
}

/// Logs in, sets binary type and opens a passive data connection.
async fn open(
    local: IpAddr,
    target: &FtpTarget,
    timeout: Duration,
) -> Result<(Control, TcpStream), TransferFailure> {
    let stream = connect_from(local, target.server, timeout).await?;
    let (reader, writer) = stream.into_split();
    let mut control = Control {
        reader: BufReader::new(reader),
        writer,
        // Servers answer a failed login only after a deliberate pause
        // (pyftpdlib: 3 s), so replies get more time than data blocks.
        timeout: timeout.max(Duration::from_secs(10)),
    };
    let (code, text) = control.reply().await?;
    if code != 220 {
        return Err(refused(code, &text));
    }
    let (mut code, mut text) = control.command(&format!("USER {}", target.user)).await?;
    if code == 331 {
        (code, text) = control
            .command(&format!("PASS {}", target.password))
            .await?;
    }
    if code != 230 {
        return Err(refused(code, &text));
    }
    let (code, text) = control.command("TYPE I").await?;
    if code != 200 {
        return Err(refused(code, &text));
    }
    let (code, text) = control.command("PASV").await?;
    if code != 227 {
        return Err(refused(code, &text));
    }
    let data_address = parse_pasv(&text).ok_or_else(|| refused(0, &text))?;
    let data = connect_from(local, data_address, timeout).await?;
    Ok((control, data))
}

/// `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` → the data address.
pub fn parse_pasv(text: &str) -> Option<SocketAddr> {
    let inside = text.split_once('(')?.1.split_once(')')?.0;
    let numbers: Vec<u8> = inside
        .split(',')
        .map(|part| part.trim().parse().ok())
        .collect::<Option<_>>()?;
    let [a, b, c, d, high, low] = numbers.as_slice() else {
        return None;
    };
    Some(SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d)),
        u16::from_be_bytes([*high, *low]),
    ))
}

/// Downloads the target file, feeding it to `sink` (false: no space).
pub async fn ftp_get(
    local: IpAddr,
    target: &FtpTarget,
    timeout: Duration,
    limits: TransferLimits,
    mut sink: impl FnMut(&[u8]) -> bool,
) -> Result<u64, TransferFailure> {
    let started = tokio::time::Instant::now();
    let (mut control, mut data) = open(local, target, timeout).await?;
    let (code, text) = control.command(&format!("RETR {}", target.path)).await?;
    if code != 150 && code != 125 {
        return Err(refused(code, &text));
    }
    let mut buffer = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let read = tokio::time::timeout(timeout, data.read(&mut buffer))
            .await
            .map_err(|_| TransferFailure::TimedOut)?
            .map_err(network)?;
        if read == 0 {
            break;
        }
        if !sink(&buffer[..read]) {
            let _ = control.command("ABOR").await;
            return Err(TransferFailure::NoSpace);
        }
        total += read as u64;
        limits.pace(total, started).await;
    }
    let (code, text) = control.reply().await?;
    if code != 226 && code != 250 {
        return Err(refused(code, &text));
    }
    let _ = control.command("QUIT").await;
    Ok(total)
}

/// Uploads `content` as the target file.
pub async fn ftp_put(
    local: IpAddr,
    target: &FtpTarget,
    timeout: Duration,
    content: &[u8],
) -> Result<u64, TransferFailure> {
    let (mut control, mut data) = open(local, target, timeout).await?;
    let (code, text) = control.command(&format!("STOR {}", target.path)).await?;
    if code != 150 && code != 125 {
        return Err(refused(code, &text));
    }
    data.write_all(content).await.map_err(network)?;
    data.shutdown().await.map_err(network)?;
    drop(data);
    let (code, text) = control.reply().await?;
    if code != 226 && code != 250 {
        return Err(refused(code, &text));
    }
    let _ = control.command("QUIT").await;
    Ok(content.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_replies_give_the_data_address() {
        assert_eq!(
            parse_pasv("227 Entering Passive Mode (127,0,0,1,195,80)."),
            Some("127.0.0.1:50000".parse().unwrap())
        );
        assert_eq!(parse_pasv("227 Entering Passive Mode (1,2,3)"), None);
        assert_eq!(parse_pasv("227 nothing"), None);
    }
}
