//! Server and client together on 127.0.0.1 with ephemeral ports: sizes,
//! options, netascii, refusals, uploads with a quota, limits and the ACK
//! that arrives on the listening port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use netswim_tftp::client::{self, ClientOptions};
use netswim_tftp::{
    Direction, ErrorCode, LocalDirectory, Mode, Packet, ServerConfig, TftpError, TftpServer,
    TransferOptions, TransferRecord, UploadArea,
};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

struct Running {
    address: SocketAddr,
    records: mpsc::UnboundedReceiver<TransferRecord>,
    _root: tempfile::TempDir,
    root_path: std::path::PathBuf,
    upload_path: Option<std::path::PathBuf>,
    _upload: Option<tempfile::TempDir>,
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size)
        .map(|index| (index * 7 + index / 251) as u8)
        .collect()
}

async fn start(
    files: &[(&str, Vec<u8>)],
    upload_quota: Option<u64>,
    tune: impl FnOnce(&mut ServerConfig),
) -> Running {
    let root = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = root.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    let (sender, records) = mpsc::unbounded_channel();
    let mut config = ServerConfig {
        accounting: Some(sender),
        ..ServerConfig::default()
    };
    let upload = upload_quota.map(|quota| {
        let directory = tempfile::tempdir().unwrap();
        config.upload = Some(Arc::new(UploadArea::new(directory.path(), quota).unwrap()));
        directory
    });
    tune(&mut config);
    let server = TftpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        LocalDirectory::new(root.path()).unwrap(),
        config,
    )
    .await
    .unwrap();
    let address = server.local_addr().unwrap();
    tokio::spawn(server.run());
    Running {
        address,
        records,
        root_path: root.path().to_path_buf(),
        _root: root,
        upload_path: upload
            .as_ref()
            .map(|directory| directory.path().to_path_buf()),
        _upload: upload,
    }
}

/// A server bound (not yet running) on a folder holding `files`, for tests
/// that need the server itself (its drain, its running transfers).
async fn bound_with(files: &[(&str, Vec<u8>)]) -> (TftpServer<LocalDirectory>, tempfile::TempDir) {
    let root = tempfile::tempdir().unwrap();
    for (name, content) in files {
        std::fs::write(root.path().join(name), content).unwrap();
    }
    let server = TftpServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        LocalDirectory::new(root.path()).unwrap(),
        ServerConfig::default(),
    )
    .await
    .unwrap();
    (server, root)
}

fn windowed() -> ClientOptions {
    ClientOptions {
        options: TransferOptions {
            block_size: Some(1468),
            window_size: Some(16),
            transfer_size: Some(0),
            timeout_seconds: None,
        },
        ..ClientOptions::default()
    }
}

fn remote_code(result: Result<Vec<u8>, TftpError>) -> ErrorCode {
    match result {
        Err(TftpError::Remote { code, .. }) => code,
        other => panic!("expected a TFTP error from the server, got {other:?}"),
    }
}

const SIZES: [usize; 7] = [0, 1, 511, 512, 513, 1468 * 16, 3 * 1024 * 1024 + 17];

#[tokio::test]
async fn rfc1350_downloads_of_every_size_are_byte_identical() {
    let files: Vec<(String, Vec<u8>)> = SIZES
        .iter()
        .map(|size| (format!("file-{size}.bin"), pattern(*size)))
        .collect();
    let named: Vec<(&str, Vec<u8>)> = files
        .iter()
        .map(|(name, content)| (name.as_str(), content.clone()))
        .collect();
    let server = start(&named, None, |_| {}).await;
    for (name, content) in &files {
        for options in [ClientOptions::default(), windowed()] {
            let received = client::get_bytes(server.address, name, &options)
                .await
                .unwrap();
            assert!(received == *content, "{name} with {options:?} differs");
        }
    }
}

#[tokio::test]
async fn rfc2348_blksize_above_65464_is_lowered_and_transfer_works() {
    let content = pattern(200_000);
    let server = start(&[("big.bin", content.clone())], None, |_| {}).await;
    let options = ClientOptions {
        options: TransferOptions {
            block_size: Some(65464),
            ..TransferOptions::default()
        },
        ..ClientOptions::default()
    };
    assert_eq!(
        client::get_bytes(server.address, "big.bin", &options)
            .await
            .unwrap(),
        content
    );
}

