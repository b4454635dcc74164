//! Fuzz target: TFTP packet decoding must never panic, decoded packets must
//! re-encode to something that decodes to the same packet, and feeding them
//! to a server read transfer (and a server write transfer) must never panic.

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use netswim_tftp::Packet;
use netswim_tftp::transfer::{
    Action, Event, ReadTransfer, RetryPolicy, TransferParameters, WriteTransfer,
};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the window size; the rest is a sequence of
    // datagrams, each prefixed by its length byte.
    let Some((&window, mut rest)) = data.split_first() else {
        return;
    };
    let parameters = TransferParameters {
        block_size: 8,
        window_size: u16::from(window % 8) + 1,
        retry: RetryPolicy::default(),
    };
    let mut read = ReadTransfer::new(parameters, None);
    let mut write = WriteTransfer::new(parameters, None);
    let mut file_blocks = 0u32;
    let mut pending = read.start();
    let _ = write.start();
    loop {
        // Serve block reads from a synthetic file of 40 blocks.
        while let Some(action) = pending.pop() {
            if let Action::ReadBlock { max_len } = action {
                file_blocks += 1;
                let length = if file_blocks >= 40 { 3 } else { max_len };
                pending.extend(read.handle(Event::BlockRead(Bytes::from(vec![0u8; length]))));
            }
        }
        let Some((&length, tail)) = rest.split_first() else {
            break;
        };
        let length = usize::from(length).min(tail.len());
        let (datagram, tail) = tail.split_at(length);
        rest = tail;
        if datagram.is_empty() {
            pending = read.handle(Event::TimedOut);
            let _ = write.handle(Event::TimedOut);
            continue;
        }
        let Ok(packet) = Packet::decode(datagram) else {
            continue;
        };
        let encoded = packet.encode();
        assert_eq!(Packet::decode(&encoded).ok().as_ref(), Some(&packet));
        pending = read.handle(Event::Received(packet.clone()));
        let _ = write.handle(Event::Received(packet));
    }
});
