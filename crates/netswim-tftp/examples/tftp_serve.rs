//! A bare TFTP server for manual tests and rough measurements:
//! `cargo run -p netswim-tftp --example tftp_serve -- ROOT 127.0.0.1:6969`.

use netswim_tftp::{LocalDirectory, ServerConfig, TftpServer};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(address)) = (args.next(), args.next()) else {
        eprintln!("usage: tftp_serve ROOT ADDRESS:PORT");
        std::process::exit(2);
    };
    let server = TftpServer::bind(
        address.parse()?,
        LocalDirectory::new(root)?,
        ServerConfig::default(),
    )
    .await?;
    eprintln!("serving on {}", server.local_addr()?);
    server.run().await?;
    Ok(())
}
