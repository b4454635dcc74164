//! Sans-I/O transfer state machines: the server and client sides of read
//! (RRQ) and write (WRQ) transfers. They take events (a received packet, a
//! timeout, the bytes of the next block) and return actions (send a packet,
//! read the next block, write a block, finished, failed); the I/O layer does
//! the sockets, files and timers.
//!
//! Block numbers are tracked as absolute 64-bit counters and put on the wire
//! modulo 65536, so files of more than 65535 blocks roll over to block 0.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use crate::packet::{DEFAULT_BLOCK_SIZE, ErrorCode, Mode, Packet, TransferOptions};

/// What happened to a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A packet arrived from the transfer's peer.
    Received(Packet),
    /// The timer ran out: nothing useful arrived for `current_timeout()`.
    TimedOut,
    /// The bytes of the block asked for by `Action::ReadBlock`; fewer than
    /// `max_len` bytes means the end of the file.
    BlockRead(Bytes),
}

/// What the I/O layer must do next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this packet to the peer (and restart the timer).
    Send(Packet),
    /// Read the next block of at most `max_len` bytes (exactly `max_len`
    /// unless at the end of the file) and feed it back as `Event::BlockRead`.
    ReadBlock { max_len: usize },
    /// Append these bytes to the file being received (and restart the timer).
    Write(Bytes),
    /// The transfer completed.
    Finished,
    /// The transfer ended without completing.
    Failed(TransferFailure),
}

/// Why a transfer ended without completing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferFailure {
    /// The peer stopped answering.
    TimedOut {
        retries: u32,
        last_timeout: Duration,
    },
    /// The peer sent an ERROR packet.
    PeerError { code: ErrorCode, message: String },
    /// This side gave up and told the peer so.
    Aborted { code: ErrorCode, message: String },
}

/// Retransmission timing: the first timeout doubles on every retransmission
/// up to `max_timeout`; after `max_retries` retransmissions the transfer fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_timeout: Duration,
    pub max_timeout: Duration,
    pub max_retries: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_timeout: Duration::from_secs(1),
            max_timeout: Duration::from_secs(16),
            max_retries: 6,
        }
    }
}

/// What a server is willing to grant, whatever a client asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub max_block_size: u16,
    pub max_window_size: u16,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_block_size: crate::packet::MAX_BLOCK_SIZE,
            max_window_size: 64,
        }
    }
}

/// The parameters a transfer runs with once options are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferParameters {
    pub block_size: u16,
    pub window_size: u16,
    pub retry: RetryPolicy,
}

impl TransferParameters {
    /// RFC 1350 defaults: 512-byte blocks, lock-step.
    pub fn defaults(retry: RetryPolicy) -> Self {
        TransferParameters {
            block_size: DEFAULT_BLOCK_SIZE,
            window_size: 1,
            retry,
        }
    }
}

/// Server-side option negotiation (RFC 2347): grants what the client asked
/// within `limits` and returns the parameters plus the OACK to send, or
/// `None` when no option is granted (the transfer then starts as in RFC 1350).
/// `transfer_size` is the file size for a read, the client's announced size
/// for a write; `None` omits tsize from the OACK.
pub fn negotiate(
    requested: &TransferOptions,
    transfer_size: Option<u64>,
    limits: &ServerLimits,
    retry: RetryPolicy,
) -> (TransferParameters, Option<TransferOptions>) {
    let mut granted = TransferOptions::default();
    let mut parameters = TransferParameters::defaults(retry);
    if let Some(size) = requested.block_size {
        let size = size.min(limits.max_block_size.max(crate::packet::MIN_BLOCK_SIZE));
        granted.block_size = Some(size);
        parameters.block_size = size;
    }
    if let Some(size) = requested.window_size {
        let size = size.min(limits.max_window_size.max(1));
        granted.window_size = Some(size);
        parameters.window_size = size;
    }
    if let Some(seconds) = requested.timeout_seconds {
        // RFC 2349: the server answers the same value and uses it.
        granted.timeout_seconds = Some(seconds);
        let timeout = Duration::from_secs(u64::from(seconds));
        parameters.retry.initial_timeout = timeout;
        parameters.retry.max_timeout = parameters.retry.max_timeout.max(timeout);
    }
    if requested.transfer_size.is_some() {
        granted.transfer_size = transfer_size;
    }
    let option_ack = (!granted.is_empty()).then_some(granted);
    (parameters, option_ack)
}

/// Puts an absolute block number on the wire (RFC 1350 blocks are 16 bits;
/// past 65535 they wrap to 0, as tftp-hpa, atftp and curl expect).
fn wire_block(absolute: u64) -> u16 {
    (absolute & 0xFFFF) as u16
}

/// Timeout and retry bookkeeping shared by every machine.
#[derive(Debug, Clone)]
struct Retransmission {
    policy: RetryPolicy,
    current: Duration,
    retries: u32,
}

impl Retransmission {
    fn new(policy: RetryPolicy) -> Self {
        Retransmission {
            policy,
            current: policy.initial_timeout,
            retries: 0,
        }
    }

    /// The peer answered. After an answer that needed a retransmission
    /// the backed-off timeout stays (on a slow link a window takes longer
    /// than the initial timeout to get through, and resetting would resend
    /// every other window for nothing); clean answers let it shrink back
    /// by an eighth each, towards the initial timeout.
    fn progress(&mut self) {
        if self.retries == 0 {
            self.current = (self.current - self.current / 8).max(self.policy.initial_timeout);
        }
        self.retries = 0;
    }

    /// Counts one timeout; `Err` when the retry limit is reached.
    fn timed_out(&mut self) -> Result<(), TransferFailure> {
        if self.retries >= self.policy.max_retries {
            return Err(TransferFailure::TimedOut {
                retries: self.retries,
                last_timeout: self.current,
            });
        }
        self.retries += 1;
        self.current = (self.current * 2).min(self.policy.max_timeout.max(self.current));
        Ok(())
    }
}

fn illegal(message: &str) -> Vec<Action> {
    let code = ErrorCode::IllegalOperation;
    vec![
        Action::Send(Packet::Error {
            code,
            message: message.to_string(),
        }),
        Action::Failed(TransferFailure::Aborted {
            code,
            message: message.to_string(),
        }),
    ]
}

fn peer_error(code: ErrorCode, message: String) -> Vec<Action> {
    vec![Action::Failed(TransferFailure::PeerError { code, message })]
}

fn abort_actions(code: ErrorCode, message: &str) -> Vec<Action> {
    vec![
        Action::Send(Packet::Error {
            code,
            message: message.to_string(),
        }),
        Action::Failed(TransferFailure::Aborted {
            code,
            message: message.to_string(),
        }),
    ]
}

