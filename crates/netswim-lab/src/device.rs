//! The virtual Cisco IOS switch or stack: members with their own flash, boot
//! path, running image, saved/unsaved configuration and the reload cycle.
//! Pure: the caller passes the clock in.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::files::{FileRecord, FileSystem, record_from_bytes};
use crate::image::{ImageHeader, ModelFacts};
use crate::platform::{PlatformState, xe_boot, xr_boot};

/// Whether the device answers, and since or until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerState {
    Up {
        since: Instant,
    },
    Reloading {
        until: Instant,
    },
    /// No valid image on the boot path: the boot loader prompt, unreachable.
    Rommon,
    /// Never came back from a reload (the `never_return` fault).
    Down,
}

/// Faults injected into one device at run time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Every login is refused.
    pub auth_failure: bool,
    /// Every image on flash fails to boot (the loader finds it damaged),
    /// whatever the boot path says; a `tftp://` entry of the boot path still
    /// loads over the network. Without one the device stops in rommon.
    pub boot_failure: bool,
    /// After a reload the device never answers again (down).
    pub never_return: bool,
    /// Transfers into flash flip one byte of what they receive.
    pub corrupt_transfers: bool,
    /// Transfers stop making progress after this many bytes.
    pub transfer_stall_after_bytes: Option<u64>,
    /// Transfers go no faster than this.
    pub bandwidth_bytes_per_sec: Option<u64>,
    /// Every CLI reply waits this long.
    pub slow_cli_ms: u64,
    /// Every member's flash is (nearly) full of an old backup archive,
    /// [`FULL_FLASH_FILE`], which `delete` can remove as on a real device.
    pub full_flash: bool,
}

/// The leftover archive the `full_flash` fault fills each flash with.
pub const FULL_FLASH_FILE: &str = "old-image-backup.tar";

/// Bytes the `full_flash` fault leaves free (a config file still fits).
pub const FULL_FLASH_FREE_BYTES: u64 = 4096;

/// Ground-truth name of a power state.
impl PowerState {
    pub fn name(&self) -> &'static str {
        match self {
            PowerState::Up { .. } => "up",
            PowerState::Reloading { .. } => "reloading",
            PowerState::Rommon => "rommon",
            PowerState::Down => "down",
        }
    }
}

/// The image a member booted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningImage {
    /// As `show version` prints it: `flash:c2960x-...bin`.
    pub path: String,
    pub version: String,
    pub feature: String,
    pub family: String,
}

/// Which members one `boot system` line applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BootScope {
    /// `boot system flash:x` (the master).
    Plain,
    /// `boot system switch all flash:x`.
    All,
    /// `boot system switch N flash:x`.
    Member(u32),
}

/// One `boot system` line of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BootLine {
    pub scope: BootScope,
    pub paths: Vec<String>,
}

impl BootLine {
    pub fn config_text(&self) -> String {
        let paths = self.paths.join(";");
        match self.scope {
            BootScope::Plain => format!("boot system {paths}"),
            BootScope::All => format!("boot system switch all {paths}"),
            BootScope::Member(number) => format!("boot system switch {number} {paths}"),
        }
    }
}

/// One stack member (a standalone switch is a stack of one).
#[derive(Debug, Clone)]
pub struct Member {
    pub number: u32,
    pub facts: ModelFacts,
    pub mac_address: String,
    pub serial: String,
    pub priority: u32,
    pub flash: FileSystem,
    /// The boot loader's BOOT variable (set at once by `boot system`).
    pub boot_path: Vec<String>,
    /// `None` while down or stuck in the boot loader.
    pub running: Option<RunningImage>,
}

/// Why an image on the boot path was not booted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootRefusal {
    Missing,
    NotAnImage,
    Corrupt,
    WrongPlatform { family: String },
}

/// Whether `file` is an image this member can boot.
fn bootable(member: &Member, file: &FileRecord) -> Result<ImageHeader, BootRefusal> {
    let header = file.bin_header().ok_or(BootRefusal::NotAnImage)?;
    file.valid_bin_header().ok_or(BootRefusal::Corrupt)?;
    if header.family != member.facts.family {
        return Err(BootRefusal::WrongPlatform {
            family: header.family,
        });
    }
    Ok(header)
}

