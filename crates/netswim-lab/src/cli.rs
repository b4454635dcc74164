//! The `netswim lab` command line: `run`, `make-image` and `status`. The binary
//! only forwards to these functions.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use crate::error::LabError;
use crate::fault_rates::parse_fault_rates;
use crate::image::{
    ImageFormat, ImageSpec, image_file_name, make_image as build_image, parse_size,
};
use crate::lab::{DeviceStatus, Lab, LabOptions, control_get, parse_mix, serve_control};
use crate::labfile::{LabFile, PlanFallbacks, PlannedDevice};

/// `netswim lab ...`
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start a fleet of virtual devices, each on its own loopback address.
    Run(RunArgs),
    /// Write a deterministic image file whose contents state its version.
    MakeImage(MakeImageArgs),
    /// Print each lab device's ground truth from the control endpoint.
    Status(StatusArgs),
}

/// `netswim lab run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// How many devices (the mix is cycled or cut to this count).
    #[arg(long, default_value_t = 10)]
    pub devices: usize,
    /// Device kinds and counts: `ios-stack:5,ios:15,iosxe:5,iosxr:5`;
    /// `ios+legacy:2` speaks only old IOS SSH algorithms.
    #[arg(long, default_value = "ios:1")]
    pub mix: String,
    /// First device address; the others count up from it.
    #[arg(long, default_value = "127.10.0.1")]
    pub address_base: Ipv4Addr,
    #[arg(long, default_value_t = 22)]
    pub ssh_port: u16,
    #[arg(long, default_value = "admin")]
    pub username: String,
    #[arg(long, default_value = "admin")]
    pub password: String,
    #[arg(long, default_value = "cisco")]
    pub enable_secret: String,
    /// Seconds a reloading device stays unreachable.
    #[arg(long, default_value_t = 5)]
    pub reload_secs: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// IOS version every device runs at start.
    #[arg(long, default_value = "15.2(2)E7")]
    pub image_version: String,
    /// Size of the running image in each flash.
    #[arg(long, default_value = "8MiB")]
    pub image_size: String,
    /// Flash capacity of every member (`64MiB`) instead of the model's real one.
    #[arg(long)]
    pub flash_size: Option<String>,
    /// Write the inventory CSV here.
    #[arg(long)]
    pub inventory_out: Option<PathBuf>,
    /// Serve the HTTP+JSON control endpoint here.
    #[arg(long)]
    pub control: Option<SocketAddr>,
    /// Start the devices a TOML lab file describes instead of `--mix`
    /// (format: crates/netswim-lab/examples/lab.toml).
    #[arg(long)]
    pub lab_file: Option<PathBuf>,
    /// Faults by share of devices, picked from `--seed`:
    /// `transfer-stall=0.05:64KiB,corruption=0.02,bandwidth-cap=0.1:1MiB,
    /// full-flash=0.01,boot-failure=0.01,never-returns=0.01,auth-failure=0.01,slow-cli=0.05:800`.
    #[arg(long)]
    pub fault_rate: Option<String>,
}

