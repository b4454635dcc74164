//! The device lab: virtual network devices with real SSH CLIs, file systems
//! with real capacity, images that tell their version by their contents, and
//! the reload cycle. It renders what real devices print and never uses
//! netswim's own parsers, drivers or engine.

pub mod archive;
pub mod cli;
pub mod device;
pub mod error;
pub mod fault_rates;
pub mod files;
pub mod ftp_client;
pub mod image;
pub mod ios_archive;
pub mod ios_cli;
pub mod lab;
pub mod labfile;
pub mod platform;
pub mod render;
pub mod scp_client;
pub mod server;
pub mod tls;
pub mod transfer;
pub mod upload;
pub mod xe_cli;
pub mod xr_cli;

pub use error::LabError;