/// Where a member's boot loader finds the image it boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootSource {
    /// A valid image on flash: `flash:x.bin` and its header.
    Flash(String, ImageHeader),
    /// A `tftp://host[:port]/path` entry reached before any bootable flash
    /// image: the image must be fetched over the network.
    Network(String),
    /// Nothing bootable: the boot loader prompt.
    Nothing,
}

/// Walks a member's boot path in order, as the boot loader does: the first
/// valid `.bin` on flash (none when `flash_fails`, the `boot_failure` fault)
/// or the first `tftp://` entry before it. An empty path boots the first
/// valid `.bin` anywhere on flash.
pub fn boot_source(member: &Member, flash_fails: bool) -> BootSource {
    if member.boot_path.is_empty() {
        if flash_fails {
            return BootSource::Nothing;
        }
        return member
            .flash
            .files
            .iter()
            .find_map(|file| {
                let header = bootable(member, file).ok()?;
                Some(BootSource::Flash(format!("flash:{}", file.path), header))
            })
            .unwrap_or(BootSource::Nothing);
    }
    member
        .boot_path
        .iter()
        .find_map(|entry| {
            if entry.starts_with("tftp://") {
                return Some(BootSource::Network(entry.clone()));
            }
            if flash_fails {
                return None;
            }
            let (_, path) = entry.split_once(':')?;
            let file = member.flash.file(path)?;
            let header = bootable(member, file).ok()?;
            Some(BootSource::Flash(
                format!("flash:{}", path.trim_start_matches('/')),
                header,
            ))
        })
        .unwrap_or(BootSource::Nothing)
}

/// Picks the image a member boots from flash: the first valid `.bin` on its
/// boot path, or with an empty path the first valid `.bin` anywhere on its
/// flash; `None` when the boot path reaches a network entry first.
pub fn choose_boot_image(member: &Member) -> Option<(String, ImageHeader)> {
    match boot_source(member, false) {
        BootSource::Flash(path, header) => Some((path, header)),
        BootSource::Network(_) | BootSource::Nothing => None,
    }
}

/// An image the boot loader fetched over TFTP: the boot entry it came from
/// and what arrived.
#[derive(Debug, Clone)]
pub struct NetworkImage {
    pub url: String,
    pub record: FileRecord,
}

/// The whole device: identity, credentials, configuration and members.
#[derive(Debug, Clone)]
pub struct Device {
    pub name: String,
    pub hostname: String,
    pub username: String,
    pub password: String,
    pub enable_secret: String,
    pub members: Vec<Member>,
    /// Number of the master (active) member.
    pub master: u32,
    pub boot_lines: Vec<BootLine>,
    pub saved_boot_lines: Vec<BootLine>,
    pub saved_hostname: String,
    /// `ip scp server enable` (running and saved).
    pub scp_server_enabled: bool,
    pub saved_scp_server_enabled: bool,
    pub config_saved: bool,
    pub power: PowerState,
    pub reload_count: u64,
    /// How long the device had been up before the lab started it; added to
    /// its uptime until its first reload (real devices report weeks, and
    /// tools tell a reload they sent from one they did not by the uptime).
    pub uptime_at_start: Duration,
    pub reload_delay: Duration,
    pub active_sessions: u32,
    /// When the device clock (1 March 1993 00:00) started.
    pub clock_started: Instant,
    pub faults: Faults,
    /// IOS, or IOS-XE/IOS-XR with their install state.
    pub platform: PlatformState,
}

/// What a device looks like when the lab builds it.
#[derive(Debug, Clone)]
pub struct DeviceSpec {
    pub name: String,
    pub facts: ModelFacts,
    pub members: u32,
    pub username: String,
    pub password: String,
    pub enable_secret: String,
    pub reload_delay: Duration,
    /// Initial image in flash root (booted at start), as a file record.
    pub image: FileRecord,
    /// Seed for serials and MAC addresses.
    pub identity_seed: u64,
}

impl Device {
    /// Builds a device already up on `spec.image`, saved configuration booting it.
    pub fn new(spec: &DeviceSpec, now: Instant) -> Self {
        Self::new_with_platform(spec, PlatformState::Ios, now)
    }

