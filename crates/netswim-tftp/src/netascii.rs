//! Netascii translation (RFC 1350 mode "netascii", NVT ASCII of RFC 854):
//! local LF becomes CR LF on the wire and a bare CR becomes CR NUL; the
//! decoder reverses both, carrying a CR that ends one block into the next.

/// Appends the wire form of `local` to `wire`. Stateless: every local byte
/// maps to its own wire bytes.
pub fn encode(local: &[u8], wire: &mut Vec<u8>) {
    wire.reserve(local.len() + local.len() / 16);
    for byte in local {
        match byte {
            b'\n' => wire.extend_from_slice(b"\r\n"),
            b'\r' => wire.extend_from_slice(b"\r\0"),
            other => wire.push(*other),
        }
    }
}

/// Wire-to-local translation; a CR at the end of a block waits for the
/// first byte of the next one.
#[derive(Debug, Default)]
pub struct NetasciiDecoder {
    pending_carriage_return: bool,
}

impl NetasciiDecoder {
    pub fn new() -> Self {
        NetasciiDecoder::default()
    }

    /// Appends the local form of `wire` to `local`.
    pub fn decode(&mut self, wire: &[u8], local: &mut Vec<u8>) {
        local.reserve(wire.len());
        for byte in wire {
            if self.pending_carriage_return {
                self.pending_carriage_return = false;
                match byte {
                    b'\n' => local.push(b'\n'),
                    0 => local.push(b'\r'),
                    // A bare CR is not legal netascii; keep it rather than
                    // lose data from a sloppy peer.
                    b'\r' => {
                        local.push(b'\r');
                        self.pending_carriage_return = true;
                    }
                    other => {
                        local.push(b'\r');
                        local.push(*other);
                    }
                }
            } else if *byte == b'\r' {
                self.pending_carriage_return = true;
            } else {
                local.push(*byte);
            }
        }
    }

    /// Flushes a CR left at the very end of the transfer.
    pub fn finish(&mut self, local: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_carriage_return) {
            local.push(b'\r');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1350_netascii_line_ends_are_cr_lf_and_bare_cr_is_cr_nul() {
        let check = |local: &[u8], wire: &[u8]| {
            let mut encoded = Vec::new();
            encode(local, &mut encoded);
            assert_eq!(encoded, wire);
            let mut decoded = Vec::new();
            let mut decoder = NetasciiDecoder::new();
            decoder.decode(wire, &mut decoded);
            decoder.finish(&mut decoded);
            assert_eq!(decoded, local);
        };
        check(b"", b"");
        check(b"a\nb\n", b"a\r\nb\r\n");
        check(b"a\rb", b"a\r\0b");
        check(b"\r\n", b"\r\0\r\n");
        check(b"end\r", b"end\r\0");
    }

    #[test]
    fn netascii_decoder_carries_cr_across_blocks() {
        let mut decoder = NetasciiDecoder::new();
        let mut local = Vec::new();
        decoder.decode(b"line\r", &mut local);
        decoder.decode(b"\nnext\r", &mut local);
        decoder.decode(b"\0x", &mut local);
        decoder.finish(&mut local);
        assert_eq!(local, b"line\nnext\rx");
    }
}
