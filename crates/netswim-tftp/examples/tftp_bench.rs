//! The TFTP benchmark of issue 4: netswim's server against tftpd-hpa and
//! atftpd on loopback, with the same client (the atftp binary) and the same
//! options for every server, printing throughput ratios measured in one run.
//!
//! `cargo run --release -p netswim-tftp --example tftp_bench -- [--clients 16]
//! [--size-mib 32] [--repeats 3] [--timeout-secs 1800]
//! [--servers netswim,tftpd-hpa,atftpd] [--scenarios 512,1468,window]
//! [--atftpd PATH] [--tftpd-hpa PATH]`
//!
//! atftpd and tftpd-hpa conflict as Debian packages (both ship
//! `/usr/sbin/in.tftpd`): install tftpd-hpa and atftp, and unpack atftpd
//! aside (`apt-get download atftpd && dpkg-deb -x atftpd_*.deb /opt/atftpd`),
//! where the benchmark looks for it. netswim's server runs in this process
//! on a multi-threaded tokio runtime (`TFTP_BENCH_WORKERS` sets its worker
//! threads; read transfers run on threads of their own anyway).
//!
//! Each scenario starts `--clients` atftp downloads of one `--size-mib` file
//! at once and times until the last one exits; every measurement is repeated
//! (servers interleaved so they share the machine's noise) and the median
//! is kept. Every download is checked byte for byte (SHA-256).

use std::io::Write;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use netswim_tftp::{LocalDirectory, ServerConfig, TftpServer};
use sha2::{Digest, Sha256};

const FILE_NAME: &str = "bench.bin";
const INSTALL_HINT: &str = "install the peers with `apt-get install tftpd-hpa atftp`; \
     atftpd conflicts with tftpd-hpa in Debian (both ship /usr/sbin/in.tftpd), so unpack it \
     aside: `apt-get download atftpd && dpkg-deb -x atftpd_*.deb /opt/atftpd` \
     (or pass --atftpd PATH)";

/// Child processes to kill whatever way the benchmark ends.
type Children = Arc<Mutex<Vec<u32>>>;

struct Settings {
    clients: usize,
    size_mib: usize,
    repeats: usize,
    timeout: Duration,
    servers: Vec<ServerKind>,
    scenarios: Vec<Scenario>,
    atftpd: Option<PathBuf>,
    tftpd_hpa: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerKind {
    Netswim,
    TftpdHpa,
    Atftpd,
}

impl ServerKind {
    fn name(self) -> &'static str {
        match self {
            ServerKind::Netswim => "netswim",
            ServerKind::TftpdHpa => "tftpd-hpa",
            ServerKind::Atftpd => "atftpd",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    /// No options: RFC 1350 lock-step with 512-byte blocks.
    Default512,
    Blksize1468,
    /// blksize 1468 and windowsize 16; tftpd-hpa does not know windowsize
    /// and answers blksize only, which is its best setting.
    Window16,
}

impl Scenario {
    fn label(self) -> &'static str {
        match self {
            Scenario::Default512 => "blksize 512 (no options)",
            Scenario::Blksize1468 => "blksize 1468",
            Scenario::Window16 => "blksize 1468 + windowsize 16",
        }
    }

    fn short(self) -> &'static str {
        match self {
            Scenario::Default512 => "blksize 512",
            Scenario::Blksize1468 => "blksize 1468",
            Scenario::Window16 => "windowsize 16",
        }
    }

    fn atftp_options(self) -> &'static [&'static str] {
        match self {
            Scenario::Default512 => &[],
            Scenario::Blksize1468 => &["--option", "blksize 1468"],
            Scenario::Window16 => &["--option", "blksize 1468", "--option", "windowsize 16"],
        }
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: tftp_bench [--clients N] [--size-mib M] [--repeats R] [--timeout-secs S] \
         [--servers netswim,tftpd-hpa,atftpd] [--scenarios 512,1468,window] \
         [--atftpd PATH] [--tftpd-hpa PATH]"
    );
    std::process::exit(2);
}

