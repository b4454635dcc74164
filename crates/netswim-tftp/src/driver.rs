//! The thin I/O loop shared by server and client: runs one transfer state
//! machine against a UDP socket, a timer and a block source or sink.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::debug;

use crate::error::TftpError;
use crate::netascii::{self, NetasciiDecoder};
use crate::packet::{ErrorCode, Packet};
use crate::source::Upload;
use crate::transfer::{
    Action, ClientReadTransfer, ClientWriteTransfer, Event, ReadTransfer, TransferFailure,
    WriteTransfer,
};

/// What the loop needs from any of the four state machines.
pub(crate) trait Machine {
    fn handle(&mut self, event: Event) -> Vec<Action>;
    fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action>;
    fn current_timeout(&self) -> Duration;
}

macro_rules! impl_machine {
    ($($machine:ty),*) => {$(
        impl Machine for $machine {
            fn handle(&mut self, event: Event) -> Vec<Action> {
                <$machine>::handle(self, event)
            }
            fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
                <$machine>::abort(self, code, message)
            }
            fn current_timeout(&self) -> Duration {
                <$machine>::current_timeout(self)
            }
        }
    )*};
}

impl_machine!(
    ReadTransfer,
    WriteTransfer,
    ClientReadTransfer,
    ClientWriteTransfer
);

/// How much of an octet file is read at once.
const READ_AHEAD: usize = 64 * 1024;

/// Cuts a byte stream into blocks, translating to netascii when asked.
pub(crate) struct BlockReader<R> {
    reader: R,
    netascii: bool,
    /// Bytes read (netascii: translated) but not yet handed out.
    pending: BytesMut,
    raw: Vec<u8>,
    end_of_file: bool,
}

impl<R: AsyncRead + Unpin> BlockReader<R> {
    pub(crate) fn new(reader: R, netascii: bool) -> Self {
        BlockReader {
            reader,
            netascii,
            pending: BytesMut::new(),
            raw: Vec::new(),
            end_of_file: false,
        }
    }

    /// Exactly `max_len` bytes, fewer only at the end of the file.
    pub(crate) async fn read_block(&mut self, max_len: usize) -> std::io::Result<Bytes> {
        if self.netascii {
            while self.pending.len() < max_len && !self.end_of_file {
                self.raw.resize(max_len.max(4096), 0);
                let count = self.reader.read(&mut self.raw).await?;
                if count == 0 {
                    self.end_of_file = true;
                }
                let mut wire = Vec::new();
                netascii::encode(self.raw.get(..count).unwrap_or_default(), &mut wire);
                self.pending.extend_from_slice(&wire);
            }
            let take = max_len.min(self.pending.len());
            return Ok(self.pending.split_to(take).freeze());
        }
        // Read ahead in large chunks and hand out slices of them: one
        // allocation per chunk instead of a zeroed buffer per block.
        while self.pending.len() < max_len && !self.end_of_file {
            if self.pending.capacity() - self.pending.len() < max_len {
                self.pending.reserve(READ_AHEAD.max(max_len));
            }
            if self.reader.read_buf(&mut self.pending).await? == 0 {
                self.end_of_file = true;
            }
        }
        let take = max_len.min(self.pending.len());
        Ok(self.pending.split_to(take).freeze())
    }
}

/// Where received blocks go.
pub(crate) enum BlockSink<'a> {
    Upload {
        upload: Box<Upload<'a>>,
        decoder: Option<NetasciiDecoder>,
    },
    Writer {
        writer: Box<dyn AsyncWrite + Send + Unpin + 'a>,
        decoder: Option<NetasciiDecoder>,
    },
}

