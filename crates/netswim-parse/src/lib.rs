//! Parsers from device command output to typed domain facts, per platform,
//! and OS detection from `show version`.
//!
//! No input may panic a parser: this crate denies `unwrap`, `expect`,
//! indexing and explicit panics outside tests. Parsers follow the grammar of
//! each output (headers, tables, key/value lines) rather than matching
//! known examples, and skip lines they do not understand.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable
    )
)]

mod aireos;
mod asa_version;
mod boot;
mod command;
mod detect;
mod dir;
mod error;
mod file_systems;
mod gaia_version;
mod install;
mod inventory;
mod ios_version;
mod issu_state;
mod junos_version;
mod junose;
mod nxos_version;
mod switch;
pub mod text;
mod vrp;
mod xr_install_op;
mod xr_version;

use netswim_domain::Os;
use netswim_domain::facts::{
    ApBundles, ApImages, BootFacts, DirListing, FileSystems, FtpServerFacts, InstallFacts,
    InstallLog, InstallRequest, Inventory, IssuDetail, IssuState, PatchFacts, StackFacts,
    StartupFacts, VersionFacts,
};
use serde::Serialize;

pub use command::Command;
pub use detect::detect_os;
pub use error::ParseError;
pub use xr_install_op::{parse_xr_install_log, parse_xr_install_request};

/// Typed facts from one command's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Parsed {
    Version(VersionFacts),
    Dir(DirListing),
    Boot(BootFacts),
    Switch(StackFacts),
    FileSystems(FileSystems),
    Inventory(Inventory),
    Install(InstallFacts),
    InstallRequest(InstallRequest),
    InstallLog(InstallLog),
    Startup(StartupFacts),
    Patch(PatchFacts),
    ApImages(ApImages),
    ApBundles(ApBundles),
    IssuDetail(IssuDetail),
    IssuState(IssuState),
    FtpServer(FtpServerFacts),
}

/// Parses `output` of `command` as printed by a device running `os`.
///
/// `command` may be abbreviated as on the device (`sh ver`, `sh sw det`).
pub fn parse(os: Os, command: &str, output: &str) -> Result<Parsed, ParseError> {
    let parsed_command = Command::parse(command)?;
    parse_command(os, &parsed_command, output)
}

/// Parses `output` of an already recognised command.
pub fn parse_command(os: Os, command: &Command, output: &str) -> Result<Parsed, ParseError> {
    text::reject_device_error(output)?;
    let unsupported = || ParseError::UnsupportedCommand {
        os,
        command: command.to_string(),
    };
    let parsed = match (command, os) {
        (Command::ShowVersion, Os::Ios | Os::Iosxe | Os::Cheetah) => {
            Parsed::Version(ios_version::parse_show_version(output)?)
        }
        (Command::ShowVersion, Os::Asa) => {
            Parsed::Version(asa_version::parse_show_version(output)?)
        }
        (Command::ShowVersion, Os::Gaia) => {
            Parsed::Version(gaia_version::parse_show_version(output)?)
        }
        (Command::ShowVersion, Os::Iosxr) => {
            Parsed::Version(xr_version::parse_show_version(output)?)
        }
        (Command::ShowVersion, Os::Nxos) => {
            Parsed::Version(nxos_version::parse_show_version(output)?)
        }
        (Command::ShowVersion, Os::Junos) => {
            Parsed::Version(junos_version::parse_show_version(output)?)
        }
        (Command::DisplayVersion, Os::Vrp) => Parsed::Version(vrp::parse_display_version(output)?),
        (Command::DisplayStartup, Os::Vrp) => Parsed::Startup(vrp::parse_display_startup(output)?),
        (Command::DisplayPatchInformation, Os::Vrp) => {
            Parsed::Patch(vrp::parse_display_patch_information(output)?)
        }
        (Command::Dir { .. } | Command::FileList { .. }, _) => {
            Parsed::Dir(dir::parse_dir(os, output)?)
        }
        (Command::ShowFileSystems, Os::Ios | Os::Iosxe | Os::Iosxr | Os::Nxos) => {
            Parsed::FileSystems(file_systems::parse_show_file_systems(output)?)
        }
        (Command::ShowInventory, Os::Ios | Os::Iosxe | Os::Iosxr | Os::Nxos) => {
            Parsed::Inventory(inventory::parse_show_inventory(output)?)
        }
        (Command::ShowBoot | Command::ShowBootvar | Command::ShowBootSystem, Os::Aireos) => {
            Parsed::Boot(aireos::parse_show_boot(output)?)
        }
        (Command::ShowBoot | Command::ShowBootvar | Command::ShowBootSystem, _) => {
            Parsed::Boot(boot::parse_show_boot(os, output)?)
        }
        (Command::ShowSwitch { .. }, Os::Ios | Os::Iosxe) => {
            Parsed::Switch(switch::parse_show_switch(output)?)
        }
        (Command::ShowInstall { .. }, Os::Iosxe | Os::Iosxr | Os::Nxos) => {
            Parsed::Install(install::parse_show_install(os, output)?)
        }
        (Command::ShowInstallRequest, Os::Iosxr) => {
            Parsed::InstallRequest(parse_xr_install_request(output)?)
        }
        (Command::ShowInstallLog { .. }, Os::Iosxr) => {
            Parsed::InstallLog(parse_xr_install_log(output)?)
        }
        (Command::ShowApImage, Os::Aireos | Os::Iosxe) => {
            Parsed::ApImages(aireos::parse_show_ap_image(output)?)
        }
        (Command::ShowApBundle, Os::Aireos | Os::Iosxe) => {
            Parsed::ApBundles(aireos::parse_show_ap_bundle(output)?)
        }
        (Command::ShowVersion, Os::Junose) => Parsed::Version(junose::parse_show_version(output)?),
        (Command::ShowIssuDetail, Os::Junose) => {
            Parsed::IssuDetail(junose::parse_show_issu_detail(output)?)
        }
        (Command::ShowIssuStateDetail, Os::Ios | Os::Iosxe) => {
            Parsed::IssuState(issu_state::parse_show_issu_state_detail(output)?)
        }
        (Command::ShowFtpServer, Os::Junose) => {
            Parsed::FtpServer(junose::parse_show_ftp_server(output)?)
        }
        // `display version` on a non-VRP device and `show version` on VRP mean the same thing.
        (Command::DisplayVersion, _) => return parse_command(os, &Command::ShowVersion, output),
        (Command::ShowVersion, Os::Vrp) => Parsed::Version(vrp::parse_display_version(output)?),
        _ => return Err(unsupported()),
    };
    Ok(parsed)
}
