//! A fleet of virtual devices in one process: building them from a device mix,
//! the inventory CSV, and the HTTP+JSON control endpoint with each device's
//! ground truth.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::device::{Device, DeviceSpec, Faults, PowerState};
use crate::error::LabError;
use crate::files::{FileRecord, record_from_bytes};
use crate::image::{ImageFormat, ImageSpec, image_file_name, make_bin, model_facts};
use crate::platform::{
    PlatformImageSpec, PlatformState, XeState, XrPackage, XrState, make_platform_image,
    platform_image_file_name, xe_xr_model, xr_release_name,
};
use crate::server::{DeviceHandle, HostKeys, run_device};

/// One kind of device in a `--mix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    /// A standalone Catalyst 2960X.
    Ios,
    /// A stack of 2 to 4 members (2960X or 3750X).
    IosStack,
    /// A Catalyst 9300 on IOS-XE (bundle mode at start).
    IosXe,
    /// An ASR 9006 on IOS-XR.
    IosXr,
}

/// The IOS-XE release lab devices run at start.
pub const XE_START_VERSION: &str = "17.09.04a";
/// The IOS-XR release lab devices run at start.
pub const XR_START_VERSION: &str = "6.5.3";

/// A mix entry: kind, count, and whether the device speaks only legacy SSH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MixEntry {
    pub kind: DeviceKind,
    pub count: usize,
    pub legacy_ssh: bool,
}

/// Parses `ios-stack:5,ios:15,ios+legacy:2`.
pub fn parse_mix(text: &str) -> Result<Vec<MixEntry>, LabError> {
    let bad = || LabError::BadMix {
        text: text.to_string(),
    };
    text.split(',')
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (kind, count) = part.trim().split_once(':').ok_or_else(bad)?;
            let (kind, legacy_ssh) = match kind.strip_suffix("+legacy") {
                Some(kind) => (kind, true),
                None => (kind, false),
            };
            let kind = match kind {
                "ios" => DeviceKind::Ios,
                "ios-stack" => DeviceKind::IosStack,
                "iosxe" => DeviceKind::IosXe,
                "iosxr" => DeviceKind::IosXr,
                _ => return Err(bad()),
            };
            Ok(MixEntry {
                kind,
                count: count.parse().map_err(|_| bad())?,
                legacy_ssh,
            })
        })
        .collect()
}

/// Everything needed to start a lab.
#[derive(Debug, Clone)]
pub struct LabOptions {
    pub devices: usize,
    pub mix: Vec<MixEntry>,
    pub address_base: Ipv4Addr,
    /// 0 picks an ephemeral port per device (tests).
    pub ssh_port: u16,
    pub username: String,
    pub password: String,
    pub enable_secret: String,
    pub reload_delay: Duration,
    pub seed: u64,
    pub image_version: String,
    pub image_size: u64,
    /// Flash capacity of every member instead of the model's real one.
    pub flash_size: Option<u64>,
}

/// What one lab device is, for the inventory and the control endpoint.
#[derive(Debug, Clone)]
pub struct LabDevice {
    pub name: String,
    pub handle: Arc<DeviceHandle>,
    pub site: String,
    pub role: String,
    pub peer: String,
}

/// A running lab.
#[derive(Debug)]
pub struct Lab {
    pub devices: Vec<LabDevice>,
    tasks: JoinSet<()>,
}

/// Adds `offset` to an IPv4 address.
pub fn address_at(base: Ipv4Addr, offset: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(offset as u32))
}

