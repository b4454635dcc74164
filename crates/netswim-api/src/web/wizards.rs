//! Upgrade analysis report and the distribute, activate, commit and
//! rollback wizards.
//! Each wizard step is a GET form carrying the earlier answers as hidden
//! fields; the last step POSTs and the engine records the job.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use netswim_domain::analysis::Readiness;
use netswim_engine::upgrade::{
    ActivationMode, ActivationOptions, ActivationSpec, AnalysisReport, AnalysisSpec, CommitSpec,
    DeviceSelector, DistributionSpec, FailurePolicy, Protocol, Recurrence, RollbackSpec, Schedule,
    XeMode,
};
use netswim_store::{Image, Role, Status};
use serde_json::{Value, json};

use super::pages::{DeviceRow, device_rows, filter_form, filter_rows, name_of};
use super::{Form, Page, PageResult, Section, WebUser, bytes, layout, status_badge};
use crate::{ApiError, AppState, handlers};

fn bad(message: impl Into<String>) -> Page {
    Page(ApiError::BadRequest(message.into()))
}

fn query_form(query: Option<String>) -> Form {
    Form::parse(query.as_deref().unwrap_or(""))
}

fn steps(names: &[&str], current: usize) -> Markup {
    html! {
        ol.steps aria-label="Steps" {
            @for (index, name) in names.iter().enumerate() {
                @if index + 1 == current {
                    li aria-current="step" { (name) }
                } @else {
                    li { (name) }
                }
            }
        }
    }
}

fn image_choice(images: &[Image], chosen: Option<i64>) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { span.muted { "Pick" } } th scope="col" { "File name" } th scope="col" { "Family" }
                th scope="col" { "Version" } th.num scope="col" { "Size" }
            } }
            tbody {
                @for image in images {
                    tr {
                        td { input type="radio" name="image_id" id={ "image-" (image.id) } value=(image.id) checked[chosen == Some(image.id)] required; }
                        td { label.mono for={ "image-" (image.id) } { (image.file_name) } }
                        td { (image.family.as_deref().unwrap_or("")) }
                        td { (image.version.as_deref().unwrap_or("")) }
                        td.num { (bytes(image.size_bytes)) }
                    }
                }
                @if images.is_empty() { tr { td colspan="5" { "No images. " a href="/images#import" { "Import one" } " first." } } }
            }
        }
    }
}

/// The readiness of `ids` for the image; the engine's error when it fails.
async fn readiness(
    state: &AppState,
    image_id: i64,
    ids: Vec<i64>,
) -> Result<AnalysisReport, ApiError> {
    if ids.is_empty() {
        return Err(ApiError::BadRequest(
            "no device matches (hint: widen the filters)".into(),
        ));
    }
    let spec = AnalysisSpec {
        name: None,
        image_id,
        devices: DeviceSelector {
            ids,
            ..DeviceSelector::default()
        },
        method: None,
    };
    Ok(state.engine.analyse(&spec).await?)
}

fn reasons(row: &Readiness) -> String {
    let mut reasons = row.reasons();
    reasons.extend(row.warnings.iter().map(ToString::to_string));
    reasons.join("; ")
}

fn readiness_cells(row: Option<&Readiness>) -> Markup {
    html! {
        @match row {
            Some(row) => {
                td { (status_badge(row.status())) }
                td { (row.method.to_string()) }
                td { (row.device_version.as_deref().unwrap_or("?")) " → " (row.image_version.as_deref().unwrap_or("?")) " (" (name_of(&row.direction)) ")" }
                td.muted { (reasons(row)) }
            },
            None => { td { span.badge { "unknown" } } td {} td {} td {} },
        }
    }
}

fn engine_error(error: &ApiError) -> Markup {
    let (_, hint) = error.status_and_hint();
    html! {
        p.error role="alert" { (error.to_string()) }
        p.muted { "Hint: " (hint) }
    }
}

// ---------------------------------------------------------------- analysis