/// Where a sending machine stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendState {
    /// Client upload: the WRQ is out, waiting for ACK 0 or an OACK.
    WaitingForRequestAck,
    /// Server read: the OACK is out, waiting for the client's ACK 0.
    WaitingForOptionAck,
    /// Waiting for the next block's bytes from the source.
    WaitingForBlock {
        block: u16,
    },
    /// Blocks up to `block` are out; waiting for the peer's ACK.
    WaitingForAck {
        block: u16,
    },
    Finished,
    Failed,
}

/// The sending half shared by the server read and the client write: a
/// window of sent, unacknowledged blocks.
#[derive(Debug, Clone)]
struct BlockSender {
    state: SendState,
    parameters: TransferParameters,
    /// Sent blocks not yet acknowledged, oldest first; the first is `base`.
    unacknowledged: VecDeque<Bytes>,
    /// Absolute number of the oldest unacknowledged block (1 for the first).
    base: u64,
    /// A block shorter than the block size has been read: no more to come.
    source_exhausted: bool,
    retransmission: Retransmission,
    /// What to resend while waiting for the first answer.
    opening_packet: Option<Packet>,
    bytes_sent: u64,
    /// Windowed mode: an ACK of the block before the window already made
    /// us resend the window since it was last sent.
    resent_on_stale_ack: bool,
}

impl BlockSender {
    fn new(parameters: TransferParameters, state: SendState, opening: Option<Packet>) -> Self {
        BlockSender {
            state,
            retransmission: Retransmission::new(parameters.retry),
            parameters,
            unacknowledged: VecDeque::new(),
            base: 1,
            source_exhausted: false,
            opening_packet: opening,
            bytes_sent: 0,
            resent_on_stale_ack: false,
        }
    }

    fn is_over(&self) -> bool {
        matches!(self.state, SendState::Finished | SendState::Failed)
    }

    fn block_size(&self) -> usize {
        usize::from(self.parameters.block_size)
    }

    fn start_sending(&mut self) -> Vec<Action> {
        self.opening_packet = None;
        self.retransmission.progress();
        let mut actions = Vec::new();
        self.fill_window(&mut actions);
        actions
    }

    /// Asks for the next block when the window has room.
    fn fill_window(&mut self, actions: &mut Vec<Action>) {
        let window = usize::from(self.parameters.window_size.max(1));
        let next = self.base + self.unacknowledged.len() as u64;
        if !self.source_exhausted && self.unacknowledged.len() < window {
            self.state = SendState::WaitingForBlock {
                block: wire_block(next),
            };
            actions.push(Action::ReadBlock {
                max_len: self.block_size(),
            });
        } else {
            self.state = SendState::WaitingForAck {
                block: wire_block(next.saturating_sub(1)),
            };
        }
    }

    fn data_packet(&self, offset: usize) -> Option<Packet> {
        let payload = self.unacknowledged.get(offset)?.clone();
        Some(Packet::Data {
            block: wire_block(self.base + offset as u64),
            payload,
        })
    }

    fn resend_window(&self, actions: &mut Vec<Action>) {
        for offset in 0..self.unacknowledged.len() {
            if let Some(packet) = self.data_packet(offset) {
                actions.push(Action::Send(packet));
            }
        }
    }

    fn handle(&mut self, event: Event) -> Vec<Action> {
        if self.is_over() {
            return Vec::new();
        }
        match event {
            Event::BlockRead(payload) => self.block_read(payload),
            Event::TimedOut => self.timed_out(),
            Event::Received(Packet::Ack { block }) => self.acknowledged(block),
            Event::Received(Packet::Error { code, message }) => {
                self.state = SendState::Failed;
                peer_error(code, message)
            }
            // A request retransmitted to the transfer port by a confused
            // client: the transfer it asked for is this one.
            Event::Received(Packet::ReadRequest { .. } | Packet::WriteRequest { .. }) => Vec::new(),
            Event::Received(_) => {
                self.state = SendState::Failed;
                illegal("unexpected packet: this side is sending data and expects ACKs")
            }
        }
    }

    fn block_read(&mut self, payload: Bytes) -> Vec<Action> {
        if !matches!(self.state, SendState::WaitingForBlock { .. }) {
            return Vec::new();
        }
        if payload.len() > self.block_size() {
            return self.abort(
                ErrorCode::NotDefined,
                "internal error: block larger than block size",
            );
        }
        if payload.len() < self.block_size() {
            self.source_exhausted = true;
        }
        self.bytes_sent += payload.len() as u64;
        self.unacknowledged.push_back(payload);
        let mut actions = Vec::new();
        if let Some(packet) = self.data_packet(self.unacknowledged.len() - 1) {
            actions.push(Action::Send(packet));
        }
        self.fill_window(&mut actions);
        actions
    }

    fn acknowledged(&mut self, block: u16) -> Vec<Action> {
        match self.state {
            SendState::WaitingForOptionAck => {
                // Only ACK 0 confirms the OACK; anything else is stale.
                if block == 0 {
                    self.start_sending()
                } else {
                    Vec::new()
                }
            }
            SendState::WaitingForRequestAck => {
                if block == 0 {
                    // The server ignored our options: RFC 1350 defaults.
                    self.parameters.block_size = DEFAULT_BLOCK_SIZE;
                    self.parameters.window_size = 1;
                    self.start_sending()
                } else {
                    Vec::new()
                }
            }
            SendState::WaitingForAck { .. } | SendState::WaitingForBlock { .. } => {
                let position = (0..self.unacknowledged.len())
                    .find(|offset| wire_block(self.base + *offset as u64) == block);
                let Some(offset) = position else {
                    let before_window = wire_block(self.base - 1) == block;
                    if before_window
                        && self.parameters.window_size > 1
                        && !self.unacknowledged.is_empty()
                        && !self.resent_on_stale_ack
                    {
                        // RFC 7440: the receiver lost the window's first
                        // block and acknowledges the last one it holds;
                        // resend the window, once per window sent.
                        self.resent_on_stale_ack = true;
                        let mut actions = Vec::new();
                        self.resend_window(&mut actions);
                        return actions;
                    }
                    // Otherwise a duplicate or stale ACK is never answered
                    // with data, or both sides would double every block
                    // from then on (the sorcerer's apprentice syndrome,
                    // RFC 1350, RFC 1123 4.2.3.1). The timer resends if the
                    // peer really lost something.
                    return Vec::new();
                };
                self.unacknowledged.drain(..=offset);
                self.base += offset as u64 + 1;
                self.retransmission.progress();
                self.resent_on_stale_ack = false;
                if self.source_exhausted && self.unacknowledged.is_empty() {
                    self.state = SendState::Finished;
                    return vec![Action::Finished];
                }
                let mut actions = Vec::new();
                // RFC 7440: an ACK inside the window means the blocks after
                // it were lost; start the next window right after it.
                self.resend_window(&mut actions);
                if !matches!(self.state, SendState::WaitingForBlock { .. }) {
                    self.fill_window(&mut actions);
                }
                actions
            }
            SendState::Finished | SendState::Failed => Vec::new(),
        }
    }

