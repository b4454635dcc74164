//! The `Driver` trait, the facts a driver collects, and one driver per
//! platform (ios incl. stacks, iosxe, iosxr); platform detection from
//! `show version` when a device's OS is not known yet.
//!
//! Drivers run commands through the [`Cli`] trait, so the same code runs over
//! a live [`crate::Session`] and over a [`Transcript`] of recorded output.

use std::collections::BTreeMap;
use std::future::Future;

use netswim_domain::Os;
use netswim_domain::facts::{
    BootFacts, DeviceFacts, DirListing, FileSystemSpace, FileSystems, InstallFacts, InstallMode,
    InstallPackage, Inventory, StackFacts, StackMemberVersion, SwitchMember, VersionFacts,
};
use netswim_parse::Parsed;
use serde::{Deserialize, Serialize};

use crate::{DriverError, Session};

/// Runs one CLI command and returns its output.
pub trait Cli: Send {
    fn run(&mut self, command: &str) -> impl Future<Output = Result<String, DriverError>> + Send;
}

impl Cli for Session {
    fn run(&mut self, command: &str) -> impl Future<Output = Result<String, DriverError>> + Send {
        Session::run(self, command)
    }
}

/// Recorded command output played back as a device would: an unknown
/// command is rejected with the device's `% Invalid input` words.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    outputs: BTreeMap<String, String>,
    /// Every command asked for, in order.
    pub commands: Vec<String>,
}

impl Transcript {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the output of `command`.
    pub fn with(mut self, command: &str, output: &str) -> Self {
        self.outputs.insert(command.to_string(), output.to_string());
        self
    }
}

impl Cli for Transcript {
    fn run(&mut self, command: &str) -> impl Future<Output = Result<String, DriverError>> + Send {
        self.commands.push(command.to_string());
        let result =
            self.outputs
                .get(command)
                .cloned()
                .ok_or_else(|| DriverError::CommandRejected {
                    host: "transcript".into(),
                    command: command.to_string(),
                    message: "% Invalid input detected at '^' marker.".into(),
                });
        std::future::ready(result)
    }
}

/// Everything a sync learns about one device; its serde form is what the
/// store keeps as a fact snapshot (field names are stable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectedFacts {
    pub os: Option<Os>,
    pub hostname: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub version: Option<String>,
    pub running_image: Option<String>,
    /// The (master's) boot variable entries in order.
    pub boot_path: Vec<String>,
    pub ram_bytes: Option<u64>,
    pub uptime_seconds: Option<u64>,
    pub config_register: Option<String>,
    /// Every writable storage file system, per stack member.
    pub file_systems: Vec<FileSystemSpace>,
    /// Stack members and their states (`show switch detail`); empty when standalone.
    pub stack_members: Vec<SwitchMember>,
    /// Per-member model, version and image (`show version`'s switch table).
    pub member_versions: Vec<StackMemberVersion>,
    pub install_mode: Option<InstallMode>,
    /// Installed packages (IOS-XE install mode, IOS-XR).
    pub packages: Vec<InstallPackage>,
}

impl CollectedFacts {
    /// The consolidated view analysis consumes.
    pub fn device_facts(&self, name: &str) -> Option<DeviceFacts> {
        Some(DeviceFacts {
            name: name.to_string(),
            os: self.os?,
            model: self.model.clone(),
            version: self.version.clone(),
            running_image: self.running_image.clone(),
            boot_path: self.boot_path.clone(),
            ram_bytes: self.ram_bytes,
            filesystems: self.file_systems.clone(),
            stack_members: self.stack_members.clone(),
            install_mode: self.install_mode,
            feature_set: None,
            ap_platform_code: None,
        })
    }

    /// The file system `name` (`flash2:`).
    pub fn file_system(&self, name: &str) -> Option<&FileSystemSpace> {
        self.file_systems.iter().find(|fs| fs.name == name)
    }
}

