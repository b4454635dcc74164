//! Inventory CSV import (the lab's `--inventory-out` format and anything with
//! the same headers): devices created or updated by name, credential
//! profiles sealed and shared between rows with the same login, sites
//! created as named, redundancy peers linked once every row exists.
//!
//! Headers (any order, case-insensitive): `name`, `host` required; `port`
//! (22), `platform` (an OS name such as `ios` sets the device's OS, anything
//! else its platform), `username` and `password` (a credential profile),
//! `enable_secret`, `site`, `role`, `peer`.

use std::collections::HashMap;

use netswim_domain::Os;
use netswim_store::crypto::SecretKey;
use netswim_store::{Device, NewCredentialProfile, NewDevice, Store};
use serde::Serialize;

use crate::EngineError;
use crate::credentials::DeviceSecrets;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Names of devices created.
    pub created: Vec<String>,
    /// Names of devices that existed and were updated.
    pub updated: Vec<String>,
    /// Names of credential profiles created.
    pub credential_profiles_created: Vec<String>,
    /// Names of sites created.
    pub sites_created: Vec<String>,
    /// Rows not imported, with the reason.
    pub errors: Vec<ImportRowError>,
}

/// One row that could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRowError {
    /// 1-based line number in the CSV text.
    pub line: u64,
    pub name: Option<String>,
    pub message: String,
}

/// One row, validated.
#[derive(Debug)]
struct Row {
    line: u64,
    name: String,
    host: String,
    port: u16,
    os: Option<Os>,
    platform: Option<String>,
    login: Option<(String, DeviceSecrets)>,
    site: Option<String>,
    role: Option<String>,
    peer: Option<String>,
}

/// Imports devices from CSV text; rows with problems are reported, the rest imported.
pub async fn import_csv(
    store: &Store,
    key: &SecretKey,
    csv_text: &str,
) -> Result<ImportReport, EngineError> {
    let mut report = ImportReport::default();
    let rows = read_rows(csv_text, &mut report)?;
    let mut profiles = ProfileCache::load(store, key).await?;
    let mut sites: HashMap<String, i64> = store
        .list_sites()
        .await?
        .into_iter()
        .map(|site| (site.name, site.id))
        .collect();
    let mut imported: Vec<(Row, Device)> = Vec::with_capacity(rows.len());
    for row in rows {
        let credential_profile_id = match &row.login {
            Some((username, secrets)) => Some(
                profiles
                    .id_for(store, key, username, secrets, &mut report)
                    .await?,
            ),
            None => None,
        };
        let site_id = match &row.site {
            Some(site) => match sites.get(site) {
                Some(id) => Some(*id),
                None => {
                    let created = store.insert_site(site, "").await?;
                    report.sites_created.push(created.name.clone());
                    sites.insert(created.name, created.id);
                    Some(created.id)
                }
            },
            None => None,
        };
        let device = match store.find_device_by_name(&row.name).await? {
            Some(existing) => {
                let updated = Device {
                    os: row.os.or(existing.os),
                    platform: row.platform.clone().or(existing.platform.clone()),
                    host: row.host.clone(),
                    port: row.port,
                    credential_profile_id: credential_profile_id.or(existing.credential_profile_id),
                    site_id: site_id.or(existing.site_id),
                    role: row.role.clone().or(existing.role.clone()),
                    ..existing
                };
                let device = store.update_device(&updated).await?;
                report.updated.push(device.name.clone());
                device
            }
            None => {
                let device = store
                    .insert_device(&NewDevice {
                        name: row.name.clone(),
                        os: row.os,
                        platform: row.platform.clone(),
                        host: row.host.clone(),
                        port: row.port,
                        credential_profile_id,
                        site_id,
                        role: row.role.clone(),
                        redundancy_peer_id: None,
                    })
                    .await?;
                report.created.push(device.name.clone());
                device
            }
        };
        imported.push((row, device));
    }
    // Peers last: a row may name a device further down.
    for (row, device) in &imported {
        let Some(peer) = &row.peer else { continue };
        match store.find_device_by_name(peer).await? {
            Some(peer_device) if peer_device.id != device.id => {
                let linked = Device {
                    redundancy_peer_id: Some(peer_device.id),
                    ..device.clone()
                };
                store.update_device(&linked).await?;
            }
            _ => report.errors.push(ImportRowError {
                line: row.line,
                name: Some(row.name.clone()),
                message: format!(
                    "peer {peer:?} is not a device of the inventory (hint: add it or leave the column empty)"
                ),
            }),
        }
    }
    Ok(report)
}