    fn timed_out(&mut self) -> Vec<Action> {
        if let Err(failure) = self.retransmission.timed_out() {
            self.state = SendState::Failed;
            return vec![Action::Failed(failure)];
        }
        let mut actions = Vec::new();
        self.resent_on_stale_ack = false;
        match &self.opening_packet {
            Some(packet) => actions.push(Action::Send(packet.clone())),
            None => self.resend_window(&mut actions),
        }
        actions
    }

    fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.state = SendState::Failed;
        abort_actions(code, message)
    }
}

/// Where a receiving machine stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiveState {
    /// Client download: the RRQ is out, waiting for DATA 1 or an OACK.
    WaitingForRequestAnswer,
    /// Waiting for this block (the previous ones are written).
    WaitingForData {
        block: u16,
    },
    /// The last block is written and acknowledged; a retransmitted last
    /// block is acknowledged again.
    Finished,
    Failed,
}

/// The receiving half shared by the server write and the client read.
#[derive(Debug, Clone)]
struct BlockReceiver {
    state: ReceiveState,
    parameters: TransferParameters,
    /// Absolute number of the next expected block.
    next: u64,
    /// In-order blocks received since the last ACK we sent.
    received_in_window: u16,
    /// Whether the ACK for the last in-order block was already repeated
    /// since the last progress (windowed mode answers a burst of
    /// out-of-order blocks with one ACK, not one per block).
    repeated_since_progress: bool,
    retransmission: Retransmission,
    opening_packet: Option<Packet>,
    bytes_received: u64,
}

impl BlockReceiver {
    fn new(parameters: TransferParameters, state: ReceiveState, opening: Option<Packet>) -> Self {
        BlockReceiver {
            state,
            retransmission: Retransmission::new(parameters.retry),
            parameters,
            next: 1,
            received_in_window: 0,
            repeated_since_progress: false,
            opening_packet: opening,
            bytes_received: 0,
        }
    }

    fn last_in_order_ack(&self) -> Packet {
        Packet::Ack {
            block: wire_block(self.next - 1),
        }
    }

    fn handle(&mut self, event: Event) -> Vec<Action> {
        match (&self.state, event) {
            (ReceiveState::Failed, _) => Vec::new(),
            (ReceiveState::Finished, Event::Received(Packet::Data { block, .. })) => {
                // Our final ACK was lost: acknowledge the last block again.
                if block == wire_block(self.next - 1) {
                    vec![Action::Send(self.last_in_order_ack())]
                } else {
                    Vec::new()
                }
            }
            (ReceiveState::Finished, _) => Vec::new(),
            (_, Event::TimedOut) => self.timed_out(),
            (_, Event::BlockRead(_)) => Vec::new(),
            (_, Event::Received(Packet::Data { block, payload })) => self.data(block, payload),
            (_, Event::Received(Packet::Error { code, message })) => {
                self.state = ReceiveState::Failed;
                peer_error(code, message)
            }
            (_, Event::Received(Packet::ReadRequest { .. } | Packet::WriteRequest { .. })) => {
                Vec::new()
            }
            (_, Event::Received(_)) => {
                self.state = ReceiveState::Failed;
                illegal("unexpected packet: this side is receiving data")
            }
        }
    }

    fn data(&mut self, block: u16, payload: Bytes) -> Vec<Action> {
        if payload.len() > usize::from(self.parameters.block_size) {
            self.state = ReceiveState::Failed;
            return illegal("DATA block larger than the negotiated block size");
        }
        if block != wire_block(self.next) {
            // A duplicate or a block after a gap: acknowledge the last
            // in-order block so the sender resumes from there (RFC 1350
            // lock-step, RFC 7440 window).
            if self.parameters.window_size > 1 && self.repeated_since_progress {
                return Vec::new();
            }
            self.repeated_since_progress = true;
            self.received_in_window = 0;
            return vec![Action::Send(self.last_in_order_ack())];
        }
        self.opening_packet = None;
        self.retransmission.progress();
        self.repeated_since_progress = false;
        let last = payload.len() < usize::from(self.parameters.block_size);
        self.bytes_received += payload.len() as u64;
        self.next += 1;
        self.received_in_window += 1;
        let mut actions = vec![Action::Write(payload)];
        if last {
            self.state = ReceiveState::Finished;
            actions.push(Action::Send(Packet::Ack { block }));
            actions.push(Action::Finished);
        } else {
            self.state = ReceiveState::WaitingForData {
                block: wire_block(self.next),
            };
            if self.received_in_window >= self.parameters.window_size.max(1) {
                self.received_in_window = 0;
                actions.push(Action::Send(Packet::Ack { block }));
            }
        }
        actions
    }

    fn timed_out(&mut self) -> Vec<Action> {
        if let Err(failure) = self.retransmission.timed_out() {
            self.state = ReceiveState::Failed;
            return vec![Action::Failed(failure)];
        }
        self.received_in_window = 0;
        let packet = match &self.opening_packet {
            Some(packet) => packet.clone(),
            None => self.last_in_order_ack(),
        };
        vec![Action::Send(packet)]
    }

    fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.state = ReceiveState::Failed;
        abort_actions(code, message)
    }
}

/// Server side of a read request: sends the file.
#[derive(Debug, Clone)]
pub struct ReadTransfer {
    sender: BlockSender,
    option_ack: Option<TransferOptions>,
}

impl ReadTransfer {
    /// `option_ack` is the OACK from `negotiate` (if any); the transfer then
    /// waits for ACK 0 before the first block.
    pub fn new(parameters: TransferParameters, option_ack: Option<TransferOptions>) -> Self {
        let opening = option_ack.map(|options| Packet::OptionAck { options });
        ReadTransfer {
            sender: BlockSender::new(parameters, SendState::WaitingForOptionAck, opening),
            option_ack,
        }
    }

    /// The first actions: the OACK, or a request for block 1.
    pub fn start(&mut self) -> Vec<Action> {
        match self.option_ack {
            Some(options) => vec![Action::Send(Packet::OptionAck { options })],
            None => self.sender.start_sending(),
        }
    }

    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        self.sender.handle(event)
    }

    /// Gives up (e.g. the file could not be read), telling the peer why.
    pub fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.sender.abort(code, message)
    }

    pub fn state(&self) -> &SendState {
        &self.sender.state
    }

    pub fn current_timeout(&self) -> Duration {
        self.sender.retransmission.current
    }

    pub fn parameters(&self) -> TransferParameters {
        self.sender.parameters
    }

    pub fn bytes_transferred(&self) -> u64 {
        self.sender.bytes_sent
    }
}

/// Server side of a write request: receives the file.
#[derive(Debug, Clone)]
pub struct WriteTransfer {
    receiver: BlockReceiver,
}

