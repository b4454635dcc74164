//! TFTP wire format (RFC 1350) with the option extension (RFC 2347) and the
//! blksize (RFC 2348), tsize/timeout (RFC 2349) and windowsize (RFC 7440)
//! options: decoding never panics, encoding is the exact inverse.

use std::fmt;

use bytes::Bytes;

use crate::error::TftpError;

/// Largest DATA payload any option may negotiate (RFC 2348).
pub const MAX_BLOCK_SIZE: u16 = 65464;
/// Smallest block size RFC 2348 allows.
pub const MIN_BLOCK_SIZE: u16 = 8;
/// Block size when no option is negotiated (RFC 1350).
pub const DEFAULT_BLOCK_SIZE: u16 = 512;

const OPCODE_READ_REQUEST: u16 = 1;
const OPCODE_WRITE_REQUEST: u16 = 2;
const OPCODE_DATA: u16 = 3;
const OPCODE_ACK: u16 = 4;
const OPCODE_ERROR: u16 = 5;
const OPCODE_OPTION_ACK: u16 = 6;

/// How file bytes travel (RFC 1350 section 1; "mail" is obsolete and refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Raw bytes ("octet", also sent as "binary" by old clients).
    Octet,
    /// NVT ASCII: line ends as CR LF, a bare CR as CR NUL.
    NetAscii,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Octet => "octet",
            Mode::NetAscii => "netascii",
        }
    }

    fn parse(text: &str) -> Result<Mode, TftpError> {
        if text.eq_ignore_ascii_case("octet") || text.eq_ignore_ascii_case("binary") {
            Ok(Mode::Octet)
        } else if text.eq_ignore_ascii_case("netascii") || text.eq_ignore_ascii_case("ascii") {
            Ok(Mode::NetAscii)
        } else {
            Err(TftpError::UnsupportedMode {
                mode: text.to_string(),
            })
        }
    }
}

/// TFTP error codes (RFC 1350 appendix, RFC 2347 code 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotDefined,
    FileNotFound,
    AccessViolation,
    DiskFull,
    IllegalOperation,
    UnknownTransferId,
    FileAlreadyExists,
    NoSuchUser,
    OptionNegotiationFailed,
    /// A code outside the RFC table, kept as sent.
    Other(u16),
}

impl ErrorCode {
    pub fn to_u16(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTransferId => 5,
            ErrorCode::FileAlreadyExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionNegotiationFailed => 8,
            ErrorCode::Other(code) => code,
        }
    }

    pub fn from_u16(code: u16) -> ErrorCode {
        match code {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTransferId,
            6 => ErrorCode::FileAlreadyExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionNegotiationFailed,
            other => ErrorCode::Other(other),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            ErrorCode::NotDefined => "not defined",
            ErrorCode::FileNotFound => "file not found",
            ErrorCode::AccessViolation => "access violation",
            ErrorCode::DiskFull => "disk full or allocation exceeded",
            ErrorCode::IllegalOperation => "illegal TFTP operation",
            ErrorCode::UnknownTransferId => "unknown transfer ID",
            ErrorCode::FileAlreadyExists => "file already exists",
            ErrorCode::NoSuchUser => "no such user",
            ErrorCode::OptionNegotiationFailed => "option negotiation failed",
            ErrorCode::Other(_) => "unknown error code",
        };
        write!(f, "{} ({text})", self.to_u16())
    }
}

/// The options of a request or an option acknowledgement. `None` means the
/// option is absent (or, in a request, was ignored as RFC 2347 prescribes
/// for values a server cannot honour).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferOptions {
    /// `blksize`: DATA payload size, 8..=65464 (RFC 2348).
    pub block_size: Option<u16>,
    /// `tsize`: file size in bytes; 0 in a read request asks for it (RFC 2349).
    pub transfer_size: Option<u64>,
    /// `timeout`: retransmission timeout in seconds, 1..=255 (RFC 2349).
    pub timeout_seconds: Option<u8>,
    /// `windowsize`: blocks sent before an ACK is awaited, 1..=65535 (RFC 7440).
    pub window_size: Option<u16>,
}

