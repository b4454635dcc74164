//! The server's hot path: a read transfer (RRQ) run on its own thread with
//! a blocking socket. Lock-step TFTP is bound by round trips, and a thread
//! blocked in `recvfrom` is woken by the kernel straight into the transfer
//! (two system calls per block: `sendto` and `recvfrom`), where an async
//! task needs the reactor's `epoll_wait`, a task wake-up and a failed
//! `recvfrom` per block, and shares the runtime's few worker threads with
//! every other transfer. tftpd-hpa (a process per transfer) and atftpd (a
//! thread per transfer) work the same way.
//!
//! A window of DATA packets (RFC 7440) goes out as one `sendmsg` with UDP
//! generic segmentation offload where the kernel supports it: the kernel
//! cuts the buffer into the separate datagrams the client receives.
//!
//! The source stays async (`ServeSource` readers): blocks are read through
//! the runtime handle, which only waits when the 256 KiB read-ahead buffer
//! refills. ACKs that field clients send to the listening port arrive on
//! the `routed` channel; the listener then sends an empty datagram to the
//! transfer socket to wake it (an empty datagram is never valid TFTP).

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tracing::debug;

use crate::driver::{BlockReader, failure_to_error};
use crate::error::TftpError;
use crate::packet::{ErrorCode, Packet};
use crate::source::ServedReader;
use crate::transfer::{Action, Event, ReadTransfer};

/// Longest wait in `recvfrom` before looking at the cancel flag and the
/// routed channel again: bounds how long a cut transfer's thread lingers.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Sets the flag when dropped: the async task that owns a blocking
/// transfer was aborted (drain cut, runtime shut down) or finished.
#[derive(Debug)]
pub(crate) struct CancelOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Everything one blocking read transfer owns.
pub(crate) struct BlockingRead {
    pub(crate) machine: ReadTransfer,
    pub(crate) socket: UdpSocket,
    pub(crate) peer: SocketAddr,
    pub(crate) routed: mpsc::Receiver<Packet>,
    pub(crate) reader: BlockReader<ServedReader>,
    pub(crate) runtime: tokio::runtime::Handle,
    pub(crate) cancel: Arc<AtomicBool>,
}

impl BlockingRead {
    /// Runs the transfer to its end; same contract as `driver::drive`.
    pub(crate) fn run(&mut self, first_actions: Vec<Action>) -> Result<(), TftpError> {
        let mut pending: VecDeque<Action> = first_actions.into();
        let mut send_buffer = Vec::with_capacity(65536);
        let mut receive_buffer = vec![0u8; 65536];
        let mut deadline = Instant::now() + self.machine.current_timeout();
        let mut applied_timeout: Option<Duration> = None;
        let mut batch = DatagramBatch::default();
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(TftpError::Aborted {
                    code: ErrorCode::NotDefined,
                    message: "transfer cut by the server".into(),
                });
            }
            let mut restart_timer = false;
            while let Some(action) = pending.pop_front() {
                match action {
                    Action::Send(packet) => {
                        send_buffer.clear();
                        packet.encode_into(&mut send_buffer);
                        if matches!(packet, Packet::Data { .. }) {
                            batch.push(&self.socket, self.peer, &send_buffer);
                        } else {
                            batch.flush(&self.socket, self.peer);
                            send_one(&self.socket, self.peer, &send_buffer);
                        }
                        restart_timer = true;
                    }
                    Action::ReadBlock { max_len } => {
                        let read = self.runtime.block_on(self.reader.read_block(max_len));
                        let next = match read {
                            Ok(block) => self.machine.handle(Event::BlockRead(block)),
                            Err(error) => {
                                debug!(%error, "tftp source read failed");
                                self.machine
                                    .abort(ErrorCode::NotDefined, "read error on the server")
                            }
                        };
                        for action in next.into_iter().rev() {
                            pending.push_front(action);
                        }
                    }
                    Action::Write(_) => {
                        let next = self
                            .machine
                            .abort(ErrorCode::NotDefined, "internal error: no sink");
                        pending.clear();
                        pending.extend(next);
                    }
                    Action::Finished => {
                        batch.flush(&self.socket, self.peer);
                        return Ok(());
                    }
                    Action::Failed(failure) => {
                        batch.flush(&self.socket, self.peer);
                        return Err(failure_to_error(failure));
                    }
                }
            }
            batch.flush(&self.socket, self.peer);
            let now = Instant::now();
            if restart_timer {
                deadline = now + self.machine.current_timeout();
            }
            if now >= deadline {
                pending.extend(self.machine.handle(Event::TimedOut));
                // Restart now so a timeout that sends nothing still backs off.
                deadline = now + self.machine.current_timeout();
                continue;
            }
            // Packets from the listening port, one at a time like any other.
            if let Ok(packet) = self.routed.try_recv() {
                pending.extend(self.machine.handle(Event::Received(packet)));
                continue;
            }
            // Only touch the socket option when the wait changes: in the
            // steady state it stays at the poll interval.
            let wait = (deadline - now)
                .min(POLL_INTERVAL)
                .max(Duration::from_millis(1));
            if applied_timeout != Some(wait) {
                if let Err(error) = self.socket.set_read_timeout(Some(wait)) {
                    return Err(TftpError::io("cannot set the transfer timeout", error));
                }
                applied_timeout = Some(wait);
            }
            let (length, from) = match self.socket.recv_from(&mut receive_buffer) {
                Ok(received) => received,
                Err(error) => {
                    if !matches!(
                        error.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) {
                        // ICMP errors of earlier sends; the timer decides.
                        debug!(%error, "tftp receive failed");
                    }
                    continue;
                }
            };
            if length == 0 {
                // The listener's wake-up: packets wait in the channel.
                continue;
            }
            if from != self.peer {
                // RFC 1350 section 4: a packet from a foreign TID gets
                // error 5 and does not disturb the transfer.
                let stranger = Packet::Error {
                    code: ErrorCode::UnknownTransferId,
                    message: "unknown transfer ID".into(),
                };
                let _ = self.socket.send_to(&stranger.encode(), from);
                continue;
            }
            let datagram = receive_buffer.get(..length).unwrap_or_default();
            match Packet::decode(datagram) {
                Ok(packet) => pending.extend(self.machine.handle(Event::Received(packet))),
                Err(error) => debug!(%from, %error, "ignoring malformed tftp packet"),
            }
        }
    }
}