/// A platform's way of collecting facts.
pub trait Driver: Send + Sync {
    /// The OS this driver speaks to.
    fn os(&self) -> Os;

    /// Runs the platform's commands and assembles the facts.
    fn collect_facts<C: Cli>(
        &self,
        cli: &mut C,
    ) -> impl Future<Output = Result<CollectedFacts, DriverError>> + Send;
}

/// Classic IOS, stacks included.
#[derive(Debug, Clone, Copy, Default)]
pub struct IosDriver;

/// IOS-XE, bundle and install mode.
#[derive(Debug, Clone, Copy, Default)]
pub struct IosXeDriver;

/// IOS-XR.
#[derive(Debug, Clone, Copy, Default)]
pub struct IosXrDriver;

impl Driver for IosDriver {
    fn os(&self) -> Os {
        Os::Ios
    }

    async fn collect_facts<C: Cli>(&self, cli: &mut C) -> Result<CollectedFacts, DriverError> {
        collect_catalyst(Os::Ios, cli).await
    }
}

impl Driver for IosXeDriver {
    fn os(&self) -> Os {
        Os::Iosxe
    }

    async fn collect_facts<C: Cli>(&self, cli: &mut C) -> Result<CollectedFacts, DriverError> {
        let mut facts = collect_catalyst(Os::Iosxe, cli).await?;
        let install = match optional(cli.run("show install summary").await)? {
            Some(output) => Some(parse_install(Os::Iosxe, "show install summary", &output)?),
            None => None,
        };
        if let Some(install) = install {
            facts.packages = install.packages;
        }
        facts.install_mode = xe_install_mode(&facts);
        Ok(facts)
    }
}

impl Driver for IosXrDriver {
    fn os(&self) -> Os {
        Os::Iosxr
    }

    async fn collect_facts<C: Cli>(&self, cli: &mut C) -> Result<CollectedFacts, DriverError> {
        let version = parse_version(Os::Iosxr, &cli.run("show version").await?)?;
        let mut facts = from_version(Os::Iosxr, version);
        // 64-bit XR's `show version` names only the family (`cisco ASR9K ()
        // processor`) and no serial: the chassis (`Rack 0`, listed first)
        // in `show inventory` gives both.
        if let Some(output) = optional(cli.run("show inventory").await)? {
            let inventory = parse_inventory(&output)?;
            if let Some(chassis) = inventory.items.first() {
                if chassis.pid.is_some() {
                    facts.model.clone_from(&chassis.pid);
                }
                if chassis.serial.is_some() {
                    facts.serial.clone_from(&chassis.serial);
                }
            }
        }
        let output = cli.run("show install active summary").await?;
        facts.packages = parse_install(Os::Iosxr, "show install active summary", &output)?.packages;
        facts.install_mode = Some(InstallMode::Install);
        // XR names its storage by role; older releases have disk0:, newer harddisk:.
        for name in ["disk0:", "harddisk:"] {
            if let Some(output) = optional(cli.run(&format!("dir {name}")).await)? {
                let listing = parse_dir(Os::Iosxr, name, &output)?;
                facts.file_systems.push(FileSystemSpace {
                    name: name.to_string(),
                    member: None,
                    total_bytes: listing.total_bytes.unwrap_or(0),
                    free_bytes: listing.free_bytes.unwrap_or(0),
                    listing: Some(listing),
                });
            }
        }
        Ok(facts)
    }
}

/// The driver for `os`, or `Unsupported`.
pub async fn collect_facts_for<C: Cli>(os: Os, cli: &mut C) -> Result<CollectedFacts, DriverError> {
    match os {
        Os::Ios => IosDriver.collect_facts(cli).await,
        Os::Iosxe => IosXeDriver.collect_facts(cli).await,
        Os::Iosxr => IosXrDriver.collect_facts(cli).await,
        other => Err(DriverError::Unsupported {
            what: format!("OS {}", other.as_str()),
        }),
    }
}