impl TransferOptions {
    pub fn is_empty(&self) -> bool {
        *self == TransferOptions::default()
    }
}

/// One TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    ReadRequest {
        filename: String,
        mode: Mode,
        options: TransferOptions,
    },
    WriteRequest {
        filename: String,
        mode: Mode,
        options: TransferOptions,
    },
    Data {
        block: u16,
        payload: Bytes,
    },
    Ack {
        block: u16,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    OptionAck {
        options: TransferOptions,
    },
}

impl Packet {
    /// Decodes one datagram. Requests are read leniently (unknown options and
    /// values a server cannot honour are dropped, RFC 2347; a blksize above
    /// 65464 is lowered to 65464, which RFC 2348 lets a server answer); an
    /// OACK is read strictly, since a client must refuse values it did not
    /// ask for (error 8).
    pub fn decode(datagram: &[u8]) -> Result<Packet, TftpError> {
        let (opcode, body) = match datagram {
            [high, low, body @ ..] => (u16::from_be_bytes([*high, *low]), body),
            _ => {
                return Err(TftpError::PacketTooShort {
                    len: datagram.len(),
                });
            }
        };
        match opcode {
            OPCODE_READ_REQUEST | OPCODE_WRITE_REQUEST => {
                let kind = if opcode == OPCODE_READ_REQUEST {
                    "RRQ"
                } else {
                    "WRQ"
                };
                let mut fields = NulFields::new(body);
                let filename = fields.next_required(kind, "filename")?;
                if filename.is_empty() {
                    return Err(TftpError::EmptyFileName);
                }
                let mode = Mode::parse(&fields.next_required(kind, "mode")?)?;
                let options = decode_request_options(&mut fields);
                Ok(if opcode == OPCODE_READ_REQUEST {
                    Packet::ReadRequest {
                        filename,
                        mode,
                        options,
                    }
                } else {
                    Packet::WriteRequest {
                        filename,
                        mode,
                        options,
                    }
                })
            }
            OPCODE_DATA => {
                let [high, low, payload @ ..] = body else {
                    return Err(TftpError::PacketTooShort {
                        len: datagram.len(),
                    });
                };
                if payload.len() > usize::from(MAX_BLOCK_SIZE) {
                    return Err(TftpError::PayloadTooLarge { len: payload.len() });
                }
                Ok(Packet::Data {
                    block: u16::from_be_bytes([*high, *low]),
                    payload: Bytes::copy_from_slice(payload),
                })
            }
            // Trailing bytes after an ACK are tolerated: some embedded
            // clients pad datagrams to a minimum length.
            OPCODE_ACK => match body {
                [high, low, ..] => Ok(Packet::Ack {
                    block: u16::from_be_bytes([*high, *low]),
                }),
                _ => Err(TftpError::PacketTooShort {
                    len: datagram.len(),
                }),
            },
            OPCODE_ERROR => {
                let [high, low, rest @ ..] = body else {
                    return Err(TftpError::PacketTooShort {
                        len: datagram.len(),
                    });
                };
                // A missing terminator on the message is tolerated: the code
                // is what matters and the peer is going away anyway.
                let text = match rest.iter().position(|byte| *byte == 0) {
                    Some(end) => rest.get(..end).unwrap_or_default(),
                    None => rest,
                };
                Ok(Packet::Error {
                    code: ErrorCode::from_u16(u16::from_be_bytes([*high, *low])),
                    message: String::from_utf8_lossy(text).into_owned(),
                })
            }
            OPCODE_OPTION_ACK => {
                let mut fields = NulFields::new(body);
                Ok(Packet::OptionAck {
                    options: decode_option_ack(&mut fields)?,
                })
            }
            opcode => Err(TftpError::UnknownOpcode { opcode }),
        }
    }

