//! What a Cisco IOS switch prints for each `show`/`dir` command, column for
//! column (formats from real 2960X/3750X output).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::device::{Device, Member};
use crate::files::{FileSystem, format_timestamp};

/// `25 weeks, 5 days, 15 hours, 45 minutes` (IOS omits leading zero units).
pub fn format_uptime(uptime: Duration) -> String {
    let minutes_total = uptime.as_secs() / 60;
    let units = [
        (minutes_total / (60 * 24 * 365), "year"),
        (minutes_total / (60 * 24 * 7) % 52, "week"),
        (minutes_total / (60 * 24) % 7, "day"),
        (minutes_total / 60 % 24, "hour"),
        (minutes_total % 60, "minute"),
    ];
    let first = units
        .iter()
        .position(|(count, _)| *count > 0)
        .unwrap_or(units.len() - 1);
    units[first..]
        .iter()
        .map(|(count, unit)| format!("{count} {unit}{}", if *count == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn software_line(device: &Device) -> String {
    let master = device.master_member();
    let family = master.facts.family_upper;
    let (version, feature) = device
        .running()
        .map(|running| {
            (
                running.version.clone(),
                running.feature.to_ascii_uppercase(),
            )
        })
        .unwrap_or_default();
    format!(
        "Cisco IOS Software, {family} Software ({family}-{feature}-M), Version {version}, RELEASE SOFTWARE (fc1)"
    )
}

/// `show version`.
pub fn show_version(device: &Device, now: Instant) -> String {
    let master = device.master_member();
    let facts = master.facts;
    let family = facts.family_upper;
    let uptime = format_uptime(device.uptime(now).unwrap_or_default());
    let image_path = device
        .running()
        .map(|running| running.path.clone())
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(out, "{}", software_line(device));
    out.push_str("Technical Support: http://www.cisco.com/techsupport\n");
    out.push_str("Copyright (c) 1986-2020 by Cisco Systems, Inc.\n");
    out.push_str("Compiled Mon 23-Nov-20 10:33 by prod_rel_team\n\n");
    let _ = writeln!(out, "ROM: Bootstrap program is {family} boot loader");
    let _ = writeln!(
        out,
        "BOOTLDR: {family} Boot Loader ({family}-HBOOT-M) Version 15.2(3r)E1, RELEASE SOFTWARE (fc1)\n"
    );
    let _ = writeln!(out, "{} uptime is {uptime}", device.hostname);
    out.push_str("System returned to ROM by power-on\n");
    out.push_str("System restarted at 00:00:00 UTC Mon Mar 1 1993\n");
    let _ = writeln!(out, "System image file is \"{image_path}\"");
    out.push_str("Last reload reason: Reload command\n\n\n\n");
    out.push_str(CRYPTO_NOTICE);
    out.push('\n');
    let _ = writeln!(
        out,
        "cisco {} ({}) processor (revision F0) with {}K bytes of memory.",
        facts.model, facts.cpu, facts.dram_kib
    );
    let _ = writeln!(out, "Processor board ID {}", master.serial);
    out.push_str("Last reset from power-on\n");
    out.push_str("1 Virtual Ethernet interface\n1 FastEthernet interface\n");
    let gigabit: u32 = device
        .members
        .iter()
        .map(|member| member.facts.ports - 4)
        .sum();
    let _ = writeln!(out, "{gigabit} Gigabit Ethernet interfaces");
    let _ = writeln!(
        out,
        "{} Ten Gigabit Ethernet interfaces",
        2 * device.members.len()
    );
    out.push_str("The password-recovery mechanism is enabled.\n\n");
    out.push_str("512K bytes of flash-simulated non-volatile configuration memory.\n");
    member_facts(&mut out, master, true);
    out.push_str("\n\n");
    out.push_str(
        "Switch Ports Model                     SW Version            SW Image                 \n",
    );
    out.push_str(
        "------ ----- -----                     ----------            ----------               \n",
    );
    for member in device
        .members
        .iter()
        .filter(|member| member.running.is_some())
    {
        let running = member.running.as_ref().map(|running| {
            (
                running.version.clone(),
                format!(
                    "{}-{}-M",
                    running.family.to_ascii_uppercase(),
                    running.feature.to_ascii_uppercase()
                ),
            )
        });
        let (version, image) = running.unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {:>4} {:<5} {:<25} {:<21} {:<25}",
            if member.number == device.master {
                "*"
            } else {
                " "
            },
            member.number,
            member.facts.ports,
            member.facts.model,
            version,
            image
        );
    }
    for member in device
        .members
        .iter()
        .filter(|member| member.number != device.master && member.running.is_some())
    {
        out.push_str("\n\n");
        let _ = writeln!(out, "Switch {:02}", member.number);
        out.push_str("---------\n");
        let _ = writeln!(out, "Switch Uptime                   : {uptime} ");
        member_facts(&mut out, member, false);
    }
    out.push('\n');
    out.push_str("Configuration register is 0xF\n\n");
    out
}

const CRYPTO_NOTICE: &str = "This product contains cryptographic features and is subject to United
States and local country laws governing import, export, transfer and
use. Delivery of Cisco cryptographic products does not imply
third-party authority to import, export, distribute or use encryption.
Importers, exporters, distributors and users are responsible for
compliance with U.S. and local country laws. By using this product you
agree to comply with applicable laws and regulations. If you are unable
to comply with U.S. and local laws, return this product immediately.

A summary of U.S. laws governing Cisco cryptographic products may be found at:
http://www.cisco.com/wwl/export/crypto/tool/stqrg.html

If you require further assistance please contact us by sending email to
export@cisco.com.
";

fn member_facts(out: &mut String, member: &Member, master: bool) {
    let mac = member.mac_address.replace('.', "");
    let mac_colons: Vec<String> = mac
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect();
    let mac_text = mac_colons.join(":");
    let mac_text = if master {
        mac_text
    } else {
        mac_text.to_ascii_lowercase()
    };
    let _ = writeln!(out, "Base ethernet MAC Address       : {mac_text}");
    out.push_str("Motherboard assembly number     : 73-15863-06\n");
    out.push_str("Power supply part number        : 341-0528-03\n");
    let _ = writeln!(
        out,
        "Motherboard serial number       : {}",
        member.serial.replace('X', "M")
    );
    out.push_str("Power supply serial number      : LIT19130ABC\n");
    out.push_str("Model revision number           : F0\n");
    out.push_str("Motherboard revision number     : B0\n");
    let _ = writeln!(
        out,
        "Model number                    : {}",
        member.facts.model
    );
    let _ = writeln!(out, "System serial number            : {}", member.serial);
    out.push_str("Top Assembly Part Number        : 800-41505-02\n");
    out.push_str("Top Assembly Revision Number    : C0\n");
    out.push_str("Version ID                      : V02\n");
    out.push_str("CLEI Code Number                : CMM1X00ARA\n");
    if master {
        out.push_str("Hardware Board Revision Number  : 0x12\n");
    }
}

/// `show switch` (and with `detail`, the stack port table).
pub fn show_switch(device: &Device, detail: bool) -> String {
    let mut out = String::new();
    let master = device.master_member();
    let _ = writeln!(out, "Switch/Stack Mac Address : {}", master.mac_address);
    out.push_str("                                           H/W   Current\n");
    out.push_str("Switch#  Role   Mac Address     Priority Version  State \n");
    out.push_str("----------------------------------------------------------\n");
    for member in device
        .members
        .iter()
        .filter(|member| member.running.is_some())
    {
        let is_master = member.number == device.master;
        let _ = writeln!(
            out,
            "{}{:<8}{:<7}{}     {:<7}{:<8}{:<20}",
            if is_master { "*" } else { " " },
            member.number,
            if is_master { "Master" } else { "Member" },
            member.mac_address,
            member.priority,
            4,
            device.member_state(member)
        );
    }
    if detail {
        out.push_str("\n\n\n");
        out.push_str("         Stack Port Status             Neighbors     \n");
        out.push_str("Switch#  Port 1     Port 2           Port 1   Port 2 \n");
        out.push_str("--------------------------------------------------------\n");
        let up: Vec<u32> = device
            .members
            .iter()
            .filter(|member| member.running.is_some())
            .map(|member| member.number)
            .collect();
        for (position, number) in up.iter().enumerate() {
            if up.len() == 1 {
                let _ = writeln!(
                    out,
                    "  {number:<7}  Down       Down             None     None "
                );
                continue;
            }
            let previous = up[(position + up.len() - 1) % up.len()];
            let next = up[(position + 1) % up.len()];
            let _ = writeln!(
                out,
                "  {number:<7}  Ok         Ok          {next:>8} {previous:>8} "
            );
        }
    }
    out
}

/// `dir flashN:[path]`, or `None` when the directory does not exist;
/// `shown_name` is the file system as typed (`flash:` on a stack is the master's).
pub fn dir(file_system: &FileSystem, shown_name: &str, directory: &str) -> Option<String> {
    let entries = file_system.list(directory)?;
    let mut out = String::new();
    let shown = directory.trim_matches('/');
    let is_file = file_system.file(shown).is_some();
    let _ = writeln!(
        out,
        "Directory of {}/{}{}\n",
        shown_name,
        shown,
        if shown.is_empty() || is_file { "" } else { "/" }
    );
    for entry in &entries {
        let _ = writeln!(
            out,
            "{:>5}  {}  {:>10}  {:>20} +00:00  {}",
            entry.index,
            if entry.is_directory { "drwx" } else { "-rwx" },
            entry.size,
            format_timestamp(entry.modified),
            entry.name
        );
    }
    if entries.is_empty() {
        out.push_str("No files in directory\n");
    }
    let _ = writeln!(
        out,
        "\n{} bytes total ({} bytes free)",
        file_system.capacity,
        file_system.free()
    );
    Some(out)
}

/// `show file systems`.
pub fn show_file_systems(device: &Device) -> String {
    let mut out = String::from("File Systems:\n\n");
    out.push_str("       Size(b)       Free(b)      Type  Flags  Prefixes\n");
    let row = |out: &mut String,
               mark: &str,
               size: String,
               free: String,
               kind: &str,
               flags: &str,
               prefixes: &str| {
        let _ = writeln!(
            out,
            "{mark}{size:>13} {free:>13} {kind:>9} {flags:>6}   {prefixes}"
        );
    };
    for member in &device.members {
        let is_master = member.number == device.master;
        let prefixes = if device.is_stack() && is_master {
            format!("flash:{}", member.flash.name)
        } else {
            member.flash.name.clone()
        };
        row(
            &mut out,
            if is_master { "*" } else { " " },
            member.flash.capacity.to_string(),
            member.flash.free().to_string(),
            "flash",
            "rw",
            &prefixes,
        );
    }
    for (kind, flags, prefix) in [
        ("opaque", "rw", "bs:"),
        ("opaque", "rw", "vb:"),
        ("nvram", "rw", "nvram:"),
        ("network", "rw", "tftp:"),
        ("opaque", "rw", "null:"),
        ("opaque", "rw", "system:"),
        ("opaque", "ro", "xmodem:"),
        ("opaque", "ro", "ymodem:"),
        ("network", "rw", "rcp:"),
        ("network", "rw", "http:"),
        ("network", "rw", "ftp:"),
        ("network", "rw", "scp:"),
        ("network", "rw", "https:"),
        ("opaque", "ro", "cns:"),
    ] {
        let (size, free) = if prefix == "nvram:" {
            ("524288".to_string(), "517570".to_string())
        } else {
            ("-".to_string(), "-".to_string())
        };
        row(&mut out, " ", size, free, kind, flags, prefix);
    }
    out
}

fn boot_block(out: &mut String, member: &Member) {
    let _ = writeln!(out, "BOOT path-list      : {}", member.boot_path.join(";"));
    out.push_str(
        "Config file         : flash:/config.text
Private Config file : flash:/private-config.text
Enable Break        : no
Manual Boot         : no
Allow Dev Key         : yes
HELPER path-list    : 
Auto upgrade        : yes
Auto upgrade path   : 
Boot optimization   : disabled
NVRAM/Config file
      buffer size:   524288
Timeout for Config
          Download:    0 seconds
Config Download
       via DHCP:       disabled (next boot: disabled)
",
    );
}

/// `show boot`: the master's block, then one block per other member.
pub fn show_boot(device: &Device) -> String {
    let mut out = String::new();
    boot_block(&mut out, device.master_member());
    for member in device
        .members
        .iter()
        .filter(|member| member.number != device.master && member.running.is_some())
    {
        out.push_str("-------------------\n");
        let _ = writeln!(out, "Switch {}", member.number);
        out.push_str("-------------------\n");
        boot_block(&mut out, member);
    }
    out
}

/// The running (or saved) configuration text.
pub fn running_config(device: &Device, saved: bool) -> String {
    let (hostname, boot_lines, scp_server) = if saved {
        (
            &device.saved_hostname,
            &device.saved_boot_lines,
            device.saved_scp_server_enabled,
        )
    } else {
        (
            &device.hostname,
            &device.boot_lines,
            device.scp_server_enabled,
        )
    };
    let mut out = String::new();
    if saved {
        out.push_str("Using 1890 out of 524288 bytes\n");
    } else {
        out.push_str("Building configuration...\n\nCurrent configuration : 1890 bytes\n");
    }
    out.push_str("!\n! Last configuration change at 00:10:12 UTC Mon Mar 1 1993\n!\n");
    out.push_str("version 15.2\nno service pad\nservice timestamps debug datetime msec\n");
    out.push_str("service timestamps log datetime msec\nservice password-encryption\n");
    out.push_str("no service dhcp\n!\n");
    let _ = writeln!(out, "hostname {hostname}\n!");
    out.push_str("boot-start-marker\n");
    for line in boot_lines {
        let _ = writeln!(out, "{}", line.config_text());
    }
    out.push_str("boot-end-marker\n!\n");
    out.push_str("enable secret 5 $1$lab$0123456789abcdefghijk.\n!\n");
    let _ = writeln!(
        out,
        "username {} secret 5 $1$lab$abcdefghijk0123456789.",
        device.username
    );
    out.push_str("no aaa new-model\n");
    for member in &device.members {
        let _ = writeln!(
            out,
            "switch {} provision {}",
            member.number,
            member.facts.model.to_ascii_lowercase()
        );
    }
    out.push_str("!\nip domain-name lab.example\n");
    if scp_server {
        out.push_str("ip scp server enable\n");
    }
    out.push_str("!\n");
    out.push_str("line con 0\nline vty 0 4\n login local\n transport input ssh\nline vty 5 15\n login local\n transport input ssh\n!\nend\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::{BootScope, DeviceSpec};
    use crate::files::record_from_bytes;
    use crate::image::{ImageFormat, ImageSpec, image_file_name, make_bin, model_facts};

    fn stack(members: u32) -> (Device, Instant) {
        let spec = ImageSpec {
            model: "WS-C2960X-48FPD-L".into(),
            version: "15.2(2)E7".into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size: 8192,
        };
        let name = image_file_name(&spec, ImageFormat::Bin).unwrap();
        let now = Instant::now();
        let device = Device::new(
            &DeviceSpec {
                name: "lab-sw".into(),
                facts: model_facts("WS-C2960X-48FPD-L").unwrap(),
                members,
                username: "admin".into(),
                password: "pw".into(),
                enable_secret: "en".into(),
                reload_delay: Duration::from_secs(1),
                image: record_from_bytes(&name, &make_bin(&spec).unwrap(), 0),
                identity_seed: 3,
            },
            now,
        );
        (device, now)
    }

    #[test]
    fn uptime_omits_leading_zero_units() {
        let check = |seconds: u64, expected: &str| {
            assert_eq!(format_uptime(Duration::from_secs(seconds)), expected)
        };
        check(0, "0 minutes");
        check(61, "1 minute");
        check(3 * 3600 + 120, "3 hours, 2 minutes");
        check(9 * 86_400 + 60, "1 week, 2 days, 0 hours, 1 minute");
    }

    #[test]
    fn show_version_of_a_stack_lists_every_member() {
        let (device, now) = stack(2);
        let text = show_version(&device, now + Duration::from_secs(3600));
        assert!(text.starts_with(
            "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(2)E7, RELEASE SOFTWARE (fc1)\n"
        ));
        assert!(text.contains("lab-sw uptime is 1 hour, 0 minutes\n"));
        assert!(
            text.contains("System image file is \"flash:c2960x-universalk9-mz.152-2.E7.bin\"\n")
        );
        assert!(text.contains(
            "*    1 52    WS-C2960X-48FPD-L         15.2(2)E7             C2960X-UNIVERSALK9-M     \n"
        ));
        assert!(text.contains(
            "     2 52    WS-C2960X-48FPD-L         15.2(2)E7             C2960X-UNIVERSALK9-M     \n"
        ));
        assert!(text.contains("\nSwitch 02\n---------\n"));
        assert!(text.ends_with("Configuration register is 0xF\n\n"));
    }

    #[test]
    fn dir_lists_files_with_ios_columns_and_footer() {
        let (device, _) = stack(1);
        let text = dir(device.file_system("flash:").unwrap(), "flash:", "").unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Directory of flash:/");
        assert_eq!(
            lines[2],
            "    2  -rwx        1048   Mar 1 1993 00:00:00 +00:00  multiple-fs"
        );
        assert!(lines.last().unwrap().starts_with("122185728 bytes total ("));
    }

    #[test]
    fn show_switch_marks_mismatched_members() {
        let (mut device, _) = stack(2);
        device
            .member_mut(2)
            .unwrap()
            .running
            .as_mut()
            .unwrap()
            .version = "15.2(7)E8".into();
        let text = show_switch(&device, false);
        assert!(text.contains(" 2       Member "), "{text}");
        assert!(text.contains("Version Mismatch"), "{text}");
    }

    #[test]
    fn show_file_systems_marks_the_master_flash() {
        let (device, _) = stack(2);
        let text = show_file_systems(&device);
        assert!(text.contains("*    122185728 "), "{text}");
        assert!(text.contains("   flash:flash1:\n"), "{text}");
        assert!(text.contains("   flash2:\n"), "{text}");
    }

    #[test]
    fn show_boot_and_running_config_follow_boot_system() {
        let (mut device, _) = stack(2);
        device.set_boot(BootScope::All, vec!["flash:new.bin".into()]);
        assert!(show_boot(&device).starts_with("BOOT path-list      : flash:new.bin\n"));
        assert!(show_boot(&device).contains("\nSwitch 2\n"));
        assert!(
            running_config(&device, false).contains("\nboot system switch all flash:new.bin\n")
        );
        assert!(!running_config(&device, true).contains("new.bin"));
    }
}
