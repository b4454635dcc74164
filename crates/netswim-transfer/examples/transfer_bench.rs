//! The HTTP, SSH and FTP benchmarks of issue 4: netswim's file servers
//! against nginx (HTTP, 32 concurrent downloads), a private OpenSSH `sshd`
//! (SFTP via sftp-server, legacy SCP; 1 and 8 streams) and a private
//! vsftpd (FTP, passive, 8 streams), with the same client programs (curl,
//! OpenSSH sftp/scp) for both, printing throughput ratios measured in one
//! run.
//!
//! `cargo run --release -p netswim-transfer --example transfer_bench --
//! [--size-mib 256] [--http-clients 32] [--ftp-streams 8] [--repeats 3]
//! [--only http,http-resume,sftp,scp,ftp]`
//!
//! `http-resume` is the ranged-resume scenario: every client resumes the
//! download at the middle of the file (`curl -C <half>`, a `Range:
//! bytes=<half>-` request) and fetches the second half.
//!
//! Peers: `apt-get install nginx openssh-server openssh-client curl
//! vsftpd`; a missing peer ends the program with that hint. nginx, sshd and
//! vsftpd run from
//! private configurations in a temporary directory, on loopback ephemeral
//! ports; netswim runs in this process. Each measurement is the wall time
//! from starting the clients until the last one exits, repeated with the
//! servers interleaved, median kept; the first download of each scenario
//! is checked byte for byte (SHA-256), the others go to /dev/null.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netswim_transfer::{Fileserver, FileserverConfig, LocalDirectory};
use sha2::{Digest, Sha256};

const FILE_NAME: &str = "bench.bin";
const HINT: &str =
    "install the peers with `apt-get install nginx openssh-server openssh-client curl vsftpd`";
/// netswim's FTP login in the benchmark (vsftpd serves anonymously).
const FTP_USER: &str = "bench";
const FTP_PASSWORD: &str = "bench-password";

struct Options {
    size_mib: u64,
    http_clients: usize,
    ftp_streams: usize,
    repeats: usize,
    only: Vec<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        size_mib: 256,
        http_clients: 32,
        ftp_streams: 8,
        repeats: 3,
        only: vec![
            "http".into(),
            "http-resume".into(),
            "sftp".into(),
            "scp".into(),
            "ftp".into(),
        ],
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = || value.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--size-mib" => options.size_mib = number()?,
            "--http-clients" => options.http_clients = number()? as usize,
            "--ftp-streams" => options.ftp_streams = number()? as usize,
            "--repeats" => options.repeats = number()?.max(1) as usize,
            "--only" => options.only = value.split(',').map(str::to_string).collect(),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn find(program: &str) -> Result<PathBuf, String> {
    for directory in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let path = Path::new(directory).join(program);
        if path.exists() {
            return Ok(path);
        }
    }
    Err(format!("`{program}` is missing: {HINT}"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or(0)
}

fn wait_listening(port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on port {port} after 30 s"))
}

/// Kills a peer daemon when the benchmark ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    /// SIGTERM first: nginx's master stops its workers on it, while a
    /// SIGKILL would leave them running. SIGKILL after 10 s.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write_file(path: &Path, mib: u64) -> Result<String, String> {
    let mut hasher = Sha256::new();
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| e.to_string())?);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1024 * 1024];
    for _ in 0..mib {
        for byte in block.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
        hasher.update(&block);
        std::io::Write::write_all(&mut file, &block).map_err(|e| e.to_string())?;
    }
    std::io::Write::flush(&mut file).map_err(|e| e.to_string())?;
    Ok(hex::encode(hasher.finalize()))
}

/// The SHA-256 of `path` from byte `offset` on.
fn sha256_from(path: &Path, offset: u64) -> String {
    let mut hasher = Sha256::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(offset));
        let _ = std::io::copy(&mut file, &mut hasher);
    }
    hex::encode(hasher.finalize())
}

fn sha256_of(path: &Path) -> String {
    let mut hasher = Sha256::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = std::io::copy(&mut file, &mut hasher);
    }
    hex::encode(hasher.finalize())
}