fn parse_settings() -> Settings {
    let mut settings = Settings {
        clients: 16,
        size_mib: 32,
        repeats: 3,
        timeout: Duration::from_secs(1800),
        servers: vec![
            ServerKind::Netswim,
            ServerKind::TftpdHpa,
            ServerKind::Atftpd,
        ],
        scenarios: vec![
            Scenario::Default512,
            Scenario::Blksize1468,
            Scenario::Window16,
        ],
        atftpd: None,
        tftpd_hpa: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else { usage() };
        let number = || value.parse::<usize>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--clients" => settings.clients = number().max(1),
            "--size-mib" => settings.size_mib = number().max(1),
            "--repeats" => settings.repeats = number().max(1),
            "--timeout-secs" => settings.timeout = Duration::from_secs(number() as u64),
            "--servers" => {
                settings.servers = value
                    .split(',')
                    .map(|name| match name {
                        "netswim" => ServerKind::Netswim,
                        "tftpd-hpa" => ServerKind::TftpdHpa,
                        "atftpd" => ServerKind::Atftpd,
                        _ => usage(),
                    })
                    .collect();
            }
            "--atftpd" => settings.atftpd = Some(PathBuf::from(value)),
            "--tftpd-hpa" => settings.tftpd_hpa = Some(PathBuf::from(value)),
            "--scenarios" => {
                settings.scenarios = value
                    .split(',')
                    .map(|name| match name {
                        "512" => Scenario::Default512,
                        "1468" => Scenario::Blksize1468,
                        "window" => Scenario::Window16,
                        _ => usage(),
                    })
                    .collect();
            }
            _ => usage(),
        }
    }
    settings
}

/// The first executable called `name` in PATH, the sbin directories or
/// the unpacked-aside location of the install hint.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain([
            "/usr/sbin",
            "/sbin",
            "/usr/local/sbin",
            "/opt/atftpd/usr/sbin",
        ])
        .map(|directory| Path::new(directory).join(name))
        .find(|candidate| candidate.is_file())
}

/// tftpd-hpa's `in.tftpd`, not atftpd's symlink of the same name.
fn find_tftpd_hpa() -> Option<PathBuf> {
    let program = find_program("in.tftpd")?;
    let real = std::fs::canonicalize(&program).ok()?;
    let is_atftpd = real
        .file_name()
        .is_some_and(|name| name.to_string_lossy().contains("atftpd"));
    (!is_atftpd).then_some(program)
}

/// Deterministic, incompressible-looking content (xorshift64).
fn bench_content(length: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut content = Vec::with_capacity(length + 8);
    while content.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        content.extend_from_slice(&state.to_le_bytes());
    }
    content.truncate(length);
    content
}

fn free_udp_port() -> std::io::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits until a TFTP server answers (an RRQ for a missing file is enough).
fn wait_until_serving(address: SocketAddr) -> Result<(), String> {
    let probe = UdpSocket::bind("127.0.0.1:0").map_err(|error| error.to_string())?;
    probe
        .set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|error| error.to_string())?;
    for _ in 0..100 {
        let _ = probe.send_to(b"\x00\x01probe-missing\x00octet\x00", address);
        let mut buffer = [0u8; 1024];
        if probe.recv_from(&mut buffer).is_ok() {
            return Ok(());
        }
    }
    Err(format!("no TFTP server answers on {address}"))
}

fn spawn_registered(command: &mut Command, children: &Children) -> std::io::Result<Child> {
    let child = command.spawn()?;
    if let Ok(mut pids) = children.lock() {
        pids.push(child.id());
    }
    Ok(child)
}

fn forget(child: &Child, children: &Children) {
    if let Ok(mut pids) = children.lock() {
        pids.retain(|pid| *pid != child.id());
    }
}