impl Lab {
    /// Builds and starts every device; returns once each listens.
    pub async fn start(options: &LabOptions) -> Result<Self, LabError> {
        let kinds = expand_mix(options);
        let legacy_wanted = kinds.iter().any(|(_, legacy)| *legacy);
        let keys = HostKeys::generate(legacy_wanted)?;
        let modern_config = keys.server_config(false);
        let legacy_config = legacy_wanted.then(|| keys.server_config(true));
        let mut images: HashMap<&'static str, FileRecord> = HashMap::new();
        let now = Instant::now();
        let mut devices = Vec::new();
        let mut tasks = JoinSet::new();
        for (index, (kind, legacy)) in kinds.into_iter().enumerate() {
            let identity = options
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(index as u64);
            let (model, members, role) = match kind {
                DeviceKind::Ios => ("WS-C2960X-48FPD-L", 1, "access"),
                DeviceKind::IosXe => ("C9300-48P", 1, "access"),
                DeviceKind::IosXr => ("ASR-9006", 1, "core"),
                DeviceKind::IosStack => {
                    let model = if identity % 2 == 0 {
                        "WS-C2960X-48FPD-L"
                    } else {
                        "WS-C3750X-24P"
                    };
                    (model, 2 + (identity / 2 % 3) as u32, "distribution")
                }
            };
            let mut facts = match xe_xr_model(model) {
                Some(facts) => facts,
                None => model_facts(model)?,
            };
            if let Some(flash_size) = options.flash_size {
                facts.flash_bytes = flash_size;
            }
            let platform_name = match kind {
                DeviceKind::IosXe => "iosxe",
                DeviceKind::IosXr => "iosxr",
                _ => "ios",
            };
            let image = match images.get(model) {
                Some(image) => image.clone(),
                None => {
                    let version = match kind {
                        DeviceKind::IosXe => XE_START_VERSION,
                        DeviceKind::IosXr => XR_START_VERSION,
                        _ => options.image_version.as_str(),
                    };
                    let record =
                        start_image(platform_name, facts.model, version, options.image_size)?;
                    images.insert(facts.model, record.clone());
                    record
                }
            };
            let name = match kind {
                DeviceKind::IosXr => format!("lab-rtr-{:03}", index + 1),
                _ => format!("lab-sw-{:03}", index + 1),
            };
            let platform = start_platform_state(platform_name, &image)?;
            let device = Device::new_with_platform(
                &DeviceSpec {
                    name: name.clone(),
                    facts,
                    members,
                    username: options.username.clone(),
                    password: options.password.clone(),
                    enable_secret: options.enable_secret.clone(),
                    reload_delay: options.reload_delay,
                    image,
                    identity_seed: identity,
                },
                platform,
                now,
            );
            let address = IpAddr::V4(address_at(options.address_base, index));
            let handle = DeviceHandle::new(device, address, options.ssh_port, legacy);
            let config = match (&legacy_config, legacy) {
                (Some(config), true) => config.clone(),
                _ => modern_config.clone(),
            };
            tasks.spawn(run_device(handle.clone(), config));
            // Port 0 is only known once bound; wait for that.
            if options.ssh_port == 0 {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), handle.wait_listening(1)).await;
            }
            devices.push(LabDevice {
                name,
                handle,
                site: format!("site-{}", index / 10 + 1),
                role: role.to_string(),
                peer: String::new(),
            });
        }
        Ok(Self { devices, tasks })
    }

    /// Builds and starts the devices of a lab file's plan, in order, from
    /// `options.address_base`; returns once each listens.
    pub async fn start_plan(
        plan: &[crate::labfile::PlannedDevice],
        options: &LabOptions,
    ) -> Result<Self, LabError> {
        let legacy_wanted = plan.iter().any(|device| device.legacy_ssh);
        let keys = HostKeys::generate(legacy_wanted)?;
        let modern_config = keys.server_config(false);
        let legacy_config = legacy_wanted.then(|| keys.server_config(true));
        // One image record per model, version and size, shared by devices.
        let mut images: HashMap<(String, String, u64), FileRecord> = HashMap::new();
        let now = Instant::now();
        let mut devices = Vec::new();
        let mut tasks = JoinSet::new();
        for (index, planned) in plan.iter().enumerate() {
            let mut facts = match planned.platform.as_str() {
                "ios" => model_facts(&planned.model)?,
                _ => xe_xr_model(&planned.model).ok_or_else(|| LabError::UnknownModel {
                    model: planned.model.clone(),
                })?,
            };
            if let Some(flash_size) = planned.flash_size {
                facts.flash_bytes = flash_size;
            }
            let key = (
                facts.model.to_string(),
                planned.image_version.clone(),
                planned.image_size,
            );
            let image = match images.get(&key) {
                Some(image) => image.clone(),
                None => {
                    let record = start_image(
                        &planned.platform,
                        facts.model,
                        &planned.image_version,
                        planned.image_size,
                    )?;
                    images.insert(key, record.clone());
                    record
                }
            };
            let platform = start_platform_state(&planned.platform, &image)?;
            let mut device = Device::new_with_platform(
                &DeviceSpec {
                    name: planned.name.clone(),
                    facts,
                    members: planned.members,
                    username: options.username.clone(),
                    password: options.password.clone(),
                    enable_secret: options.enable_secret.clone(),
                    reload_delay: options.reload_delay,
                    image,
                    identity_seed: options
                        .seed
                        .wrapping_mul(1_000_003)
                        .wrapping_add(index as u64),
                },
                platform,
                now,
            );
            device.set_faults(planned.faults.clone());
            let address = IpAddr::V4(address_at(options.address_base, index));
            let handle = DeviceHandle::new(device, address, options.ssh_port, planned.legacy_ssh);
            let config = match (&legacy_config, planned.legacy_ssh) {
                (Some(config), true) => config.clone(),
                _ => modern_config.clone(),
            };
            tasks.spawn(run_device(handle.clone(), config));
            if options.ssh_port == 0 {
                let _ =
                    tokio::time::timeout(Duration::from_secs(5), handle.wait_listening(1)).await;
            }
            devices.push(LabDevice {
                name: planned.name.clone(),
                handle,
                site: planned.site.clone(),
                role: planned.role.clone(),
                peer: planned.peer.clone(),
            });
        }
        Ok(Self { devices, tasks })
    }

    /// Adds the faults `rates` pick (by device index and `seed`) to each device.
    pub fn apply_fault_rates(&self, seed: u64, rates: &[crate::fault_rates::FaultRate]) {
        for (index, device) in self.devices.iter().enumerate() {
            let current = device.handle.lock().faults.clone();
            let faults = crate::fault_rates::faults_for(seed, index, rates, &current);
            device.handle.set_faults(faults);
        }
    }

    pub fn device(&self, name: &str) -> Option<&LabDevice> {
        self.devices.iter().find(|device| device.name == name)
    }

    /// The inventory CSV: name,host,port,platform,username,password,site,role,peer,
    /// enable_secret (the lab's `--enable-secret`, empty when none).
    pub fn inventory_csv(&self) -> String {
        let mut out = String::from(
            "name,host,port,platform,username,password,site,role,peer,enable_secret\n",
        );
        for device in &self.devices {
            let address = device.handle.ssh_address();
            let (username, password, enable_secret, platform) = {
                let model = device.handle.lock();
                (
                    model.username.clone(),
                    model.password.clone(),
                    model.enable_secret.clone(),
                    model.platform.name(),
                )
            };
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                device.name,
                address.ip(),
                address.port(),
                platform,
                username,
                password,
                device.site,
                device.role,
                device.peer,
                enable_secret
            ));
        }
        out
    }

    /// Ground truth of every device.
    pub fn status(&self) -> Vec<DeviceStatus> {
        self.devices.iter().map(device_status).collect()
    }

    /// Stops every device.
    pub fn shutdown(&mut self) {
        self.tasks.abort_all();
    }
}

