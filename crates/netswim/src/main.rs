//! The `netswim` binary: argument handling and printing only. Every decision
//! lives in the library crates.

mod client;
mod demo;
mod output;
mod serve;
mod upgrade;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Parser, Subcommand};
use netswim_domain::Os;
use netswim_domain::version::Version;
use serde_json::json;

/// Software image management and upgrade orchestration for network devices.
#[derive(Debug, Parser)]
#[command(name = "netswim", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse captured device command output into typed facts.
    Parse(ParseArgs),
    /// Work with vendor software versions.
    #[command(subcommand)]
    Version(VersionCommand),
    /// Decode and inspect image files.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Run the demonstration: server with the web UI, a 60-device lab, images and inventory.
    Demo(demo::DemoArgs),
    /// Run the device lab: virtual Cisco switches with real SSH CLIs, flash and reloads.
    #[command(subcommand)]
    Lab(netswim_lab::cli::LabCommand),
    /// Serve files devices pull (TFTP, HTTP, HTTPS, FTP, SFTP, SCP) from one directory.
    Fileserver(Box<netswim_transfer::cli::FileserverArgs>),
    /// Run a relay: a file server whose root is also its SFTP/SCP upload area, so an
    /// image pushed once is served to the devices near it (same options as fileserver).
    Relay(Box<netswim_transfer::cli::FileserverArgs>),
    /// Run the server: REST API, jobs, image repository (`--data DIR`).
    Serve(serve::ServeArgs),
    /// Log in to a server; the token is saved in your config folder.
    Login(client::LoginArgs),
    /// Device inventory on the server.
    #[command(subcommand)]
    Device(client::DeviceCommand),
    /// Jobs on the server.
    #[command(subcommand)]
    Job(client::JobCommand),
    /// Upgrade readiness of devices for an image (RAM, flash, method, direction).
    Analyze(upgrade::AnalyzeArgs),
    /// Copy an image onto devices (optionally activating it) as a job.
    Distribute(Box<upgrade::DistributeArgs>),
    /// Boot devices into an image already on them, or what a distribution job delivered.
    Activate(Box<upgrade::ActivateArgs>),
    /// Commit the active IOS-XR software on devices.
    Commit(upgrade::CommitArgs),
    /// Roll devices back: IOS-XR to the last commit, IOS/IOS-XE to the previous image.
    Rollback(upgrade::RollbackArgs),
}