fn read_rows(csv_text: &str, report: &mut ImportReport) -> Result<Vec<Row>, EngineError> {
    let invalid = |reason: String| EngineError::Invalid {
        what: "inventory CSV",
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| invalid(format!("{error} (hint: the first line names the columns)")))?
        .iter()
        .map(|header| header.to_ascii_lowercase())
        .collect();
    let column = |name: &str| headers.iter().position(|header| header == name);
    let (Some(name_at), Some(host_at)) = (column("name"), column("host")) else {
        return Err(invalid(
            "the header has no `name` and `host` columns (hint: name,host,port,platform,username,password,site,role,peer)".into(),
        ));
    };
    let port_at = column("port");
    let platform_at = column("platform").or_else(|| column("os"));
    let username_at = column("username");
    let password_at = column("password");
    let enable_at = column("enable_secret").or_else(|| column("enable"));
    let site_at = column("site");
    let role_at = column("role");
    let peer_at = column("peer");
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                report.errors.push(ImportRowError {
                    line: error.position().map_or(0, |position| position.line()),
                    name: None,
                    message: error.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |position| position.line());
        let field = |at: Option<usize>| {
            at.and_then(|at| record.get(at))
                .filter(|value| !value.is_empty())
                .map(str::to_string)
        };
        let mut fail = |name: Option<String>, message: String| {
            report.errors.push(ImportRowError {
                line,
                name,
                message,
            })
        };
        let Some(name) = field(Some(name_at)) else {
            fail(None, "the name is empty".into());
            continue;
        };
        let Some(host) = field(Some(host_at)) else {
            fail(Some(name), "the host is empty".into());
            continue;
        };
        let port = match field(port_at) {
            None => 22,
            Some(text) => match text.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => {
                    fail(Some(name), format!("{text:?} is not a TCP port"));
                    continue;
                }
            },
        };
        if let Some(first) = seen.insert(name.clone(), line) {
            fail(
                Some(name),
                format!("the name is already used on line {first}"),
            );
            continue;
        }
        let (os, platform) = match field(platform_at) {
            Some(text) => match text.to_ascii_lowercase().parse::<Os>() {
                Ok(os) => (Some(os), None),
                Err(_) => (None, Some(text)),
            },
            None => (None, None),
        };
        let login = match (field(username_at), field(password_at)) {
            (Some(username), Some(password)) => Some((
                username,
                DeviceSecrets {
                    password,
                    enable_secret: field(enable_at),
                },
            )),
            (None, None) => None,
            _ => {
                fail(
                    Some(name),
                    "a username needs a password and a password a username".into(),
                );
                continue;
            }
        };
        rows.push(Row {
            line,
            name,
            host,
            port,
            os,
            platform,
            login,
            site: field(site_at),
            role: field(role_at),
            peer: field(peer_at),
        });
    }
    Ok(rows)
}

/// Credential profiles by login, so rows sharing one share a profile.
struct ProfileCache {
    by_login: Vec<(String, DeviceSecrets, i64)>,
    names: Vec<String>,
}

impl ProfileCache {
    async fn load(store: &Store, key: &SecretKey) -> Result<Self, EngineError> {
        let mut cache = ProfileCache {
            by_login: Vec::new(),
            names: Vec::new(),
        };
        for profile in store.list_credential_profiles().await? {
            cache.names.push(profile.name.clone());
            // A profile sealed with another key is simply not reused.
            if let Ok(secrets) = DeviceSecrets::open(&profile.secret, key) {
                cache
                    .by_login
                    .push((profile.username.clone(), secrets, profile.id));
            }
        }
        Ok(cache)
    }

    async fn id_for(
        &mut self,
        store: &Store,
        key: &SecretKey,
        username: &str,
        secrets: &DeviceSecrets,
        report: &mut ImportReport,
    ) -> Result<i64, EngineError> {
        if let Some((_, _, id)) = self
            .by_login
            .iter()
            .find(|(known, known_secrets, _)| known == username && known_secrets == secrets)
        {
            return Ok(*id);
        }
        let name = (1..)
            .map(|n| match n {
                1 => format!("csv-{username}"),
                n => format!("csv-{username}-{n}"),
            })
            .find(|name| !self.names.contains(name))
            .unwrap_or_else(|| format!("csv-{username}"));
        let profile = store
            .insert_credential_profile(&NewCredentialProfile {
                name: name.clone(),
                username: username.to_string(),
                secret: secrets.seal(key)?,
            })
            .await?;
        self.names.push(name.clone());
        self.by_login
            .push((username.to_string(), secrets.clone(), profile.id));
        report.credential_profiles_created.push(name);
        Ok(profile.id)
    }
}
