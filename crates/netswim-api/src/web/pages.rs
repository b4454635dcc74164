//! Dashboard, repository, devices and settings pages.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use netswim_domain::version::{Version, VersionOrdering};
use netswim_store::{Device, Image, Role, Site};
use serde::Serialize;
use serde_json::{Value, json};

use super::{
    Form, Page, PageResult, Section, WebUser, bytes, layout, status_badge, url_escape, when,
};
use crate::handlers;
use crate::wire::{
    DistributionServerInput, RequirementsEdit, SiteInput, SyncRequest, TokenInput, UserInput,
};
use crate::{ApiError, AppState};

/// The stable lowercase name of a serde enum.
pub fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(text)) => text,
        _ => String::new(),
    }
}

fn redirect_with(path: &str, message: &str) -> Response {
    let separator = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{separator}msg={}", url_escape(message))).into_response()
}

fn bad(message: impl Into<String>) -> Page {
    Page(ApiError::BadRequest(message.into()))
}

// ---------------------------------------------------------------- dashboard

/// Images grouped by family: the dashboard's summary rows.
struct Family<'a> {
    name: String,
    images: Vec<&'a Image>,
}

fn families(images: &[Image]) -> Vec<Family<'_>> {
    let mut by_family: BTreeMap<String, Vec<&Image>> = BTreeMap::new();
    for image in images {
        let family = image.family.clone().unwrap_or_else(|| "other".into());
        by_family.entry(family).or_default().push(image);
    }
    by_family
        .into_iter()
        .map(|(name, images)| Family { name, images })
        .collect()
}

pub async fn dashboard(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let store = state.engine.store();
    let images = store.list_images().await?;
    let devices = store.list_devices().await?;
    let jobs = store.list_jobs().await?;
    let protocols = store.protocol_order().await?;
    let mut last_jobs = jobs.clone();
    last_jobs.sort_by_key(|job| std::cmp::Reverse(job.id));
    last_jobs.truncate(10);
    let total_bytes: u64 = images.iter().map(|image| image.size_bytes).sum();
    let running = jobs
        .iter()
        .filter(|job| job.status == netswim_store::Status::Running)
        .count();
    let content = html! {
        div.cards {
            div.card { div.n { (images.len()) } div.muted { "images (" (bytes(total_bytes)) ")" } }
            div.card { div.n { (families(&images).len()) } div.muted { "families" } }
            div.card { div.n { (devices.len()) } div.muted { "devices" } }
            div.card { div.n { (running) } div.muted { "jobs running" } }
        }
        div.actions {
            a.button href="/images#import" { "Import image" }
            a.button href="/distribute" { "Distribute" }
            a.button href="/activate" { "Activate" }
            a.button href="/commit" { "Commit" }
            a.button href="/rollback" { "Roll back" }
            a.button.secondary href="/analysis" { "Upgrade analysis" }
        }
        h2 { "Images by family" }
        table {
            thead { tr {
                th scope="col" { "Family" } th scope="col" { "OS" } th.num scope="col" { "Images" }
                th scope="col" { "Versions" } th.num scope="col" { "Size" } th scope="col" { "Actions" }
            } }
            tbody {
                @for family in families(&images) {
                    @let newest = family.images.iter().max_by_key(|image| image.created_at);
                    tr {
                        td { a href={ "/images?family=" (url_escape(&family.name)) } { (family.name) } }
                        td { (family.images.first().and_then(|image| image.os).map(|os| os.as_str()).unwrap_or("")) }
                        td.num { (family.images.len()) }
                        td { @for image in &family.images { span.badge { (image.version.as_deref().unwrap_or("?")) } " " } }
                        td.num { (bytes(family.images.iter().map(|image| image.size_bytes).sum())) }
                        td {
                            @if let Some(image) = newest {
                                a href={ "/distribute?image_id=" (image.id) } { "Distribute" } " · "
                                a href={ "/activate?source=library&image_id=" (image.id) } { "Activate" } " · "
                                a href={ "/analysis?image_id=" (image.id) } { "Analyse" }
                            }
                        }
                    }
                }
                @if images.is_empty() {
                    tr { td colspan="6" { "No images yet. " a href="/images#import" { "Import one" } "." } }
                }
            }
        }
        div.grid2 {
            section {
                h2 { "Last 10 jobs" }
                (job_table(&last_jobs))
                p { a href="/jobs" { "All jobs" } }
            }
            section {
                h2 { "Protocol order" }
                ol { @for protocol in &protocols { li { (protocol) } } }
                p.muted { "Devices pull images with the first protocol they support. " a href="/settings#protocols" { "Change" } }
            }
        }
    };
    Ok(layout(
        &user,
        Section::Dashboard,
        "Software Images",
        form.get("msg"),
        content,
    ))
}