#[derive(Debug, Args)]
struct ParseArgs {
    /// The device OS (ios, iosxe, iosxr, nxos, vrp, junos, aireos, junose, ...) or `auto`
    /// to detect it from `show version` output.
    #[arg(long, default_value = "auto")]
    platform: String,
    /// The command that produced the output; abbreviations work (`sh ver`).
    #[arg(long)]
    command: String,
    /// File holding the output; `-` or nothing reads standard input.
    file: Option<PathBuf>,
    /// Print `{"os", "command", "data"}` as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum VersionCommand {
    /// Compare two versions of one OS: less, equal, greater or incomparable.
    Compare {
        /// The OS whose version scheme applies.
        #[arg(long)]
        os: String,
        a: String,
        b: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Decode an image file name into platform, feature set, format, version and type.
    ParseName {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Inspect an image file: name facts, archive facts, checksums, requirements.
    Inspect {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    #[command(flatten)]
    Remote(client::RemoteImageCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Parse(args) => parse(args),
        Command::Version(VersionCommand::Compare { os, a, b, json }) => {
            compare_versions(&os, &a, &b, json)
        }
        Command::Image(ImageCommand::ParseName { name, json }) => parse_image_name(&name, json),
        Command::Image(ImageCommand::Inspect { file, json }) => inspect_image(&file, json),
        Command::Lab(command) => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(netswim_lab::cli::run(command))
            .map_err(Into::into),
        Command::Fileserver(args) => Ok(tokio::runtime::Runtime::new()
            .context("cannot start the async runtime")?
            .block_on(netswim_transfer::cli::run(*args))?),
        Command::Relay(args) => Ok(tokio::runtime::Runtime::new()
            .context("cannot start the async runtime")?
            .block_on(netswim_transfer::cli::run_relay(*args))?),
        Command::Image(ImageCommand::Remote(command)) => block_on(client::image(command)),
        Command::Serve(args) => block_on(serve::run(args)),
        Command::Login(args) => block_on(client::login(args)),
        Command::Device(command) => block_on(client::device(command)),
        Command::Job(command) => block_on(client::job(command)),
        Command::Analyze(args) => block_on(upgrade::analyze(args)),
        Command::Distribute(args) => block_on(upgrade::distribute(*args)),
        Command::Activate(args) => block_on(upgrade::activate(*args)),
        Command::Commit(args) => block_on(upgrade::commit(args)),
        Command::Rollback(args) => block_on(upgrade::rollback(args)),
        Command::Demo(args) => block_on(demo::run(args)),
    }
}

fn block_on<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

fn parse_os(name: &str) -> Result<Os> {
    name.parse::<Os>().map_err(|error| anyhow!("{error}"))
}

fn read_input(file: Option<&PathBuf>) -> Result<String> {
    let mut bytes = Vec::new();
    match file {
        Some(path) if path.as_os_str() != "-" => {
            File::open(path)
                .with_context(|| format!("cannot open {} (hint: check the path)", path.display()))?
                .read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read standard input")?;
        }
    }
    // Captures from terminals are not always clean UTF-8; parse what is there.
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn parse(args: ParseArgs) -> Result<()> {
    let command = netswim_parse::Command::parse(&args.command)?;
    let output = read_input(args.file.as_ref())?;
    let os = if args.platform.eq_ignore_ascii_case("auto") {
        netswim_parse::detect_os(&output).ok_or(netswim_parse::ParseError::UndetectedOs)?
    } else {
        parse_os(&args.platform)?
    };
    let parsed = netswim_parse::parse_command(os, &command, &output)?;
    let envelope = json!({
        "os": os.as_str(),
        "command": command.to_string(),
        "data": parsed,
    });
    output::print(&envelope, args.json)
}

fn compare_versions(os: &str, a: &str, b: &str, json: bool) -> Result<()> {
    let os = parse_os(os)?;
    let left = Version::parse(os, a)?;
    let right = Version::parse(os, b)?;
    let result = left.compare(&right);
    // Same as `netswim_domain::version::compare_versions`, but the parsed
    // versions are printed in their canonical form below.
    if json {
        output::print(&json!({ "result": result.as_str() }), true)
    } else {
        let symbol = match result {
            netswim_domain::version::VersionOrdering::Less => "<",
            netswim_domain::version::VersionOrdering::Equal => "==",
            netswim_domain::version::VersionOrdering::Greater => ">",
            netswim_domain::version::VersionOrdering::Incomparable => "<>",
        };
        println!("{left} {symbol} {right} ({})", result.as_str());
        Ok(())
    }
}

fn parse_image_name(name: &str, json: bool) -> Result<()> {
    let decoded = netswim_domain::image::parse_image_name(name)?;
    output::print(&serde_json::to_value(decoded)?, json)
}

fn inspect_image(path: &PathBuf, json: bool) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| {
            anyhow!(
                "{} is not a file (hint: give an image file)",
                path.display()
            )
        })?;
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .with_context(|| format!("cannot open {} (hint: check the path)", path.display()))
    };
    let name = netswim_domain::image::parse_image_name(&file_name).ok();
    let checksums = netswim_domain::checksum::checksums(open()?)?;
    let looks_like_tar = name
        .as_ref()
        .is_some_and(|name| name.format == netswim_domain::image::ImageFormat::Tar)
        || file_name.ends_with(".tar");
    let (archive, archive_error) = if looks_like_tar {
        match netswim_domain::archive::inspect_ios_tar_named(&file_name, open()?) {
            Ok(archive) => (Some(archive), None),
            Err(error) => (None, Some(error.to_string())),
        }
    } else {
        (None, None)
    };
    let requirements =
        netswim_domain::image::describe_image(&file_name, checksums.size_bytes, archive.clone());
    let report = json!({
        "file": path.display().to_string(),
        "name": name,
        "checksums": checksums,
        "archive": archive,
        "archive_summary": archive.as_ref().map(|archive| archive.device_summary_text()),
        "archive_error": archive_error,
        "requirements": {
            "min_ram_bytes": requirements.min_ram_bytes,
            "min_flash_bytes": requirements.min_flash_bytes,
            "supported_platforms": requirements.supported_platforms,
        },
    });
    if json {
        return output::print(&report, true);
    }
    // People want the gist: leave the member list and raw info lines to --json,
    // and show the archive as the device would describe it.
    let mut brief = report;
    if let Some(archive) = brief.get_mut("archive").and_then(|a| a.as_object_mut()) {
        archive.remove("members");
        archive.remove("info_fields");
    }
    let summary = brief
        .as_object_mut()
        .and_then(|fields| fields.remove("archive_summary"));
    output::print(&brief, false)?;
    if let Some(text) = summary.as_ref().and_then(|s| s.as_str()) {
        output::print_text(&format!("\n{text}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_command_and_option_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