/// Runs `commands` at once; the wall time until the last one exits.
fn timed(commands: Vec<Command>) -> Result<Duration, String> {
    let started = Instant::now();
    let mut children = Vec::new();
    for mut command in commands {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        children.push(
            command
                .spawn()
                .map_err(|e| format!("cannot start a client: {e}"))?,
        );
    }
    let mut failure = None;
    for child in children {
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() && failure.is_none() {
            failure = Some(String::from_utf8_lossy(&output.stderr).into_owned());
        }
    }
    match failure {
        Some(stderr) => Err(format!("a client failed: {}", stderr.trim())),
        None => Ok(started.elapsed()),
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

struct Peers {
    _nginx: Option<Daemon>,
    nginx_port: u16,
    _vsftpd: Option<Daemon>,
    vsftpd_port: u16,
    _sshd: Option<Daemon>,
    sshd_port: u16,
}

fn start_nginx(dir: &Path, root: &Path) -> Result<(Daemon, u16), String> {
    let nginx = find("nginx")?;
    let port = free_port();
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).map_err(|e| e.to_string())?;
    let conf = prefix.join("nginx.conf");
    let temp = prefix.display();
    std::fs::write(
        &conf,
        format!(
            "daemon off; user root; worker_processes auto; pid {temp}/nginx.pid; error_log {temp}/error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; sendfile on; tcp_nopush on;\n\
               client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n\
               fastcgi_temp_path {temp}/fastcgi; uwsgi_temp_path {temp}/uwsgi; scgi_temp_path {temp}/scgi;\n\
               server {{ listen 127.0.0.1:{port}; root {}; }} }}\n",
            root.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(nginx)
        .args(["-p"])
        .arg(&prefix)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nginx: {e}"))?;
    let daemon = Daemon(child);
    wait_listening(port)?;
    Ok((daemon, port))
}

/// A private vsftpd: standalone, anonymous read-only from `root`, passive
/// mode on loopback, no logging (nginx logs nothing either).
fn start_vsftpd(dir: &Path, root: &Path) -> Result<(Daemon, u16), String> {
    let vsftpd = find("vsftpd").or_else(|_| {
        Path::new("/usr/sbin/vsftpd")
            .exists()
            .then(|| PathBuf::from("/usr/sbin/vsftpd"))
            .ok_or(format!("vsftpd is missing: {HINT}"))
    })?;
    // Anonymous sessions run as the `ftp` user inside the root: it must
    // be able to read it; vsftpd also insists on its empty chroot dir.
    use std::os::unix::fs::PermissionsExt;
    for (path, mode) in [(root.to_path_buf(), 0o755), (root.join(FILE_NAME), 0o644)] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())?;
    }
    let empty = dir.join("vsftpd-empty");
    std::fs::create_dir_all(&empty).map_err(|e| e.to_string())?;
    let port = free_port();
    // Passive data ports: a window starting at a free ephemeral port
    // (vsftpd retries the next one when a port is taken).
    let low = free_port().min(65_000);
    let config = dir.join("vsftpd.conf");
    std::fs::write(
        &config,
        format!(
            "listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
             background=NO
anonymous_enable=YES
no_anon_password=YES
anon_root={}
             local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
             pasv_min_port={low}
pasv_max_port={}
xferlog_enable=NO
             secure_chroot_dir={}
seccomp_sandbox=NO
max_clients=200
max_per_ip=200
             use_sendfile=YES
",
            root.display(),
            low + 200,
            empty.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(vsftpd)
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start vsftpd: {e}"))?;
    let daemon = Daemon(child);
    wait_listening(port)?;
    Ok((daemon, port))
}

fn start_sshd(dir: &Path, root: &Path, public_key: &str) -> Result<(Daemon, u16), String> {
    let sshd = find("sshd")?;
    find("sftp-server").or_else(|_| {
        Path::new("/usr/lib/openssh/sftp-server")
            .exists()
            .then(PathBuf::new)
            .ok_or(format!("OpenSSH's sftp-server is missing: {HINT}"))
    })?;
    // sshd insists on its privilege-separation directory.
    let _ = std::fs::create_dir_all("/run/sshd");
    let port = free_port();
    let ssh_dir = dir.join("sshd");
    std::fs::create_dir_all(&ssh_dir).map_err(|e| e.to_string())?;
    let host_key = ssh_dir.join("host_ed25519");
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key),
    )?;
    let authorized = ssh_dir.join("authorized_keys");
    std::fs::write(&authorized, public_key).map_err(|e| e.to_string())?;
    let config = ssh_dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nPidFile {}/sshd.pid\n\
             AuthorizedKeysFile {}\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             PermitRootLogin prohibit-password\nChrootDirectory none\n\
             Subsystem sftp /usr/lib/openssh/sftp-server\n",
            host_key.display(),
            ssh_dir.display(),
            authorized.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start sshd: {e}"))?;
    let daemon = Daemon(child);
    wait_listening(port)?;
    let _ = root;
    Ok((daemon, port))
}

fn run_ok(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn ssh_command(program: &str, key: &Path) -> Command {
    let mut command = Command::new(program);
    command.arg("-i").arg(key).args([
        "-F",
        "/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
    ]);
    command
}

/// A download command writing to `out` over `protocol` from `port`; the
/// remote path is `remote` (absolute for sshd, root-relative for netswim).
fn download(
    protocol: &str,
    key: &Path,
    port: u16,
    remote: &str,
    out: &Path,
    batch: &Path,
    resume_from: u64,
) -> Command {
    match protocol {
        "http" => {
            let mut command = Command::new("curl");
            command
                .args(["-sSf", "-o"])
                .arg(out)
                .arg(format!("http://127.0.0.1:{port}/{FILE_NAME}"));
            command
        }
        "http-resume" => {
            // A download broken off at the middle, resumed from there.
            let mut command = Command::new("curl");
            command
                .args(["-sSf", "-C"])
                .arg(resume_from.to_string())
                .arg("-o")
                .arg(out)
                .arg(format!("http://127.0.0.1:{port}/{FILE_NAME}"));
            command
        }
        "ftp-netswim" | "ftp" => {
            let login = if protocol == "ftp-netswim" {
                format!("{FTP_USER}:{FTP_PASSWORD}@")
            } else {
                String::new()
            };
            let mut command = Command::new("curl");
            command
                .args(["-sSf", "-o"])
                .arg(out)
                .arg(format!("ftp://{login}127.0.0.1:{port}/{FILE_NAME}"));
            command
        }
        "sftp" => {
            let _ = std::fs::write(batch, format!("get {remote} {}\n", out.display()));
            let mut command = ssh_command("sftp", key);
            command
                .arg("-P")
                .arg(port.to_string())
                .arg("-b")
                .arg(batch)
                .arg("root@127.0.0.1");
            command
        }
        _ => {
            let mut command = ssh_command("scp", key);
            command
                .args(["-O", "-P"])
                .arg(port.to_string())
                .arg(format!("root@127.0.0.1:{remote}"))
                .arg(out);
            command
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("transfer_bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    for program in ["curl", "sftp", "scp", "ssh-keygen"] {
        find(program)?;
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let file = root.join(FILE_NAME);
    let expected = write_file(&file, options.size_mib)?;
    let outputs = dir.path().join("out");
    std::fs::create_dir_all(&outputs).map_err(|e| e.to_string())?;

    let key = dir.path().join("client_ed25519");
    run_ok(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&key),
    )?;
    let public = std::fs::read_to_string(key.with_extension("pub")).map_err(|e| e.to_string())?;

    let wants = |name: &str| options.only.iter().any(|only| only == name);
    let mut peers = Peers {
        _nginx: None,
        nginx_port: 0,
        _vsftpd: None,
        vsftpd_port: 0,
        _sshd: None,
        sshd_port: 0,
    };
    if wants("http") || wants("http-resume") {
        let (daemon, port) = start_nginx(dir.path(), &root)?;
        peers._nginx = Some(daemon);
        peers.nginx_port = port;
    }
    if wants("ftp") {
        let (daemon, port) = start_vsftpd(dir.path(), &root)?;
        peers._vsftpd = Some(daemon);
        peers.vsftpd_port = port;
    }
    if wants("sftp") || wants("scp") {
        let (daemon, port) = start_sshd(dir.path(), &root, &public)?;
        peers._sshd = Some(daemon);
        peers.sshd_port = port;
    }

    // netswim, in process, on its own runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let any: SocketAddr = "127.0.0.1:0".parse().map_err(|_| "address")?;
    let mut config = FileserverConfig::new(&root);
    config.http = Some(any);
    config.sftp = Some(any);
    config.ftp = Some(any);
    config.credentials.insert(FTP_USER, FTP_PASSWORD);
    config
        .credentials
        .insert_key("root", &public)
        .map_err(|e| e.to_string())?;
    let source = Arc::new(LocalDirectory::new(&root).map_err(|e| e.to_string())?);
    let server = runtime
        .block_on(Fileserver::with_source(config, source))
        .map_err(|e| e.to_string())?;
    let addresses = server.addresses().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let netswim_http = addresses.http.map(|a| a.port()).unwrap_or(0);
    let netswim_ssh = addresses.sftp.map(|a| a.port()).unwrap_or(0);
    let netswim_ftp = addresses.ftp.map(|a| a.port()).unwrap_or(0);

    let mut scenarios: Vec<(String, &str, usize)> = Vec::new();
    if wants("http") {
        scenarios.push((
            format!("HTTP {} concurrent", options.http_clients),
            "http",
            options.http_clients,
        ));
    }
    if wants("http-resume") {
        scenarios.push((
            format!(
                "HTTP {} concurrent resumes (second half)",
                options.http_clients
            ),
            "http-resume",
            options.http_clients,
        ));
    }
    for streams in [1, 8] {
        if wants("sftp") {
            scenarios.push((format!("SFTP {streams} stream(s)"), "sftp", streams));
        }
        if wants("scp") {
            scenarios.push((format!("SCP -O {streams} stream(s)"), "scp", streams));
        }
    }
    if wants("ftp") {
        scenarios.push((
            format!("FTP {} stream(s)", options.ftp_streams),
            "ftp",
            options.ftp_streams,
        ));
    }
    println!(
        "file {} MiB, {} repeat(s), median wall time until the last client exits",
        options.size_mib, options.repeats
    );
    println!("| scenario | server | median s | MiB/s (all streams) |\n|---|---|---:|---:|");
    let mut ratios = Vec::new();
    let half = options.size_mib * 1024 * 1024 / 2;
    let expected_half = sha256_from(&file, half);
    for (name, protocol, streams) in &scenarios {
        let (expected, mib_per_stream) = if *protocol == "http-resume" {
            (&expected_half, options.size_mib as f64 / 2.0)
        } else {
            (&expected, options.size_mib as f64)
        };
        let (peer_name, peer_port, peer_remote) = match *protocol {
            "http" | "http-resume" => ("nginx", peers.nginx_port, FILE_NAME.to_string()),
            "ftp" => ("vsftpd", peers.vsftpd_port, FILE_NAME.to_string()),
            _ => ("OpenSSH", peers.sshd_port, file.display().to_string()),
        };
        let ours_port = match *protocol {
            "http" | "http-resume" => netswim_http,
            "ftp" => netswim_ftp,
            _ => netswim_ssh,
        };
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for repeat in 0..options.repeats {
            let order: [bool; 2] = if repeat % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            };
            for netswim in order {
                let (port, remote) = if netswim {
                    (ours_port, FILE_NAME.to_string())
                } else {
                    (peer_port, peer_remote.clone())
                };
                let outs: Vec<PathBuf> = (0..*streams)
                    .map(|i| {
                        // One verified copy per scenario keeps the disk
                        // out of the measurement; the rest go to /dev/null.
                        if repeat == 0 && i == 0 {
                            outputs.join(format!("{protocol}-{netswim}-{i}"))
                        } else {
                            PathBuf::from("/dev/null")
                        }
                    })
                    .collect();
                let commands = outs
                    .iter()
                    .enumerate()
                    .map(|(i, out)| {
                        let batch = outputs.join(format!("batch-{i}"));
                        // netswim's FTP wants a login, vsftpd serves anonymously.
                        let client = if netswim && *protocol == "ftp" {
                            "ftp-netswim"
                        } else {
                            protocol
                        };
                        download(client, &key, port, &remote, out, &batch, half)
                    })
                    .collect();
                let elapsed = timed(commands).map_err(|e| {
                    format!(
                        "{name} against {}: {e}",
                        if netswim { "netswim" } else { peer_name }
                    )
                })?;
                if repeat == 0 {
                    for out in outs.iter().take(1) {
                        if sha256_of(out) != *expected {
                            return Err(format!("{name}: {} is not byte-identical", out.display()));
                        }
                        let _ = std::fs::remove_file(out);
                    }
                }
                // Every repeat on stderr: the first one of a scenario is
                // the cold one (page cache, digests).
                eprintln!(
                    "  {name}, repeat {}: {} {:.2} s",
                    repeat + 1,
                    if netswim { "netswim" } else { peer_name },
                    elapsed.as_secs_f64()
                );
                if netswim {
                    ours.push(elapsed);
                } else {
                    theirs.push(elapsed);
                }
            }
        }
        let total_mib = mib_per_stream * *streams as f64;
        let (ours, theirs) = (median(ours), median(theirs));
        println!(
            "| {name} | netswim | {:.2} | {:.1} |",
            ours.as_secs_f64(),
            total_mib / ours.as_secs_f64()
        );
        println!(
            "| {name} | {peer_name} | {:.2} | {:.1} |",
            theirs.as_secs_f64(),
            total_mib / theirs.as_secs_f64()
        );
        ratios.push(format!(
            "{name}: netswim {:.2}x {peer_name}",
            theirs.as_secs_f64() / ours.as_secs_f64()
        ));
    }
    println!("\nRatios (netswim throughput / peer throughput, same client):");
    for ratio in ratios {
        println!("- {ratio}");
    }
    let _ = stop.send(());
    let _ = runtime.block_on(serving);
    Ok(())
}