/// The image a device of `platform` (`ios`, `iosxe`, `iosxr`) boots at start:
/// an IOS `.bin`, an XE `.SPA.bin` bundle or an XR `.iso`, in flash root.
fn start_image(
    platform: &str,
    model: &str,
    version: &str,
    size: u64,
) -> Result<FileRecord, LabError> {
    if platform == "ios" {
        let spec = ImageSpec {
            model: model.to_string(),
            version: version.to_string(),
            feature: "universalk9".into(),
            min_dram_mb: 256,
            size,
        };
        let name = image_file_name(&spec, ImageFormat::Bin)?;
        return Ok(record_from_bytes(&name, &make_bin(&spec)?, 0));
    }
    let spec = PlatformImageSpec {
        model: model.to_string(),
        version: version.to_string(),
        size,
    };
    let name = platform_image_file_name(&spec)?;
    Ok(record_from_bytes(&name, &make_platform_image(&spec)?, 0))
}

/// The install state a device starts with: XR has its start image's release
/// added, active and committed; XE starts booted from the bundle.
fn start_platform_state(platform: &str, image: &FileRecord) -> Result<PlatformState, LabError> {
    Ok(match platform {
        "iosxe" => PlatformState::IosXe(XeState::default()),
        "iosxr" => {
            let header = image.bin_header().ok_or_else(|| LabError::BadVersion {
                version: image.path.clone(),
            })?;
            let release = xr_release_name(&header);
            PlatformState::IosXr(XrState {
                packages: vec![XrPackage {
                    add_id: 0,
                    name: release.clone(),
                    version: header.version,
                    file: image.path.clone(),
                }],
                active: release.clone(),
                committed: release,
                ..XrState::default()
            })
        }
        _ => PlatformState::Ios,
    })
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

fn expand_mix(options: &LabOptions) -> Vec<(DeviceKind, bool)> {
    let mut kinds: Vec<(DeviceKind, bool)> = options
        .mix
        .iter()
        .flat_map(|entry| std::iter::repeat_n((entry.kind, entry.legacy_ssh), entry.count))
        .collect();
    if kinds.is_empty() {
        kinds.push((DeviceKind::Ios, false));
    }
    // `--devices` wins: cycle or cut the mix to that many.
    let mix = kinds.clone();
    kinds = (0..options.devices.max(1))
        .map(|index| mix[index % mix.len()])
        .collect();
    kinds
}

/// One file as the control endpoint reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStatus {
    pub path: String,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
}