/// Collects facts from a device whose OS may be unknown: detects it from
/// `show version` first (reusing that output for the driver).
pub async fn detect_and_collect<C: Cli>(
    os: Option<Os>,
    cli: &mut C,
) -> Result<CollectedFacts, DriverError> {
    if let Some(os) = os {
        return collect_facts_for(os, cli).await;
    }
    let version = cli.run("show version").await?;
    let os = netswim_parse::detect_os(&version).ok_or_else(|| DriverError::Unsupported {
        what: "a device whose `show version` names no known OS".into(),
    })?;
    let mut cached = Cached {
        inner: cli,
        command: "show version",
        output: Some(version),
    };
    collect_facts_for(os, &mut cached).await
}

/// A CLI that answers one command from a cached output once.
struct Cached<'a, C> {
    inner: &'a mut C,
    command: &'static str,
    output: Option<String>,
}

impl<C: Cli> Cli for Cached<'_, C> {
    async fn run(&mut self, command: &str) -> Result<String, DriverError> {
        if command == self.command
            && let Some(output) = self.output.take()
        {
            return Ok(output);
        }
        self.inner.run(command).await
    }
}

/// Facts IOS and IOS-XE Catalysts share: version, stack, file systems, boot.
async fn collect_catalyst<C: Cli>(os: Os, cli: &mut C) -> Result<CollectedFacts, DriverError> {
    let version = parse_version(os, &cli.run("show version").await?)?;
    let mut facts = from_version(os, version);
    if let Some(output) = optional(cli.run("show switch detail").await)? {
        facts.stack_members = parse_switch(&output)?.members;
    }
    let file_systems = match optional(cli.run("show file systems").await)? {
        Some(output) => Some(parse_file_systems(&output)?),
        None => None,
    };
    let stacked = facts.stack_members.len() > 1;
    facts.file_systems = storage(file_systems.as_ref(), stacked);
    if facts.file_systems.is_empty() {
        // No `show file systems` (old images): `dir` states totals too.
        facts.file_systems.push(FileSystemSpace {
            name: "flash:".into(),
            ..FileSystemSpace::default()
        });
    }
    for fs in &mut facts.file_systems {
        let command = format!("dir {}", fs.name);
        // `dir` may need `enable`; with totals from `show file systems`
        // the listing is a bonus, without them the only source.
        let output = if fs.total_bytes > 0 {
            match optional(cli.run(&command).await)? {
                Some(output) => output,
                None => continue,
            }
        } else {
            cli.run(&command).await?
        };
        let listing = parse_dir(os, &fs.name, &output)?;
        if fs.total_bytes == 0 {
            fs.total_bytes = listing.total_bytes.unwrap_or(0);
            fs.free_bytes = listing.free_bytes.unwrap_or(0);
        }
        fs.listing = Some(listing);
    }
    let boot_output = match optional(cli.run("show boot").await)? {
        Some(output) => output,
        None => cli.run("show bootvar").await?,
    };
    facts.boot_path = master_boot_path(&parse_boot(os, &boot_output)?, &facts);
    Ok(facts)
}

fn from_version(os: Os, version: VersionFacts) -> CollectedFacts {
    // IOS-XE states its release twice: `Cisco IOS XE Software, Version
    // 17.09.04a` and the IOS banner's `Version 17.9.4a`. The first is how
    // images are named (`cat9k_iosxe.17.09.04a.SPA.bin`) and what an
    // upgrade targets, so it is the device's version.
    let xe_version = match os {
        Os::Iosxe => version
            .details
            .get("xe_version")
            .and_then(|detail| detail.as_text())
            .map(str::to_string),
        _ => None,
    };
    CollectedFacts {
        os: Some(os),
        hostname: version.hostname,
        model: version.model,
        serial: version.serial,
        version: xe_version.or(version.version),
        running_image: version.running_image,
        ram_bytes: version.ram_bytes,
        uptime_seconds: version.uptime_seconds,
        config_register: version.config_register,
        member_versions: version.stack,
        ..CollectedFacts::default()
    }
}