impl WriteTransfer {
    pub fn new(parameters: TransferParameters, option_ack: Option<TransferOptions>) -> Self {
        // Without options the server answers ACK 0; with them, the OACK
        // stands in for ACK 0 (RFC 2347).
        let opening = match option_ack {
            Some(options) => Packet::OptionAck { options },
            None => Packet::Ack { block: 0 },
        };
        let state = ReceiveState::WaitingForData { block: 1 };
        WriteTransfer {
            receiver: BlockReceiver::new(parameters, state, Some(opening)),
        }
    }

    /// The first action: ACK 0 or the OACK.
    pub fn start(&mut self) -> Vec<Action> {
        self.receiver
            .opening_packet
            .clone()
            .map(Action::Send)
            .into_iter()
            .collect()
    }

    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        self.receiver.handle(event)
    }

    /// Gives up (e.g. disk full), telling the peer why.
    pub fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.receiver.abort(code, message)
    }

    pub fn state(&self) -> &ReceiveState {
        &self.receiver.state
    }

    pub fn current_timeout(&self) -> Duration {
        self.receiver.retransmission.current
    }

    pub fn bytes_transferred(&self) -> u64 {
        self.receiver.bytes_received
    }
}

/// Checks an OACK against what the client asked for (RFC 2347: a server
/// may not grant an option that was not requested, and RFC 2348/7440 values
/// may only shrink). `Err` carries the error 8 message.
fn accept_option_ack(
    requested: &TransferOptions,
    granted: &TransferOptions,
    retry: RetryPolicy,
) -> Result<TransferParameters, String> {
    let mut parameters = TransferParameters::defaults(retry);
    match (requested.block_size, granted.block_size) {
        (_, None) => {}
        (Some(asked), Some(size)) if size <= asked => parameters.block_size = size,
        (asked, Some(size)) => {
            return Err(format!(
                "server granted blksize {size}, client asked {asked:?}"
            ));
        }
    }
    match (requested.window_size, granted.window_size) {
        (_, None) => {}
        (Some(asked), Some(size)) if size <= asked => parameters.window_size = size,
        (asked, Some(size)) => {
            return Err(format!(
                "server granted windowsize {size}, client asked {asked:?}"
            ));
        }
    }
    match (requested.timeout_seconds, granted.timeout_seconds) {
        (_, None) => {}
        (Some(asked), Some(seconds)) if seconds == asked => {
            let timeout = Duration::from_secs(u64::from(seconds));
            parameters.retry.initial_timeout = timeout;
            parameters.retry.max_timeout = parameters.retry.max_timeout.max(timeout);
        }
        (asked, Some(seconds)) => {
            return Err(format!(
                "server answered timeout {seconds}, client asked {asked:?}"
            ));
        }
    }
    if granted.transfer_size.is_some() && requested.transfer_size.is_none() {
        return Err("server sent tsize the client did not ask for".to_string());
    }
    Ok(parameters)
}

/// Client side of a read request: sends the RRQ, receives the file.
#[derive(Debug, Clone)]
pub struct ClientReadTransfer {
    receiver: BlockReceiver,
    requested: TransferOptions,
    request: Packet,
    announced_size: Option<u64>,
}

impl ClientReadTransfer {
    pub fn new(filename: &str, mode: Mode, options: TransferOptions, retry: RetryPolicy) -> Self {
        let request = Packet::ReadRequest {
            filename: filename.to_string(),
            mode,
            options,
        };
        let receiver = BlockReceiver::new(
            TransferParameters::defaults(retry),
            ReceiveState::WaitingForRequestAnswer,
            Some(request.clone()),
        );
        ClientReadTransfer {
            receiver,
            requested: options,
            request,
            announced_size: None,
        }
    }

    /// The first action: the RRQ.
    pub fn start(&mut self) -> Vec<Action> {
        vec![Action::Send(self.request.clone())]
    }

    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        if self.receiver.state != ReceiveState::WaitingForRequestAnswer {
            if let Event::Received(Packet::OptionAck { .. }) = event {
                // The server did not get our ACK 0 and sent its OACK again.
                let answered_option_ack =
                    self.receiver.opening_packet == Some(Packet::Ack { block: 0 });
                return if self.receiver.next == 1 && answered_option_ack {
                    vec![Action::Send(Packet::Ack { block: 0 })]
                } else {
                    Vec::new()
                };
            }
            return self.receiver.handle(event);
        }
        match event {
            Event::Received(Packet::OptionAck { options }) => {
                let retry = self.receiver.parameters.retry;
                match accept_option_ack(&self.requested, &options, retry) {
                    Ok(parameters) => {
                        self.announced_size = options.transfer_size;
                        self.receiver.parameters = parameters;
                        self.receiver.retransmission = Retransmission::new(parameters.retry);
                        self.receiver.state = ReceiveState::WaitingForData { block: 1 };
                        let ack = Packet::Ack { block: 0 };
                        self.receiver.opening_packet = Some(ack.clone());
                        vec![Action::Send(ack)]
                    }
                    Err(message) => self
                        .receiver
                        .abort(ErrorCode::OptionNegotiationFailed, &message),
                }
            }
            Event::Received(Packet::Data { block: 1, payload }) => {
                // No OACK: the server ignored every option (RFC 2347).
                self.receiver.state = ReceiveState::WaitingForData { block: 1 };
                self.receiver.data(1, payload)
            }
            Event::Received(Packet::Data { .. }) | Event::Received(Packet::Ack { .. }) => {
                Vec::new()
            }
            other => self.receiver.handle(other),
        }
    }

    pub fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.receiver.abort(code, message)
    }

    pub fn state(&self) -> &ReceiveState {
        &self.receiver.state
    }

    pub fn current_timeout(&self) -> Duration {
        self.receiver.retransmission.current
    }

    /// The tsize the server announced in its OACK.
    pub fn announced_size(&self) -> Option<u64> {
        self.announced_size
    }

    pub fn bytes_transferred(&self) -> u64 {
        self.receiver.bytes_received
    }
}

/// Client side of a write request: sends the WRQ, then the file.
#[derive(Debug, Clone)]
pub struct ClientWriteTransfer {
    sender: BlockSender,
    requested: TransferOptions,
}

impl ClientWriteTransfer {
    pub fn new(filename: &str, mode: Mode, options: TransferOptions, retry: RetryPolicy) -> Self {
        let request = Packet::WriteRequest {
            filename: filename.to_string(),
            mode,
            options,
        };
        let sender = BlockSender::new(
            TransferParameters::defaults(retry),
            SendState::WaitingForRequestAck,
            Some(request),
        );
        ClientWriteTransfer {
            sender,
            requested: options,
        }
    }

    /// The first action: the WRQ.
    pub fn start(&mut self) -> Vec<Action> {
        self.sender
            .opening_packet
            .clone()
            .map(Action::Send)
            .into_iter()
            .collect()
    }