pub async fn analysis(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = query_form(query);
    let images = state.engine.store().list_images().await?;
    let image_id: Option<i64> = form.number("image_id")?;
    let all = device_rows(&state).await?;
    let filters = filter_form(&all, &form, "/analysis", &["image_id"]);
    let mut rows = all;
    filter_rows(&mut rows, &form);
    let ids: Vec<i64> = rows.iter().map(|row| row.device.id).collect();
    let report = match image_id {
        Some(image_id) => Some(readiness(&state, image_id, ids.clone()).await),
        None => None,
    };
    let content = html! {
        form method="get" action="/analysis" {
            @for name in ["site", "role", "platform", "version", "compliance"] {
                @if let Some(value) = form.get(name) { input type="hidden" name=(name) value=(value); }
            }
            div.field {
                label for="image" { "Image" }
                select #image name="image_id" required {
                    option value="" { "choose an image" }
                    @for image in &images {
                        option value=(image.id) selected[image_id == Some(image.id)] { (image.file_name) " (" (image.version.as_deref().unwrap_or("?")) ")" }
                    }
                }
                " "
                button type="submit" { "Analyse" }
            }
        }
        (filters)
        @match &report {
            None => { p.muted { "Choose an image to see, per device, whether it fits: platform, RAM, flash on every member, method." } },
            Some(Err(error)) => { (engine_error(error)) },
            Some(Ok(report)) => {
                div.cards aria-label="Summary" {
                    div.card { div.n { (report.summary.ready) } div { (status_badge("ready")) } }
                    div.card { div.n { (report.summary.not_ready) } div { (status_badge("not_ready")) } }
                    div.card { div.n { (report.summary.not_applicable) } div { (status_badge("not_applicable")) } }
                }
                (report_table(report, &rows))
                form method="post" action="/analysis" {
                    input type="hidden" name="image_id" value=(report.image_id);
                    @for id in &ids { input type="hidden" name="device" value=(id); }
                    button.secondary type="submit" { "Save as analysis job" }
                    " "
                    a.button href={ "/distribute?step=2&image_id=" (report.image_id) } { "Distribute this image" }
                }
            },
        }
    };
    Ok(layout(
        &user,
        Section::Analysis,
        "Upgrade analysis",
        form.get("msg"),
        content,
    ))
}

fn report_table(report: &AnalysisReport, rows: &[DeviceRow]) -> Markup {
    let site_of: BTreeMap<&str, &str> = rows
        .iter()
        .map(|row| (row.device.name.as_str(), row.site.as_deref().unwrap_or("")))
        .collect();
    html! {
        table #analysis-report {
            thead { tr {
                th scope="col" { "Device" } th scope="col" { "Site" } th scope="col" { "Readiness" } th scope="col" { "Method" }
                th scope="col" { "Version" } th scope="col" { "RAM" } th scope="col" { "Flash (free / needed)" } th scope="col" { "Reasons and warnings" }
            } }
            tbody {
                @for row in &report.rows {
                    tr {
                        td { (row.device) }
                        td { (site_of.get(row.device.as_str()).copied().unwrap_or("")) }
                        td { (status_badge(row.status())) }
                        td { (row.method.to_string()) }
                        td { (row.device_version.as_deref().unwrap_or("?")) " → " (row.image_version.as_deref().unwrap_or("?")) " (" (name_of(&row.direction)) ")" }
                        td {
                            (row.ram.available_bytes.map(bytes).unwrap_or_else(|| "?".into())) " / "
                            (row.ram.required_bytes.map(bytes).unwrap_or_else(|| "?".into()))
                        }
                        td {
                            @for flash in &row.flash {
                                div {
                                    (flash.filesystem)
                                    @if let Some(member) = flash.member { " (member " (member) ")" }
                                    ": " (bytes(flash.free_bytes)) " / " (bytes(flash.required_bytes))
                                    @if flash.image_present { " · present" }
                                    @if !flash.ok { " · " (status_badge("not_ready")) }
                                }
                            }
                        }
                        td.muted { (reasons(row)) }
                    }
                }
            }
        }
    }
}