#[tokio::test]
async fn rfc1350_netascii_download_and_upload_restore_local_line_ends() {
    let text = b"line one\nline two\r\nbare\rend\n".to_vec();
    let server = start(&[("notes.txt", text.clone())], Some(1 << 20), |_| {}).await;
    let options = ClientOptions {
        mode: Mode::NetAscii,
        ..ClientOptions::default()
    };
    assert_eq!(
        client::get_bytes(server.address, "notes.txt", &options)
            .await
            .unwrap(),
        text
    );
    client::put(server.address, "notes-back.txt", &options, text.as_slice())
        .await
        .unwrap();
    let uploaded =
        std::fs::read(server.upload_path.as_ref().unwrap().join("notes-back.txt")).unwrap();
    assert_eq!(uploaded, text);
}

#[tokio::test]
async fn rfc1350_missing_file_is_error_1() {
    let server = start(&[], None, |_| {}).await;
    let result = client::get_bytes(server.address, "absent.bin", &ClientOptions::default()).await;
    assert_eq!(remote_code(result), ErrorCode::FileNotFound);
}

#[tokio::test]
async fn traversal_attempts_are_refused_and_the_server_keeps_serving() {
    let server = start(&[("ok.bin", pattern(1000))], None, |_| {}).await;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"secret").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret"),
        server.root_path.join("escape"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), server.root_path.join("escape-dir")).unwrap();
    for name in [
        "../etc/passwd",
        "/etc/passwd",
        "%2e%2e/x",
        "..\\..\\etc\\passwd",
        "escape",
        "escape-dir/secret",
    ] {
        let result = client::get_bytes(server.address, name, &ClientOptions::default()).await;
        assert_eq!(remote_code(result), ErrorCode::AccessViolation, "{name}");
    }
    let served = client::get_bytes(server.address, "ok.bin", &ClientOptions::default())
        .await
        .unwrap();
    assert_eq!(served, pattern(1000));
}