    pub fn handle(&mut self, event: Event) -> Vec<Action> {
        if self.sender.state == SendState::WaitingForRequestAck {
            if let Event::Received(Packet::OptionAck { options }) = event {
                let retry = self.sender.parameters.retry;
                return match accept_option_ack(&self.requested, &options, retry) {
                    Ok(parameters) => {
                        self.sender.parameters = parameters;
                        self.sender.retransmission = Retransmission::new(parameters.retry);
                        self.sender.start_sending()
                    }
                    Err(message) => self
                        .sender
                        .abort(ErrorCode::OptionNegotiationFailed, &message),
                };
            }
        } else if let Event::Received(Packet::OptionAck { .. }) = event {
            // A retransmitted OACK: the blocks already sent answer it.
            return Vec::new();
        }
        self.sender.handle(event)
    }

    pub fn abort(&mut self, code: ErrorCode, message: &str) -> Vec<Action> {
        self.sender.abort(code, message)
    }

    pub fn state(&self) -> &SendState {
        &self.sender.state
    }

    pub fn current_timeout(&self) -> Duration {
        self.sender.retransmission.current
    }

    pub fn bytes_transferred(&self) -> u64 {
        self.sender.bytes_sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::MAX_BLOCK_SIZE;

    fn parameters(block_size: u16, window_size: u16) -> TransferParameters {
        TransferParameters {
            block_size,
            window_size,
            retry: RetryPolicy::default(),
        }
    }

    /// Serves `ReadBlock` requests from `file` and returns every other
    /// action, so a test sees only what goes on the wire.
    struct Source<'a> {
        file: &'a [u8],
        offset: usize,
    }

    impl<'a> Source<'a> {
        fn new(file: &'a [u8]) -> Self {
            Source { file, offset: 0 }
        }

        fn run(&mut self, transfer: &mut ReadTransfer, mut pending: Vec<Action>) -> Vec<Action> {
            let mut visible = Vec::new();
            while !pending.is_empty() {
                let action = pending.remove(0);
                match action {
                    Action::ReadBlock { max_len } => {
                        let end = (self.offset + max_len).min(self.file.len());
                        let block = Bytes::copy_from_slice(&self.file[self.offset..end]);
                        self.offset = end;
                        let more = transfer.handle(Event::BlockRead(block));
                        pending.splice(0..0, more);
                    }
                    other => visible.push(other),
                }
            }
            visible
        }
    }

    fn data_blocks(actions: &[Action]) -> Vec<u16> {
        actions
            .iter()
            .filter_map(|action| match action {
                Action::Send(Packet::Data { block, .. }) => Some(*block),
                _ => None,
            })
            .collect()
    }

    fn ack(block: u16) -> Event {
        Event::Received(Packet::Ack { block })
    }

    fn data(block: u16, payload: &[u8]) -> Event {
        Event::Received(Packet::Data {
            block,
            payload: Bytes::copy_from_slice(payload),
        })
    }