pub async fn save_analysis(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    let form = Form::parse(&body);
    user.caller.require(Role::Operator, "run analyses")?;
    let image_id = form
        .number("image_id")?
        .ok_or_else(|| bad("choose an image (hint: pick one in the list)"))?;
    let spec = AnalysisSpec {
        name: None,
        image_id,
        devices: DeviceSelector {
            ids: form.ids("device")?,
            ..DeviceSelector::default()
        },
        method: None,
    };
    let job = state
        .engine
        .submit_analysis(spec, Schedule::default(), &user.caller.name)
        .await?;
    user.caller
        .audit(
            &state,
            "job.analysis",
            format!("job:{}", job.id),
            json!({"image_id": image_id}),
        )
        .await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

// ---------------------------------------------------------------- distribute

const DISTRIBUTE_STEPS: [&str; 5] = ["Image", "Devices", "Review", "Options", "Schedule"];

pub async fn distribute(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = query_form(query);
    let store = state.engine.store();
    let images = store.list_images().await?;
    let image_id: Option<i64> = form.number("image_id")?;
    let step = match (form.number::<usize>("step")?, image_id) {
        (_, None) => 1,
        (None, Some(_)) => 2,
        (Some(step), Some(_)) => step.clamp(1, 5),
    };
    let image = match image_id {
        Some(id) => Some(store.get_image(id).await?),
        None => None,
    };
    let title = match &image {
        Some(image) => format!("Distribute {}", image.file_name),
        None => "Distribute an image".to_owned(),
    };
    let body = match (step, image_id) {
        (2, Some(image_id)) => distribute_devices(&state, &form, image_id).await?,
        (3, Some(image_id)) => distribute_review(&state, &form, image_id).await?,
        (4, Some(_)) => distribute_options(&state, &form).await?,
        (5, Some(_)) => schedule_step(&form, "/distribute", "Start distribution"),
        _ => html! {
            form method="get" action="/distribute" {
                input type="hidden" name="step" value="2";
                (image_choice(&images, image_id))
                button type="submit" { "Next: devices" }
            }
        },
    };
    let content = html! {
        (steps(&DISTRIBUTE_STEPS, step))
        div #wizard { (body) }
    };
    Ok(layout(
        &user,
        Section::Distribute,
        &title,
        form.get("msg"),
        content,
    ))
}

async fn distribute_devices(state: &AppState, form: &Form, image_id: i64) -> PageResult {
    let all = device_rows(state).await?;
    let filters = filter_form(&all, form, "/distribute", &["image_id", "step"]);
    let mut rows = all;
    filter_rows(&mut rows, form);
    let ids: Vec<i64> = rows.iter().map(|row| row.device.id).collect();
    let report = readiness(state, image_id, ids).await;
    let by_name: BTreeMap<&str, &Readiness> = match &report {
        Ok(report) => report
            .rows
            .iter()
            .map(|row| (row.device.as_str(), row))
            .collect(),
        Err(_) => BTreeMap::new(),
    };
    let chosen = form.all("device");
    Ok(html! {
        (filters)
        @if let Err(error) = &report { (engine_error(error)) }
        form method="get" action="/distribute" {
            input type="hidden" name="image_id" value=(image_id);
            input type="hidden" name="step" value="3";
            table #device-readiness {
                thead { tr {
                    th scope="col" { span.muted { "Pick" } } th scope="col" { "Device" } th scope="col" { "Site" }
                    th scope="col" { "Model" } th scope="col" { "Readiness" } th scope="col" { "Method" }
                    th scope="col" { "Version" } th scope="col" { "Reasons" }
                } }
                tbody {
                    @for row in &rows {
                        @let ready = by_name.get(row.device.name.as_str()).copied();
                        @let id = row.device.id.to_string();
                        tr data-readiness=(ready.map(Readiness::status).unwrap_or("unknown")) {
                            td { input type="checkbox" name="device" id={ "device-" (id) } value=(id)
                                checked[chosen.contains(&id.as_str())]
                                aria-label={ "Select " (row.device.name) }; }
                            td { label for={ "device-" (id) } { (row.device.name) } }
                            td { (row.site.as_deref().unwrap_or("")) }
                            td { (row.device.platform.as_deref().unwrap_or("")) }
                            (readiness_cells(ready))
                        }
                    }
                }
            }
            button type="submit" { "Next: review" }
        }
    })
}