    /// Builds a device of any platform, already up on `spec.image`.
    pub fn new_with_platform(spec: &DeviceSpec, platform: PlatformState, now: Instant) -> Self {
        let member_count = spec.members.clamp(1, 9);
        let members = (1..=member_count)
            .map(|number| {
                let flash_name = if member_count == 1 {
                    "flash:".to_string()
                } else {
                    format!("flash{number}:")
                };
                let is_xr = matches!(platform, PlatformState::IosXr(_));
                let flash_name = if is_xr {
                    "harddisk:".to_string()
                } else {
                    flash_name
                };
                let mut flash = FileSystem::new(&flash_name, spec.facts.flash_bytes);
                let ios_files: &[(&str, usize)] = if is_xr {
                    &[]
                } else {
                    &[("multiple-fs", 1048usize), ("vlan.dat", 676)]
                };
                for (path, size) in ios_files {
                    flash.store(record_from_bytes(path, &vec![0x55; *size], 0));
                }
                flash.store(spec.image.clone());
                flash.store(record_from_bytes("config.text", &[b'!'; 1900], 60));
                flash.store(record_from_bytes("private-config.text", &[b'!'; 120], 60));
                let identity = spec
                    .identity_seed
                    .wrapping_mul(16)
                    .wrapping_add(u64::from(number));
                Member {
                    number,
                    facts: spec.facts,
                    mac_address: format!(
                        "{:04x}.{:04x}.{:04x}",
                        0x7c0e,
                        (identity >> 16) & 0xffff,
                        (identity << 7) & 0xff80
                    ),
                    serial: format!("FOC{:04}X{:03}", 1900 + identity % 100, identity % 1000),
                    priority: if number == 1 { 15 } else { 1 },
                    flash,
                    boot_path: Vec::new(),
                    running: None,
                }
            })
            .collect();
        let boot_lines = vec![BootLine {
            scope: if member_count == 1 {
                BootScope::Plain
            } else {
                BootScope::All
            },
            paths: vec![format!("flash:{}", spec.image.path)],
        }];
        let hostname = spec.name.clone();
        let mut device = Device {
            name: spec.name.clone(),
            hostname: hostname.clone(),
            username: spec.username.clone(),
            password: spec.password.clone(),
            enable_secret: spec.enable_secret.clone(),
            members,
            master: 1,
            boot_lines: boot_lines.clone(),
            saved_boot_lines: boot_lines,
            saved_hostname: hostname,
            scp_server_enabled: false,
            saved_scp_server_enabled: false,
            config_saved: true,
            power: PowerState::Reloading { until: now },
            reload_count: 0,
            uptime_at_start: Duration::ZERO,
            reload_delay: spec.reload_delay,
            active_sessions: 0,
            clock_started: now,
            faults: Faults::default(),
            platform,
        };
        device.apply_boot_lines();
        device.boot(now, None);
        device
    }

    pub fn is_stack(&self) -> bool {
        self.members.len() > 1
    }

    pub fn member(&self, number: u32) -> Option<&Member> {
        self.members.iter().find(|member| member.number == number)
    }

    pub fn member_mut(&mut self, number: u32) -> Option<&mut Member> {
        self.members
            .iter_mut()
            .find(|member| member.number == number)
    }

    pub fn master_member(&self) -> &Member {
        self.member(self.master)
            .or_else(|| self.members.first())
            .expect("a device always has at least one member")
    }

    /// Resolves a file system name: `flash:` is the master's, `flashN:` member N's.
    pub fn file_system_member(&self, name: &str) -> Option<u32> {
        let name = name.to_ascii_lowercase();
        // IOS-XE calls its flash `bootflash:` too; IOS-XR's disk is `harddisk:`.
        let alias = match self.platform {
            PlatformState::Ios => false,
            PlatformState::IosXe(_) => name == "bootflash:",
            PlatformState::IosXr(_) => name == "harddisk:",
        };
        if name == "flash:" || alias {
            return Some(self.master);
        }
        let number: u32 = name
            .strip_prefix("flash")?
            .strip_suffix(':')?
            .parse()
            .ok()?;
        self.member(number)?;
        Some(number)
    }

    pub fn file_system(&self, name: &str) -> Option<&FileSystem> {
        let number = self.file_system_member(name)?;
        Some(&self.member(number)?.flash)
    }

    pub fn file_system_mut(&mut self, name: &str) -> Option<&mut FileSystem> {
        let number = self.file_system_member(name)?;
        Some(&mut self.member_mut(number)?.flash)
    }

