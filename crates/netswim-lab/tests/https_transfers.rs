//! `copy https://host/path flash:` and `copy flash:X https://host/path`
//! (HTTP PUT) over real TLS, against Python's `http.server` wrapped in `ssl`
//! with a fresh self-signed certificate: bytes match on both sides; a
//! missing file gets IOS's error.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use md5::{Digest, Md5};
use netswim_lab::image::{ImageSpec, make_bin};
use tokio::process::{Child, Command};

const SERVER: &str = r#"
import functools, http.server, ssl, sys
port, cert, key, root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        length = int(self.headers["Content-Length"])
        body = b""
        while len(body) < length:
            body += self.rfile.read(length - len(body))
        with open(self.translate_path(self.path), "wb") as target:
            target.write(body)
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()
handler = functools.partial(Handler, directory=root)
server = http.server.HTTPServer(("127.0.0.1", port), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

async fn start_https(directory: &Path, root: &Path) -> (Child, u16) {
    require_peer("python3", "python3");
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let cert = directory.join("cert.pem");
    let key = directory.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args(["-c", SERVER, &port.to_string()])
        .args([&cert, &key, &root.to_path_buf()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 starts");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the HTTPS server did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, port)
}

#[tokio::test(flavor = "multi_thread")]
async fn https_copy_pulls_and_pushes_over_tls_with_the_same_bytes() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path().join("served");
    std::fs::create_dir(&root).unwrap();
    let image = make_bin(&ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: "15.2(7)E8".into(),
        feature: "universalk9".into(),
        min_dram_mb: 512,
        size: 200 * 1024,
    })
    .unwrap();
    let name = "c2960x-universalk9-mz.152-7.E8.bin";
    std::fs::write(root.join(name), &image).unwrap();
    let (_server, port) = start_https(directory.path(), &root).await;
    let lab = start_lab("127.43.50.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;

    shell
        .send(&format!("copy https://127.0.0.1:{port}/{name} flash:\r\r"))
        .await;
    let pulled = shell.read_until("lab-sw-001#").await;
    assert!(
        pulled.contains(&format!("[OK - {}/4096 bytes]", image.len())),
        "{pulled}"
    );
    let stored = lab.status()[0].file_systems[0]
        .files
        .iter()
        .find(|file| file.path == name)
        .map(|file| file.md5.clone());
    assert_eq!(stored, Some(hex::encode(Md5::digest(&image))));

    shell
        .send(&format!(
            "copy flash:{name} https://127.0.0.1:{port}/pushed.bin\r\r\r"
        ))
        .await;
    let pushed = shell.read_until("lab-sw-001#").await;
    assert!(
        pushed.contains(&format!("{} bytes copied in ", image.len())),
        "{pushed}"
    );
    let received = std::fs::read(root.join("pushed.bin")).unwrap();
    assert_eq!(
        hex::encode(Md5::digest(&received)),
        hex::encode(Md5::digest(&image))
    );

    let url = format!("https://127.0.0.1:{port}/missing.bin");
    shell.send(&format!("copy {url} flash:\r\r")).await;
    let missing = shell.read_until("lab-sw-001#").await;
    assert!(
        missing.contains(&format!("%Error opening {url} (No such file or directory)")),
        "{missing}"
    );
}