/// One file system as the control endpoint reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSystemStatus {
    pub name: String,
    pub capacity: u64,
    pub free: u64,
    pub files: Vec<FileStatus>,
}

/// One stack member's ground truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberStatus {
    pub number: u32,
    pub model: String,
    /// The member's serial number, as `show version` prints it.
    #[serde(default)]
    pub serial: String,
    /// `Ready`, `Version Mismatch` or `Removed` (did not boot).
    pub state: String,
    pub running_version: Option<String>,
    pub running_image: Option<String>,
    pub boot_path: Vec<String>,
}

/// One device's ground truth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub platform: String,
    pub model: String,
    /// The master's serial number: the device's serial in `show version`.
    #[serde(default)]
    pub serial: String,
    /// `up`, `reloading` or `rommon`.
    pub state: String,
    pub running_version: Option<String>,
    pub running_image: Option<String>,
    /// The master's BOOT variable, `;`-separated as `show boot` prints it;
    /// empty on IOS-XR, which has none.
    pub boot_variable: String,
    pub config_saved: bool,
    pub reload_count: u64,
    pub active_sessions: u32,
    pub legacy_ssh: bool,
    /// Faults injected at run time.
    pub faults: Faults,
    pub members: Vec<MemberStatus>,
    pub file_systems: Vec<FileSystemStatus>,
    /// IOS-XE: `install` (booted from packages.conf) or `bundle`.
    #[serde(default)]
    pub install_mode: Option<String>,
    /// IOS-XR: the active release (`asr9k-xr-6.5.3`).
    #[serde(default)]
    pub xr_active_packages: Vec<String>,
    /// IOS-XR: the committed release, what a reload falls back to.
    #[serde(default)]
    pub xr_committed_packages: Vec<String>,
    /// IOS-XR: added but not active.
    #[serde(default)]
    pub xr_inactive_packages: Vec<String>,
}