    /// Seconds on the device clock (for file times).
    pub fn clock_seconds(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.clock_started).as_secs()
    }

    /// Replaces the `boot system` line of one scope and sets the boot variable.
    pub fn set_boot(&mut self, scope: BootScope, paths: Vec<String>) {
        self.boot_lines.retain(|line| line.scope != scope);
        self.boot_lines.push(BootLine { scope, paths });
        self.config_saved = false;
        self.apply_boot_lines();
    }

    /// `no boot system`: clears every boot line and the boot variables.
    pub fn clear_boot(&mut self) {
        self.boot_lines.clear();
        self.config_saved = false;
        self.apply_boot_lines();
    }

    fn apply_boot_lines(&mut self) {
        let master = self.master;
        for member in &mut self.members {
            // The most specific line wins: member, then all, then plain (master only).
            let pick = |scope: BootScope| {
                self.boot_lines
                    .iter()
                    .find(|line| line.scope == scope)
                    .map(|line| line.paths.clone())
            };
            member.boot_path = pick(BootScope::Member(member.number))
                .or_else(|| pick(BootScope::All))
                .or_else(|| {
                    (member.number == master)
                        .then(|| pick(BootScope::Plain))
                        .flatten()
                })
                .unwrap_or_default();
        }
    }

    pub fn set_hostname(&mut self, hostname: &str) {
        self.hostname = hostname.to_string();
        self.config_saved = false;
    }

    /// `[no] ip scp server enable`.
    pub fn set_scp_server(&mut self, enabled: bool) {
        self.scp_server_enabled = enabled;
        self.config_saved = false;
    }

    /// `write memory`.
    pub fn save_config(&mut self) {
        self.saved_scp_server_enabled = self.scp_server_enabled;
        self.saved_boot_lines = self.boot_lines.clone();
        self.saved_hostname = self.hostname.clone();
        self.config_saved = true;
    }

    /// `reload`: everything goes down until `now + reload_delay`; the running
    /// configuration falls back to the saved one (the boot variable stays).
    pub fn reload(&mut self, now: Instant) {
        self.reload_count += 1;
        self.power = PowerState::Reloading {
            until: now + self.reload_delay,
        };
        for member in &mut self.members {
            member.running = None;
        }
        self.boot_lines = self.saved_boot_lines.clone();
        self.hostname = self.saved_hostname.clone();
        self.scp_server_enabled = self.saved_scp_server_enabled;
        self.config_saved = true;
        self.active_sessions = 0;
    }

    /// Advances the reload cycle; returns true when the device just came up.
    pub fn tick(&mut self, now: Instant) -> bool {
        self.tick_with(now, None)
    }

    /// [`Device::tick`] with the image the boot loader fetched for
    /// [`Device::network_boot_url`], if it got one.
    pub fn tick_with(&mut self, now: Instant, network: Option<&NetworkImage>) -> bool {
        match self.power {
            PowerState::Reloading { until } if now >= until => {
                self.boot(now, network);
                matches!(self.power, PowerState::Up { .. })
            }
            _ => false,
        }
    }

    /// The `tftp://` boot entry the master's boot loader will reach when the
    /// device boots now (IOS only): the caller fetches it before
    /// [`Device::tick_with`].
    pub fn network_boot_url(&self) -> Option<String> {
        if !matches!(self.platform, PlatformState::Ios) || self.faults.never_return {
            return None;
        }
        match boot_source(self.master_member(), self.faults.boot_failure) {
            BootSource::Network(url) => Some(url),
            BootSource::Flash(..) | BootSource::Nothing => None,
        }
    }

    fn boot(&mut self, now: Instant, network: Option<&NetworkImage>) {
        if self.faults.never_return {
            self.power = PowerState::Down;
            return;
        }
        let boot_failure = self.faults.boot_failure;
        for member in &mut self.members {
            let running = |path: String, header: ImageHeader| RunningImage {
                path,
                version: header.version,
                feature: header.feature,
                family: header.family,
            };
            member.running = match &mut self.platform {
                PlatformState::Ios => match boot_source(member, boot_failure) {
                    BootSource::Flash(path, header) => Some(running(path, header)),
                    BootSource::Network(url) => network
                        .filter(|image| image.url == url)
                        .and_then(|image| bootable(member, &image.record).ok())
                        .map(|header| running(url, header)),
                    BootSource::Nothing => None,
                },
                _ if boot_failure => None,
                PlatformState::IosXe(_) => xe_boot(member),
                PlatformState::IosXr(state) => xr_boot(state, member),
            };
        }
        self.power = if self.master_member().running.is_some() {
            PowerState::Up { since: now }
        } else {
            PowerState::Rommon
        };
    }

    /// `reload slot N`: member `number` goes down alone (the stack stays up);
    /// [`Device::boot_member`] brings it back after the reload delay.
    pub fn reload_member(&mut self, number: u32) -> bool {
        match self.member_mut(number) {
            Some(member) => {
                member.running = None;
                true
            }
            None => false,
        }
    }

    /// Boots one member from its own boot path (the end of `reload slot N`).
    pub fn boot_member(&mut self, number: u32) {
        if !matches!(self.power, PowerState::Up { .. }) || self.faults.boot_failure {
            return;
        }
        if let Some(member) = self.member_mut(number) {
            member.running = choose_boot_image(member).map(|(path, header)| RunningImage {
                path,
                version: header.version,
                feature: header.feature,
                family: header.family,
            });
        }
    }

    /// The master's running image (what the device runs).
    pub fn running(&self) -> Option<&RunningImage> {
        self.master_member().running.as_ref()
    }

    /// Sets the injected faults; turning `full_flash` on fills every flash
    /// with [`FULL_FLASH_FILE`], turning it off removes that file again.
    pub fn set_faults(&mut self, faults: Faults) {
        // Dated at the clock's epoch: an archive left from long ago.
        let modified = 0;
        for member in &mut self.members {
            let flash = &mut member.flash;
            match (faults.full_flash, flash.file(FULL_FLASH_FILE).is_some()) {
                (true, false) => {
                    let size = flash.free().saturating_sub(FULL_FLASH_FREE_BYTES);
                    flash.store(FileRecord {
                        path: FULL_FLASH_FILE.to_string(),
                        size,
                        ..record_from_bytes(FULL_FLASH_FILE, &[], modified)
                    });
                }
                (false, true) => {
                    flash.remove(FULL_FLASH_FILE);
                }
                _ => {}
            }
        }
        self.faults = faults;
    }

    /// A member's stack state as `show switch` prints it.
    pub fn member_state(&self, member: &Member) -> &'static str {
        match (&member.running, self.running()) {
            (None, _) => "Removed",
            (Some(mine), Some(master)) if mine.version != master.version => "Version Mismatch",
            _ => "Ready",
        }
    }

    pub fn uptime(&self, now: Instant) -> Option<Duration> {
        match self.power {
            PowerState::Up { since } => {
                let up = now.saturating_duration_since(since);
                Some(if self.reload_count == 0 {
                    up + self.uptime_at_start
                } else {
                    up
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{ImageSpec, make_bin, model_facts};

    const MODEL: &str = "WS-C2960X-48FPD-L";

    fn image(version: &str, model: &str) -> (String, Vec<u8>) {
        let spec = ImageSpec {
            model: model.into(),
            version: version.into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size: 16 * 1024,
        };
        let name = crate::image::image_file_name(&spec, crate::image::ImageFormat::Bin).unwrap();
        (name, make_bin(&spec).unwrap())
    }

    fn device(members: u32, now: Instant) -> Device {
        let (name, bytes) = image("15.2(2)E7", MODEL);
        Device::new(
            &DeviceSpec {
                name: "sw1".into(),
                facts: model_facts(MODEL).unwrap(),
                members,
                username: "admin".into(),
                password: "pw".into(),
                enable_secret: "en".into(),
                reload_delay: Duration::from_secs(5),
                image: record_from_bytes(&name, &bytes, 0),
                identity_seed: 1,
            },
            now,
        )
    }

    fn put(device: &mut Device, fs: &str, name: &str, bytes: &[u8]) {
        assert!(
            device
                .file_system_mut(fs)
                .unwrap()
                .store(record_from_bytes(name, bytes, 0))
        );
    }

    fn reload_and_wait(device: &mut Device, now: Instant) -> Instant {
        device.reload(now);
        assert!(
            !device.tick(now + Duration::from_secs(1)),
            "still reloading"
        );
        let later = now + Duration::from_secs(6);
        device.tick(later);
        later
    }

    #[test]
    fn new_device_runs_its_initial_image() {
        let now = Instant::now();
        let device = device(1, now);
        assert_eq!(device.power, PowerState::Up { since: now });
        assert_eq!(device.running().unwrap().version, "15.2(2)E7");
        assert_eq!(
            device.running().unwrap().path,
            "flash:c2960x-universalk9-mz.152-2.E7.bin"
        );
    }

    #[test]
    fn reload_boots_the_first_valid_image_on_the_boot_path() {
        let now = Instant::now();
        let mut device = device(1, now);
        let (name, bytes) = image("15.2(7)E8", MODEL);
        put(&mut device, "flash:", &name, &bytes);
        device.set_boot(
            BootScope::Plain,
            vec!["flash:missing.bin".into(), format!("flash:{name}")],
        );
        device.save_config();
        reload_and_wait(&mut device, now);
        assert_eq!(device.running().unwrap().version, "15.2(7)E8");
        assert_eq!(device.reload_count, 1);
    }

    #[test]
    fn corrupt_image_is_not_booted_and_the_next_entry_is() {
        let now = Instant::now();
        let mut device = device(1, now);
        let (name, mut bytes) = image("15.2(7)E8", MODEL);
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        put(&mut device, "flash:", &name, &bytes);
        let old = device.running().unwrap().path.clone();
        device.set_boot(BootScope::Plain, vec![format!("flash:{name}"), old]);
        reload_and_wait(&mut device, now);
        assert_eq!(device.running().unwrap().version, "15.2(2)E7");
    }

    #[test]
    fn truncated_or_foreign_images_leave_the_device_in_rommon() {
        let check = |bytes: Vec<u8>| {
            let now = Instant::now();
            let mut device = device(1, now);
            put(&mut device, "flash:", "new.bin", &bytes);
            device.set_boot(BootScope::Plain, vec!["flash:new.bin".into()]);
            reload_and_wait(&mut device, now);
            assert_eq!(device.power, PowerState::Rommon);
            assert!(device.running().is_none());
        };
        let (_, bytes) = image("15.2(7)E8", MODEL);
        check(bytes[..bytes.len() - 100].to_vec());
        check(image("15.2(7)E8", "WS-C3750X-24P").1);
        check(vec![0; 4096]);
    }

    #[test]
    fn empty_boot_path_boots_the_first_valid_image_in_flash() {
        let now = Instant::now();
        let mut device = device(1, now);
        device.clear_boot();
        reload_and_wait(&mut device, now);
        assert_eq!(device.running().unwrap().version, "15.2(2)E7");
    }

    #[test]
    fn unsaved_boot_line_is_lost_but_boot_variable_is_kept() {
        let now = Instant::now();
        let mut device = device(1, now);
        let (name, bytes) = image("15.2(7)E8", MODEL);
        put(&mut device, "flash:", &name, &bytes);
        device.set_boot(BootScope::Plain, vec![format!("flash:{name}")]);
        assert!(!device.config_saved);
        reload_and_wait(&mut device, now);
        assert_eq!(device.running().unwrap().version, "15.2(7)E8");
        assert_eq!(device.boot_lines, device.saved_boot_lines);
        assert!(device.config_saved);
    }

    #[test]
    fn stack_member_with_other_version_is_version_mismatch() {
        let now = Instant::now();
        let mut device = device(3, now);
        let (name, bytes) = image("15.2(7)E8", MODEL);
        put(&mut device, "flash2:", &name, &bytes);
        device.set_boot(BootScope::Member(2), vec![format!("flash:{name}")]);
        reload_and_wait(&mut device, now);
        let states: Vec<_> = device
            .members
            .iter()
            .map(|member| device.member_state(member))
            .collect();
        assert_eq!(states, ["Ready", "Version Mismatch", "Ready"]);
    }

    #[test]
    fn boot_switch_all_upgrades_every_member() {
        let now = Instant::now();
        let mut device = device(2, now);
        let (name, bytes) = image("15.2(7)E8", MODEL);
        put(&mut device, "flash1:", &name, &bytes);
        put(&mut device, "flash2:", &name, &bytes);
        device.set_boot(BootScope::All, vec![format!("flash:{name}")]);
        device.save_config();
        reload_and_wait(&mut device, now);
        for member in &device.members {
            assert_eq!(member.running.as_ref().unwrap().version, "15.2(7)E8");
            assert_eq!(device.member_state(member), "Ready");
        }
    }

    #[test]
    fn boot_failure_and_never_return_faults_override_the_boot_path() {
        let now = Instant::now();
        let mut device = device(1, now);
        device.faults.boot_failure = true;
        reload_and_wait(&mut device, now);
        assert_eq!(device.power, PowerState::Rommon);
        device.faults = Faults {
            never_return: true,
            ..Faults::default()
        };
        reload_and_wait(&mut device, now);
        assert_eq!(device.power, PowerState::Down);
        device.faults = Faults::default();
        reload_and_wait(&mut device, now);
        assert!(matches!(device.power, PowerState::Up { .. }));
        assert_eq!(device.reload_count, 3);
    }

    #[test]
    fn boot_failure_falls_through_flash_entries_to_the_tftp_fallback() {
        let now = Instant::now();
        let mut device = device(1, now);
        let (new_name, new_bytes) = image("15.2(7)E9", MODEL);
        put(&mut device, "flash:", &new_name, &new_bytes);
        let old = device.running().expect("runs").path.clone();
        let url = "tftp://127.0.0.1:6969/fallback/old.bin".to_string();
        device.set_boot(
            BootScope::Plain,
            vec![format!("flash:{new_name}"), old.clone(), url.clone()],
        );
        device.save_config();
        // Without the fault the new image on flash boots; no network boot.
        assert_eq!(device.network_boot_url(), None);
        let later = reload_and_wait(&mut device, now);
        assert_eq!(device.running().expect("up").version, "15.2(7)E9");

        // Flash images fail: the loader reaches the tftp entry.
        device.faults.boot_failure = true;
        assert_eq!(device.network_boot_url(), Some(url.clone()));
        let (_, old_bytes) = image("15.2(2)E7", MODEL);
        let fetched = NetworkImage {
            url: url.clone(),
            record: record_from_bytes("fallback/old.bin", &old_bytes, 0),
        };
        device.reload(later);
        assert!(device.tick_with(later + Duration::from_secs(6), Some(&fetched)));
        let running = device.running().expect("up from tftp");
        assert_eq!(
            (running.path.as_str(), running.version.as_str()),
            (url.as_str(), "15.2(2)E7")
        );

        // Nothing arrived (server down) or a damaged image: rommon.
        for network in [
            None,
            Some(NetworkImage {
                url: url.clone(),
                record: record_from_bytes("fallback/old.bin", &old_bytes[..old_bytes.len() / 2], 0),
            }),
        ] {
            device.reload(later);
            device.tick_with(later + Duration::from_secs(6), network.as_ref());
            assert_eq!(device.power, PowerState::Rommon);
        }
    }

    #[test]
    fn full_flash_fault_fills_every_member_and_clearing_it_frees_them() {
        let now = Instant::now();
        let mut device = device(2, now);
        let before: Vec<u64> = device.members.iter().map(|m| m.flash.free()).collect();
        device.set_faults(Faults {
            full_flash: true,
            ..Faults::default()
        });
        for member in &device.members {
            assert_eq!(member.flash.free(), FULL_FLASH_FREE_BYTES);
            assert!(member.flash.file(FULL_FLASH_FILE).is_some());
        }
        device.set_faults(Faults::default());
        let after: Vec<u64> = device.members.iter().map(|m| m.flash.free()).collect();
        assert_eq!(before, after);
    }

    #[test]
    fn flash_names_resolve_to_members() {
        let now = Instant::now();
        let stack = device(2, now);
        assert_eq!(stack.file_system_member("flash:"), Some(1));
        assert_eq!(stack.file_system_member("flash2:"), Some(2));
        assert_eq!(stack.file_system_member("flash3:"), None);
        assert_eq!(stack.file_system("flash2:").unwrap().name, "flash2:");
    }

    #[test]
    fn copying_an_image_reduces_free_space_by_its_size() {
        let now = Instant::now();
        let mut device = device(1, now);
        let before = device.file_system("flash:").unwrap().free();
        let (name, bytes) = image("15.2(7)E8", MODEL);
        put(&mut device, "flash:", &name, &bytes);
        assert_eq!(
            before - device.file_system("flash:").unwrap().free(),
            bytes.len() as u64
        );
    }
}