    #[test]
    fn rfc1350_section_6_duplicate_ack_does_not_resend_next_block() {
        let file = vec![7u8; 2048];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 1), None);
        let started = transfer.start();
        assert_eq!(data_blocks(&source.run(&mut transfer, started)), [1]);
        let after_ack = transfer.handle(ack(1));
        assert_eq!(data_blocks(&source.run(&mut transfer, after_ack)), [2]);
        assert_eq!(transfer.handle(ack(1)), []);
        assert_eq!(transfer.state(), &SendState::WaitingForAck { block: 2 });
        let after_ack = transfer.handle(ack(2));
        assert_eq!(data_blocks(&source.run(&mut transfer, after_ack)), [3]);
    }

    #[test]
    fn rfc1123_section_4_2_3_1_stale_ack_from_the_future_is_ignored() {
        let file = vec![7u8; 2048];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 1), None);
        let started = transfer.start();
        source.run(&mut transfer, started);
        assert_eq!(transfer.handle(ack(9)), []);
    }

    #[test]
    fn rfc1350_section_2_timeout_resends_with_exponential_backoff_then_gives_up() {
        let file = vec![1u8; 100];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 1), None);
        let started = transfer.start();
        source.run(&mut transfer, started);
        let mut timeouts = vec![transfer.current_timeout()];
        for _ in 0..RetryPolicy::default().max_retries {
            assert_eq!(data_blocks(&transfer.handle(Event::TimedOut)), [1]);
            timeouts.push(transfer.current_timeout());
        }
        let secs: Vec<u64> = timeouts.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 16, 16]);
        assert!(matches!(
            transfer.handle(Event::TimedOut).as_slice(),
            [Action::Failed(TransferFailure::TimedOut { retries: 6, .. })]
        ));
        assert_eq!(transfer.state(), &SendState::Failed);
    }

    #[test]
    fn slow_link_keeps_the_backed_off_timeout_and_shrinks_it_slowly() {
        let file = vec![1u8; 512 * 8];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 1), None);
        let started = transfer.start();
        source.run(&mut transfer, started);
        transfer.handle(Event::TimedOut);
        assert_eq!(transfer.current_timeout(), Duration::from_secs(2));
        let next = transfer.handle(ack(1));
        source.run(&mut transfer, next);
        assert_eq!(transfer.current_timeout(), Duration::from_secs(2));
        let next = transfer.handle(ack(2));
        source.run(&mut transfer, next);
        assert_eq!(transfer.current_timeout(), Duration::from_millis(1750));
        for block in 3..=7 {
            let next = transfer.handle(ack(block));
            source.run(&mut transfer, next);
        }
        assert_eq!(transfer.current_timeout(), Duration::from_secs(1));
    }

    #[test]
    fn rfc1350_section_6_file_of_whole_blocks_ends_with_empty_block() {
        let check = |size: usize, expected_blocks: &[u16]| {
            let file = vec![3u8; size];
            let mut source = Source::new(&file);
            let mut transfer = ReadTransfer::new(parameters(512, 1), None);
            let mut sent = Vec::new();
            let started = transfer.start();
            let mut actions = source.run(&mut transfer, started);
            loop {
                let blocks = data_blocks(&actions);
                sent.extend(blocks.iter().copied());
                if actions.contains(&Action::Finished) {
                    break;
                }
                let last = *blocks.last().expect("a block was sent");
                let next = transfer.handle(ack(last));
                actions = source.run(&mut transfer, next);
            }
            assert_eq!(sent, expected_blocks, "file of {size} bytes");
            assert_eq!(transfer.bytes_transferred(), size as u64);
        };
        check(0, &[1]);
        check(511, &[1]);
        check(512, &[1, 2]);
        check(513, &[1, 2]);
        check(1024, &[1, 2, 3]);
    }

    #[test]
    fn rfc1350_block_number_wraps_after_65535() {
        let block_size = 8usize;
        let file = vec![5u8; block_size * 65537 + 3];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(8, 1), None);
        let started = transfer.start();
        let mut actions = source.run(&mut transfer, started);
        let mut sent = Vec::new();
        while !actions.contains(&Action::Finished) {
            let block = *data_blocks(&actions).last().expect("a block was sent");
            sent.push(block);
            let next = transfer.handle(ack(block));
            actions = source.run(&mut transfer, next);
        }
        assert_eq!(sent.len(), 65538);
        assert_eq!(&sent[65533..], [65534, 65535, 0, 1, 2]);
    }

    #[test]
    fn rfc1350_receiver_block_number_wraps_after_65535() {
        let mut transfer = WriteTransfer::new(parameters(8, 1), None);
        transfer.start();
        for absolute in 1..=65537u64 {
            let block = (absolute % 65536) as u16;
            let actions = transfer.handle(data(block, b"12345678"));
            assert_eq!(
                actions.last(),
                Some(&Action::Send(Packet::Ack { block })),
                "{absolute}"
            );
        }
        assert_eq!(transfer.state(), &ReceiveState::WaitingForData { block: 2 });
        let end = transfer.handle(data(2, b""));
        assert_eq!(end.last(), Some(&Action::Finished));
        assert_eq!(transfer.bytes_transferred(), 65537 * 8);
    }

    #[test]
    fn rfc7440_window_of_16_sends_16_blocks_before_ack() {
        let file = vec![9u8; 512 * 20 + 100];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 16), None);
        let started = transfer.start();
        let first_window = data_blocks(&source.run(&mut transfer, started));
        assert_eq!(first_window, (1..=16).collect::<Vec<u16>>());
        assert_eq!(transfer.state(), &SendState::WaitingForAck { block: 16 });
        let second = transfer.handle(ack(16));
        assert_eq!(
            data_blocks(&source.run(&mut transfer, second)),
            [17, 18, 19, 20, 21]
        );
        assert_eq!(transfer.handle(ack(21)), [Action::Finished]);
    }

    #[test]
    fn rfc7440_ack_inside_window_restarts_window_after_acked_block() {
        let file = vec![9u8; 512 * 10];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 4), None);
        let started = transfer.start();
        assert_eq!(
            data_blocks(&source.run(&mut transfer, started)),
            [1, 2, 3, 4]
        );
        let after = transfer.handle(ack(2));
        assert_eq!(data_blocks(&source.run(&mut transfer, after)), [3, 4, 5, 6]);
    }

    #[test]
    fn rfc7440_ack_before_window_resends_window_once() {
        let file = vec![9u8; 512 * 10];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 4), None);
        let started = transfer.start();
        source.run(&mut transfer, started);
        let after = transfer.handle(ack(4));
        assert_eq!(data_blocks(&source.run(&mut transfer, after)), [5, 6, 7, 8]);
        // Block 5 was lost: the receiver acknowledges 4 again.
        assert_eq!(data_blocks(&transfer.handle(ack(4))), [5, 6, 7, 8]);
        assert_eq!(transfer.handle(ack(4)), []);
        assert_eq!(transfer.handle(ack(4)), []);
    }

    #[test]
    fn rfc7440_timeout_resends_whole_window() {
        let file = vec![9u8; 512 * 10];
        let mut source = Source::new(&file);
        let mut transfer = ReadTransfer::new(parameters(512, 3), None);
        let started = transfer.start();
        source.run(&mut transfer, started);
        assert_eq!(data_blocks(&transfer.handle(Event::TimedOut)), [1, 2, 3]);
    }

    #[test]
    fn rfc2347_server_waits_for_ack_0_after_option_ack() {
        let file = vec![1u8; 600];
        let mut source = Source::new(&file);
        let oack = TransferOptions {
            block_size: Some(1024),
            ..TransferOptions::default()
        };
        let mut transfer = ReadTransfer::new(parameters(1024, 1), Some(oack));
        assert_eq!(
            transfer.start(),
            [Action::Send(Packet::OptionAck { options: oack })]
        );
        assert_eq!(transfer.state(), &SendState::WaitingForOptionAck);
        assert_eq!(transfer.handle(ack(1)), []);
        assert_eq!(
            transfer.handle(Event::TimedOut),
            [Action::Send(Packet::OptionAck { options: oack })]
        );
        let after = transfer.handle(ack(0));
        let sent = source.run(&mut transfer, after);
        assert!(matches!(
            sent.as_slice(),
            [Action::Send(Packet::Data { block: 1, payload })] if payload.len() == 600
        ));
    }

    #[test]
    fn rfc2347_client_error_8_after_option_ack_ends_transfer_without_reply() {
        let oack = TransferOptions {
            window_size: Some(8),
            ..TransferOptions::default()
        };
        let mut transfer = ReadTransfer::new(parameters(512, 8), Some(oack));
        transfer.start();
        let refused = Event::Received(Packet::Error {
            code: ErrorCode::OptionNegotiationFailed,
            message: "no".into(),
        });
        assert_eq!(
            transfer.handle(refused),
            [Action::Failed(TransferFailure::PeerError {
                code: ErrorCode::OptionNegotiationFailed,
                message: "no".into()
            })]
        );
        assert_eq!(transfer.handle(ack(0)), []);
    }

    #[test]
    fn rfc1350_section_5_unexpected_opcode_is_answered_with_error_4() {
        let mut transfer = ReadTransfer::new(parameters(512, 1), None);
        let mut source = Source::new(b"abc");
        let started = transfer.start();
        source.run(&mut transfer, started);
        let actions = transfer.handle(data(1, b"x"));
        assert!(matches!(
            actions.first(),
            Some(Action::Send(Packet::Error {
                code: ErrorCode::IllegalOperation,
                ..
            }))
        ));
        assert_eq!(transfer.state(), &SendState::Failed);
    }

    #[test]
    fn rfc1350_write_acks_each_block_and_finishes_on_short_block() {
        let mut transfer = WriteTransfer::new(parameters(512, 1), None);
        assert_eq!(transfer.start(), [Action::Send(Packet::Ack { block: 0 })]);
        let full = vec![1u8; 512];
        assert_eq!(
            transfer.handle(data(1, &full)),
            [
                Action::Write(Bytes::from(full.clone())),
                Action::Send(Packet::Ack { block: 1 })
            ]
        );
        assert_eq!(
            transfer.handle(data(2, b"end")),
            [
                Action::Write(Bytes::from_static(b"end")),
                Action::Send(Packet::Ack { block: 2 }),
                Action::Finished
            ]
        );
        assert_eq!(transfer.bytes_transferred(), 515);
        // The final ACK was lost: the retransmitted last block is re-acked.
        assert_eq!(
            transfer.handle(data(2, b"end")),
            [Action::Send(Packet::Ack { block: 2 })]
        );
    }

    #[test]
    fn rfc1350_duplicate_data_is_acknowledged_again_but_written_once() {
        let mut transfer = WriteTransfer::new(parameters(512, 1), None);
        transfer.start();
        let full = vec![1u8; 512];
        transfer.handle(data(1, &full));
        assert_eq!(
            transfer.handle(data(1, &full)),
            [Action::Send(Packet::Ack { block: 1 })]
        );
        assert_eq!(
            transfer.handle(data(1, &full)),
            [Action::Send(Packet::Ack { block: 1 })]
        );
    }

    #[test]
    fn rfc7440_receiver_acknowledges_once_per_window() {
        let mut transfer = WriteTransfer::new(parameters(8, 4), None);
        transfer.start();
        let acks: Vec<bool> = (1..=8u16)
            .map(|block| {
                transfer
                    .handle(data(block, b"12345678"))
                    .iter()
                    .any(|action| matches!(action, Action::Send(Packet::Ack { .. })))
            })
            .collect();
        assert_eq!(acks, [false, false, false, true, false, false, false, true]);
    }

    #[test]
    fn rfc7440_receiver_answers_a_gap_with_one_ack_of_last_in_order_block() {
        let mut transfer = WriteTransfer::new(parameters(8, 4), None);
        transfer.start();
        transfer.handle(data(1, b"12345678"));
        assert_eq!(
            transfer.handle(data(3, b"12345678")),
            [Action::Send(Packet::Ack { block: 1 })]
        );
        assert_eq!(transfer.handle(data(4, b"12345678")), []);
        let resumed = transfer.handle(data(2, b"12345678"));
        assert_eq!(resumed, [Action::Write(Bytes::from_static(b"12345678"))]);
    }

    #[test]
    fn rfc1350_receiver_refuses_block_larger_than_negotiated() {
        let mut transfer = WriteTransfer::new(parameters(8, 1), None);
        transfer.start();
        let actions = transfer.handle(data(1, b"123456789"));
        assert!(matches!(
            actions.first(),
            Some(Action::Send(Packet::Error {
                code: ErrorCode::IllegalOperation,
                ..
            }))
        ));
    }

    #[test]
    fn rfc2347_write_with_options_answers_option_ack_instead_of_ack_0() {
        let oack = TransferOptions {
            block_size: Some(1468),
            ..TransferOptions::default()
        };
        let mut transfer = WriteTransfer::new(parameters(1468, 1), Some(oack));
        assert_eq!(
            transfer.start(),
            [Action::Send(Packet::OptionAck { options: oack })]
        );
        assert_eq!(
            transfer.handle(Event::TimedOut),
            [Action::Send(Packet::OptionAck { options: oack })]
        );
    }

    #[test]
    fn rfc2348_server_grants_at_most_its_own_limit() {
        let requested = TransferOptions {
            block_size: Some(MAX_BLOCK_SIZE),
            window_size: Some(1000),
            ..TransferOptions::default()
        };
        let limits = ServerLimits {
            max_block_size: 1468,
            max_window_size: 32,
        };
        let (granted, oack) = negotiate(&requested, Some(5), &limits, RetryPolicy::default());
        assert_eq!((granted.block_size, granted.window_size), (1468, 32));
        let oack = oack.expect("options were granted");
        assert_eq!(
            (oack.block_size, oack.window_size, oack.transfer_size),
            (Some(1468), Some(32), None)
        );
    }

    #[test]
    fn rfc2349_tsize_is_answered_with_the_file_size_and_timeout_echoed() {
        let requested = TransferOptions {
            transfer_size: Some(0),
            timeout_seconds: Some(5),
            ..TransferOptions::default()
        };
        let (granted, oack) = negotiate(
            &requested,
            Some(123456),
            &ServerLimits::default(),
            RetryPolicy::default(),
        );
        assert_eq!(granted.retry.initial_timeout, Duration::from_secs(5));
        let oack = oack.expect("options were granted");
        assert_eq!(
            (oack.transfer_size, oack.timeout_seconds),
            (Some(123456), Some(5))
        );
    }

    #[test]
    fn rfc2347_no_options_means_no_option_ack() {
        let (granted, oack) = negotiate(
            &TransferOptions::default(),
            Some(10),
            &ServerLimits::default(),
            RetryPolicy::default(),
        );
        assert_eq!(oack, None);
        assert_eq!((granted.block_size, granted.window_size), (512, 1));
    }

    #[test]
    fn rfc2348_client_refuses_option_ack_larger_than_requested_with_error_8() {
        let asked = TransferOptions {
            block_size: Some(1024),
            ..TransferOptions::default()
        };
        let mut client = ClientReadTransfer::new("f", Mode::Octet, asked, RetryPolicy::default());
        client.start();
        let oack = TransferOptions {
            block_size: Some(2048),
            ..TransferOptions::default()
        };
        let actions = client.handle(Event::Received(Packet::OptionAck { options: oack }));
        assert!(matches!(
            actions.first(),
            Some(Action::Send(Packet::Error {
                code: ErrorCode::OptionNegotiationFailed,
                ..
            }))
        ));
    }

    #[test]
    fn rfc2347_client_read_falls_back_to_512_when_server_ignores_options() {
        let asked = TransferOptions {
            block_size: Some(1024),
            ..TransferOptions::default()
        };
        let mut client = ClientReadTransfer::new("f", Mode::Octet, asked, RetryPolicy::default());
        assert!(matches!(
            client.start().as_slice(),
            [Action::Send(Packet::ReadRequest { .. })]
        ));
        let actions = client.handle(data(1, &[0u8; 512]));
        assert_eq!(
            actions.last(),
            Some(&Action::Send(Packet::Ack { block: 1 }))
        );
        assert_eq!(client.state(), &ReceiveState::WaitingForData { block: 2 });
    }

    #[test]
    fn rfc2347_client_read_acknowledges_option_ack_with_ack_0() {
        let asked = TransferOptions {
            block_size: Some(1468),
            transfer_size: Some(0),
            window_size: Some(16),
            ..TransferOptions::default()
        };
        let mut client = ClientReadTransfer::new("f", Mode::Octet, asked, RetryPolicy::default());
        client.start();
        let oack = TransferOptions {
            transfer_size: Some(99),
            ..asked
        };
        let actions = client.handle(Event::Received(Packet::OptionAck { options: oack }));
        assert_eq!(actions, [Action::Send(Packet::Ack { block: 0 })]);
        assert_eq!(client.announced_size(), Some(99));
        assert_eq!(
            client.handle(Event::TimedOut),
            [Action::Send(Packet::Ack { block: 0 })]
        );
    }

    #[test]
    fn rfc2347_client_read_answers_a_retransmitted_option_ack_with_ack_0_again() {
        let asked = TransferOptions {
            block_size: Some(1024),
            ..TransferOptions::default()
        };
        let mut client = ClientReadTransfer::new("f", Mode::Octet, asked, RetryPolicy::default());
        client.start();
        let oack = Event::Received(Packet::OptionAck { options: asked });
        assert_eq!(
            client.handle(oack.clone()),
            [Action::Send(Packet::Ack { block: 0 })]
        );
        assert_eq!(
            client.handle(oack.clone()),
            [Action::Send(Packet::Ack { block: 0 })]
        );
        client.handle(data(1, &[0u8; 1024]));
        assert_eq!(client.handle(oack), []);
        assert_eq!(client.state(), &ReceiveState::WaitingForData { block: 2 });
    }

    #[test]
    fn rfc2347_client_write_ignores_a_retransmitted_option_ack() {
        let asked = TransferOptions {
            block_size: Some(8),
            ..TransferOptions::default()
        };
        let mut client = ClientWriteTransfer::new("up", Mode::Octet, asked, RetryPolicy::default());
        client.start();
        let oack = Event::Received(Packet::OptionAck { options: asked });
        assert_eq!(
            client.handle(oack.clone()),
            [Action::ReadBlock { max_len: 8 }]
        );
        client.handle(Event::BlockRead(Bytes::from_static(b"12345678")));
        assert_eq!(client.handle(oack), []);
        assert_eq!(client.state(), &SendState::WaitingForAck { block: 1 });
    }

    #[test]
    fn rfc1350_client_write_starts_on_ack_0_and_ignores_duplicate_acks() {
        let mut client = ClientWriteTransfer::new(
            "up",
            Mode::Octet,
            TransferOptions::default(),
            RetryPolicy::default(),
        );
        assert!(matches!(
            client.start().as_slice(),
            [Action::Send(Packet::WriteRequest { .. })]
        ));
        assert_eq!(client.handle(ack(0)), [Action::ReadBlock { max_len: 512 }]);
        let sent = client.handle(Event::BlockRead(Bytes::from_static(b"tiny")));
        assert!(matches!(
            sent.as_slice(),
            [Action::Send(Packet::Data { block: 1, .. })]
        ));
        assert_eq!(client.handle(ack(0)), []);
        assert_eq!(client.handle(ack(1)), [Action::Finished]);
    }
}