fn send_one(socket: &UdpSocket, peer: SocketAddr, datagram: &[u8]) {
    if let Err(error) = socket.send_to(datagram, peer) {
        // A lost datagram is what the timer is for.
        debug!(%peer, %error, "tftp send failed");
    }
}

/// Most datagrams in one GSO send (the kernel's UDP_MAX_SEGMENTS).
const MAX_SEGMENTS: usize = 64;
/// Most bytes in one GSO send: one IP datagram's worth.
const MAX_BATCH_BYTES: usize = 65_000;

/// Consecutive datagrams of one size (the last may be shorter) waiting to
/// leave in one send.
#[derive(Debug, Default)]
struct DatagramBatch {
    buffer: Vec<u8>,
    segment_size: usize,
    segments: usize,
    /// The last segment was short: nothing may follow it in this batch.
    closed: bool,
    /// GSO failed once on this socket: send one datagram at a time.
    unsupported: bool,
}

impl DatagramBatch {
    fn push(&mut self, socket: &UdpSocket, peer: SocketAddr, datagram: &[u8]) {
        if self.unsupported || !cfg!(target_os = "linux") {
            send_one(socket, peer, datagram);
            return;
        }
        let fits = self.segments == 0
            || (!self.closed
                && datagram.len() <= self.segment_size
                && self.segments < MAX_SEGMENTS
                && self.buffer.len() + datagram.len() <= MAX_BATCH_BYTES);
        if !fits {
            self.flush(socket, peer);
        }
        if self.segments == 0 {
            self.segment_size = datagram.len();
        }
        self.closed = datagram.len() < self.segment_size;
        self.buffer.extend_from_slice(datagram);
        self.segments += 1;
    }

    fn flush(&mut self, socket: &UdpSocket, peer: SocketAddr) {
        match self.segments {
            0 => {}
            1 => send_one(socket, peer, &self.buffer),
            _ => {
                if let Err(error) = send_segmented(socket, peer, &self.buffer, self.segment_size) {
                    // No GSO here (old kernel, device without checksum
                    // offload, segment above the MTU): fall back for good.
                    debug!(%peer, %error, "tftp GSO send failed; sending datagrams one by one");
                    self.unsupported = true;
                    for datagram in self.buffer.chunks(self.segment_size.max(1)) {
                        send_one(socket, peer, datagram);
                    }
                }
            }
        }
        self.buffer.clear();
        self.segments = 0;
        self.closed = false;
    }
}

#[cfg(target_os = "linux")]
fn send_segmented(
    socket: &UdpSocket,
    peer: SocketAddr,
    buffer: &[u8],
    segment_size: usize,
) -> std::io::Result<()> {
    use nix::sys::socket::{ControlMessage, MsgFlags, SockaddrStorage, sendmsg};
    use std::os::fd::AsRawFd;
    let segment = u16::try_from(segment_size)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let address = SockaddrStorage::from(peer);
    sendmsg(
        socket.as_raw_fd(),
        &[std::io::IoSlice::new(buffer)],
        &[ControlMessage::UdpGsoSegments(&segment)],
        MsgFlags::empty(),
        Some(&address),
    )
    .map(|_| ())
    .map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn send_segmented(
    _socket: &UdpSocket,
    _peer: SocketAddr,
    _buffer: &[u8],
    _segment_size: usize,
) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(datagrams: &[Vec<u8>]) {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let peer = receiver.local_addr().unwrap();
        let mut batch = DatagramBatch::default();
        for datagram in datagrams {
            batch.push(&sender, peer, datagram);
        }
        batch.flush(&sender, peer);
        let mut buffer = vec![0u8; 65536];
        for (index, expected) in datagrams.iter().enumerate() {
            let (length, from) = receiver.recv_from(&mut buffer).unwrap();
            assert_eq!(from, sender.local_addr().unwrap());
            assert_eq!(&buffer[..length], expected.as_slice(), "datagram {index}");
        }
    }

    #[test]
    fn rfc7440_window_sent_as_one_batch_arrives_as_the_same_separate_datagrams() {
        let sized = |sizes: &[usize]| -> Vec<Vec<u8>> {
            sizes
                .iter()
                .enumerate()
                .map(|(index, size)| vec![index as u8; *size])
                .collect()
        };
        // A full window of equal blocks.
        check(&sized(&[516; 16]));
        // The short last block ends a batch; a longer one starts another.
        check(&sized(&[516, 516, 516, 100, 516, 600, 600]));
        // More than the kernel's 64 segments in a row.
        check(&sized(&[200; 70]));
        // Blocks too large to batch within one IP datagram's worth.
        check(&sized(&[40_000, 40_000, 40_000]));
        // A lone datagram.
        check(&sized(&[4]));
    }
}