/// A rejected command is an absent feature, not a failure.
fn optional(result: Result<String, DriverError>) -> Result<Option<String>, DriverError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(DriverError::CommandRejected { .. }) => Ok(None),
        Err(error) => Err(error),
    }
}

fn parse_error(command: &str, error: netswim_parse::ParseError) -> DriverError {
    DriverError::Parse {
        command: command.to_string(),
        reason: error.to_string(),
    }
}

fn unexpected(command: &str) -> DriverError {
    DriverError::Parse {
        command: command.to_string(),
        reason: "the parser returned facts of another kind".into(),
    }
}

fn parse_version(os: Os, output: &str) -> Result<VersionFacts, DriverError> {
    match netswim_parse::parse(os, "show version", output) {
        Ok(Parsed::Version(facts)) => Ok(facts),
        Ok(_) => Err(unexpected("show version")),
        Err(error) => Err(parse_error("show version", error)),
    }
}

fn parse_inventory(output: &str) -> Result<Inventory, DriverError> {
    match netswim_parse::parse(Os::Iosxr, "show inventory", output) {
        Ok(Parsed::Inventory(inventory)) => Ok(inventory),
        Ok(_) => Err(unexpected("show inventory")),
        Err(error) => Err(parse_error("show inventory", error)),
    }
}

fn parse_switch(output: &str) -> Result<StackFacts, DriverError> {
    match netswim_parse::parse(Os::Ios, "show switch detail", output) {
        Ok(Parsed::Switch(facts)) => Ok(facts),
        Ok(_) => Err(unexpected("show switch detail")),
        Err(error) => Err(parse_error("show switch detail", error)),
    }
}

fn parse_file_systems(output: &str) -> Result<FileSystems, DriverError> {
    match netswim_parse::parse(Os::Ios, "show file systems", output) {
        Ok(Parsed::FileSystems(facts)) => Ok(facts),
        Ok(_) => Err(unexpected("show file systems")),
        Err(error) => Err(parse_error("show file systems", error)),
    }
}

fn parse_dir(os: Os, name: &str, output: &str) -> Result<DirListing, DriverError> {
    let command = format!("dir {name}");
    match netswim_parse::parse(os, &command, output) {
        Ok(Parsed::Dir(listing)) => Ok(listing),
        Ok(_) => Err(unexpected(&command)),
        Err(error) => Err(parse_error(&command, error)),
    }
}

fn parse_boot(os: Os, output: &str) -> Result<BootFacts, DriverError> {
    match netswim_parse::parse(os, "show boot", output) {
        Ok(Parsed::Boot(facts)) => Ok(facts),
        Ok(_) => Err(unexpected("show boot")),
        Err(error) => Err(parse_error("show boot", error)),
    }
}

fn parse_install(os: Os, command: &str, output: &str) -> Result<InstallFacts, DriverError> {
    match netswim_parse::parse(os, command, output) {
        Ok(Parsed::Install(facts)) => Ok(facts),
        Ok(_) => Err(unexpected(command)),
        Err(error) => Err(parse_error(command, error)),
    }
}