fn device_status(lab_device: &LabDevice) -> DeviceStatus {
    let address = lab_device.handle.ssh_address();
    let device = lab_device.handle.lock();
    let running = device.running().cloned();
    DeviceStatus {
        name: lab_device.name.clone(),
        host: address.ip().to_string(),
        port: address.port(),
        platform: device.platform.name().into(),
        model: device.master_member().facts.model.to_string(),
        serial: device.master_member().serial.clone(),
        state: match device.power {
            // Past its deadline but not yet ticked: still reloading.
            PowerState::Reloading { .. } => "reloading",
            other => other.name(),
        }
        .to_string(),
        running_version: running.as_ref().map(|image| image.version.clone()),
        running_image: running.as_ref().map(|image| image.path.clone()),
        // IOS-XR has no BOOT variable: it boots its committed install set.
        boot_variable: match &device.platform {
            PlatformState::IosXr(_) => String::new(),
            _ => device.master_member().boot_path.join(";"),
        },
        config_saved: device.config_saved,
        reload_count: device.reload_count,
        active_sessions: device.active_sessions,
        legacy_ssh: lab_device.handle.legacy_ssh,
        faults: device.faults.clone(),
        members: device
            .members
            .iter()
            .map(|member| MemberStatus {
                number: member.number,
                model: member.facts.model.to_string(),
                serial: member.serial.clone(),
                state: device.member_state(member).to_string(),
                running_version: member.running.as_ref().map(|image| image.version.clone()),
                running_image: member.running.as_ref().map(|image| image.path.clone()),
                boot_path: member.boot_path.clone(),
            })
            .collect(),
        file_systems: {
            let mut file_systems: Vec<FileSystemStatus> = device
                .members
                .iter()
                .map(|member| FileSystemStatus {
                    name: member.flash.name.clone(),
                    capacity: member.flash.capacity,
                    free: member.flash.free(),
                    files: member
                        .flash
                        .files
                        .iter()
                        .map(|file| FileStatus {
                            path: file.path.clone(),
                            size: file.size,
                            md5: file.md5.clone(),
                            sha256: file.sha256.clone(),
                        })
                        .collect(),
                })
                .collect();
            // XR routers also show an empty `disk0:` (see `xr_cli::dir`).
            if matches!(device.platform, PlatformState::IosXr(_))
                && !file_systems.iter().any(|fs| fs.name == "disk0:")
            {
                file_systems.push(FileSystemStatus {
                    name: "disk0:".into(),
                    capacity: crate::xr_cli::XR_DISK0_BYTES,
                    free: crate::xr_cli::XR_DISK0_BYTES,
                    files: Vec::new(),
                });
            }
            file_systems
        },
        install_mode: match &device.platform {
            PlatformState::IosXe(_) => running.as_ref().map(|image| {
                if image.path.ends_with(".conf") {
                    "install".to_string()
                } else {
                    "bundle".to_string()
                }
            }),
            _ => None,
        },
        xr_active_packages: match &device.platform {
            PlatformState::IosXr(state) if running.is_some() => vec![state.active.clone()],
            _ => Vec::new(),
        },
        xr_committed_packages: match &device.platform {
            PlatformState::IosXr(state) => vec![state.committed.clone()],
            _ => Vec::new(),
        },
        xr_inactive_packages: match &device.platform {
            PlatformState::IosXr(state) => state
                .packages
                .iter()
                .filter(|package| package.name != state.active)
                .map(|package| package.name.clone())
                .collect(),
            _ => Vec::new(),
        },
    }
}