impl BlockSink<'_> {
    async fn write(&mut self, bytes: &[u8]) -> Result<(), TftpError> {
        let (decoder, translated) = match self {
            BlockSink::Upload { decoder, .. } | BlockSink::Writer { decoder, .. } => {
                let mut local = Vec::new();
                if let Some(decoder) = decoder {
                    decoder.decode(bytes, &mut local);
                }
                (decoder.is_some(), local)
            }
        };
        let data = if decoder {
            translated.as_slice()
        } else {
            bytes
        };
        match self {
            BlockSink::Upload { upload, .. } => upload.write(data).await,
            BlockSink::Writer { writer, .. } => writer
                .write_all(data)
                .await
                .map_err(|source| TftpError::io("cannot write the received file", source)),
        }
    }

    async fn finish(self) -> Result<(), TftpError> {
        match self {
            BlockSink::Upload {
                mut upload,
                decoder,
            } => {
                if let Some(mut decoder) = decoder {
                    let mut tail = Vec::new();
                    decoder.finish(&mut tail);
                    upload.write(&tail).await?;
                }
                (*upload).commit().await
            }
            BlockSink::Writer {
                mut writer,
                decoder,
            } => {
                if let Some(mut decoder) = decoder {
                    let mut tail = Vec::new();
                    decoder.finish(&mut tail);
                    writer.write_all(&tail).await.map_err(|source| {
                        TftpError::io("cannot write the received file", source)
                    })?;
                }
                writer
                    .flush()
                    .await
                    .map_err(|source| TftpError::io("cannot write the received file", source))
            }
        }
    }
}

/// The data side of a transfer.
pub(crate) enum BlockIo<'a, R> {
    Source(BlockReader<R>),
    Sink(BlockSink<'a>),
}

/// How the loop finds its peer.
pub(crate) struct Peer {
    pub(crate) address: SocketAddr,
    /// Client side: the server answers from a fresh port (its TID); the
    /// first answer from the server's address fixes the peer port.
    pub(crate) lock_on_first_reply: bool,
}

pub(crate) fn failure_to_error(failure: TransferFailure) -> TftpError {
    match failure {
        TransferFailure::TimedOut {
            retries,
            last_timeout,
        } => TftpError::TimedOut {
            retries,
            last_timeout,
        },
        TransferFailure::PeerError { code, message } => TftpError::Remote { code, message },
        TransferFailure::Aborted { code, message } => TftpError::Aborted { code, message },
    }
}

