//! The tokio TFTP client: `get` a file into a writer (or memory) and `put`
//! a reader to a server, with options and the same state machines as the
//! server.

use std::net::{IpAddr, SocketAddr};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UdpSocket;

use crate::driver::{BlockIo, BlockReader, BlockSink, Peer, dally, dally_period, drive};
use crate::error::TftpError;
use crate::netascii::NetasciiDecoder;
use crate::packet::{Mode, TransferOptions};
use crate::transfer::{ClientReadTransfer, ClientWriteTransfer, RetryPolicy};

/// How the client asks for a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    pub mode: Mode,
    /// Options to request; for `put`, `transfer_size` announces the size.
    pub options: TransferOptions,
    pub retry: RetryPolicy,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            mode: Mode::Octet,
            options: TransferOptions::default(),
            retry: RetryPolicy::default(),
        }
    }
}

async fn client_socket(server: SocketAddr) -> Result<UdpSocket, TftpError> {
    let any: IpAddr = if server.is_ipv4() {
        [0u8; 4].into()
    } else {
        [0u16; 8].into()
    };
    UdpSocket::bind(SocketAddr::new(any, 0))
        .await
        .map_err(|source| TftpError::io("cannot open a client socket", source))
}

/// Downloads `filename` into `writer`; returns the bytes received (wire
/// bytes, before netascii translation).
pub async fn get<W: AsyncWrite + Send + Unpin>(
    server: SocketAddr,
    filename: &str,
    options: &ClientOptions,
    writer: W,
) -> Result<u64, TftpError> {
    let socket = client_socket(server).await?;
    let mut machine =
        ClientReadTransfer::new(filename, options.mode, options.options, options.retry);
    let first = machine.start();
    let decoder = (options.mode == Mode::NetAscii).then(NetasciiDecoder::new);
    let mut io: Option<BlockIo<'_, tokio::io::Empty>> = Some(BlockIo::Sink(BlockSink::Writer {
        writer: Box::new(writer),
        decoder,
    }));
    let peer = Peer {
        address: server,
        lock_on_first_reply: true,
    };
    let server_port = drive(&mut machine, &socket, peer, None, &mut io, first).await?;
    let bytes = machine.bytes_transferred();
    // If our final ACK is lost the server resends the last block: answer it
    // from the background so the caller does not wait.
    let period = dally_period(&options.retry);
    tokio::spawn(async move {
        dally(&mut machine, &socket, server_port, period).await;
    });
    Ok(bytes)
}

/// Downloads `filename` into memory.
pub async fn get_bytes(
    server: SocketAddr,
    filename: &str,
    options: &ClientOptions,
) -> Result<Vec<u8>, TftpError> {
    let mut content = Vec::new();
    get(server, filename, options, &mut content).await?;
    Ok(content)
}

/// Uploads `reader` as `filename`; returns the bytes sent.
pub async fn put<R: AsyncRead + Send + Unpin>(
    server: SocketAddr,
    filename: &str,
    options: &ClientOptions,
    reader: R,
) -> Result<u64, TftpError> {
    let socket = client_socket(server).await?;
    let mut machine =
        ClientWriteTransfer::new(filename, options.mode, options.options, options.retry);
    let first = machine.start();
    let mut io = Some(BlockIo::Source(BlockReader::new(
        reader,
        options.mode == Mode::NetAscii,
    )));
    let peer = Peer {
        address: server,
        lock_on_first_reply: true,
    };
    drive(&mut machine, &socket, peer, None, &mut io, first).await?;
    Ok(machine.bytes_transferred())
}