pub fn job_table(jobs: &[netswim_store::Job]) -> Markup {
    html! {
        table {
            thead { tr {
                th.num scope="col" { "Job" } th scope="col" { "Kind" } th scope="col" { "Name" }
                th scope="col" { "Status" } th scope="col" { "By" } th scope="col" { "Created" }
            } }
            tbody {
                @for job in jobs {
                    tr {
                        td.num { a href={ "/jobs/" (job.id) } { (job.id) } }
                        td { (job.kind) }
                        td { a href={ "/jobs/" (job.id) } { (job.name) } }
                        td { (status_badge(job.status.as_str())) }
                        td { (job.created_by.as_deref().unwrap_or("")) }
                        td.when { (when(job.created_at)) }
                    }
                }
                @if jobs.is_empty() { tr { td colspan="6" { "No jobs yet." } } }
            }
        }
    }
}

// ---------------------------------------------------------------- repository

pub async fn images(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let mut images = state.engine.store().list_images().await?;
    if let Some(family) = form.get("family") {
        images.retain(|image| image.family.as_deref().unwrap_or("other") == family);
    }
    let content = html! {
        table {
            thead { tr {
                th scope="col" { "File name" } th scope="col" { "Family" } th scope="col" { "Type" }
                th scope="col" { "Version" } th.num scope="col" { "Size" } th scope="col" { "Signature" }
                th scope="col" { "Updated" }
            } }
            tbody {
                @for image in &images {
                    tr {
                        td { a.mono href={ "/images/" (image.id) } { (image.file_name) } }
                        td { (image.family.as_deref().unwrap_or("")) }
                        td { (name_of(&image.image_type)) }
                        td { (image.version.as_deref().unwrap_or("")) }
                        td.num { (bytes(image.size_bytes)) }
                        td { (status_badge(&name_of(&image.signature_status))) }
                        td.when { (when(image.updated_at)) }
                    }
                }
                @if images.is_empty() { tr { td colspan="7" { "No images." } } }
            }
        }
        div.grid2 #import {
            section.panel {
                h2 { "Upload an image" }
                form method="post" action="/images/upload" enctype="multipart/form-data" {
                    div.field { label for="md5" { "Expected MD5 (optional)" } input #md5 name="md5" size="40"; }
                    div.field { label for="file" { "Image file" } input #file type="file" name="file" required; }
                    button type="submit" { "Upload" }
                }
            }
            section.panel {
                h2 { "Import from a URL" }
                form method="post" action="/images/import" {
                    div.field {
                        label for="url" { "URL (http, https, ftp, sftp, scp, tftp)" }
                        input #url name="url" size="60" required placeholder="https://files.example.net/c2960x-universalk9-mz.152-7.E9.bin";
                    }
                    div.field { label for="import-md5" { "Expected MD5 (optional)" } input #import-md5 name="md5" size="40"; }
                    button type="submit" { "Import" }
                }
            }
        }
    };
    Ok(layout(
        &user,
        Section::Repository,
        "Repository",
        form.get("msg"),
        content,
    ))
}

pub async fn upload_image(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    request: Request,
) -> Result<Response, Page> {
    let (_, Json(result)) = handlers::upload_image(
        State(state),
        user.caller,
        Query(handlers::UploadQuery {
            file_name: None,
            md5: None,
            sha512: None,
        }),
        headers,
        request,
    )
    .await?;
    let message = if result.duplicate {
        "These bytes were already in the repository."
    } else {
        "Image imported."
    };
    Ok(redirect_with(
        &format!("/images/{}", result.image.id),
        message,
    ))
}

pub async fn import_image(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let url = form
        .get("url")
        .ok_or_else(|| bad("give the URL of the image (hint: fill in the URL field)"))?;
    let request: crate::wire::ImportRequest = serde_json::from_value(json!({
        "url": url,
        "md5": form.get("md5"),
    }))
    .map_err(|error| bad(error.to_string()))?;
    let (_, Json(job)) = handlers::import_image(State(state), user.caller, Json(request)).await?;
    Ok(redirect_with(
        &format!("/jobs/{}", job.id),
        "Import started.",
    ))
}

pub async fn image_detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let image = state.engine.store().get_image(id).await?;
    let can_edit = user.caller.require(Role::Operator, "edit").is_ok();
    let mb = |value: Option<u64>| {
        value
            .map(|v| (v / (1024 * 1024)).to_string())
            .unwrap_or_default()
    };
    let content = html! {
        div.actions {
            a.button href={ "/distribute?image_id=" (image.id) } { "Distribute" }
            a.button href={ "/activate?source=library&image_id=" (image.id) } { "Activate" }
            a.button.secondary href={ "/analysis?image_id=" (image.id) } { "Upgrade analysis" }
        }
        div.grid2 {
            section.panel {
                h2 { "Image" }
                table {
                    tbody {
                        tr { th scope="row" { "File name" } td.mono { (image.file_name) } }
                        tr { th scope="row" { "Family" } td { (image.family.as_deref().unwrap_or("")) } }
                        tr { th scope="row" { "OS" } td { (image.os.map(|os| os.as_str()).unwrap_or("")) } }
                        tr { th scope="row" { "Type" } td { (name_of(&image.image_type)) } }
                        tr { th scope="row" { "Format" } td { (name_of(&image.format)) } }
                        tr { th scope="row" { "Version" } td { (image.version.as_deref().unwrap_or("")) } }
                        tr { th scope="row" { "Feature set" } td { (image.feature_set.as_deref().unwrap_or("")) } }
                        tr { th scope="row" { "Size" } td { (bytes(image.size_bytes)) " (" (image.size_bytes) " bytes)" } }
                        tr { th scope="row" { "Platforms" } td { (image.platforms.join(", ")) } }
                        tr { th scope="row" { "Signature" } td { (status_badge(&name_of(&image.signature_status))) } }
                        tr { th scope="row" { "Imported" } td.when { (when(image.created_at)) } }
                        tr { th scope="row" { "Updated" } td.when { (when(image.updated_at)) } }
                    }
                }
                h2 { "Checksums" }
                table {
                    tbody {
                        tr { th scope="row" { "MD5" } td.mono { (image.md5) } }
                        tr { th scope="row" { "SHA-256" } td.mono { (image.sha256) } }
                        tr { th scope="row" { "SHA-512" } td.mono { (image.sha512) } }
                    }
                }
            }
            section.panel {
                h2 { "Requirements" }
                form method="post" action={ "/images/" (image.id) "/requirements" } {
                    div.field {
                        label for="min_ram_mb" { "Minimum RAM (MiB)" }
                        input #min_ram_mb name="min_ram_mb" type="number" min="0" value=(mb(image.min_ram_bytes)) disabled[!can_edit];
                    }
                    div.field {
                        label for="min_flash_mb" { "Minimum flash (MiB)" }
                        input #min_flash_mb name="min_flash_mb" type="number" min="0" value=(mb(image.min_flash_bytes)) disabled[!can_edit];
                    }
                    @if can_edit { button type="submit" { "Save requirements" } }
                }
                @if !image.requirements.is_empty() {
                    h3 { "Named requirements" }
                    table { tbody {
                        @for (name, value) in &image.requirements {
                            tr { th scope="row" { (name) } td.mono { (value.to_string()) } }
                        }
                    } }
                }
                @if !image.metadata.is_null() {
                    details {
                        summary { "Metadata from the file" }
                        pre.mono { (serde_json::to_string_pretty(&image.metadata).unwrap_or_default()) }
                    }
                }
            }
        }
    };
    Ok(layout(
        &user,
        Section::Repository,
        &image.file_name,
        form.get("msg"),
        content,
    ))
}

pub async fn edit_requirements(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let mib = |name: &str| -> Result<Option<u64>, ApiError> {
        Ok(form
            .number::<u64>(name)?
            .map(|value| value.saturating_mul(1024 * 1024)))
    };
    let edit = RequirementsEdit {
        min_ram_bytes: mib("min_ram_mb")?,
        min_flash_bytes: mib("min_flash_mb")?,
        requirements: BTreeMap::new(),
    };
    let _updated =
        handlers::edit_requirements(State(state), user.caller, Path(id), Json(edit)).await?;
    Ok(redirect_with(
        &format!("/images/{id}"),
        "Requirements saved.",
    ))
}

// ---------------------------------------------------------------- devices

/// A device with what the list shows about it.
pub struct DeviceRow {
    pub device: Device,
    pub site: Option<String>,
    pub version: Option<String>,
    /// `compliant`, `outdated` or `unknown` against the newest repository
    /// image of the device's OS and model.
    pub compliance: &'static str,
}

fn newest_version_for(device: &Device, images: &[Image]) -> Option<Version> {
    let os = device.os?;
    images
        .iter()
        .filter(|image| image.os == Some(os) && image.image_type == Default::default())
        .filter(|image| {
            // The domain's platform → model table decides; no model, no match.
            let model = device.platform.as_deref().unwrap_or("");
            image.platforms.is_empty()
                || image.platforms.iter().any(|platform| {
                    netswim_domain::analysis::platform_fits_model(platform, model) == Some(true)
                })
        })
        .filter_map(|image| Version::parse(os, image.version.as_deref()?).ok())
        .reduce(|best, next| {
            if next.compare(&best) == VersionOrdering::Greater {
                next
            } else {
                best
            }
        })
}

pub async fn device_rows(state: &AppState) -> Result<Vec<DeviceRow>, ApiError> {
    let store = state.engine.store();
    let devices = store.list_devices().await?;
    let sites: BTreeMap<i64, Site> = store
        .list_sites()
        .await?
        .into_iter()
        .map(|site| (site.id, site))
        .collect();
    let images = store.list_images().await?;
    let mut rows = Vec::with_capacity(devices.len());
    for device in devices {
        let facts = store
            .latest_device_facts(device.id)
            .await?
            .map(|snapshot| snapshot.facts);
        let version = facts
            .as_ref()
            .and_then(|facts| facts.get("version"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let compliance = match (
            device.os,
            version.as_deref(),
            newest_version_for(&device, &images),
        ) {
            (Some(os), Some(running), Some(newest)) => match Version::parse(os, running) {
                Ok(running) if running.compare(&newest) == VersionOrdering::Less => "outdated",
                Ok(_) => "compliant",
                Err(_) => "unknown",
            },
            _ => "unknown",
        };
        rows.push(DeviceRow {
            site: device
                .site_id
                .and_then(|id| sites.get(&id))
                .map(|site| site.name.clone()),
            device,
            version,
            compliance,
        });
    }
    Ok(rows)
}

/// Keeps the rows matching the `site`, `role`, `platform`, `version` and
/// `compliance` fields of a filter form.
pub fn filter_rows(rows: &mut Vec<DeviceRow>, form: &Form) {
    let site = form.get("site");
    let role = form.get("role");
    let platform = form.get("platform");
    let version = form.get("version");
    let compliance = form.get("compliance");
    rows.retain(|row| {
        site.is_none_or(|site| row.site.as_deref() == Some(site))
            && role.is_none_or(|role| row.device.role.as_deref() == Some(role))
            && platform.is_none_or(|platform| {
                row.device.os.map(|os| os.as_str()) == Some(platform)
                    || row
                        .device
                        .platform
                        .as_deref()
                        .is_some_and(|model| model.starts_with(platform))
            })
            && version.is_none_or(|version| row.version.as_deref() == Some(version))
            && compliance.is_none_or(|compliance| row.compliance == compliance)
    });
}

fn distinct<'a>(values: impl Iterator<Item = Option<&'a str>>) -> Vec<String> {
    let mut out: Vec<String> = values.flatten().map(str::to_owned).collect();
    out.sort();
    out.dedup();
    out
}

/// The device filter form (GET), keeping `keep` fields as hidden inputs.
pub fn filter_form(rows: &[DeviceRow], form: &Form, action: &str, keep: &[&str]) -> Markup {
    let sites = distinct(rows.iter().map(|row| row.site.as_deref()));
    let roles = distinct(rows.iter().map(|row| row.device.role.as_deref()));
    let mut platforms = distinct(rows.iter().map(|row| row.device.os.map(|os| os.as_str())));
    platforms.extend(distinct(
        rows.iter().map(|row| row.device.platform.as_deref()),
    ));
    let versions = distinct(rows.iter().map(|row| row.version.as_deref()));
    let select = |name: &str, label: &str, options: &[String]| {
        let chosen = form.get(name);
        html! {
            div {
                label for={ "f-" (name) } { (label) }
                select id={ "f-" (name) } name=(name) {
                    option value="" { "any" }
                    @for option in options {
                        option value=(option) selected[chosen == Some(option.as_str())] { (option) }
                    }
                }
            }
        }
    };
    let compliance: Vec<String> = ["compliant", "outdated", "unknown"]
        .iter()
        .map(|text| (*text).to_owned())
        .collect();
    html! {
        form.filters method="get" action=(action) aria-label="Device filters" {
            @for name in keep {
                @for value in form.all(name) { input type="hidden" name=(name) value=(value); }
            }
            (select("site", "Site", &sites))
            (select("role", "Role", &roles))
            (select("platform", "Platform", &platforms))
            (select("version", "Version", &versions))
            (select("compliance", "Compliance", &compliance))
            div { button type="submit" { "Filter" } }
        }
    }
}

pub async fn devices(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let all = device_rows(&state).await?;
    let filters = filter_form(&all, &form, "/devices", &[]);
    let mut rows = all;
    let total = rows.len();
    filter_rows(&mut rows, &form);
    let content = html! {
        (filters)
        p.muted { (rows.len()) " of " (total) " devices" }
        table {
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "Host" } th scope="col" { "Site" } th scope="col" { "Role" }
                th scope="col" { "OS" } th scope="col" { "Model" } th scope="col" { "Version" } th scope="col" { "Compliance" }
            } }
            tbody {
                @for row in &rows {
                    tr {
                        td { a href={ "/devices/" (row.device.id) } { (row.device.name) } }
                        td.mono { (row.device.host) ":" (row.device.port) }
                        td { (row.site.as_deref().unwrap_or("")) }
                        td { (row.device.role.as_deref().unwrap_or("")) }
                        td { (row.device.os.map(|os| os.as_str()).unwrap_or("")) }
                        td { (row.device.platform.as_deref().unwrap_or("")) }
                        td { (row.version.as_deref().unwrap_or("")) }
                        td { (status_badge(row.compliance)) }
                    }
                }
            }
        }
        div.grid2 {
            section.panel {
                h2 { "Sync inventory" }
                form method="post" action="/devices/sync" {
                    p.muted { "Log in to every device and collect its facts (a job)." }
                    button type="submit" { "Sync all devices" }
                }
            }
            section.panel {
                h2 { "Import devices (CSV)" }
                form method="post" action="/devices/import" {
                    label for="csv" { "name,host,port,platform,username,password,site,role,peer,enable_secret" }
                    textarea #csv name="csv" rows="4" required {}
                    button type="submit" { "Import" }
                }
            }
        }
    };
    Ok(layout(
        &user,
        Section::Devices,
        "Devices",
        form.get("msg"),
        content,
    ))
}