/// Runs `machine` to completion. `routed` carries packets the server's
/// listening socket received from this peer (clients that ACK to port 69).
pub(crate) async fn drive<M: Machine, R: AsyncRead + Unpin>(
    machine: &mut M,
    socket: &UdpSocket,
    mut peer: Peer,
    mut routed: Option<&mut mpsc::Receiver<Packet>>,
    io: &mut Option<BlockIo<'_, R>>,
    first_actions: Vec<Action>,
) -> Result<SocketAddr, TftpError> {
    let mut pending: VecDeque<Action> = first_actions.into();
    let mut send_buffer = Vec::with_capacity(65536);
    let mut receive_buffer = vec![0u8; 65536];
    // One timer for the whole transfer, moved rather than re-created per
    // packet (timer-wheel churn shows at tens of thousands of packets/s).
    let timer = tokio::time::sleep_until(Instant::now() + machine.current_timeout());
    let mut timer = std::pin::pin!(timer);
    loop {
        let mut restart_timer = false;
        while let Some(action) = pending.pop_front() {
            match action {
                Action::Send(packet) => {
                    // The final ACK of a received file confirms it is
                    // stored: complete the sink before sending it.
                    if pending.contains(&Action::Finished) {
                        if let Some(BlockIo::Sink(sink)) = io.take() {
                            if let Err(error) = sink.finish().await {
                                let (code, message) = error.to_wire();
                                let refusal = Packet::Error { code, message };
                                let _ = socket.send_to(&refusal.encode(), peer.address).await;
                                return Err(error);
                            }
                        }
                    }
                    send_buffer.clear();
                    packet.encode_into(&mut send_buffer);
                    if let Err(error) = socket.send_to(&send_buffer, peer.address).await {
                        // A lost datagram is what the timer is for.
                        debug!(peer = %peer.address, %error, "tftp send failed");
                    }
                    restart_timer = true;
                }
                Action::ReadBlock { max_len } => {
                    let next = match io {
                        Some(BlockIo::Source(reader)) => match reader.read_block(max_len).await {
                            Ok(block) => machine.handle(Event::BlockRead(block)),
                            Err(error) => {
                                debug!(%error, "tftp source read failed");
                                machine.abort(ErrorCode::NotDefined, "read error on the server")
                            }
                        },
                        _ => machine.abort(ErrorCode::NotDefined, "internal error: no source"),
                    };
                    for action in next.into_iter().rev() {
                        pending.push_front(action);
                    }
                }
                Action::Write(bytes) => {
                    restart_timer = true;
                    let result = match io {
                        Some(BlockIo::Sink(sink)) => sink.write(&bytes).await,
                        _ => Err(TftpError::Protocol {
                            reason: "no sink".into(),
                        }),
                    };
                    if let Err(error) = result {
                        let (code, message) = error.to_wire();
                        pending.clear();
                        pending.extend(machine.abort(code, &message));
                        // Send the error, then report the local cause.
                        while let Some(Action::Send(packet)) = pending.pop_front() {
                            send_buffer.clear();
                            packet.encode_into(&mut send_buffer);
                            let _ = socket.send_to(&send_buffer, peer.address).await;
                        }
                        return Err(error);
                    }
                }
                Action::Finished => {
                    if let Some(BlockIo::Sink(_)) = io {
                        if let Some(BlockIo::Sink(sink)) = io.take() {
                            sink.finish().await?;
                        }
                    }
                    return Ok(peer.address);
                }
                Action::Failed(failure) => return Err(failure_to_error(failure)),
            }
        }
        if restart_timer {
            timer
                .as_mut()
                .reset(Instant::now() + machine.current_timeout());
        }
        let event = tokio::select! {
            received = socket.recv_from(&mut receive_buffer) => {
                let (length, from) = match received {
                    Ok(received) => received,
                    Err(error) => {
                        // ICMP port unreachable surfaces here on Linux;
                        // the timer decides when to give up.
                        debug!(%error, "tftp receive failed");
                        continue;
                    }
                };
                if from == peer.address {
                    // The peer's TID is settled once it has answered.
                    peer.lock_on_first_reply = false;
                } else {
                    if peer.lock_on_first_reply && from.ip() == peer.address.ip() {
                        peer.address = from;
                        peer.lock_on_first_reply = false;
                    } else {
                        // RFC 1350 section 4: a packet from a foreign TID
                        // gets error 5 and does not disturb the transfer.
                        let stranger = Packet::Error {
                            code: ErrorCode::UnknownTransferId,
                            message: "unknown transfer ID".into(),
                        };
                        let _ = socket.send_to(&stranger.encode(), from).await;
                        continue;
                    }
                }
                let datagram = receive_buffer.get(..length).unwrap_or_default();
                match Packet::decode(datagram) {
                    Ok(packet) => Event::Received(packet),
                    Err(error) => {
                        debug!(%from, %error, "ignoring malformed tftp packet");
                        continue;
                    }
                }
            }
            Some(packet) = async {
                match routed.as_mut() {
                    Some(channel) => channel.recv().await,
                    None => std::future::pending().await,
                }
            } => Event::Received(packet),
            () = timer.as_mut() => {
                // Restart now so a timeout that sends nothing still backs off.
                let actions = machine.handle(Event::TimedOut);
                timer.as_mut().reset(Instant::now() + machine.current_timeout());
                pending.extend(actions);
                continue;
            }
        };
        pending.extend(machine.handle(event));
    }
}

/// After receiving a file: stay a while to acknowledge the last block again
/// if the peer retransmits it because our final ACK was lost (RFC 1350
/// section 6). Ends after `quiet_period` without a packet from the peer.
pub(crate) async fn dally<M: Machine>(
    machine: &mut M,
    socket: &UdpSocket,
    peer: SocketAddr,
    quiet_period: Duration,
) {
    let mut buffer = vec![0u8; 65536];
    while let Ok(Ok((length, from))) =
        tokio::time::timeout(quiet_period, socket.recv_from(&mut buffer)).await
    {
        if from != peer {
            continue;
        }
        let Ok(packet) = Packet::decode(buffer.get(..length).unwrap_or_default()) else {
            continue;
        };
        for action in machine.handle(Event::Received(packet)) {
            if let Action::Send(reply) = action {
                let _ = socket.send_to(&reply.encode(), peer).await;
            }
        }
    }
}

/// How long to dally without hearing from the peer: four of the longest
/// retransmission timeouts, so a peer whose retransmissions are lost too
/// still finds us, but never more than ten seconds.
pub(crate) fn dally_period(retry: &crate::transfer::RetryPolicy) -> Duration {
    (retry.max_timeout * 4).min(Duration::from_secs(10))
}