/// `netswim lab make-image`
#[derive(Debug, Args)]
pub struct MakeImageArgs {
    /// `ios`, `iosxe` (C9300-48P, WS-C3850-48P) or `iosxr` (ASR-9006, NCS-5501).
    #[arg(long, default_value = "ios")]
    pub platform: String,
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub version: String,
    #[arg(long, default_value = "universalk9")]
    pub feature: String,
    /// `bin` or `tar` (ios), `bin` (iosxe), `iso` (iosxr).
    #[arg(long, default_value = "bin")]
    pub format: String,
    #[arg(long, default_value = "8MiB")]
    pub size: String,
    #[arg(long, default_value_t = 512)]
    pub min_dram_mb: u32,
    /// Output file; a directory or nothing uses the real image file name.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

/// `netswim lab status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub control: SocketAddr,
    /// Only this device.
    #[arg(long)]
    pub device: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// Runs one `netswim lab` subcommand.
pub async fn run(command: LabCommand) -> Result<(), LabError> {
    match command {
        LabCommand::Run(args) => run_lab(args).await,
        LabCommand::MakeImage(args) => make_image(args).map(|path| println!("{}", path.display())),
        LabCommand::Status(args) => status(args).await,
    }
}

/// `netswim lab run`: starts the devices and serves until interrupted.
pub async fn run_lab(args: RunArgs) -> Result<(), LabError> {
    let started = Instant::now();
    let mut options = LabOptions {
        devices: args.devices,
        mix: parse_mix(&args.mix)?,
        address_base: args.address_base,
        ssh_port: args.ssh_port,
        username: args.username,
        password: args.password,
        enable_secret: args.enable_secret,
        reload_delay: Duration::from_secs(args.reload_secs),
        seed: args.seed,
        image_version: args.image_version,
        image_size: parse_size(&args.image_size)?,
        flash_size: args.flash_size.as_deref().map(parse_size).transpose()?,
    };
    let rates = match &args.fault_rate {
        Some(text) => parse_fault_rates(text)?,
        None => Vec::new(),
    };
    let lab = match &args.lab_file {
        Some(path) => {
            let (plan, resolved) = plan_lab_file(path, &options, rates)?;
            options = resolved;
            Lab::start_plan(&plan, &options).await?
        }
        None => {
            let lab = Lab::start(&options).await?;
            lab.apply_fault_rates(options.seed, &rates);
            lab
        }
    };
    let lab = Arc::new(lab);
    if let Some(path) = &args.inventory_out {
        std::fs::write(path, lab.inventory_csv()).map_err(|source| LabError::File {
            path: path.clone(),
            source,
        })?;
    }
    let control = match args.control {
        Some(address) => Some(serve_control(lab.clone(), address).await?),
        None => None,
    };
    println!(
        "lab: {} devices from {} port {} started in {:.2}s{}",
        lab.devices.len(),
        options.address_base,
        options.ssh_port,
        started.elapsed().as_secs_f64(),
        control
            .as_ref()
            .map(|(address, _)| format!("; control on http://{address}/devices"))
            .unwrap_or_default()
    );
    let _ = tokio::signal::ctrl_c().await;
    Ok(())
}

/// Reads a lab file: its plan, and the options with its `[defaults]` applied.
pub fn plan_lab_file(
    path: &std::path::Path,
    options: &LabOptions,
    rates: Vec<crate::fault_rates::FaultRate>,
) -> Result<(Vec<PlannedDevice>, LabOptions), LabError> {
    let file = LabFile::read(path)?;
    let defaults = &file.defaults;
    let mut resolved = options.clone();
    if let Some(base) = defaults.address_base {
        resolved.address_base = base;
    }
    for (value, target) in [
        (&defaults.username, &mut resolved.username),
        (&defaults.password, &mut resolved.password),
        (&defaults.enable_secret, &mut resolved.enable_secret),
    ] {
        if let Some(value) = value {
            target.clone_from(value);
        }
    }
    if let Some(seconds) = defaults.reload_secs {
        resolved.reload_delay = Duration::from_secs(seconds);
    }
    resolved.seed = defaults.seed.unwrap_or(options.seed);
    let plan = file.plan(
        path,
        &PlanFallbacks {
            model: "WS-C2960X-48FPD-L".into(),
            image_version: options.image_version.clone(),
            image_size: options.image_size,
            flash_size: options.flash_size,
            seed: options.seed,
            fault_rates: rates,
        },
    )?;
    resolved.devices = plan.len();
    Ok((plan, resolved))
}

/// `netswim lab make-image`: writes the image and returns its path.
pub fn make_image(args: MakeImageArgs) -> Result<PathBuf, LabError> {
    if args.platform == "iosxe" || args.platform == "iosxr" {
        return make_platform_image_file(args);
    }
    if args.platform != "ios" {
        return Err(LabError::UnknownPlatform {
            platform: args.platform,
        });
    }
    let format = match args.format.as_str() {
        "bin" => ImageFormat::Bin,
        "tar" => ImageFormat::Tar,
        other => {
            return Err(LabError::UnknownPlatform {
                platform: format!("{} with format {other}", args.platform),
            });
        }
    };
    let spec = ImageSpec {
        model: args.model,
        version: args.version,
        feature: args.feature,
        min_dram_mb: args.min_dram_mb,
        size: parse_size(&args.size)?,
    };
    let name = image_file_name(&spec, format)?;
    let path = match args.output {
        Some(path) if path.is_dir() => path.join(name),
        Some(path) => path,
        None => PathBuf::from(name),
    };
    let bytes = build_image(&spec, format)?;
    std::fs::write(&path, bytes).map_err(|source| LabError::File {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// `make-image --platform iosxe|iosxr`: a `.bin` bundle or an `.iso`.
fn make_platform_image_file(args: MakeImageArgs) -> Result<PathBuf, LabError> {
    let wanted_format = if args.platform == "iosxe" {
        "bin"
    } else {
        "iso"
    };
    // `bin` is the flag's default; an IOS-XR image is an `.iso` whatever it says.
    let format_ok = args.format == wanted_format || args.format == "bin";
    let model_ok = crate::platform::model_platform(&args.model) == Some(args.platform.as_str());
    if !format_ok || !model_ok {
        return Err(LabError::UnknownPlatform {
            platform: format!(
                "{} with model {} and format {}",
                args.platform, args.model, args.format
            ),
        });
    }
    let spec = crate::platform::PlatformImageSpec {
        model: args.model,
        version: args.version,
        size: parse_size(&args.size)?,
    };
    let name = crate::platform::platform_image_file_name(&spec)?;
    let path = match args.output {
        Some(path) if path.is_dir() => path.join(name),
        Some(path) => path,
        None => PathBuf::from(name),
    };
    let bytes = crate::platform::make_platform_image(&spec)?;
    std::fs::write(&path, bytes).map_err(|source| LabError::File {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// `netswim lab status`.
pub async fn status(args: StatusArgs) -> Result<(), LabError> {
    let path = match &args.device {
        Some(name) => format!("/devices/{name}"),
        None => "/devices".to_string(),
    };
    let body = control_get(args.control, &path).await?;
    if args.json {
        println!("{body}");
        return Ok(());
    }
    let devices: Vec<DeviceStatus> = if args.device.is_some() {
        serde_json::from_str::<DeviceStatus>(&body).map(|one| vec![one])
    } else {
        serde_json::from_str(&body)
    }
    .map_err(|error| LabError::Control {
        status: 200,
        body: format!("unreadable JSON: {error}"),
    })?;
    print!("{}", status_table(&devices));
    Ok(())
}

/// One line per device: name, address, state, version, boot variable, counters.
pub fn status_table(devices: &[DeviceStatus]) -> String {
    let mut out = format!(
        "{:<12} {:<8} {:<21} {:<10} {:<6} {:<12} {:<8} {:<9} {}\n",
        "NAME", "PLATFORM", "ADDRESS", "STATE", "MEMBERS", "VERSION", "RELOADS", "SESSIONS", "BOOT"
    );
    for device in devices {
        // IOS-XR has no boot variable: what a reload boots is the committed release.
        let boot = match device.xr_committed_packages.first() {
            Some(committed) => format!("committed:{committed}"),
            None => device.boot_variable.clone(),
        };
        out.push_str(&format!(
            "{:<12} {:<8} {:<21} {:<10} {:<7} {:<12} {:<8} {:<9} {}\n",
            device.name,
            device.platform,
            format!("{}:{}", device.host, device.port),
            device.state,
            device.members.len(),
            device.running_version.as_deref().unwrap_or("-"),
            device.reload_count,
            device.active_sessions,
            boot
        ));
    }
    out
}