#[tokio::test]
async fn write_request_to_read_only_server_is_access_violation() {
    let server = start(&[], None, |_| {}).await;
    let result = client::put(
        server.address,
        "up.bin",
        &ClientOptions::default(),
        &b"data"[..],
    )
    .await;
    assert!(
        matches!(
            result,
            Err(TftpError::Remote {
                code: ErrorCode::AccessViolation,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn upload_lands_in_upload_area_and_respects_quota() {
    let mut server = start(&[], Some(10_000), |_| {}).await;
    let upload_dir = server.upload_path.clone().unwrap();
    let content = pattern(6000);
    client::put(
        server.address,
        "backup-1.bin",
        &windowed(),
        content.as_slice(),
    )
    .await
    .unwrap();
    assert_eq!(
        std::fs::read(upload_dir.join("backup-1.bin")).unwrap(),
        content
    );
    let record = server.records.recv().await.unwrap();
    assert_eq!(
        (record.direction, record.bytes, record.result.clone()),
        (Direction::Write, 6000, Ok(()))
    );

    // Announced with tsize: refused up front.
    let announced = ClientOptions {
        options: TransferOptions {
            transfer_size: Some(6000),
            ..TransferOptions::default()
        },
        ..ClientOptions::default()
    };
    let result = client::put(
        server.address,
        "backup-2.bin",
        &announced,
        content.as_slice(),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(TftpError::Remote {
                code: ErrorCode::DiskFull,
                ..
            })
        ),
        "{result:?}"
    );

    // Not announced: refused when the quota runs out, partial file removed.
    let result = client::put(
        server.address,
        "backup-3.bin",
        &ClientOptions::default(),
        content.as_slice(),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(TftpError::Remote {
                code: ErrorCode::DiskFull,
                ..
            })
        ),
        "{result:?}"
    );
    let names: Vec<String> = std::fs::read_dir(&upload_dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["backup-1.bin"]);

    // Never overwritten.
    let result = client::put(
        server.address,
        "backup-1.bin",
        &ClientOptions::default(),
        &b"x"[..],
    )
    .await;
    assert!(
        matches!(
            result,
            Err(TftpError::Remote {
                code: ErrorCode::FileAlreadyExists,
                ..
            })
        ),
        "{result:?}"
    );

    // Traversal on upload.
    let result = client::put(
        server.address,
        "../evil",
        &ClientOptions::default(),
        &b"x"[..],
    )
    .await;
    assert!(
        matches!(
            result,
            Err(TftpError::Remote {
                code: ErrorCode::AccessViolation,
                ..
            })
        ),
        "{result:?}"
    );
}

async fn receive(socket: &UdpSocket) -> (Packet, SocketAddr) {
    let mut buffer = vec![0u8; 70000];
    let (length, from) =
        tokio::time::timeout(Duration::from_millis(800), socket.recv_from(&mut buffer))
            .await
            .expect("the server answers in time")
            .unwrap();
    (Packet::decode(&buffer[..length]).unwrap(), from)
}

fn read_request(name: &str) -> Vec<u8> {
    Packet::ReadRequest {
        filename: name.into(),
        mode: Mode::Octet,
        options: TransferOptions::default(),
    }
    .encode()
}

#[tokio::test]
async fn aironet_ack_on_listening_port_is_routed_to_its_transfer() {
    let server = start(&[("c1240-k9w7-tar.default", pattern(2000))], None, |_| {}).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("c1240-k9w7-tar.default"), server.address)
        .await
        .unwrap();
    let (first, transfer_port) = receive(&socket).await;
    assert!(matches!(first, Packet::Data { block: 1, .. }));
    assert_ne!(
        transfer_port, server.address,
        "RFC 1350: a fresh TID per transfer"
    );
    for block in 1..=3u16 {
        // ACK to port 69 (the listening socket), as Aironet APs do.
        socket
            .send_to(&Packet::Ack { block }.encode(), server.address)
            .await
            .unwrap();
        let (next, from) = receive(&socket).await;
        assert_eq!(from, transfer_port);
        match next {
            Packet::Data { block: sent, .. } => assert_eq!(sent, block + 1),
            other => panic!("expected DATA {}, got {other:?}", block + 1),
        }
    }
}

#[tokio::test]
async fn aironet_acks_on_listening_port_carry_a_whole_file_promptly() {
    // Read transfers block in recvfrom on their own socket: the listener
    // must wake them when it routes an ACK, not leave it to a poll timer
    // (a 200 ms poll would make these 40 blocks take 8 seconds).
    let file = pattern(512 * 40 + 100);
    let server = start(&[("ap.bin", file.clone())], None, |_| {}).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("ap.bin"), server.address)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut received = Vec::new();
    loop {
        let (packet, _) = receive(&socket).await;
        let Packet::Data { block, payload } = packet else {
            panic!("expected DATA, got {packet:?}");
        };
        received.extend_from_slice(&payload);
        socket
            .send_to(&Packet::Ack { block }.encode(), server.address)
            .await
            .unwrap();
        if payload.len() < 512 {
            break;
        }
    }
    assert_eq!(received, file);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "41 routed ACKs took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rfc1350_section_4_packet_from_foreign_port_gets_error_5() {
    let server = start(&[("f.bin", pattern(2000))], None, |_| {}).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    let (_, transfer_port) = receive(&socket).await;
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger
        .send_to(&Packet::Ack { block: 1 }.encode(), transfer_port)
        .await
        .unwrap();
    let (answer, _) = receive(&stranger).await;
    assert!(matches!(
        answer,
        Packet::Error {
            code: ErrorCode::UnknownTransferId,
            ..
        }
    ));
    // The real transfer goes on.
    socket
        .send_to(&Packet::Ack { block: 1 }.encode(), transfer_port)
        .await
        .unwrap();
    assert!(matches!(
        receive(&socket).await.0,
        Packet::Data { block: 2, .. }
    ));
}

#[tokio::test]
async fn per_client_limit_refuses_extra_transfers() {
    let server = start(&[("f.bin", pattern(5000))], None, |config| {
        config.max_transfers_per_client = 1
    })
    .await;
    let first = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    first
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    assert!(matches!(
        receive(&first).await.0,
        Packet::Data { block: 1, .. }
    ));
    let second = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    second
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    assert!(matches!(
        receive(&second).await.0,
        Packet::Error {
            code: ErrorCode::NotDefined,
            ..
        }
    ));
}

#[tokio::test]
async fn malformed_requests_get_an_error_and_the_server_keeps_serving() {
    let server = start(&[("f.bin", pattern(100))], None, |_| {}).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for datagram in [
        &b"\x00"[..],
        b"\x00\x09xx",
        b"\x00\x01name-without-end",
        b"\x00\x01f.bin\x00mail\x00",
    ] {
        socket.send_to(datagram, server.address).await.unwrap();
        assert!(
            matches!(receive(&socket).await.0, Packet::Error { .. }),
            "{datagram:?}"
        );
    }
    let served = client::get_bytes(server.address, "f.bin", &ClientOptions::default())
        .await
        .unwrap();
    assert_eq!(served, pattern(100));
}

#[tokio::test]
async fn every_transfer_is_accounted() {
    let mut server = start(&[("f.bin", pattern(700))], None, |_| {}).await;
    client::get_bytes(server.address, "f.bin", &ClientOptions::default())
        .await
        .unwrap();
    let record = server.records.recv().await.unwrap();
    assert_eq!(record.file, "f.bin");
    assert_eq!(
        (record.direction, record.bytes, record.result),
        (Direction::Read, 700, Ok(()))
    );
    let _ = client::get_bytes(server.address, "nope", &ClientOptions::default()).await;
    let record = server.records.recv().await.unwrap();
    assert!(record.result.is_err());
}

#[tokio::test]
async fn rfc1350_retransmitted_request_does_not_start_a_second_transfer() {
    let server = start(&[("f.bin", pattern(2000))], None, |_| {}).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    socket
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    let (first, _) = receive(&socket).await;
    assert!(matches!(first, Packet::Data { block: 1, .. }));
    let mut buffer = vec![0u8; 2048];
    let again =
        tokio::time::timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await;
    assert!(
        again.is_err(),
        "a second DATA 1 arrived: the retransmitted RRQ started a transfer"
    );
}

fn quick_retries(config: &mut ServerConfig) {
    config.retry = netswim_tftp::RetryPolicy {
        initial_timeout: Duration::from_millis(100),
        max_timeout: Duration::from_millis(200),
        max_retries: 2,
    };
}

#[tokio::test]
async fn rfc1350_section_2_lost_ack_is_recovered_by_retransmission() {
    let server = start(&[("f.bin", pattern(1000))], None, quick_retries).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    let (first, transfer_port) = receive(&socket).await;
    // Our ACK "is lost": say nothing, the server must send DATA 1 again.
    let (again, _) = receive(&socket).await;
    assert_eq!(again, first);
    socket
        .send_to(&Packet::Ack { block: 1 }.encode(), transfer_port)
        .await
        .unwrap();
    assert!(matches!(
        receive(&socket).await.0,
        Packet::Data { block: 2, .. }
    ));
}

#[tokio::test]
async fn rfc1350_silent_client_fails_the_transfer_after_the_retry_limit() {
    let mut server = start(&[("f.bin", pattern(1000))], None, quick_retries).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("f.bin"), server.address)
        .await
        .unwrap();
    let record = tokio::time::timeout(Duration::from_secs(5), server.records.recv())
        .await
        .expect("the transfer gives up in time")
        .unwrap();
    let reason = record.result.unwrap_err();
    assert!(
        reason.contains("did not answer after 2 retransmissions"),
        "{reason}"
    );
}