    /// Encodes the packet into a fresh buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut buffer = Vec::with_capacity(self.encoded_len_hint());
        self.encode_into(&mut buffer);
        buffer
    }

    /// Appends the encoded packet to `buffer` (lets the I/O layer reuse one
    /// buffer per transfer).
    pub fn encode_into(&self, buffer: &mut Vec<u8>) {
        match self {
            Packet::ReadRequest {
                filename,
                mode,
                options,
            }
            | Packet::WriteRequest {
                filename,
                mode,
                options,
            } => {
                let opcode = if matches!(self, Packet::ReadRequest { .. }) {
                    OPCODE_READ_REQUEST
                } else {
                    OPCODE_WRITE_REQUEST
                };
                buffer.extend_from_slice(&opcode.to_be_bytes());
                push_field(buffer, filename);
                push_field(buffer, mode.as_str());
                encode_options(buffer, options);
            }
            Packet::Data { block, payload } => {
                buffer.extend_from_slice(&OPCODE_DATA.to_be_bytes());
                buffer.extend_from_slice(&block.to_be_bytes());
                buffer.extend_from_slice(payload);
            }
            Packet::Ack { block } => {
                buffer.extend_from_slice(&OPCODE_ACK.to_be_bytes());
                buffer.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                buffer.extend_from_slice(&OPCODE_ERROR.to_be_bytes());
                buffer.extend_from_slice(&code.to_u16().to_be_bytes());
                // A NUL inside the message would truncate it on the wire.
                let message: String = message.chars().filter(|c| *c != '\0').collect();
                push_field(buffer, &message);
            }
            Packet::OptionAck { options } => {
                buffer.extend_from_slice(&OPCODE_OPTION_ACK.to_be_bytes());
                encode_options(buffer, options);
            }
        }
    }

    fn encoded_len_hint(&self) -> usize {
        match self {
            Packet::Data { payload, .. } => 4 + payload.len(),
            _ => 64,
        }
    }
}

fn push_field(buffer: &mut Vec<u8>, text: &str) {
    buffer.extend_from_slice(text.as_bytes());
    buffer.push(0);
}

fn encode_options(buffer: &mut Vec<u8>, options: &TransferOptions) {
    if let Some(value) = options.block_size {
        push_field(buffer, "blksize");
        push_field(buffer, &value.to_string());
    }
    if let Some(value) = options.transfer_size {
        push_field(buffer, "tsize");
        push_field(buffer, &value.to_string());
    }
    if let Some(value) = options.timeout_seconds {
        push_field(buffer, "timeout");
        push_field(buffer, &value.to_string());
    }
    if let Some(value) = options.window_size {
        push_field(buffer, "windowsize");
        push_field(buffer, &value.to_string());
    }
}

/// Request options: the first occurrence of each known option counts;
/// unknown options, unparsable values and values below the RFC minimum are
/// ignored (RFC 2347: a server omits from the OACK what it cannot honour).
fn decode_request_options(fields: &mut NulFields<'_>) -> TransferOptions {
    let mut options = TransferOptions::default();
    while let Some((name, value)) = fields.next_pair() {
        let value = value.trim();
        if name.eq_ignore_ascii_case("blksize") && options.block_size.is_none() {
            // RFC 2348: the server may answer a value at most the client's,
            // so an oversized request is lowered to the largest legal size.
            options.block_size = value.parse::<u64>().ok().and_then(|size| {
                (size >= u64::from(MIN_BLOCK_SIZE))
                    .then(|| u16::try_from(size.min(u64::from(MAX_BLOCK_SIZE))).ok())
                    .flatten()
            });
        } else if name.eq_ignore_ascii_case("tsize") && options.transfer_size.is_none() {
            options.transfer_size = value.parse::<u64>().ok();
        } else if name.eq_ignore_ascii_case("timeout") && options.timeout_seconds.is_none() {
            options.timeout_seconds = value.parse::<u8>().ok().filter(|seconds| *seconds >= 1);
        } else if name.eq_ignore_ascii_case("windowsize") && options.window_size.is_none() {
            options.window_size = value.parse::<u16>().ok().filter(|size| *size >= 1);
        }
    }
    options
}