/// Writable storage from `show file systems`: `flash`/`disk` types with a
/// size, named by the per-member prefix when a stack lists one
/// (`flash:flash1:` → `flash1:`), with the member number it belongs to.
fn storage(file_systems: Option<&FileSystems>, stacked: bool) -> Vec<FileSystemSpace> {
    let Some(file_systems) = file_systems else {
        return Vec::new();
    };
    file_systems
        .filesystems
        .iter()
        .filter(|fs| matches!(fs.fs_type.as_deref(), Some("flash" | "disk")))
        .filter(|fs| fs.total_bytes.is_some_and(|total| total > 0))
        .filter_map(|fs| {
            // A stack's master lists `flash:flash1:`: one alias per colon.
            let names: Vec<String> = fs
                .prefixes
                .iter()
                .flat_map(|prefix| prefix.split_inclusive(':'))
                .map(str::to_string)
                .collect();
            // A Catalyst 9300 lists `bootflash: flash:`; `flash:` is the
            // name its `show version` image path and `dir` use, so the
            // Catalyst name wins over the first alias.
            let name = names
                .iter()
                .find(|prefix| member_of(prefix).is_some())
                .or_else(|| names.iter().find(|prefix| prefix.as_str() == "flash:"))
                .or_else(|| names.first())?
                .clone();
            if name.starts_with("crashinfo") {
                return None;
            }
            let member = if stacked { member_of(&name) } else { None };
            Some(FileSystemSpace {
                member,
                total_bytes: fs.total_bytes.unwrap_or(0),
                free_bytes: fs.free_bytes.unwrap_or(0),
                listing: None,
                name,
            })
        })
        .collect()
}

/// `flash2:` / `flash-2:` / `bootflash-3:` → the member number.
fn member_of(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(':')?;
    let digits_at = stem.rfind(|c: char| !c.is_ascii_digit())? + 1;
    let (base, digits) = stem.split_at(digits_at);
    let base = base.strip_suffix('-').unwrap_or(base);
    (!digits.is_empty() && base.ends_with("flash"))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The boot variable of the master (or the only) switch.
fn master_boot_path(boot: &BootFacts, facts: &CollectedFacts) -> Vec<String> {
    let master = facts
        .stack_members
        .iter()
        .find(|member| {
            member.role.as_deref().is_some_and(|role| {
                role.eq_ignore_ascii_case("master") || role.eq_ignore_ascii_case("active")
            })
        })
        .map(|member| member.member);
    boot.entries
        .iter()
        .find(|entry| master.is_some() && entry.member == master)
        .or_else(|| boot.entries.first())
        .map(|entry| entry.boot_path.clone())
        .unwrap_or_default()
}

/// IOS-XE boots a bundle `.bin` or `packages.conf` (install mode); the
/// switch table of `show version` says so per member when present.
fn xe_install_mode(facts: &CollectedFacts) -> Option<InstallMode> {
    let stated = facts
        .member_versions
        .iter()
        .find_map(|member| match member.details.get("mode") {
            Some(netswim_domain::facts::Detail::Text(mode)) => Some(mode.to_ascii_uppercase()),
            _ => None,
        });
    match stated.as_deref() {
        Some("INSTALL") => return Some(InstallMode::Install),
        Some("BUNDLE") => return Some(InstallMode::Bundle),
        _ => {}
    }
    let image = facts.running_image.as_deref()?;
    if image.ends_with("packages.conf") {
        Some(InstallMode::Install)
    } else if image.ends_with(".bin") {
        Some(InstallMode::Bundle)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_numbers_come_from_file_system_names() {
        let cases = [
            ("flash:", None),
            ("flash1:", Some(1)),
            ("flash12:", Some(12)),
            ("flash-3:", Some(3)),
            ("bootflash:", None),
            ("crashinfo-2:", None),
            ("nvram:", None),
        ];
        for (name, expected) in cases {
            assert_eq!(member_of(name), expected, "{name}");
        }
    }

    #[test]
    fn a_catalyst_9300s_bootflash_alias_is_stored_as_flash() {
        let output = "File Systems:\n\n\
       Size(b)       Free(b)      Type  Flags  Prefixes\n\
            -             -    opaque     rw   system:\n\
*  11353194496    8246091776      disk     rw   bootflash: flash:\n\
    1651314688    1634201600      disk     rw   crashinfo:\n\
       2097152       2077566     nvram     rw   nvram:\n";
        let parsed = parse_file_systems(output).unwrap();
        let names: Vec<(String, u64)> = storage(Some(&parsed), false)
            .into_iter()
            .map(|fs| (fs.name, fs.free_bytes))
            .collect();
        assert_eq!(names, vec![("flash:".to_string(), 8_246_091_776)]);
    }
}