#[tokio::test]
async fn drain_refuses_new_requests_lets_running_transfers_finish_and_cuts_the_rest() {
    let (server, _root) = bound_with(&[("f.bin", pattern(1000))]).await;
    let address = server.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(
        async move {
            let _ = stopped.await;
        },
        Duration::from_millis(1500),
    ));

    // One transfer that will finish during the drain, one that never will.
    let finishing = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    finishing
        .send_to(&read_request("f.bin"), address)
        .await
        .unwrap();
    let (_, finishing_port) = receive(&finishing).await;
    let stalled = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stalled
        .send_to(&read_request("f.bin"), address)
        .await
        .unwrap();
    let _ = receive(&stalled).await;

    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    late.send_to(&read_request("f.bin"), address).await.unwrap();
    match receive(&late).await.0 {
        Packet::Error {
            code: ErrorCode::NotDefined,
            message,
        } => {
            assert!(message.contains("shutting down"), "{message}")
        }
        other => panic!("a request during the drain must be refused, got {other:?}"),
    }

    finishing
        .send_to(&Packet::Ack { block: 1 }.encode(), finishing_port)
        .await
        .unwrap();
    assert!(matches!(
        receive(&finishing).await.0,
        Packet::Data { block: 2, .. }
    ));
    finishing
        .send_to(&Packet::Ack { block: 2 }.encode(), finishing_port)
        .await
        .unwrap();

    let report = tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(report.cut.len(), 1, "{report:?}");
    assert_eq!(report.cut[0].client, stalled.local_addr().unwrap());
    assert_eq!(report.cut[0].file, "f.bin");
}