#[cfg(test)]
mod simulation {
    //! Server read transfer and client read transfer wired together through
    //! lossy in-memory links on a virtual clock: whatever is lost, the
    //! transfer completes with the right bytes (within the retry budget).

    use super::*;

    struct Side {
        deadline: Duration,
        outbox: Vec<Packet>,
    }

    fn simulate(window: u16, size: usize, drop_every: usize) -> Result<Vec<u8>, String> {
        let file: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
        let retry = RetryPolicy {
            initial_timeout: Duration::from_millis(40),
            max_timeout: Duration::from_millis(160),
            max_retries: 10,
        };
        let asked = TransferOptions {
            block_size: Some(512),
            window_size: Some(window),
            ..TransferOptions::default()
        };
        let (parameters, oack) = negotiate(&asked, None, &ServerLimits::default(), retry);
        let mut server = ReadTransfer::new(parameters, oack);
        let mut client = ClientReadTransfer::new("f", Mode::Octet, asked, retry);
        let mut offset = 0usize;
        let mut received = Vec::new();
        let mut now = Duration::ZERO;
        let mut server_side = Side {
            deadline: now + server.current_timeout(),
            outbox: vec![],
        };
        let mut client_side = Side {
            deadline: now + client.current_timeout(),
            outbox: vec![],
        };
        // Pseudo-random loss (xorshift, fixed seed): periodic loss would
        // phase-lock with the window and lose the same block for ever.
        let mut state = 0x2545_f491_4f6c_dd1du64 ^ (drop_every as u64) ^ (u64::from(window) << 32);
        let mut lost = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % drop_every as u64 == 0
        };
        let mut client_done = false;