/// OACK options: every value must be within its RFC range.
fn decode_option_ack(fields: &mut NulFields<'_>) -> Result<TransferOptions, TftpError> {
    let mut options = TransferOptions::default();
    while let Some((name, value)) = fields.next_pair() {
        let invalid = |hint: &'static str| TftpError::InvalidOption {
            name: name.clone(),
            value: value.clone(),
            hint,
        };
        let trimmed = value.trim();
        if name.eq_ignore_ascii_case("blksize") {
            let size = trimmed
                .parse::<u16>()
                .ok()
                .filter(|size| (MIN_BLOCK_SIZE..=MAX_BLOCK_SIZE).contains(size))
                .ok_or_else(|| invalid("blksize is 8..=65464 (RFC 2348)"))?;
            options.block_size = Some(size);
        } else if name.eq_ignore_ascii_case("tsize") {
            let size = trimmed
                .parse::<u64>()
                .map_err(|_| invalid("tsize is a byte count (RFC 2349)"))?;
            options.transfer_size = Some(size);
        } else if name.eq_ignore_ascii_case("timeout") {
            let seconds = trimmed
                .parse::<u8>()
                .ok()
                .filter(|seconds| *seconds >= 1)
                .ok_or_else(|| invalid("timeout is 1..=255 seconds (RFC 2349)"))?;
            options.timeout_seconds = Some(seconds);
        } else if name.eq_ignore_ascii_case("windowsize") {
            let size = trimmed
                .parse::<u16>()
                .ok()
                .filter(|size| *size >= 1)
                .ok_or_else(|| invalid("windowsize is 1..=65535 (RFC 7440)"))?;
            options.window_size = Some(size);
        }
        // Unknown names in an OACK are ignored: a client cannot have
        // requested them, and refusing costs a transfer for nothing.
    }
    Ok(options)
}

/// Iterator over NUL-terminated fields of a request or OACK body.
struct NulFields<'a> {
    rest: &'a [u8],
}

impl<'a> NulFields<'a> {
    fn new(body: &'a [u8]) -> Self {
        NulFields { rest: body }
    }

    fn next_field(&mut self) -> Option<String> {
        let end = self.rest.iter().position(|byte| *byte == 0)?;
        let (field, rest) = self.rest.split_at(end);
        self.rest = rest.get(1..).unwrap_or_default();
        Some(String::from_utf8_lossy(field).into_owned())
    }

    fn next_required(
        &mut self,
        packet: &'static str,
        field: &'static str,
    ) -> Result<String, TftpError> {
        self.next_field()
            .ok_or(TftpError::MissingTerminator { packet, field })
    }