fn kill_all(children: &Children) {
    let pids: Vec<u32> = children
        .lock()
        .map(|mut pids| std::mem::take(&mut *pids))
        .unwrap_or_default();
    for pid in pids {
        let _ = Command::new("kill")
            .args(["-9", &pid.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// The user a peer daemon running as root should switch to: root itself,
/// so that it can read the private temporary directory like the others.
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

struct Programs {
    tftpd_hpa: PathBuf,
    atftpd: PathBuf,
    atftp: PathBuf,
}

fn start_tftpd_hpa(program: &Path, root: &Path, children: &Children) -> Result<SocketAddr, String> {
    let port = free_udp_port().map_err(|error| error.to_string())?;
    let address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let user = if is_root() { "root" } else { "nobody" };
    let mut command = Command::new(program);
    command
        .args(["--foreground", "--listen", "--user", user])
        .args(["--blocksize", "65464", "--secure"])
        .arg(root)
        .args(["--address", &address.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    spawn_registered(&mut command, children).map_err(|error| format!("in.tftpd: {error}"))?;
    wait_until_serving(address)?;
    Ok(address)
}

fn start_atftpd(program: &Path, root: &Path, children: &Children) -> Result<SocketAddr, String> {
    let port = free_udp_port().map_err(|error| error.to_string())?;
    let address: SocketAddr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut command = Command::new(program);
    command
        .args(["--daemon", "--no-fork", "--port", &port.to_string()])
        .args(["--bind-address", "127.0.0.1", "--logfile", "/dev/null"])
        .args(["--verbose=3", "--maxthread", "200"]);
    if is_root() {
        command.args(["--user", "root.root"]);
    }
    command
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    spawn_registered(&mut command, children).map_err(|error| format!("atftpd: {error}"))?;
    wait_until_serving(address)?;
    Ok(address)
}

/// netswim's server in this process, on its own multi-threaded runtime.
fn start_netswim(root: &Path) -> Result<SocketAddr, String> {
    let root = root.to_path_buf();
    let (ready_sender, ready_receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        if let Some(workers) = std::env::var("TFTP_BENCH_WORKERS")
            .ok()
            .and_then(|value| value.parse::<usize>().ok())
        {
            builder.worker_threads(workers);
        }
        let runtime = match builder.enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = ready_sender.send(Err(error.to_string()));
                return;
            }
        };
        runtime.block_on(async move {
            let source = match LocalDirectory::new(&root) {
                Ok(source) => source,
                Err(error) => {
                    let _ = ready_sender.send(Err(error.to_string()));
                    return;
                }
            };
            let bound = TftpServer::bind(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                source,
                ServerConfig::default(),
            )
            .await;
            let server = match bound {
                Ok(server) => server,
                Err(error) => {
                    let _ = ready_sender.send(Err(error.to_string()));
                    return;
                }
            };
            let _ = ready_sender.send(server.local_addr().map_err(|error| error.to_string()));
            let _ = server.run().await;
        });
    });
    let address = ready_receiver
        .recv()
        .map_err(|_| "the netswim server thread ended".to_string())??;
    wait_until_serving(address)?;
    Ok(address)
}

/// Runs `clients` atftp downloads at once; returns the wall time.
fn measure(
    atftp: &Path,
    server: SocketAddr,
    scenario: Scenario,
    clients: usize,
    output: &Path,
    expected: &[u8; 32],
    children: &Children,
) -> Result<Duration, String> {
    let targets: Vec<PathBuf> = (0..clients)
        .map(|index| output.join(format!("download-{index}.bin")))
        .collect();
    for target in &targets {
        let _ = std::fs::remove_file(target);
    }
    let started = Instant::now();
    let mut running = Vec::with_capacity(clients);
    for target in &targets {
        let mut command = Command::new(atftp);
        command
            .args(scenario.atftp_options())
            .args(["-g", "-r", FILE_NAME, "-l"])
            .arg(target)
            .arg(server.ip().to_string())
            .arg(server.port().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = spawn_registered(&mut command, children)
            .map_err(|error| format!("cannot run atftp: {error}"))?;
        running.push(child);
    }
    let mut failures = Vec::new();
    for child in running {
        forget(&child, children);
        match child.wait_with_output() {
            Ok(finished) if finished.status.success() => {}
            Ok(finished) => failures.push(format!(
                "atftp exited with {}: {}",
                finished.status,
                String::from_utf8_lossy(&finished.stderr).trim()
            )),
            Err(error) => failures.push(format!("cannot wait for atftp: {error}")),
        }
    }
    let elapsed = started.elapsed();
    if let Some(first) = failures.first() {
        return Err(format!(
            "{} of {clients} downloads failed; {first}",
            failures.len()
        ));
    }
    // Verify outside the timed part, every download in parallel.
    let verdicts: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|target| {
                scope.spawn(move || {
                    let content = std::fs::read(target)
                        .map_err(|error| format!("{}: {error}", target.display()))?;
                    let digest: [u8; 32] = Sha256::digest(&content).into();
                    if &digest == expected {
                        Ok(())
                    } else {
                        Err(format!(
                            "{} differs from the served file ({} bytes received)",
                            target.display(),
                            content.len()
                        ))
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("verification thread panicked".into()))
            })
            .collect()
    });
    for target in &targets {
        let _ = std::fs::remove_file(target);
    }
    if let Some(Err(error)) = verdicts.into_iter().find(Result::is_err) {
        return Err(error);
    }
    Ok(elapsed)
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    let settings = parse_settings();
    let found = (
        settings.tftpd_hpa.clone().or_else(find_tftpd_hpa),
        settings.atftpd.clone().or_else(|| find_program("atftpd")),
        find_program("atftp"),
    );
    let programs = match found {
        (Some(tftpd_hpa), Some(atftpd), Some(atftp)) => Programs {
            tftpd_hpa,
            atftpd,
            atftp,
        },
        (tftpd_hpa, atftpd, atftp) => {
            let missing: Vec<&str> = [
                (tftpd_hpa.is_none(), "in.tftpd (tftpd-hpa)"),
                (atftpd.is_none(), "atftpd"),
                (atftp.is_none(), "atftp"),
            ]
            .into_iter()
            .filter_map(|(missing, name)| missing.then_some(name))
            .collect();
            eprintln!("tftp_bench: missing {}: {INSTALL_HINT}", missing.join(", "));
            return ExitCode::from(2);
        }
    };

    let children: Children = Arc::new(Mutex::new(Vec::new()));
    // The whole run is bounded: past the timeout, kill every child and exit.
    {
        let children = Arc::clone(&children);
        let timeout = settings.timeout;
        std::thread::spawn(move || {
            std::thread::sleep(timeout);
            eprintln!("tftp_bench: gave up after {timeout:?}; killing the peers");
            kill_all(&children);
            std::process::exit(3);
        });
    }
    let result = run(&settings, &programs, &children);
    kill_all(&children);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tftp_bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(settings: &Settings, programs: &Programs, children: &Children) -> Result<(), String> {
    let workspace = tempfile::Builder::new()
        .prefix("tftp-bench-")
        .tempdir()
        .map_err(|error| format!("cannot create a temporary directory: {error}"))?;
    let root = workspace.path().join("root");
    let output = workspace.path().join("downloads");
    for directory in [&root, &output] {
        std::fs::create_dir_all(directory).map_err(|error| error.to_string())?;
    }
    // The peers may switch to an unprivileged user: let it read the root.
    for directory in [workspace.path(), root.as_path()] {
        std::fs::set_permissions(directory, std::fs::Permissions::from_mode(0o755))
            .map_err(|error| error.to_string())?;
    }
    let length = settings.size_mib * 1024 * 1024;
    let content = bench_content(length);
    let expected: [u8; 32] = Sha256::digest(&content).into();
    let served = root.join(FILE_NAME);
    std::fs::write(&served, &content).map_err(|error| error.to_string())?;
    std::fs::set_permissions(&served, std::fs::Permissions::from_mode(0o644))
        .map_err(|error| error.to_string())?;
    drop(content);

    let mut servers: Vec<(ServerKind, SocketAddr)> = Vec::new();
    for kind in &settings.servers {
        let address = match kind {
            ServerKind::Netswim => start_netswim(&root)?,
            ServerKind::TftpdHpa => start_tftpd_hpa(&programs.tftpd_hpa, &root, children)?,
            ServerKind::Atftpd => start_atftpd(&programs.atftpd, &root, children)?,
        };
        servers.push((*kind, address));
    }
    println!(
        "TFTP benchmark: {} concurrent atftp clients x {} MiB from each server on loopback, \
         median of {} runs (servers interleaved), every download SHA-256 checked",
        settings.clients, settings.size_mib, settings.repeats
    );
    println!(
        "client: {} (the same for every server)\n",
        programs.atftp.display()
    );
    let total_mib = (settings.clients * settings.size_mib) as f64;
    // (scenario, server, median)
    let mut results: Vec<(Scenario, ServerKind, Duration)> = Vec::new();
    println!(
        "{:<30} {:<10} {:>9} {:>9}   runs (s)",
        "scenario", "server", "median s", "MiB/s"
    );
    for scenario in &settings.scenarios {
        let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); servers.len()];
        for repeat in 0..settings.repeats {
            // Rotate the order so no server always runs first.
            for step in 0..servers.len() {
                let index = (step + repeat) % servers.len();
                let Some((kind, address)) = servers.get(index) else {
                    continue;
                };
                let elapsed = measure(
                    &programs.atftp,
                    *address,
                    *scenario,
                    settings.clients,
                    &output,
                    &expected,
                    children,
                )
                .map_err(|error| format!("{} / {}: {error}", scenario.label(), kind.name()))?;
                if let Some(list) = samples.get_mut(index) {
                    list.push(elapsed);
                }
            }
        }
        for ((kind, _), list) in servers.iter().zip(&samples) {
            let middle = median(list);
            let runs: Vec<String> = list
                .iter()
                .map(|sample| format!("{:.2}", sample.as_secs_f64()))
                .collect();
            println!(
                "{:<30} {:<10} {:>9.2} {:>9.1}   {}",
                scenario.label(),
                kind.name(),
                middle.as_secs_f64(),
                total_mib / middle.as_secs_f64(),
                runs.join(" ")
            );
            results.push((*scenario, *kind, middle));
        }
        let _ = std::io::stdout().flush();
    }

    println!("\nratios (netswim throughput / peer throughput, same client and options):");
    let time_of = |scenario: Scenario, kind: ServerKind| {
        results
            .iter()
            .find(|(s, k, _)| *s == scenario && *k == kind)
            .map(|(_, _, time)| time.as_secs_f64())
    };
    for scenario in &settings.scenarios {
        let Some(netswim) = time_of(*scenario, ServerKind::Netswim) else {
            continue;
        };
        let ratios: Vec<String> = [ServerKind::TftpdHpa, ServerKind::Atftpd]
            .into_iter()
            .filter_map(|peer| {
                time_of(*scenario, peer)
                    .map(|time| format!("{:.2}x {}", time / netswim, peer.name()))
            })
            .collect();
        if !ratios.is_empty() {
            println!("  {}: netswim {}", scenario.short(), ratios.join(", "));
        }
    }
    if let (Some(windowed), Some(hpa_default)) = (
        time_of(Scenario::Window16, ServerKind::Netswim),
        time_of(Scenario::Default512, ServerKind::TftpdHpa),
    ) {
        println!(
            "  windowsize 16 vs tftpd-hpa default (blksize 512): netswim {:.2}x (target >= 10x)",
            hpa_default / windowed
        );
    }
    let best_peer = settings
        .scenarios
        .iter()
        .flat_map(|scenario| {
            [ServerKind::TftpdHpa, ServerKind::Atftpd]
                .into_iter()
                .filter_map(move |peer| {
                    time_of(*scenario, peer).map(|time| (time, *scenario, peer))
                })
        })
        .min_by(|a, b| a.0.total_cmp(&b.0));
    if let (Some(windowed), Some((time, scenario, peer))) =
        (time_of(Scenario::Window16, ServerKind::Netswim), best_peer)
    {
        println!(
            "  windowsize 16 vs the best peer setting ({} at {}): netswim {:.2}x",
            peer.name(),
            scenario.short(),
            time / windowed
        );
    }
    Ok(())
}