/// A UDP relay between one client and the server that loses one datagram
/// in `drop_every`, pseudo-randomly (periodic loss phase-locks with a window
/// and would lose the same block for ever).
async fn lossy_relay(server: SocketAddr, drop_every: usize) -> SocketAddr {
    let front = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let back = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = front.local_addr().unwrap();
    tokio::spawn(async move {
        let mut client: Option<SocketAddr> = None;
        let mut upstream = server;
        let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ drop_every as u64;
        let mut lost = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % drop_every as u64 == 0
        };
        let mut front_buffer = vec![0u8; 70000];
        let mut back_buffer = vec![0u8; 70000];
        loop {
            tokio::select! {
                Ok((length, from)) = front.recv_from(&mut front_buffer) => {
                    client = Some(from);
                    // Requests go to the listening port, the rest to the
                    // transfer port, as a real client addresses them.
                    let is_request = matches!(front_buffer[..2], [0, 1] | [0, 2]);
                    let target = if is_request { server } else { upstream };
                    if !lost() {
                        let _ = back.send_to(&front_buffer[..length], target).await;
                    }
                }
                Ok((length, from)) = back.recv_from(&mut back_buffer) => {
                    // Follow the server's transfer port (its TID).
                    upstream = from;
                    if !lost() {
                        if let Some(client) = client {
                            let _ = front.send_to(&back_buffer[..length], client).await;
                        }
                    }
                }
            }
        }
    });
    address
}

#[tokio::test]
async fn rfc1350_and_rfc7440_transfers_survive_packet_loss() {
    let content = pattern(60_000);
    let mut server = start(&[("f.bin", content.clone())], Some(1 << 20), |config| {
        config.retry = netswim_tftp::RetryPolicy {
            initial_timeout: Duration::from_millis(20),
            max_timeout: Duration::from_millis(80),
            max_retries: 16,
        };
    })
    .await;
    let retry = netswim_tftp::RetryPolicy {
        initial_timeout: Duration::from_millis(20),
        max_timeout: Duration::from_millis(80),
        max_retries: 16,
    };
    let lockstep = ClientOptions {
        retry,
        ..ClientOptions::default()
    };
    let windowed_options = ClientOptions {
        retry,
        ..windowed()
    };
    for (index, options) in [lockstep, windowed_options].into_iter().enumerate() {
        for drop_every in [5, 11] {
            let relay = lossy_relay(server.address, drop_every).await;
            let received = match client::get_bytes(relay, "f.bin", &options).await {
                Ok(received) => received,
                Err(error) => {
                    tokio::time::sleep(Duration::from_secs(3)).await;
                    while let Ok(record) = server.records.try_recv() {
                        eprintln!("server: {record:?}");
                    }
                    panic!("{error}");
                }
            };
            assert!(
                received == content,
                "download differs with {options:?}, 1 in {drop_every} lost"
            );
            let relay = lossy_relay(server.address, drop_every).await;
            let name = format!("up-{index}-{drop_every}.bin");
            if let Err(error) = client::put(relay, &name, &options, content.as_slice()).await {
                tokio::time::sleep(Duration::from_secs(3)).await;
                while let Ok(record) = server.records.try_recv() {
                    eprintln!("server: {record:?}");
                }
                panic!("{error}");
            }
            // The server stores the file before its final ACK.
            let stored = std::fs::read(server.upload_path.as_ref().unwrap().join(&name)).unwrap();
            assert!(
                stored == content,
                "upload differs with {options:?}, 1 in {drop_every} lost"
            );
        }
    }
}

#[tokio::test]
async fn running_transfers_report_the_bytes_read_so_far_while_a_client_is_mid_file() {
    const SIZE: usize = 2 * 1024 * 1024;
    let (server, _root) = bound_with(&[("big.bin", pattern(SIZE))]).await;
    let address = server.local_addr().unwrap();
    let running = server.running_transfers();
    tokio::spawn(server.run());
    assert!(running.snapshot().is_empty());

    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&read_request("big.bin"), address)
        .await
        .unwrap();
    let (_, transfer_port) = receive(&socket).await;
    for block in 1..=3u16 {
        socket
            .send_to(&Packet::Ack { block }.encode(), transfer_port)
            .await
            .unwrap();
        let _ = receive(&socket).await;
    }
    let seen = running.snapshot();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].client, socket.local_addr().unwrap());
    assert_eq!(seen[0].file, "big.bin");
    assert_eq!(seen[0].direction, Direction::Read);
    assert!(
        seen[0].bytes >= 4 * 512 && seen[0].bytes < SIZE as u64,
        "four blocks sent, the file not read to its end: {}",
        seen[0].bytes
    );
}
