//! Upgrade benchmark (a program, not a timed test): N lab IOS switches
//! (default 500), an S MiB image (default 8), reload R s (default 3):
//! one distribution job with parallel activation through the engine's
//! in-process file servers, over real SSH and real transfers on loopback.
//!
//! Prints wall time, process CPU time and peak RSS (from /proc/self; the
//! lab runs in the same process, so these bound the server's share from
//! above), the loopback TCP throughput measured in the same run, and the
//! ratio of the wall time to the lower bound
//! `bytes moved ÷ loopback throughput + reload × waves`.
//!
//! `cargo run --release -p netswim-engine --example upgrade_bench -- [devices] [MiB] [reload s] [parallel] [protocol]`
//! Loopback: lab 127.66.100.1 upward, servers 127.66.200.2, throughput probe 127.66.200.3.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use netswim_engine::upgrade::{
    ActivationMode, ActivationOptions, DeviceSelector, DistributionSpec, Protocol, Schedule,
};
use netswim_store::Status;
use netswim_testkit::{Rig, RigOptions, ios_image};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn arg<T: std::str::FromStr>(index: usize, default: T) -> T {
    std::env::args()
        .nth(index)
        .and_then(|text| text.parse().ok())
        .unwrap_or(default)
}

/// User+system CPU seconds of this process (`/proc/self/stat` fields 14, 15).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| -> f64 {
        fields
            .get(index)
            .and_then(|text| text.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 (1-based), 11 and 12 here;
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Loopback TCP throughput in bytes per second (one stream, 512 MiB).
async fn loopback_throughput() -> BenchResult<f64> {
    const TOTAL: usize = 512 << 20;
    let listener = tokio::net::TcpListener::bind("127.66.200.3:0").await?;
    let address = listener.local_addr()?;
    let reader = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await?;
        let mut buffer = vec![0u8; 1 << 20];
        let mut seen = 0;
        while seen < TOTAL {
            let read = socket.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            seen += read;
        }
        Ok::<usize, std::io::Error>(seen)
    });
    let started = Instant::now();
    let mut socket = tokio::net::TcpStream::connect(address).await?;
    let chunk = vec![7u8; 1 << 20];
    for _ in 0..(TOTAL >> 20) {
        socket.write_all(&chunk).await?;
    }
    socket.shutdown().await?;
    let seen = reader.await??;
    Ok(seen as f64 / started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let devices: usize = arg(1, 500);
    let mib: usize = arg(2, 8);
    let reload: u64 = arg(3, 3);
    let parallel: u32 = arg(4, 50);
    let protocol: String = arg(5, "scp".to_owned());
    let protocol: Protocol = serde_json::from_value(serde_json::Value::String(protocol))?;

    let throughput = loopback_throughput().await?;
    println!(
        "loopback throughput: {:.0} MiB/s (one TCP stream, 512 MiB)",
        throughput / (1 << 20) as f64
    );

    let lab_started = Instant::now();
    let mut options = RigOptions::new(
        devices,
        &format!("ios:{devices}"),
        "127.66.100.1".parse::<Ipv4Addr>()?,
    );
    options.reload_delay = Duration::from_secs(reload);
    options.seed = 3;
    options.file_servers = Some("127.66.200.2:0".parse()?);
    let rig = Rig::start(&options).await;
    let (lab, engine) = (&rig.lab, &rig.engine);
    println!(
        "lab: {devices} devices and the engine up in {:.1}s",
        lab_started.elapsed().as_secs_f64()
    );

    let (name, bytes) = ios_image("WS-C2960X-48FPD-L", "15.2(7)E8", (mib << 20) as u64);
    let size = bytes.len() as u64;
    let image = rig.import_upload(&name, &bytes).await;
    drop(bytes);

    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let job = engine
        .submit_distribution(
            DistributionSpec {
                image_id: image.id,
                devices: DeviceSelector {
                    all: true,
                    ..DeviceSelector::default()
                },
                protocols: Some(vec![protocol]),
                max_parallel: Some(parallel),
                max_parallel_per_site: Some(parallel),
                max_parallel_per_distribution_server: Some(parallel),
                activate: Some(ActivationOptions {
                    mode: ActivationMode::Parallel,
                    max_parallel: Some(parallel),
                    reload_timeout_secs: Some(300),
                    ..ActivationOptions::default()
                }),
                ..DistributionSpec::default()
            },
            Schedule::default(),
            "bench",
        )
        .await?;
    let run = engine
        .store()
        .list_runs(job.id)
        .await?
        .pop()
        .ok_or("no run")?;
    engine.wait_run(run.id).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let job = engine.store().get_job(job.id).await?;
    let summary = engine.job_summary(job.id).await?;
    let on_target = lab
        .status()
        .iter()
        .filter(|status| status.running_version.as_deref() == Some("15.2(7)E8"))
        .count();

    let moved = size * devices as u64;
    let waves = devices.div_ceil(parallel.max(1) as usize);
    let lower_bound = moved as f64 / throughput + (reload * waves as u64) as f64;
    println!(
        "job {}: {} ({} successful, {} failed of {}); {on_target} devices run the target per the lab",
        job.id, job.status, summary.successful, summary.failed, summary.total
    );
    println!(
        "wall {wall:.1}s, CPU {cpu:.1}s ({:.0}% of one core), peak RSS {:.0} MiB (lab included)",
        cpu / wall * 100.0,
        peak_rss_mib()
    );
    println!(
        "moved {:.0} MiB over {protocol:?} with {parallel} at once, {waves} reload waves of {reload}s",
        moved as f64 / (1 << 20) as f64
    );
    println!(
        "lower bound {lower_bound:.1}s = {:.1}s transfer + {}s reloads; ratio {:.2}",
        moved as f64 / throughput,
        reload * waves as u64,
        wall / lower_bound
    );
    // Where a device's time goes: mean and max seconds per step.
    let mut steps: Vec<(String, Vec<f64>)> = Vec::new();
    for task in engine.store().list_tasks(run.id).await? {
        for operation in engine.store().list_operations(task.id).await? {
            let (Some(start), Some(end)) = (operation.started_at, operation.ended_at) else {
                continue;
            };
            let seconds = (end.as_millis() - start.as_millis()) as f64 / 1000.0;
            match steps.iter_mut().find(|(name, _)| *name == operation.name) {
                Some((_, all)) => all.push(seconds),
                None => steps.push((operation.name.clone(), vec![seconds])),
            }
        }
    }
    println!("per device and step (mean / max seconds):");
    for (name, all) in &steps {
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        let max = all.iter().copied().fold(0.0, f64::max);
        println!("  {name:<24} {mean:>6.2} / {max:>6.2}");
    }
    if job.status != Status::Success {
        println!("{}", engine.job_log(job.id).await?);
        std::process::exit(1);
    }
    Ok(())
}