async fn distribute_review(state: &AppState, form: &Form, image_id: i64) -> PageResult {
    let ids = form.ids("device")?;
    if ids.is_empty() {
        return Err(bad(
            "select at least one device (hint: go back and tick devices)",
        ));
    }
    let store = state.engine.store();
    let servers = store.list_distribution_servers().await?;
    let report = readiness(state, image_id, ids.clone()).await;
    let mut devices = Vec::new();
    for id in &ids {
        devices.push(store.get_device(*id).await?);
    }
    let default_location = |name: &str| -> String {
        report
            .as_ref()
            .ok()
            .and_then(|report| report.rows.iter().find(|row| row.device == name))
            .and_then(|row| row.flash.first())
            .map(|flash| flash.filesystem.clone())
            .unwrap_or_else(|| "flash:".into())
    };
    Ok(html! {
        @if let Err(error) = &report { (engine_error(error)) }
        p.muted { "Where each device stores the image and which server it pulls from. The defaults come from the analysis and the device's site." }
        form method="get" action="/distribute" {
            (form.carry(&["step", "loc_*", "ds_*"]))
            input type="hidden" name="step" value="4";
            table #review {
                thead { tr { th scope="col" { "Device" } th scope="col" { "Location" } th scope="col" { "Distribution server" } } }
                tbody {
                    @for device in &devices {
                        @let loc = form.get(&format!("loc_{}", device.name)).map(str::to_owned).unwrap_or_else(|| default_location(&device.name));
                        @let site_servers: Vec<_> = servers.iter().filter(|server| device.site_id.is_some_and(|site| server.site_ids.contains(&site))).collect();
                        tr {
                            td { (device.name) }
                            td {
                                input name={ "loc_" (device.name) } value=(loc) size="14"
                                    aria-label={ "Location on " (device.name) };
                            }
                            td {
                                select name={ "ds_" (device.name) } aria-label={ "Distribution server for " (device.name) } {
                                    @if site_servers.is_empty() {
                                        option value="0" { "this server (no server for the site)" }
                                    } @else {
                                        option value="" { "the site's server (" (site_servers.iter().map(|server| server.name.as_str()).collect::<Vec<_>>().join(", ")) ")" }
                                        option value="0" { "this server" }
                                    }
                                    @for server in &servers {
                                        option value=(server.id) { (server.name) " " (server.url) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Next: options" }
        }
    })
}

async fn distribute_options(state: &AppState, form: &Form) -> PageResult {
    let protocols = state.engine.store().protocol_order().await?;
    Ok(html! {
        form method="get" action="/distribute" {
            (form.carry(&["step", "protocols", "backup_current_image", "erase_when_short", "tftp_fallback", "retries", "max_parallel", "max_parallel_per_site", "failure_policy", "activate", "activation_mode"]))
            input type="hidden" name="step" value="5";
            div.grid2 {
                section.panel {
                    h2 { "Transfer" }
                    div.field { label for="protocols" { "Protocol order" } input #protocols name="protocols" value=(protocols.join(", ")) size="30"; }
                    div.field { label for="retries" { "Retries per device" } input #retries name="retries" type="number" min="0" value="2"; }
                    div.field { label for="max_parallel" { "Devices at once" } input #max_parallel name="max_parallel" type="number" min="1" placeholder="job default"; }
                    div.field { label for="max_parallel_per_site" { "Devices at once per site" } input #max_parallel_per_site name="max_parallel_per_site" type="number" min="1" placeholder="no limit"; }
                    div.field {
                        label for="failure_policy" { "When a device fails" }
                        select #failure_policy name="failure_policy" { option value="continue" { "continue with the others" } option value="stop" { "stop starting new devices" } }
                    }
                }
                section.panel {
                    h2 { "Device" }
                    div.field { input #backup type="checkbox" name="backup_current_image" value="1"; " " label for="backup" { "Back up the running image into the repository first" } }
                    div.field { input #erase type="checkbox" name="erase_when_short" value="1"; " " label for="erase" { "Delete inactive images when flash is short" } }
                    div.field { input #tftp_fallback type="checkbox" name="tftp_fallback" value="1"; " " label for="tftp_fallback" { "Add a TFTP boot fallback" } }
                    div.field { input #activate type="checkbox" name="activate" value="1"; " " label for="activate" { "Activate after distribution (reload)" } }
                    div.field {
                        label for="activation_mode" { "Activation order" }
                        select #activation_mode name="activation_mode" { option value="parallel" { "parallel" } option value="sequential" { "sequential" } }
                    }
                }
            }
            button type="submit" { "Next: schedule" }
        }
    })
}

fn schedule_step(form: &Form, action: &str, submit: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            (form.carry(&["step", "at", "time_zone", "recurrence"]))
            section.panel {
                h2 { "When" }
                div.field { label for="at" { "Start at (empty: now)" } input #at name="at" type="datetime-local"; }
                div.field { label for="time_zone" { "Time zone" } input #time_zone name="time_zone" value="UTC" size="24"; }
                div.field {
                    label for="recurrence" { "Repeat" }
                    select #recurrence name="recurrence" {
                        @for option in ["none", "hourly", "daily", "weekly", "monthly"] { option value=(option) { (option) } }
                    }
                }
            }
            h2 { "Summary" }
            table { tbody {
                @for (key, value) in &form.0 {
                    @if key != "step" { tr { th scope="row" { (key) } td { (value) } } }
                }
            } }
            button type="submit" { (submit) }
        }
    }
}

fn schedule_of(form: &Form) -> Result<Schedule, Page> {
    let recurrence: Recurrence = serde_json::from_value(Value::String(
        form.get("recurrence").unwrap_or("none").to_owned(),
    ))
    .map_err(|_| bad("unknown recurrence (hint: none, hourly, daily, weekly, monthly)"))?;
    Ok(Schedule {
        at: form.get("at").map(str::to_owned),
        time_zone: form.get("time_zone").map(str::to_owned),
        recurrence,
    })
}

fn protocols_of(form: &Form) -> Result<Option<Vec<Protocol>>, Page> {
    let Some(text) = form.get("protocols") else {
        return Ok(None);
    };
    text.split([',', ' '])
        .filter(|name| !name.is_empty())
        .map(|name| {
            serde_json::from_value(Value::String(name.to_lowercase())).map_err(|_| {
                bad(format!(
                    "unknown protocol {name:?} (hint: scp, sftp, ftp, tftp, http, https)"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn failure_policy_of(form: &Form) -> Option<FailurePolicy> {
    match form.get("failure_policy") {
        Some("stop") => Some(FailurePolicy::Stop),
        Some("continue") => Some(FailurePolicy::Continue),
        _ => None,
    }
}

/// Builds the distribution the wizard's answers describe.
pub fn distribution_spec(form: &Form) -> Result<DistributionSpec, Page> {
    let image_id = form
        .number("image_id")?
        .ok_or_else(|| bad("choose an image (hint: start the wizard again)"))?;
    let ids = form.ids("device")?;
    if ids.is_empty() {
        return Err(bad(
            "select at least one device (hint: go back to the devices step)",
        ));
    }
    let mut locations = BTreeMap::new();
    let mut servers = BTreeMap::new();
    for (key, value) in &form.0 {
        if value.is_empty() {
            continue;
        }
        if let Some(device) = key.strip_prefix("loc_") {
            locations.insert(device.to_owned(), value.clone());
        } else if let Some(device) = key.strip_prefix("ds_") {
            let id = value
                .parse()
                .map_err(|_| bad(format!("distribution server of {device} must be a number")))?;
            servers.insert(device.to_owned(), id);
        }
    }
    let activate = form.checked("activate").then(|| ActivationOptions {
        mode: match form.get("activation_mode") {
            Some("sequential") => ActivationMode::Sequential,
            _ => ActivationMode::Parallel,
        },
        failure_policy: failure_policy_of(form),
        ..ActivationOptions::default()
    });
    Ok(DistributionSpec {
        name: form.get("name").map(str::to_owned),
        image_id,
        devices: DeviceSelector {
            ids,
            ..DeviceSelector::default()
        },
        protocols: protocols_of(form)?,
        location: None,
        locations,
        use_distribution_servers: None,
        distribution_servers: servers,
        backup_current_image: Some(form.checked("backup_current_image")),
        erase_when_short: Some(form.checked("erase_when_short")),
        tftp_fallback: Some(form.checked("tftp_fallback")),
        retries: form.number("retries")?,
        max_parallel: form.number("max_parallel")?,
        max_parallel_per_site: form.number("max_parallel_per_site")?,
        max_parallel_per_distribution_server: None,
        failure_policy: failure_policy_of(form),
        activate,
    })
}

pub async fn submit_distribution(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    user.caller.require(Role::Operator, "distribute images")?;
    let form = Form::parse(&body);
    let spec = distribution_spec(&form)?;
    let schedule = schedule_of(&form)?;
    // Unknown devices are refused before a job is recorded, as by the API.
    handlers::check_selector(&state, &spec.devices, true).await?;
    let image_id = spec.image_id;
    let job = state
        .engine
        .submit_distribution(spec, schedule, &user.caller.name)
        .await?;
    user.caller
        .audit(
            &state,
            "job.distribution",
            format!("job:{}", job.id),
            json!({"image_id": image_id}),
        )
        .await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

// ---------------------------------------------------------------- activate

const ACTIVATE_STEPS: [&str; 3] = ["Source", "Options", "Schedule"];

pub async fn activate(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = query_form(query);
    let store = state.engine.store();
    let step = form.number::<usize>("step")?.unwrap_or(1).clamp(1, 3);
    let body = match step {
        2 => activation_options(&form)?,
        3 => schedule_step(&form, "/activate", "Start activation"),
        _ => {
            let images = store.list_images().await?;
            let all = device_rows(&state).await?;
            let filters = filter_form(&all, &form, "/activate", &["source", "image_id"]);
            let mut rows = all;
            filter_rows(&mut rows, &form);
            let mut distributions = Vec::new();
            for job in store.list_jobs().await? {
                if job.kind == netswim_engine::upgrade::DISTRIBUTION_JOB
                    && matches!(job.status, Status::Success | Status::Partial)
                    && let Some(run) = store
                        .list_runs(job.id)
                        .await?
                        .into_iter()
                        .max_by_key(|run| run.id)
                {
                    distributions.push((job, run));
                }
            }
            let from_run = form.get("source") == Some("run");
            let image_id: Option<i64> = form.number("image_id")?;
            html! {
                nav.tabs aria-label="Activation source" {
                    @if from_run {
                        a href="/activate?source=library" { "From the library" }
                        a href="/activate?source=run" aria-current="page" { "From a distribution job" }
                    } @else {
                        a href="/activate?source=library" aria-current="page" { "From the library" }
                        a href="/activate?source=run" { "From a distribution job" }
                    }
                }
                @if from_run {
                    form method="get" action="/activate" {
                        input type="hidden" name="source" value="run";
                        input type="hidden" name="step" value="2";
                        table {
                            thead { tr { th scope="col" { span.muted { "Pick" } } th scope="col" { "Job" } th scope="col" { "Status" } th scope="col" { "Created" } } }
                            tbody {
                                @for (job, run) in &distributions {
                                    tr {
                                        td { input type="radio" name="from_run" id={ "run-" (run.id) } value=(run.id) required; }
                                        td { label for={ "run-" (run.id) } { "#" (job.id) " " (job.name) } }
                                        td { (status_badge(job.status.as_str())) }
                                        td.when { (super::when(job.created_at)) }
                                    }
                                }
                                @if distributions.is_empty() { tr { td colspan="4" { "No completed distribution job yet." } } }
                            }
                        }
                        p.muted { "Only the devices that received the image in that run are activated." }
                        button type="submit" { "Next: options" }
                    }
                } @else {
                    (filters)
                    form method="get" action="/activate" {
                        input type="hidden" name="source" value="library";
                        input type="hidden" name="step" value="2";
                        h2 { "Image (already on the devices)" }
                        (image_choice(&images, image_id))
                        h2 { "Devices" }
                        (device_checkboxes(&rows, &form))
                        button type="submit" { "Next: options" }
                    }
                }
            }
        }
    };
    let content = html! {
        (steps(&ACTIVATE_STEPS, step))
        div #wizard { (body) }
    };
    Ok(layout(
        &user,
        Section::Activate,
        "Activate an image",
        form.get("msg"),
        content,
    ))
}

fn device_checkboxes(rows: &[DeviceRow], form: &Form) -> Markup {
    let chosen = form.all("device");
    html! {
        table {
            thead { tr {
                th scope="col" { span.muted { "Pick" } } th scope="col" { "Device" } th scope="col" { "Site" }
                th scope="col" { "Model" } th scope="col" { "Version" }
            } }
            tbody {
                @for row in rows {
                    @let id = row.device.id.to_string();
                    tr {
                        td { input type="checkbox" name="device" id={ "device-" (id) } value=(id) checked[chosen.contains(&id.as_str())]; }
                        td { label for={ "device-" (id) } { (row.device.name) } }
                        td { (row.site.as_deref().unwrap_or("")) }
                        td { (row.device.platform.as_deref().unwrap_or("")) }
                        td { (row.version.as_deref().unwrap_or("")) }
                    }
                }
            }
        }
    }
}

fn activation_options(form: &Form) -> PageResult {
    Ok(html! {
        form method="get" action="/activate" {
            (form.carry(&["step", "mode", "max_parallel", "xe_mode", "commit", "reload_timeout_secs", "failure_policy"]))
            input type="hidden" name="step" value="3";
            section.panel {
                div.field {
                    label for="mode" { "Order" }
                    select #mode name="mode" { option value="parallel" { "parallel" } option value="sequential" { "sequential (next device after the previous one is back and validated)" } }
                }
                div.field { label for="max_parallel" { "Devices at once (parallel)" } input #max_parallel name="max_parallel" type="number" min="1" placeholder="job default"; }
                div.field {
                    label for="xe_mode" { "IOS-XE mode" }
                    select #xe_mode name="xe_mode" { option value="current" { "keep the current mode" } option value="install" { "install" } option value="bundle" { "bundle" } }
                }
                div.field { input #commit type="checkbox" name="commit" value="1" checked; " " label for="commit" { "IOS-XR: commit after a validated activation" } }
                div.field { label for="reload_timeout_secs" { "Reload timeout (seconds)" } input #reload_timeout_secs name="reload_timeout_secs" type="number" min="30" value="900"; }
                div.field {
                    label for="failure_policy" { "When a device fails" }
                    select #failure_policy name="failure_policy" { option value="continue" { "continue with the others" } option value="stop" { "stop starting new devices" } }
                }
            }
            button type="submit" { "Next: schedule" }
        }
    })
}

/// Builds the activation the wizard's answers describe.
pub fn activation_spec(form: &Form) -> Result<ActivationSpec, Page> {
    let from_run: Option<i64> = form.number("from_run")?;
    let image_id: Option<i64> = form.number("image_id")?;
    let ids = form.ids("device")?;
    if from_run.is_none() && (image_id.is_none() || ids.is_empty()) {
        return Err(bad(
            "choose a distribution job, or an image and devices (hint: go back to the source step)",
        ));
    }
    let xe_mode = match form.get("xe_mode") {
        Some("install") => XeMode::Install,
        Some("bundle") => XeMode::Bundle,
        _ => XeMode::Current,
    };
    Ok(ActivationSpec {
        name: form.get("name").map(str::to_owned),
        image_id: if from_run.is_some() { None } else { image_id },
        devices: DeviceSelector {
            ids: if from_run.is_some() { Vec::new() } else { ids },
            ..DeviceSelector::default()
        },
        from_run,
        options: ActivationOptions {
            mode: match form.get("mode") {
                Some("sequential") => ActivationMode::Sequential,
                _ => ActivationMode::Parallel,
            },
            max_parallel: form.number("max_parallel")?,
            xe_mode,
            commit: Some(form.checked("commit")),
            reload_timeout_secs: form.number("reload_timeout_secs")?,
            failure_policy: failure_policy_of(form),
        },
    })
}

pub async fn submit_activation(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    user.caller.require(Role::Operator, "activate images")?;
    let form = Form::parse(&body);
    let spec = activation_spec(&form)?;
    let schedule = schedule_of(&form)?;
    let detail = json!({"image_id": spec.image_id, "from_run": spec.from_run});
    // A run's devices may be narrowed; without a run, devices are needed.
    handlers::check_selector(&state, &spec.devices, spec.from_run.is_none()).await?;
    let job = state
        .engine
        .submit_activation(spec, schedule, &user.caller.name)
        .await?;
    user.caller
        .audit(&state, "job.activation", format!("job:{}", job.id), detail)
        .await?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

// ---------------------------------------------------------------- commit

pub async fn commit(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = query_form(query);
    let mut rows = device_rows(&state).await?;
    rows.retain(|row| row.device.os.map(|os| os.as_str()) == Some("iosxr"));
    let content = html! {
        p.muted { "Commit the active IOS-XR software so it survives a reload." }
        form method="post" action="/commit" {
            (device_checkboxes(&rows, &form))
            button type="submit" { "Commit" }
        }
    };
    Ok(layout(
        &user,
        Section::Dashboard,
        "Commit IOS-XR software",
        form.get("msg"),
        content,
    ))
}

pub async fn submit_commit(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    user.caller.require(Role::Operator, "commit software")?;
    let form = Form::parse(&body);
    let devices = ticked_devices(&state, &form, "tick IOS-XR devices").await?;
    let spec = CommitSpec {
        name: None,
        devices,
    };
    let job = state
        .engine
        .submit_commit(spec.clone(), Schedule::default(), &user.caller.name)
        .await?;
    audit_devices(&state, &user, "job.commit", job.id, &spec.devices).await
}

/// The ticked devices as a selector; none ticked or one unknown is refused
/// (with `hint`) before any job is recorded, as the API does.
async fn ticked_devices(state: &AppState, form: &Form, hint: &str) -> Result<DeviceSelector, Page> {
    let ids = form.ids("device")?;
    if ids.is_empty() {
        return Err(bad(format!("select at least one device (hint: {hint})")));
    }
    let devices = DeviceSelector {
        ids,
        ..DeviceSelector::default()
    };
    handlers::check_selector(state, &devices, true).await?;
    Ok(devices)
}

/// Audits a job submitted for the ticked devices and shows the job.
async fn audit_devices(
    state: &AppState,
    user: &WebUser,
    action: &str,
    job_id: i64,
    devices: &DeviceSelector,
) -> Result<Response, Page> {
    user.caller
        .audit(
            state,
            action,
            format!("job:{job_id}"),
            json!({"device_ids": devices.ids}),
        )
        .await?;
    Ok(Redirect::to(&format!("/jobs/{job_id}")).into_response())
}

// ---------------------------------------------------------------- rollback

pub async fn rollback(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = query_form(query);
    let rows = device_rows(&state).await?;
    let content = html! {
        p.muted {
            "Put devices back on their previous software. IOS and IOS-XE: boot the image the last "
            "activation replaced (or the next entry of the boot variable) and reload. IOS-XR: "
            "roll back to the last committed software, which reloads. Each device is validated "
            "on the version it returns with."
        }
        form method="post" action="/rollback" {
            (device_checkboxes(&rows, &form))
            section.panel {
                div.field {
                    label for="reload_timeout_secs" { "Reload timeout (seconds)" }
                    input #reload_timeout_secs name="reload_timeout_secs" type="number" min="30" value="900";
                }
                div.field {
                    input #confirm type="checkbox" name="confirm" value="1" required;
                    " " label for="confirm" { "I understand the selected devices reload" }
                }
            }
            button type="submit" { "Roll back" }
        }
    };
    Ok(layout(
        &user,
        Section::Dashboard,
        "Roll back software",
        form.get("msg"),
        content,
    ))
}

pub async fn submit_rollback(
    State(state): State<AppState>,
    user: WebUser,
    body: String,
) -> Result<Response, Page> {
    user.caller.require(Role::Operator, "roll back software")?;
    let form = Form::parse(&body);
    if !form.checked("confirm") {
        return Err(bad(
            "a rollback reloads every selected device (hint: tick the confirmation box)",
        ));
    }
    let devices = ticked_devices(&state, &form, "tick the devices to roll back").await?;
    let spec = RollbackSpec {
        name: None,
        devices,
        reload_timeout_secs: form.number("reload_timeout_secs")?,
    };
    let job = state
        .engine
        .submit_rollback(spec.clone(), Schedule::default(), &user.caller.name)
        .await?;
    audit_devices(&state, &user, "job.rollback", job.id, &spec.devices).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wizard_answers_become_a_distribution_spec_with_per_device_overrides() {
        let form = Form::parse(
            "image_id=7&device=1&device=2&loc_sw1=flash2%3A&ds_sw1=3&ds_sw2=&protocols=tftp,+http\
             &retries=1&erase_when_short=1&activate=1&activation_mode=sequential&failure_policy=stop",
        );
        let spec = distribution_spec(&form).unwrap();
        assert_eq!(spec.image_id, 7);
        assert_eq!(spec.devices.ids, [1, 2]);
        assert_eq!(
            spec.locations.get("sw1").map(String::as_str),
            Some("flash2:")
        );
        assert_eq!(spec.distribution_servers.get("sw1"), Some(&3));
        assert!(!spec.distribution_servers.contains_key("sw2"));
        assert_eq!(spec.protocols, Some(vec![Protocol::Tftp, Protocol::Http]));
        assert_eq!(spec.retries, Some(1));
        assert_eq!(spec.erase_when_short, Some(true));
        assert_eq!(spec.backup_current_image, Some(false));
        assert_eq!(spec.failure_policy, Some(FailurePolicy::Stop));
        let activate = spec.activate.unwrap();
        assert_eq!(activate.mode, ActivationMode::Sequential);
    }

    #[test]
    fn wizard_refuses_a_distribution_without_devices_or_with_a_bad_protocol() {
        for (text, needle) in [
            ("image_id=1", "at least one device"),
            ("device=1", "choose an image"),
            ("image_id=1&device=1&protocols=gopher", "unknown protocol"),
            (
                "image_id=1&device=1&retries=two",
                "retries must be a number",
            ),
        ] {
            let error = distribution_spec(&Form::parse(text)).unwrap_err();
            assert!(error.0.to_string().contains(needle), "{text}: {}", error.0);
        }
    }

    #[test]
    fn activation_from_a_run_ignores_library_fields() {
        let spec = activation_spec(&Form::parse(
            "from_run=4&image_id=2&device=9&mode=sequential&commit=1",
        ))
        .unwrap();
        assert_eq!(spec.from_run, Some(4));
        assert_eq!(spec.image_id, None);
        assert!(spec.devices.ids.is_empty());
        assert_eq!(spec.options.mode, ActivationMode::Sequential);
        assert_eq!(spec.options.commit, Some(true));
        assert!(activation_spec(&Form::parse("image_id=2")).is_err());
    }
}