/// The control endpoint's routes over a shared lab.
pub fn control_router(lab: Arc<Lab>) -> axum::Router {
    async fn list(State(lab): State<Arc<Lab>>) -> Json<Vec<DeviceStatus>> {
        Json(lab.status())
    }
    async fn one(
        State(lab): State<Arc<Lab>>,
        Path(name): Path<String>,
    ) -> Result<Json<DeviceStatus>, (StatusCode, String)> {
        lab.device(&name)
            .map(|device| Json(device_status(device)))
            .ok_or((
                StatusCode::NOT_FOUND,
                format!("no lab device named {name}\n"),
            ))
    }
    async fn set_faults(
        State(lab): State<Arc<Lab>>,
        Path(name): Path<String>,
        Json(faults): Json<Faults>,
    ) -> Result<Json<DeviceStatus>, (StatusCode, String)> {
        let device = lab.device(&name).ok_or((
            StatusCode::NOT_FOUND,
            format!("no lab device named {name}\n"),
        ))?;
        device.handle.set_faults(faults);
        Ok(Json(device_status(device)))
    }
    async fn reload(
        State(lab): State<Arc<Lab>>,
        Path(name): Path<String>,
    ) -> Result<Json<DeviceStatus>, (StatusCode, String)> {
        let device = lab.device(&name).ok_or((
            StatusCode::NOT_FOUND,
            format!("no lab device named {name}\n"),
        ))?;
        device.handle.reload();
        Ok(Json(device_status(device)))
    }
    axum::Router::new()
        .route("/devices", get(list))
        .route("/devices/{name}", get(one))
        .route("/devices/{name}/faults", axum::routing::put(set_faults))
        .route("/devices/{name}/reload", axum::routing::post(reload))
        .with_state(lab)
}

/// Serves the control endpoint on `address` until the task is dropped;
/// returns the bound address.
pub async fn serve_control(
    lab: Arc<Lab>,
    address: SocketAddr,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), LabError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| LabError::Network {
            what: format!("control endpoint {address}"),
            source,
        })?;
    let bound = listener.local_addr().map_err(|source| LabError::Network {
        what: format!("control endpoint {address}"),
        source,
    })?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, control_router(lab)).await;
    });
    Ok((bound, task))
}

/// Fetches `path` from a control endpoint with a minimal HTTP/1.1 GET.
pub async fn control_get(address: SocketAddr, path: &str) -> Result<String, LabError> {
    control_request(address, "GET", path, None).await
}

/// Sends one request to a control endpoint (JSON body when given); returns
/// the response body of a 200 answer.
pub async fn control_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    json_body: Option<&str>,
) -> Result<String, LabError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let network = |source| LabError::Network {
        what: format!("control endpoint {address}"),
        source,
    };
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(network)?;
    let body = json_body.unwrap_or("");
    let content_type = if json_body.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{content_type}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(network)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(network)?;
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    if status != 200 {
        return Err(LabError::Control { status, body });
    }
    Ok(body)
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size_line, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size_line.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_kinds_counts_and_legacy_flag() {
        assert_eq!(
            parse_mix("ios-stack:5,ios:15,ios+legacy:2").unwrap(),
            [
                MixEntry {
                    kind: DeviceKind::IosStack,
                    count: 5,
                    legacy_ssh: false
                },
                MixEntry {
                    kind: DeviceKind::Ios,
                    count: 15,
                    legacy_ssh: false
                },
                MixEntry {
                    kind: DeviceKind::Ios,
                    count: 2,
                    legacy_ssh: true
                },
            ]
        );
        assert_eq!(
            parse_mix("iosxe:2,iosxr+legacy:1").unwrap(),
            [
                MixEntry {
                    kind: DeviceKind::IosXe,
                    count: 2,
                    legacy_ssh: false
                },
                MixEntry {
                    kind: DeviceKind::IosXr,
                    count: 1,
                    legacy_ssh: true
                },
            ]
        );
        assert!(parse_mix("junos:3").is_err());
        assert!(parse_mix("ios").is_err());
    }

    #[test]
    fn addresses_count_up_from_the_base() {
        let base: Ipv4Addr = "127.10.0.1".parse().unwrap();
        assert_eq!(address_at(base, 0).to_string(), "127.10.0.1");
        assert_eq!(address_at(base, 255).to_string(), "127.10.1.0");
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), "abcde");
    }
}