    /// Next `name, value` pair; a trailing name without a value (or an
    /// unterminated tail, which some clients pad with) ends the list.
    fn next_pair(&mut self) -> Option<(String, String)> {
        loop {
            let name = self.next_field()?;
            if name.is_empty() {
                // Stray NUL padding between or after options.
                continue;
            }
            let value = self.next_field()?;
            return Some((name, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(fields: &[&str]) -> Vec<u8> {
        let mut datagram = vec![0, 1];
        for field in fields {
            datagram.extend_from_slice(field.as_bytes());
            datagram.push(0);
        }
        datagram
    }

    fn options_of(datagram: &[u8]) -> TransferOptions {
        match Packet::decode(datagram) {
            Ok(Packet::ReadRequest { options, .. }) => options,
            other => panic!("expected a read request, got {other:?}"),
        }
    }

    #[test]
    fn rfc1350_section_5_packets_round_trip() {
        let packets = [
            Packet::ReadRequest {
                filename: "c1240-k9w7-tar.default".into(),
                mode: Mode::Octet,
                options: TransferOptions::default(),
            },
            Packet::WriteRequest {
                filename: "backup.bin".into(),
                mode: Mode::NetAscii,
                options: TransferOptions {
                    block_size: Some(1468),
                    transfer_size: Some(12345),
                    timeout_seconds: Some(3),
                    window_size: Some(16),
                },
            },
            Packet::Data {
                block: 65535,
                payload: Bytes::from_static(b"hello"),
            },
            Packet::Data {
                block: 0,
                payload: Bytes::new(),
            },
            Packet::Ack { block: 7 },
            Packet::Error {
                code: ErrorCode::FileNotFound,
                message: "no such file".into(),
            },
            Packet::Error {
                code: ErrorCode::Other(42),
                message: String::new(),
            },
            Packet::OptionAck {
                options: TransferOptions {
                    block_size: Some(512),
                    ..TransferOptions::default()
                },
            },
        ];
        for packet in packets {
            assert_eq!(Packet::decode(&packet.encode()).unwrap(), packet);
        }
    }

    #[test]
    fn rfc1350_malformed_packets_are_errors_not_panics() {
        let cases: &[&[u8]] = &[
            b"",
            b"\x00",
            b"\x00\x09",
            b"\x00\x01file",
            b"\x00\x01file\x00octet",
            b"\x00\x01\x00octet\x00",
            b"\x00\x01file\x00mail\x00",
            b"\x00\x03\x00",
            b"\x00\x04\x00",
            b"\x00\x05\x00",
            b"\x00\x06blksize\x002\x00",
        ];
        for case in cases {
            assert!(Packet::decode(case).is_err(), "{case:?} should not decode");
        }
        let oversized = [vec![0, 3, 0, 1], vec![0; 65465]].concat();
        assert!(matches!(
            Packet::decode(&oversized),
            Err(TftpError::PayloadTooLarge { len: 65465 })
        ));
    }

    #[test]
    fn rfc2347_unknown_options_are_ignored() {
        let options = options_of(&request(&[
            "f",
            "octet",
            "multicast",
            "",
            "blksize",
            "1024",
        ]));
        assert_eq!(options.block_size, Some(1024));
        assert_eq!(options.transfer_size, None);
    }

    #[test]
    fn rfc2347_option_names_are_case_insensitive() {
        let options = options_of(&request(&[
            "f",
            "OCTET",
            "BLKSIZE",
            "1468",
            "WindowSize",
            "16",
        ]));
        assert_eq!(options.block_size, Some(1468));
        assert_eq!(options.window_size, Some(16));
    }

    #[test]
    fn rfc2348_blksize_out_of_range_is_ignored_or_lowered() {
        let check = |value: &str, expected: Option<u16>| {
            let options = options_of(&request(&["f", "octet", "blksize", value]));
            assert_eq!(options.block_size, expected, "blksize {value}");
        };
        check("7", None);
        check("0", None);
        check("-1", None);
        check("abc", None);
        check("8", Some(8));
        check("65464", Some(65464));
        check("65465", Some(65464));
        check("99999999999999999999999", None);
        check("4294967296", Some(65464));
    }

    #[test]
    fn rfc2349_timeout_outside_1_to_255_is_ignored() {
        let check = |value: &str, expected: Option<u8>| {
            let options = options_of(&request(&["f", "octet", "timeout", value]));
            assert_eq!(options.timeout_seconds, expected, "timeout {value}");
        };
        check("0", None);
        check("256", None);
        check("1", Some(1));
        check("255", Some(255));
    }

    #[test]
    fn rfc7440_windowsize_outside_1_to_65535_is_ignored() {
        let check = |value: &str, expected: Option<u16>| {
            let options = options_of(&request(&["f", "octet", "windowsize", value]));
            assert_eq!(options.window_size, expected, "windowsize {value}");
        };
        check("0", None);
        check("65536", None);
        check("1", Some(1));
        check("65535", Some(65535));
    }

    #[test]
    fn rfc2349_tsize_zero_in_read_request_asks_for_size() {
        let options = options_of(&request(&["f", "octet", "tsize", "0"]));
        assert_eq!(options.transfer_size, Some(0));
    }

    #[test]
    fn rfc2347_option_ack_with_illegal_value_is_refused() {
        let mut datagram = vec![0, 6];
        datagram.extend_from_slice(b"windowsize\x000\x00");
        assert!(matches!(
            Packet::decode(&datagram),
            Err(TftpError::InvalidOption { .. })
        ));
    }

    #[test]
    fn requests_tolerate_trailing_padding_and_dangling_names() {
        let mut datagram = request(&["f", "octet", "blksize", "1024", "tsize"]);
        datagram.extend_from_slice(&[0, 0, 0]);
        assert_eq!(options_of(&datagram).block_size, Some(1024));
    }

    #[test]
    fn error_message_without_terminator_is_accepted() {
        let packet = Packet::decode(b"\x00\x05\x00\x01gone").unwrap();
        assert_eq!(
            packet,
            Packet::Error {
                code: ErrorCode::FileNotFound,
                message: "gone".into()
            }
        );
    }
}