        let mut run_server = |server: &mut ReadTransfer,
                              side: &mut Side,
                              now: Duration,
                              actions: Vec<Action>|
         -> Result<bool, String> {
            let mut pending: VecDeque<Action> = actions.into();
            let mut sent = false;
            while let Some(action) = pending.pop_front() {
                match action {
                    Action::Send(packet) => {
                        side.outbox.push(packet);
                        sent = true;
                    }
                    Action::ReadBlock { max_len } => {
                        let end = (offset + max_len).min(file.len());
                        let block = Bytes::copy_from_slice(&file[offset..end]);
                        offset = end;
                        for action in server.handle(Event::BlockRead(block)).into_iter().rev() {
                            pending.push_front(action);
                        }
                    }
                    Action::Finished => return Ok(true),
                    Action::Failed(failure) => return Err(format!("server: {failure:?}")),
                    Action::Write(_) => {}
                }
            }
            if sent {
                side.deadline = now + server.current_timeout();
            }
            Ok(false)
        };
        let first = server.start();
        run_server(&mut server, &mut server_side, now, first)?;
        client_side.outbox.extend(
            client
                .start()
                .into_iter()
                .filter_map(|action| match action {
                    Action::Send(packet) => Some(packet),
                    _ => None,
                }),
        );
        for _ in 0..200_000 {
            if client_done {
                return Ok(received);
            }
            if !server_side.outbox.is_empty() {
                let packet = server_side.outbox.remove(0);
                if lost() {
                    continue;
                }
                let mut sent = false;
                for action in client.handle(Event::Received(packet)) {
                    match action {
                        Action::Send(packet) => {
                            client_side.outbox.push(packet);
                            sent = true;
                        }
                        Action::Write(bytes) => {
                            received.extend_from_slice(&bytes);
                            sent = true;
                        }
                        Action::Finished => client_done = true,
                        Action::Failed(failure) => return Err(format!("client: {failure:?}")),
                        Action::ReadBlock { .. } => {}
                    }
                }
                if sent {
                    client_side.deadline = now + client.current_timeout();
                }
                continue;
            }
            if !client_side.outbox.is_empty() {
                let packet = client_side.outbox.remove(0);
                if lost() {
                    continue;
                }
                let actions = server.handle(Event::Received(packet));
                run_server(&mut server, &mut server_side, now, actions)?;
                continue;
            }
            // Nothing in flight: the earliest timer fires.
            if server_side.deadline <= client_side.deadline {
                now = server_side.deadline;
                let actions = server.handle(Event::TimedOut);
                server_side.deadline = now + server.current_timeout();
                run_server(&mut server, &mut server_side, now, actions)?;
            } else {
                now = client_side.deadline;
                let actions = client.handle(Event::TimedOut);
                client_side.deadline = now + client.current_timeout();
                for action in actions {
                    match action {
                        Action::Send(packet) => client_side.outbox.push(packet),
                        Action::Failed(failure) => return Err(format!("client: {failure:?}")),
                        _ => {}
                    }
                }
            }
        }
        Err("no end after 200000 steps".into())
    }

    #[test]
    fn rfc7440_and_rfc1350_transfers_complete_despite_periodic_loss() {
        for window in [1u16, 4, 16] {
            for drop_every in [3usize, 5, 7, 13] {
                let size = 150_000;
                let expected: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
                match simulate(window, size, drop_every) {
                    Ok(received) => assert!(
                        received == expected,
                        "window {window}, 1 in {drop_every}: data differs"
                    ),
                    Err(reason) => panic!("window {window}, 1 in {drop_every} lost: {reason}"),
                }
            }
        }
    }
}
