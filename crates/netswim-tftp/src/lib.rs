//! TFTP for netswim: the wire format and transfer state machines without
//! I/O (`packet`, `netascii`, `transfer`), and a tokio server and client on
//! top (`server`, `client`). Devices pull images over TFTP when nothing
//! better is available, often over slow links, from field clients with
//! quirks; this crate knows nothing of images or jobs.
//!
//! No network input may panic this crate: `unwrap`, `expect`, indexing and
//! explicit panics are denied outside tests.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable
    )
)]

mod blocking;
pub mod client;
mod driver;
mod error;
mod netascii;
pub mod packet;
pub mod server;
pub mod source;
pub mod transfer;

pub use client::ClientOptions;
pub use error::TftpError;
pub use packet::{ErrorCode, Mode, Packet, TransferOptions};
pub use server::{
    CutTransfer, Direction, DrainReport, RunningTransfers, ServerConfig, TftpServer,
    TransferProgress, TransferRecord,
};
pub use source::{LocalDirectory, ServeSource, Upload, UploadArea};
pub use transfer::{RetryPolicy, ServerLimits};