pub async fn import_devices(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let csv = form.get("csv").unwrap_or("").to_owned();
    let Json(report) = handlers::import_devices(State(state), user.caller, csv).await?;
    let message = format!(
        "{} created, {} updated, {} rows rejected{}",
        report.created.len(),
        report.updated.len(),
        report.errors.len(),
        report
            .errors
            .first()
            .map(|error| format!(" (first: {error:?})"))
            .unwrap_or_default()
    );
    Ok(redirect_with("/devices", &message))
}

pub async fn sync_devices(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let request = SyncRequest {
        device_ids: form.ids("device")?,
    };
    let (_, Json(job)) =
        handlers::sync_devices(State(state), user.caller, Some(Json(request))).await?;
    Ok(redirect_with(&format!("/jobs/{}", job.id), "Sync started."))
}

pub async fn device_detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let store = state.engine.store();
    let device = store.get_device(id).await?;
    let site = match device.site_id {
        Some(site_id) => Some(store.get_site(site_id).await?.name),
        None => None,
    };
    let history = store.device_fact_history(id, 50).await?;
    let latest = store.latest_device_facts(id).await?;
    let facts = latest.as_ref().map(|snapshot| &snapshot.facts);
    let tab = form.get("tab").unwrap_or("image");
    let text = |pointer: &str| -> String {
        facts
            .and_then(|facts| facts.pointer(pointer))
            .map(|value| match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    let running_image = text("/running_image");
    // The running image's size, from the flash listing that holds it.
    let image_size = facts
        .and_then(|facts| facts.get("file_systems"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|fs| fs.pointer("/listing/entries").and_then(Value::as_array))
        .flatten()
        .find(|entry| {
            let name = entry.get("name").and_then(Value::as_str).unwrap_or("");
            !name.is_empty() && running_image.ends_with(name)
        })
        .and_then(|entry| entry.get("size_bytes").and_then(Value::as_u64));
    let family = store
        .list_images()
        .await?
        .into_iter()
        .find(|image| running_image.ends_with(&image.file_name))
        .and_then(|image| image.family);
    let tabs = [
        ("image", "Image"),
        ("facts", "Facts"),
        ("history", "Fact history"),
    ];
    let content = html! {
        p {
            (device.host) ":" (device.port) " · site " (site.as_deref().unwrap_or("none"))
            " · role " (device.role.as_deref().unwrap_or("none"))
            " · " (device.os.map(|os| os.as_str()).unwrap_or("OS unknown"))
            " " (device.platform.as_deref().unwrap_or(""))
        }
        form.inline method="post" action="/devices/sync" {
            input type="hidden" name="device" value=(device.id);
            button type="submit" { "Sync this device" }
        }
        nav.tabs aria-label="Device tabs" {
            @for (key, label) in tabs {
                @if key == tab {
                    a href={ "?tab=" (key) } aria-current="page" { (label) }
                } @else {
                    a href={ "?tab=" (key) } { (label) }
                }
            }
        }
        @if facts.is_none() {
            p.muted { "No facts yet: sync the device." }
        }
        @match tab {
            "facts" => {
                @if let Some(facts) = facts {
                    pre.mono { (serde_json::to_string_pretty(facts).unwrap_or_default()) }
                }
            },
            "history" => {
                table {
                    thead { tr { th scope="col" { "Collected" } th scope="col" { "Version" } th scope="col" { "Running image" } th scope="col" { "Changed fields" } } }
                    tbody {
                        @for snapshot in &history {
                            tr {
                                td.when { (when(snapshot.collected_at)) }
                                td { (snapshot.facts.get("version").and_then(Value::as_str).unwrap_or("")) }
                                td.mono { (snapshot.facts.get("running_image").and_then(Value::as_str).unwrap_or("")) }
                                td { (snapshot.changed_fields.join(", ")) }
                            }
                        }
                        @if history.is_empty() { tr { td colspan="4" { "No history." } } }
                    }
                }
            },
            _ => {
                @if facts.is_some() {
                    table { tbody {
                        tr { th scope="row" { "Running image" } td.mono { (running_image) } }
                        tr { th scope="row" { "Family" } td { (family.as_deref().unwrap_or("")) } }
                        tr { th scope="row" { "Version" } td { (text("/version")) } }
                        tr { th scope="row" { "Size" } td { (image_size.map(bytes).unwrap_or_default()) } }
                        tr { th scope="row" { "Boot variable" } td.mono {
                            @for (index, entry) in facts.and_then(|facts| facts.get("boot_path")).and_then(Value::as_array).into_iter().flatten().enumerate() {
                                @if index > 0 { "; " }
                                (entry.as_str().unwrap_or(""))
                            }
                        } }
                        tr { th scope="row" { "Install mode" } td { (text("/install_mode")) } }
                        tr { th scope="row" { "RAM" } td { (facts.and_then(|facts| facts.get("ram_bytes")).and_then(Value::as_u64).map(bytes).unwrap_or_default()) } }
                        tr { th scope="row" { "Serial" } td { (text("/serial")) } }
                    } }
                    h2 { "Flash per member" }
                    table {
                        thead { tr {
                            th scope="col" { "File system" } th.num scope="col" { "Member" }
                            th.num scope="col" { "Total" } th.num scope="col" { "Free" }
                        } }
                        tbody {
                            @for fs in facts.and_then(|facts| facts.get("file_systems")).and_then(Value::as_array).into_iter().flatten() {
                                tr {
                                    td { (fs.get("name").and_then(Value::as_str).unwrap_or("")) }
                                    td.num { (fs.get("member").and_then(Value::as_u64).map(|m| m.to_string()).unwrap_or_default()) }
                                    td.num { (fs.get("total_bytes").and_then(Value::as_u64).map(bytes).unwrap_or_default()) }
                                    td.num { (fs.get("free_bytes").and_then(Value::as_u64).map(bytes).unwrap_or_default()) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout(
        &user,
        Section::Devices,
        &device.name,
        form.get("msg"),
        content,
    ))
}

// ---------------------------------------------------------------- settings

pub async fn settings(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    settings_page(&state, &user, form.get("msg"), None).await
}

/// The settings page; `issued` is a token just issued, shown once.
async fn settings_page(
    state: &AppState,
    user: &WebUser,
    notice: Option<&str>,
    issued: Option<&str>,
) -> PageResult {
    let store = state.engine.store();
    let protocols = store.protocol_order().await?;
    let defaults = store.job_defaults().await?;
    let sites = store.list_sites().await?;
    let servers = store.list_distribution_servers().await?;
    let is_admin = user.caller.require(Role::Admin, "manage").is_ok();
    let (users, tokens) = if is_admin {
        (
            store.list_users().await?,
            store.list_api_tokens(None).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let site_name = |id: &i64| {
        sites
            .iter()
            .find(|site| site.id == *id)
            .map(|site| site.name.clone())
            .unwrap_or_else(|| format!("#{id}"))
    };
    let content = html! {
        div.grid2 {
            section.panel #protocols {
                h2 { "Protocol order" }
                form method="post" action="/settings/protocol-order" {
                    div.field {
                        label for="protocols" { "Protocols, first preferred (scp, sftp, ftp, tftp, http, https)" }
                        input #protocols name="protocols" size="40" value=(protocols.join(", ")) disabled[!is_admin];
                    }
                    @if is_admin { button type="submit" { "Save order" } }
                }
            }
            section.panel {
                h2 { "Job defaults" }
                p.muted { "What a job uses when it does not say; an empty field takes the built-in default." }
                form method="post" action="/settings/job-defaults" {
                    @for (key, label, default) in JOB_DEFAULT_FIELDS {
                        div.field {
                            label for=(key) { (label) }
                            input #(key) name=(key) type="number" min=(if *key == "retries" { "0" } else { "1" })
                                value=[defaults.get(*key).and_then(Value::as_u64)]
                                placeholder=(default) disabled[!is_admin];
                        }
                    }
                    @if is_admin { button type="submit" { "Save defaults" } }
                }
            }
        }
        section.panel {
            h2 { "Distribution servers" }
            table {
                thead { tr { th scope="col" { "Name" } th scope="col" { "URL" } th scope="col" { "Sites" } th scope="col" { "" } } }
                tbody {
                    @for server in &servers {
                        tr {
                            td { (server.name) }
                            td.mono { (server.url) }
                            td { (server.site_ids.iter().map(site_name).collect::<Vec<_>>().join(", ")) }
                            td {
                                form.inline method="post" action={ "/settings/distribution-servers/" (server.id) "/delete" } {
                                    button.danger type="submit" aria-label={ "Delete " (server.name) } { "Delete" }
                                }
                            }
                        }
                    }
                    @if servers.is_empty() { tr { td colspan="4" { "None: devices pull from this server." } } }
                }
            }
            form.filters method="post" action="/settings/distribution-servers" {
                div { label for="ds-name" { "Name" } input #ds-name name="name" required; }
                div { label for="ds-url" { "URL" } input #ds-url name="url" size="36" required placeholder="tftp://10.1.1.5/"; }
                div {
                    label for="ds-sites" { "Sites" }
                    select #ds-sites name="site" multiple size="3" {
                        @for site in &sites { option value=(site.id) { (site.name) } }
                    }
                }
                div { button type="submit" { "Add server" } }
            }
            h3 { "Sites" }
            p { @for site in &sites { span.badge { (site.name) } " " } }
            form.filters method="post" action="/settings/sites" {
                div { label for="site-name" { "New site" } input #site-name name="name" required; }
                div { button type="submit" { "Add site" } }
            }
        }
        @if is_admin {
            div.grid2 {
                section.panel {
                    h2 { "Users" }
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Created" } th scope="col" { "" } } }
                        tbody {
                            @for account in &users {
                                tr {
                                    td { (account.name) } td { (account.role.as_str()) } td.when { (when(account.created_at)) }
                                    td {
                                        form.inline method="post" action={ "/settings/users/" (account.id) "/delete" } {
                                            button.danger type="submit" aria-label={ "Delete user " (account.name) } { "Delete" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form.filters method="post" action="/settings/users" {
                        div { label for="user-name" { "Name" } input #user-name name="name" required; }
                        div { label for="user-password" { "Password (8+)" } input #user-password type="password" name="password" minlength="8" required; }
                        div { label for="user-role" { "Role" } select #user-role name="role" { option { "viewer" } option { "operator" } option { "admin" } } }
                        div { button type="submit" { "Add user" } }
                    }
                }
                section.panel {
                    h2 { "API tokens" }
                    @if let Some(issued) = issued {
                        p.notice role="status" { "New token (shown once): " code { (issued) } }
                    }
                    table {
                        thead { tr { th scope="col" { "Name" } th scope="col" { "Role" } th scope="col" { "Expires" } th scope="col" { "Last used" } th scope="col" { "" } } }
                        tbody {
                            @for token in &tokens {
                                tr {
                                    td { (token.name) } td { (token.role.as_str()) }
                                    td { (token.expires_at.map(when).unwrap_or_else(|| "never".into())) }
                                    td { (token.last_used_at.map(when).unwrap_or_default()) }
                                    td {
                                        form.inline method="post" action={ "/settings/tokens/" (token.id) "/delete" } {
                                            button.danger type="submit" aria-label={ "Revoke token " (token.name) } { "Revoke" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form.filters method="post" action="/settings/tokens" {
                        div { label for="token-name" { "Name" } input #token-name name="name" required; }
                        div { label for="token-role" { "Role" } select #token-role name="role" { option { "viewer" } option { "operator" } option { "admin" } } }
                        div { label for="token-days" { "Days (empty: never expires)" } input #token-days name="days" type="number" min="1"; }
                        div { button type="submit" { "Issue token" } }
                    }
                }
            }
        }
    };
    Ok(layout(user, Section::Settings, "Settings", notice, content))
}

pub async fn set_protocol_order(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let mut order = Vec::new();
    for name in form
        .get("protocols")
        .unwrap_or("")
        .split([',', ' '])
        .filter(|name| !name.is_empty())
    {
        let protocol: netswim_engine::upgrade::Protocol =
            serde_json::from_value(Value::String(name.to_lowercase())).map_err(|_| {
                bad(format!(
                    "unknown protocol {name:?} (hint: use scp, sftp, ftp, tftp, http, https)"
                ))
            })?;
        order.push(name_of(&protocol));
    }
    if order.is_empty() {
        return Err(bad(
            "name at least one protocol (hint: scp, sftp, ftp, tftp)",
        ));
    }
    handlers::put_setting(
        State(state),
        user.caller,
        Path("protocol_order".to_owned()),
        Json(json!(order)),
    )
    .await?;
    Ok(redirect_with("/settings", "Protocol order saved."))
}

/// The job defaults the engine reads: setting key, label, built-in default.
const JOB_DEFAULT_FIELDS: &[(&str, &str, &str)] = &[
    ("max_parallel_devices", "Devices at once, whole job", "50"),
    (
        "max_parallel_per_site",
        "Devices at once per site",
        "as the whole job",
    ),
    (
        "max_parallel_per_distribution_server",
        "Devices at once per distribution server",
        "as the whole job",
    ),
    (
        "retries",
        "Retries per device after a stall or a bad checksum",
        "2",
    ),
];

pub async fn set_job_defaults(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    // Keys this form does not show are kept as they are.
    let mut defaults = state.engine.store().job_defaults().await?;
    let Some(object) = defaults.as_object_mut() else {
        return Err(bad(
            "the stored job defaults are not an object (hint: PUT /api/v1/settings/job_defaults with a JSON object)",
        ));
    };
    for (key, label, _) in JOB_DEFAULT_FIELDS {
        match form.get(key).map(str::trim).filter(|text| !text.is_empty()) {
            None => {
                object.remove(*key);
            }
            Some(text) => {
                let least = u64::from(*key != "retries");
                let number = text.parse::<u64>().ok().filter(|number| *number >= least);
                let Some(number) = number else {
                    return Err(bad(format!(
                        "{label}: {text:?} is not a whole number of at least {least} (hint: leave it empty for the default)"
                    )));
                };
                object.insert((*key).to_owned(), json!(number));
            }
        }
    }
    handlers::put_setting(
        State(state),
        user.caller,
        Path("job_defaults".to_owned()),
        Json(defaults),
    )
    .await?;
    Ok(redirect_with("/settings", "Job defaults saved."))
}

pub async fn add_site(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let input = SiteInput {
        name: form.get("name").unwrap_or("").trim().to_owned(),
        description: String::new(),
    };
    let _created = handlers::add_site(State(state), user.caller, Json(input)).await?;
    Ok(redirect_with("/settings", "Site added."))
}

pub async fn add_distribution_server(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let input = DistributionServerInput {
        name: form.get("name").unwrap_or("").trim().to_owned(),
        url: form.get("url").unwrap_or("").trim().to_owned(),
        site_ids: form.ids("site")?,
    };
    let _created =
        handlers::add_distribution_server(State(state), user.caller, Json(input)).await?;
    Ok(redirect_with("/settings", "Distribution server added."))
}

pub async fn delete_distribution_server(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Page> {
    handlers::delete_distribution_server(State(state), user.caller, Path(id)).await?;
    Ok(redirect_with("/settings", "Distribution server deleted."))
}

pub async fn add_user(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let input = UserInput {
        name: form.get("name").unwrap_or("").trim().to_owned(),
        password: form.get("password").unwrap_or("").to_owned(),
        role: form.get("role").unwrap_or("viewer").to_owned(),
    };
    let _created = handlers::add_user(State(state), user.caller, Json(input)).await?;
    Ok(redirect_with("/settings", "User added."))
}

pub async fn delete_user(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Page> {
    handlers::delete_user(State(state), user.caller, Path(id)).await?;
    Ok(redirect_with("/settings", "User deleted."))
}

pub async fn add_token(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let input = TokenInput {
        name: form.get("name").unwrap_or("").trim().to_owned(),
        role: form.get("role").map(str::to_owned),
        days: form.number("days")?,
    };
    let (_, Json(issued)) =
        handlers::add_token(State(state.clone()), user.caller.clone(), Json(input)).await?;
    // Shown in this answer only, never put in a URL (history, logs).
    let page = settings_page(&state, &user, Some("Token issued."), Some(&issued.token)).await?;
    Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
}

pub async fn delete_token(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Page> {
    handlers::delete_token(State(state), user.caller, Path(id)).await?;
    Ok(redirect_with("/settings", "Token revoked."))
}
