//! Route handlers: check the caller's role, convert wire types, call the
//! store or the engine, write the audit row of every mutation.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, TryStreamExt};
use netswim_engine::credentials::DeviceSecrets;
use netswim_engine::upgrade::{JobControl, Recurrence};
use netswim_engine::{ImportSource, ImportSpec, SyncSpec};
use netswim_store::crypto::{generate_token, hash_password, hash_token, verify_password};
use netswim_store::{
    Device, Image, Job, NewApiToken, NewCredentialProfile, NewDevice, NewDistributionServer, Role,
    StoreError, Timestamp,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio_util::io::StreamReader;

use crate::auth::Caller;
use crate::wire::*;
use crate::{ApiError, AppState};

type ApiResult<T> = Result<T, ApiError>;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

// ---------------------------------------------------------------- login

pub async fn login(
    State(state): State<AppState>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<IssuedToken>> {
    let user = check_password(&state, &request.user, &request.password)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let (token, expires_at) = open_session(&state, &user, "login", 30, json!({})).await?;
    Ok(Json(IssuedToken {
        token,
        role: user.role.as_str().to_owned(),
        name: user.name,
        expires_at: Some(expires_at.as_millis()),
    }))
}

/// The user when `password` is theirs; `None` for an unknown user and a
/// wrong password alike.
pub(crate) async fn check_password(
    state: &AppState,
    name: &str,
    password: &str,
) -> ApiResult<Option<netswim_store::User>> {
    Ok(match state.engine.store().find_user_by_name(name).await? {
        Some(user) if verify_password(password, &user.password_hash)? => Some(user),
        _ => None,
    })
}

/// Issues a login token valid for `days` (named `<via> <user> <ms>`) and
/// writes the `user.login` audit row; returns the token and its expiry.
pub(crate) async fn open_session(
    state: &AppState,
    user: &netswim_store::User,
    via: &str,
    days: u64,
    details: Value,
) -> ApiResult<(String, Timestamp)> {
    let token = generate_token();
    let expires_at = Timestamp::now().plus(Duration::from_secs(days * 24 * 3600));
    state
        .engine
        .store()
        .insert_api_token(&NewApiToken {
            user_id: Some(user.id),
            name: format!("{via} {} {}", user.name, Timestamp::now().as_millis()),
            token_hash: hash_token(&token),
            role: user.role,
            expires_at: Some(expires_at),
        })
        .await?;
    let caller = Caller {
        name: user.name.clone(),
        role: user.role,
    };
    caller
        .audit(state, "user.login", format!("user:{}", user.id), details)
        .await?;
    Ok((token, expires_at))
}

// ---------------------------------------------------------------- images

pub async fn list_images(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<ImageView>>> {
    let images = state.engine.store().list_images().await?;
    Ok(Json(images.into_iter().map(ImageView::from).collect()))
}

pub async fn show_image(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImageView>> {
    Ok(Json(state.engine.store().get_image(id).await?.into()))
}

pub async fn delete_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator, "delete images")?;
    state.engine.delete_image(id).await?;
    caller
        .audit(&state, "image.delete", format!("image:{id}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn edit_requirements(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(edit): Json<RequirementsEdit>,
) -> ApiResult<Json<ImageView>> {
    caller.require(Role::Operator, "edit image requirements")?;
    let store = state.engine.store();
    let mut image = store.get_image(id).await?;
    if edit.min_ram_bytes.is_some() {
        image.min_ram_bytes = edit.min_ram_bytes;
    }
    if edit.min_flash_bytes.is_some() {
        image.min_flash_bytes = edit.min_flash_bytes;
    }
    for (name, value) in &edit.requirements {
        if value.is_null() {
            image.requirements.remove(name);
        } else {
            image.requirements.insert(name.clone(), value.clone());
        }
    }
    let updated = store.update_image(&image).await?;
    caller
        .audit(
            &state,
            "image.requirements",
            format!("image:{id}"),
            serde_json::to_value(&edit).unwrap_or_default(),
        )
        .await?;
    Ok(Json(updated.into()))
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    pub file_name: Option<String>,
    pub md5: Option<String>,
    pub sha512: Option<String>,
}

/// `POST /images`: the image bytes as the raw body (`?file_name=`), or a
/// `multipart/form-data` form with optional `md5`/`sha512`/`file_name`
/// fields before the `file` part. The body is streamed, never buffered.
pub async fn upload_image(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UploadQuery>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    caller.require(Role::Operator, "import images")?;
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    let mut spec = ImportSpec {
        expected_md5: query.md5.clone(),
        expected_sha512: query.sha512.clone(),
        ..ImportSpec::default()
    };
    let (job, outcome) = if is_multipart {
        use axum::extract::FromRequest;
        let mut multipart = Multipart::from_request(request, &state)
            .await
            .map_err(|error| bad(format!("malformed multipart body: {error}")))?;
        let mut file_name = query.file_name.clone();
        let mut result = None;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| bad(format!("malformed multipart body: {error}")))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let name = file_name
                    .clone()
                    .or_else(|| field.file_name().map(str::to_owned))
                    .ok_or_else(|| {
                        bad("the file part has no file name (hint: add a file_name field)")
                    })?;
                // The field borrows the form; a pipe lets the engine read it
                // while this future feeds it, without buffering the image.
                let (mut writer, reader) = tokio::io::duplex(256 * 1024);
                let (complete, completion) = tokio::sync::oneshot::channel();
                let feed = async move {
                    use tokio::io::AsyncWriteExt;
                    let mut field = field;
                    while let Some(chunk) = field
                        .chunk()
                        .await
                        .map_err(|error| bad(error.to_string()))?
                    {
                        if writer.write_all(&chunk).await.is_err() {
                            return Ok(());
                        }
                    }
                    // Only a part read to its end counts as the whole file.
                    let _ = complete.send(());
                    let _ = writer.shutdown().await;
                    Ok::<(), ApiError>(())
                };
                let import = state.engine.import_upload(
                    spec.clone(),
                    &name,
                    Box::new(reader),
                    Some(completion),
                    &caller.name,
                );
                let (fed, imported) = tokio::join!(feed, import);
                fed?;
                result = Some(imported?);
                break;
            }
            let text = field
                .text()
                .await
                .map_err(|error| bad(format!("malformed form field {name}: {error}")))?;
            // An empty field (a web form left blank) is no value.
            if text.trim().is_empty() {
                continue;
            }
            match name.as_str() {
                "md5" => spec.expected_md5 = Some(text),
                "sha512" => spec.expected_sha512 = Some(text),
                "file_name" => file_name = Some(text),
                "signature" => spec.signature = Some(text),
                _ => {}
            }
        }
        result.ok_or_else(|| bad("the form has no `file` part"))?
    } else {
        let file_name = query
            .file_name
            .clone()
            .ok_or_else(|| bad("a raw upload needs ?file_name=NAME"))?;
        let stream = request
            .into_body()
            .into_data_stream()
            .map_err(std::io::Error::other);
        let reader = StreamReader::new(stream);
        state
            .engine
            // The body stream reports a cut connection as an error itself.
            .import_upload(spec, &file_name, Box::new(reader), None, &caller.name)
            .await?
    };
    caller
        .audit(
            &state,
            "image.import",
            format!("image:{}", outcome.image.id),
            json!({"job_id": job.id, "source": "upload", "duplicate": outcome.duplicate, "sha256": outcome.image.sha256}),
        )
        .await?;
    let status = if outcome.duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ImportResult {
            job_id: job.id,
            duplicate: outcome.duplicate,
            verified: outcome.verified,
            image: outcome.image.into(),
        }),
    ))
}

/// `POST /images/import`: from a URL or a path on the server; answers the
/// job at once (202), the job carries the outcome.
pub async fn import_image(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<ImportRequest>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "import images")?;
    let source = match (request.device_id, &request.url, &request.path) {
        (Some(device_id), None, path) => ImportSource::Device {
            device_id,
            path: path.clone(),
        },
        (None, Some(url), None) => ImportSource::Url { url: url.clone() },
        (None, None, Some(path)) => ImportSource::File { path: path.into() },
        _ => {
            return Err(bad(
                "give exactly one of `url`, `path` or `device_id` (with an optional device `path`)",
            ));
        }
    };
    let spec = ImportSpec {
        source: Some(source),
        file_name: request.file_name.clone(),
        expected_md5: request.md5.clone(),
        expected_sha512: request.sha512.clone(),
        signature: request.signature.clone(),
        identity_file: request.identity_file.as_ref().map(Into::into),
    };
    let job = state.engine.submit_import(spec, &caller.name).await?;
    caller
        .audit(
            &state,
            "image.import",
            format!("job:{}", job.id),
            json!({"job_id": job.id}),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

// ---------------------------------------------------------------- devices

async fn resolve_device(state: &AppState, input: DeviceInput) -> ApiResult<NewDevice> {
    let os = match &input.os {
        Some(text) => Some(
            text.parse()
                .map_err(|error: netswim_domain::DomainError| bad(error.to_string()))?,
        ),
        None => None,
    };
    let credential_profile_id = match (&input.credential_profile, input.credential_profile_id) {
        (Some(name), _) => Some(
            state
                .engine
                .store()
                .find_credential_profile_by_name(name)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("credential profile {name} not found")))?
                .id,
        ),
        (None, id) => id,
    };
    if input.name.trim().is_empty() || input.host.trim().is_empty() {
        return Err(bad("a device needs a name and a host"));
    }
    Ok(NewDevice {
        name: input.name,
        os,
        platform: input.platform,
        host: input.host,
        port: input.port.unwrap_or(22),
        credential_profile_id,
        site_id: input.site_id,
        role: input.role,
        redundancy_peer_id: input.redundancy_peer_id,
    })
}

pub async fn list_devices(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<DeviceView>>> {
    let devices = state.engine.store().list_devices().await?;
    Ok(Json(devices.into_iter().map(DeviceView::from).collect()))
}

#[derive(Debug, serde::Serialize)]
pub struct DeviceDetail {
    #[serde(flatten)]
    device: DeviceView,
    facts: Option<Value>,
    facts_collected_at: Option<i64>,
}

pub async fn show_device(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeviceDetail>> {
    let store = state.engine.store();
    let device = store.get_device(id).await?;
    let facts = store.latest_device_facts(id).await?;
    Ok(Json(DeviceDetail {
        device: device.into(),
        facts_collected_at: facts
            .as_ref()
            .map(|snapshot| snapshot.collected_at.as_millis()),
        facts: facts.map(|snapshot| snapshot.facts),
    }))
}

pub async fn add_device(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<DeviceInput>,
) -> ApiResult<(StatusCode, Json<DeviceView>)> {
    caller.require(Role::Operator, "add devices")?;
    let new = resolve_device(&state, input).await?;
    let device = state.engine.store().insert_device(&new).await?;
    caller
        .audit(
            &state,
            "device.create",
            format!("device:{}", device.id),
            json!({"name": device.name, "host": device.host}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(device.into())))
}

pub async fn update_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(input): Json<DeviceInput>,
) -> ApiResult<Json<DeviceView>> {
    caller.require(Role::Operator, "change devices")?;
    let store = state.engine.store();
    let mut device = store.get_device(id).await?;
    let new = resolve_device(&state, input).await?;
    device.name = new.name;
    device.os = new.os;
    device.platform = new.platform;
    device.host = new.host;
    device.port = new.port;
    device.credential_profile_id = new.credential_profile_id;
    device.site_id = new.site_id;
    device.role = new.role;
    device.redundancy_peer_id = new.redundancy_peer_id;
    let updated = store.update_device(&device).await?;
    caller
        .audit(
            &state,
            "device.update",
            format!("device:{id}"),
            json!({"name": updated.name}),
        )
        .await?;
    Ok(Json(updated.into()))
}

pub async fn delete_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator, "delete devices")?;
    state.engine.store().delete_device(id).await?;
    caller
        .audit(&state, "device.delete", format!("device:{id}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /devices/import`: a CSV in the lab's `--inventory-out` format
/// (name, host, port, platform, username, password, site, role, peer and an
/// optional enable_secret); devices are created or updated by name, bad rows
/// come back by line number.
pub async fn import_devices(
    State(state): State<AppState>,
    caller: Caller,
    body: String,
) -> ApiResult<Json<netswim_engine::inventory::ImportReport>> {
    caller.require(Role::Operator, "import devices")?;
    let report =
        netswim_engine::inventory::import_csv(state.engine.store(), state.engine.key(), &body)
            .await?;
    caller
        .audit(
            &state,
            "device.import",
            "devices".into(),
            json!({
                "created": report.created.len(),
                "updated": report.updated.len(),
                "rejected_rows": report.errors.len(),
            }),
        )
        .await?;
    Ok(Json(report))
}

pub async fn sync_devices(
    State(state): State<AppState>,
    caller: Caller,
    body: Option<Json<SyncRequest>>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "sync devices")?;
    let request = body.map(|Json(request)| request).unwrap_or_default();
    let job = state
        .engine
        .submit_sync(
            SyncSpec {
                device_ids: request.device_ids.clone(),
            },
            &caller.name,
        )
        .await?;
    caller
        .audit(
            &state,
            "device.sync",
            format!("job:{}", job.id),
            json!({"device_ids": request.device_ids}),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

// ---------------------------------------------------------------- credentials

pub async fn list_credentials(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<CredentialView>>> {
    let profiles = state.engine.store().list_credential_profiles().await?;
    Ok(Json(
        profiles.into_iter().map(CredentialView::from).collect(),
    ))
}

pub async fn add_credential(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<CredentialInput>,
) -> ApiResult<(StatusCode, Json<CredentialView>)> {
    caller.require(Role::Admin, "manage credential profiles")?;
    let secrets = DeviceSecrets {
        password: input.password,
        enable_secret: input.enable_secret,
    };
    let sealed = secrets.seal(state.engine.key())?;
    let profile = state
        .engine
        .store()
        .insert_credential_profile(&NewCredentialProfile {
            name: input.name,
            username: input.username,
            secret: sealed,
        })
        .await?;
    caller
        .audit(
            &state,
            "credential.create",
            format!("credential:{}", profile.id),
            json!({"name": profile.name, "username": profile.username}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(profile.into())))
}

pub async fn delete_credential(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin, "manage credential profiles")?;
    state.engine.store().delete_credential_profile(id).await?;
    caller
        .audit(
            &state,
            "credential.delete",
            format!("credential:{id}"),
            json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- sites and distribution servers

pub async fn list_sites(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<SiteView>>> {
    let sites = state.engine.store().list_sites().await?;
    Ok(Json(sites.into_iter().map(SiteView::from).collect()))
}

pub async fn add_site(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<SiteInput>,
) -> ApiResult<(StatusCode, Json<SiteView>)> {
    caller.require(Role::Operator, "add sites")?;
    let site = state
        .engine
        .store()
        .insert_site(&input.name, &input.description)
        .await?;
    caller
        .audit(
            &state,
            "site.create",
            format!("site:{}", site.id),
            json!({"name": site.name}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

pub async fn delete_site(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator, "delete sites")?;
    state.engine.store().delete_site(id).await?;
    caller
        .audit(&state, "site.delete", format!("site:{id}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_distribution_servers(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<DistributionServerView>>> {
    let servers = state.engine.store().list_distribution_servers().await?;
    Ok(Json(
        servers
            .into_iter()
            .map(DistributionServerView::from)
            .collect(),
    ))
}

pub async fn add_distribution_server(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<DistributionServerInput>,
) -> ApiResult<(StatusCode, Json<DistributionServerView>)> {
    caller.require(Role::Operator, "add distribution servers")?;
    let server = state
        .engine
        .store()
        .insert_distribution_server(&NewDistributionServer {
            name: input.name,
            url: input.url,
            site_ids: input.site_ids,
        })
        .await?;
    caller
        .audit(
            &state,
            "distribution_server.create",
            format!("distribution_server:{}", server.id),
            json!({"name": server.name, "url": server.url}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(server.into())))
}

pub async fn delete_distribution_server(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Operator, "delete distribution servers")?;
    state.engine.store().delete_distribution_server(id).await?;
    caller
        .audit(
            &state,
            "distribution_server.delete",
            format!("distribution_server:{id}"),
            json!({}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- jobs

/// `GET /jobs`: each job with its latest run (run id, device count, start, end).
pub async fn list_jobs(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Vec<JobRow>>> {
    let store = state.engine.store();
    let jobs = store.list_jobs().await?;
    let mut rows = Vec::with_capacity(jobs.len());
    for job in jobs {
        // Newest run first.
        let run = store.list_runs(job.id).await?.into_iter().next();
        let tasks = match &run {
            Some(run) => Some(store.run_task_counts(run.id).await?.values().sum()),
            None => None,
        };
        rows.push(JobRow::new(job, run.as_ref(), tasks));
    }
    Ok(Json(rows))
}

pub async fn show_job(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobDetailView>> {
    let detail = state.engine.job_detail(id).await?;
    Ok(Json(JobDetailView {
        job: detail.job.into(),
        runs: detail
            .runs
            .into_iter()
            .map(|(run, tasks)| {
                RunView::new(
                    run,
                    tasks
                        .into_iter()
                        .map(|(task, operations)| TaskView::new(task, operations))
                        .collect(),
                )
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- upgrade jobs

const IMAGE_HINT: &str =
    "list images with `netswim image list` (GET /api/v1/images) and give an image id";
const DEVICE_HINT: &str =
    "`netswim device list` (GET /api/v1/devices) shows each device's name, site, role and platform";
const SELECTION_HINT: &str = "name devices, or choose them by site, role or platform, or all \
     (`devices`: {names, ids, sites, roles, platforms, all})";
const SCHEDULE_HINT: &str = "give `schedule.at` as RFC 3339 (2026-11-23T02:00:00+01:00) or a local \
     time (2026-11-23T02:00) with an IANA `time_zone` (Europe/Zurich); recurrence is one of \
     none, minute, hourly, daily, weekly, monthly, yearly";

fn invalid(message: impl Into<String>, hint: impl Into<String>) -> ApiError {
    ApiError::Invalid {
        message: message.into(),
        hint: hint.into(),
    }
}

fn missing(message: impl Into<String>, hint: impl Into<String>) -> ApiError {
    ApiError::Missing {
        message: message.into(),
        hint: hint.into(),
    }
}

/// Splits a job request into the spec (its fields at the top level) and the
/// `schedule`. A top-level field the spec does not know is refused: a typo
/// (`protocol` for `protocols`) would otherwise fall back to a default
/// without a word.
fn job_request<S: DeserializeOwned + Serialize>(
    body: Value,
    what: &str,
) -> ApiResult<(S, Schedule)> {
    let Value::Object(mut fields) = body else {
        return Err(invalid(
            format!("a {what} request must be a JSON object"),
            "send {\"image_id\": …, \"devices\": {…}, \"schedule\": {…}} (see /api/v1/openapi.json)",
        ));
    };
    let schedule = match fields.remove("schedule") {
        None | Some(Value::Null) => Schedule::default(),
        Some(value) => serde_json::from_value(value)
            .map_err(|error| invalid(format!("bad schedule: {error}"), SCHEDULE_HINT))?,
    };
    let spec: S = serde_json::from_value(Value::Object(fields.clone())).map_err(|error| {
        invalid(
            format!("bad {what} request: {error}"),
            "the body is the job spec's fields plus an optional `schedule` (see README, \"Upgrade jobs\")",
        )
    })?;
    if let Ok(Value::Object(known)) = serde_json::to_value(&spec) {
        if let Some(unknown) = fields.keys().find(|key| !known.contains_key(*key)) {
            let mut names: Vec<&str> = known.keys().map(String::as_str).collect();
            names.push("schedule");
            return Err(invalid(
                format!("unknown field `{unknown}` in a {what} request"),
                format!("known fields: {}", names.join(", ")),
            ));
        }
    }
    Ok((spec, schedule))
}

async fn check_image(state: &AppState, id: i64) -> ApiResult<Image> {
    match state.engine.store().get_image(id).await {
        Ok(image) => Ok(image),
        Err(StoreError::NotFound { .. }) => {
            Err(missing(format!("image {id} not found"), IMAGE_HINT))
        }
        Err(other) => Err(other.into()),
    }
}

/// The devices a selector chooses, checked before a job is recorded so a
/// mistake is answered at once with what is wrong and a hint (the engine
/// resolves the selector again when a run starts: the inventory may change
/// in between).
/// `required`: an empty selector is refused (else it chooses nothing).
pub(crate) async fn check_selector(
    state: &AppState,
    selector: &DeviceSelector,
    required: bool,
) -> ApiResult<Vec<Device>> {
    let store = state.engine.store();
    let devices = store.list_devices().await?;
    let sites = store.list_sites().await?;
    for name in &selector.sites {
        if !sites.iter().any(|site| site.name == *name) {
            return Err(missing(
                format!("site {name} not found"),
                "list sites with GET /api/v1/sites",
            ));
        }
    }
    for id in &selector.ids {
        if !devices.iter().any(|device| device.id == *id) {
            return Err(missing(format!("device {id} not found"), DEVICE_HINT));
        }
    }
    for name in &selector.names {
        if !devices.iter().any(|device| device.name == *name) {
            return Err(missing(format!("device {name} not found"), DEVICE_HINT));
        }
    }
    let filtered =
        !(selector.sites.is_empty() && selector.roles.is_empty() && selector.platforms.is_empty());
    if !selector.all && selector.ids.is_empty() && selector.names.is_empty() && !filtered {
        if required {
            return Err(invalid("no devices chosen", SELECTION_HINT));
        }
        return Ok(Vec::new());
    }
    // The engine's rule decides which devices match.
    let chosen = netswim_engine::upgrade::submit::select_devices(store, selector).await?;
    if chosen.is_empty() {
        let mut filters = Vec::new();
        for (label, values) in [
            ("site", &selector.sites),
            ("role", &selector.roles),
            ("platform", &selector.platforms),
        ] {
            if !values.is_empty() {
                filters.push(format!("{label} {}", values.join("|")));
            }
        }
        let what = if filters.is_empty() {
            "the inventory has no devices".to_owned()
        } else {
            format!("no device matches {}", filters.join(" and "))
        };
        return Err(invalid(what, DEVICE_HINT));
    }
    Ok(chosen)
}

/// A schedule the scheduler can follow: `at` with an offset, or a local
/// time that exists in `time_zone` (default UTC); the zone is an IANA name.
fn check_schedule(schedule: &Schedule) -> ApiResult<()> {
    let zone = match &schedule.time_zone {
        Some(name) => jiff::tz::TimeZone::get(name).map_err(|error| {
            invalid(
                format!("unknown time zone {name:?}: {error}"),
                SCHEDULE_HINT,
            )
        })?,
        None => jiff::tz::TimeZone::UTC,
    };
    if let Some(at) = &schedule.at {
        if at.parse::<jiff::Timestamp>().is_err() {
            let local: jiff::civil::DateTime = at.parse().map_err(|error| {
                invalid(
                    format!("cannot read schedule time {at:?}: {error}"),
                    SCHEDULE_HINT,
                )
            })?;
            local.to_zoned(zone).map_err(|error| {
                invalid(
                    format!("schedule time {at:?} does not exist in its time zone: {error}"),
                    SCHEDULE_HINT,
                )
            })?;
        }
    } else if schedule.time_zone.is_some() && schedule.recurrence == Recurrence::None {
        return Err(invalid(
            "a time zone without a time or a recurrence schedules nothing",
            SCHEDULE_HINT,
        ));
    }
    Ok(())
}

fn check_positive(value: Option<u32>, field: &str) -> ApiResult<()> {
    if value == Some(0) {
        return Err(invalid(
            format!("`{field}` is 0"),
            format!("give `{field}` at least 1, or leave it out for the default"),
        ));
    }
    Ok(())
}

fn check_activation_options(options: &ActivationOptions) -> ApiResult<()> {
    check_positive(options.max_parallel, "max_parallel")?;
    if options.reload_timeout_secs == Some(0) {
        return Err(invalid(
            "`reload_timeout_secs` is 0",
            "give the seconds a reloading device may take to come back (default 900)",
        ));
    }
    Ok(())
}

/// Audits a submitted job and answers it (202: the job runs on its own).
async fn submitted(
    state: &AppState,
    caller: &Caller,
    job: Job,
    schedule: &Schedule,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller
        .audit(
            state,
            &format!("job.{}", job.kind),
            format!("job:{}", job.id),
            json!({"name": job.name, "schedule": schedule}),
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// `POST /analysis`: readiness of the devices for the image now, no job.
pub async fn analyse_now(
    State(state): State<AppState>,
    _caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<Json<AnalysisReport>> {
    let (spec, schedule): (AnalysisSpec, Schedule) = job_request(body, "analysis")?;
    if schedule != Schedule::default() {
        return Err(invalid(
            "a live analysis takes no schedule",
            "POST /api/v1/jobs/analysis schedules an analysis job",
        ));
    }
    check_image(&state, spec.image_id).await?;
    check_selector(&state, &spec.devices, true).await?;
    Ok(Json(state.engine.analyse(&spec).await?))
}

pub async fn submit_analysis(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "submit analysis jobs")?;
    let (spec, schedule): (AnalysisSpec, Schedule) = job_request(body, "analysis")?;
    check_schedule(&schedule)?;
    check_image(&state, spec.image_id).await?;
    check_selector(&state, &spec.devices, true).await?;
    let job = state
        .engine
        .submit_analysis(spec, schedule.clone(), &caller.name)
        .await?;
    submitted(&state, &caller, job, &schedule).await
}

pub async fn submit_distribution(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "submit distribution jobs")?;
    let (spec, schedule): (DistributionSpec, Schedule) = job_request(body, "distribution")?;
    check_schedule(&schedule)?;
    check_image(&state, spec.image_id).await?;
    let chosen = check_selector(&state, &spec.devices, true).await?;
    if spec.protocols.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid(
            "`protocols` is empty",
            "list protocols in order of preference (scp, sftp, ftp, tftp, http, https) or leave it out for the `protocol_order` setting",
        ));
    }
    check_positive(spec.max_parallel, "max_parallel")?;
    check_positive(spec.max_parallel_per_site, "max_parallel_per_site")?;
    check_positive(
        spec.max_parallel_per_distribution_server,
        "max_parallel_per_distribution_server",
    )?;
    for name in spec
        .locations
        .keys()
        .chain(spec.distribution_servers.keys())
    {
        if !chosen.iter().any(|device| device.name == *name) {
            return Err(invalid(
                format!("a per-device option names {name}, which the job does not choose"),
                "per-device `locations` and `distribution_servers` take names of chosen devices",
            ));
        }
    }
    if let Some(activate) = &spec.activate {
        check_activation_options(activate)?;
    }
    let job = state
        .engine
        .submit_distribution(spec, schedule.clone(), &caller.name)
        .await?;
    submitted(&state, &caller, job, &schedule).await
}

pub async fn submit_activation(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "submit activation jobs")?;
    let (spec, schedule): (ActivationSpec, Schedule) = job_request(body, "activation")?;
    check_schedule(&schedule)?;
    check_activation_options(&spec.options)?;
    match (spec.image_id, spec.from_run) {
        (None, None) => {
            return Err(invalid(
                "an activation needs an image or a distribution run",
                "give `image_id` (the image already on the devices) or `from_run` (a distribution run id from `netswim job list`)",
            ));
        }
        (Some(_), Some(_)) => {
            return Err(invalid(
                "give either `image_id` or `from_run`, not both",
                "an activation from a distribution run activates that run's image",
            ));
        }
        (Some(image_id), None) => {
            check_image(&state, image_id).await?;
            check_selector(&state, &spec.devices, true).await?;
        }
        (None, Some(run_id)) => {
            let store = state.engine.store();
            let run = match store.get_run(run_id).await {
                Ok(run) => run,
                Err(StoreError::NotFound { .. }) => {
                    return Err(missing(
                        format!("run {run_id} not found"),
                        "`netswim job list` shows each job's latest run id",
                    ));
                }
                Err(other) => return Err(other.into()),
            };
            let job = store.get_job(run.job_id).await?;
            if job.kind != netswim_engine::upgrade::DISTRIBUTION_JOB {
                return Err(invalid(
                    format!(
                        "run {run_id} is a run of {} job {}, not of a distribution",
                        job.kind, job.id
                    ),
                    "give the run id of a distribution job",
                ));
            }
            // Devices, when given, narrow the run's successful devices.
            check_selector(&state, &spec.devices, false).await?;
        }
    }
    let job = state
        .engine
        .submit_activation(spec, schedule.clone(), &caller.name)
        .await?;
    submitted(&state, &caller, job, &schedule).await
}

pub async fn submit_commit(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "submit commit jobs")?;
    let (spec, schedule): (CommitSpec, Schedule) = job_request(body, "commit")?;
    check_schedule(&schedule)?;
    check_selector(&state, &spec.devices, true).await?;
    let job = state
        .engine
        .submit_commit(spec, schedule.clone(), &caller.name)
        .await?;
    submitted(&state, &caller, job, &schedule).await
}

pub async fn submit_rollback(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<Value>,
) -> ApiResult<(StatusCode, Json<JobView>)> {
    caller.require(Role::Operator, "submit rollback jobs")?;
    let (spec, schedule): (RollbackSpec, Schedule) = job_request(body, "rollback")?;
    check_schedule(&schedule)?;
    check_selector(&state, &spec.devices, true).await?;
    if spec.reload_timeout_secs == Some(0) {
        return Err(invalid(
            "`reload_timeout_secs` is 0",
            "give the seconds a reloading device may take to come back (default 900)",
        ));
    }
    let job = state
        .engine
        .submit_rollback(spec, schedule.clone(), &caller.name)
        .await?;
    submitted(&state, &caller, job, &schedule).await
}

async fn control(
    state: AppState,
    caller: Caller,
    id: i64,
    control: JobControl,
) -> ApiResult<Json<JobView>> {
    let verb = match control {
        JobControl::Cancel => "cancel",
        JobControl::Pause => "pause",
        JobControl::Resume => "resume",
    };
    caller.require(Role::Operator, &format!("{verb} jobs"))?;
    state.engine.store().get_job(id).await?;
    let job = state.engine.control_job(id, control).await?;
    caller
        .audit(
            &state,
            &format!("job.{verb}"),
            format!("job:{id}"),
            json!({"status": job.status.as_str()}),
        )
        .await?;
    Ok(Json(job.into()))
}

pub async fn cancel_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    control(state, caller, id, JobControl::Cancel).await
}

pub async fn pause_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    control(state, caller, id, JobControl::Pause).await
}

pub async fn resume_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobView>> {
    control(state, caller, id, JobControl::Resume).await
}

pub async fn job_summary(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobSummary>> {
    state.engine.store().get_job(id).await?;
    Ok(Json(state.engine.job_summary(id).await?))
}

/// `GET /jobs/{id}/log`: the job's log as a text file download.
pub async fn job_log(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    state.engine.store().get_job(id).await?;
    let log = state.engine.job_log(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"netswim-job-{id}.log\""),
            ),
        ],
        log,
    ))
}

/// `GET /jobs/{id}/analysis`: the report of an analysis job's latest run.
pub async fn job_analysis(
    State(state): State<AppState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Json<AnalysisReport>> {
    let job = state.engine.store().get_job(id).await?;
    if job.kind != netswim_engine::upgrade::ANALYSIS_JOB {
        return Err(invalid(
            format!("job {id} is not an analysis (its kind is {})", job.kind),
            "`netswim job list` shows each job's kind",
        ));
    }
    Ok(Json(state.engine.analysis_report(id).await?))
}

// ---------------------------------------------------------------- settings

pub async fn list_settings(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let settings = state.engine.store().list_settings().await?;
    Ok(Json(Value::Object(settings.into_iter().collect())))
}

pub async fn put_setting(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    Json(value): Json<Value>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin, "change settings")?;
    state.engine.store().set_setting(&key, &value).await?;
    caller
        .audit(
            &state,
            "setting.set",
            format!("setting:{key}"),
            json!({"value": value}),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- users and tokens

pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<UserView>>> {
    caller.require(Role::Admin, "list users")?;
    let users = state.engine.store().list_users().await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
}

pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<UserInput>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    caller.require(Role::Admin, "add users")?;
    let role: Role = input.role.parse()?;
    if input.password.len() < 8 {
        return Err(bad("a password needs at least 8 characters"));
    }
    let user = state
        .engine
        .store()
        .insert_user(&input.name, &hash_password(&input.password)?, role)
        .await?;
    caller
        .audit(
            &state,
            "user.create",
            format!("user:{}", user.id),
            json!({"name": user.name, "role": role.as_str()}),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin, "delete users")?;
    state.engine.store().delete_user(id).await?;
    caller
        .audit(&state, "user.delete", format!("user:{id}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<TokenView>>> {
    caller.require(Role::Admin, "list API tokens")?;
    let tokens = state.engine.store().list_api_tokens(None).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

pub async fn add_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<TokenInput>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    caller.require(Role::Admin, "issue API tokens")?;
    let role: Role = input.role.as_deref().unwrap_or("viewer").parse()?;
    let token = generate_token();
    let expires_at = input
        .days
        .map(|days| Timestamp::now().plus(Duration::from_secs(days * 24 * 3600)));
    let stored = state
        .engine
        .store()
        .insert_api_token(&NewApiToken {
            user_id: None,
            name: input.name.clone(),
            token_hash: hash_token(&token),
            role,
            expires_at,
        })
        .await?;
    caller
        .audit(
            &state,
            "token.create",
            format!("token:{}", stored.id),
            json!({"name": input.name, "role": role.as_str()}),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token,
            role: role.as_str().to_owned(),
            name: input.name,
            expires_at: expires_at.map(Timestamp::as_millis),
        }),
    ))
}

pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    caller.require(Role::Admin, "revoke API tokens")?;
    state.engine.store().delete_api_token(id).await?;
    caller
        .audit(&state, "token.delete", format!("token:{id}"), json!({}))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AuditView>>> {
    caller.require(Role::Admin, "read the audit log")?;
    let entries = state.engine.store().list_audit(1000).await?;
    Ok(Json(entries.into_iter().map(AuditView::from).collect()))
}

// ---------------------------------------------------------------- events, metrics, openapi

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    pub job_id: Option<i64>,
}

/// Live events as server-sent events (`event:` = kind, `data:` = JSON).
pub async fn events(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<EventsQuery>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = state.engine.subscribe();
    let wanted = query.job_id;
    let stream = tokio_stream::wrappers::BroadcastStream::new(receiver).filter_map(move |event| {
        let item = match event {
            Ok(event) if wanted.is_none() || event.job_id == wanted => {
                let data = json!({
                    "id": event.id,
                    "at": event.at.as_millis(),
                    "kind": event.kind,
                    "job_id": event.job_id,
                    "run_id": event.run_id,
                    "task_id": event.task_id,
                    "payload": event.payload,
                });
                Some(Ok(SseEvent::default()
                    .id(event.id.to_string())
                    .event(event.kind.clone())
                    .data(data.to_string())))
            }
            _ => None,
        };
        std::future::ready(item)
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

pub async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let store = state.engine.store();
    let mut text = state.metrics.render();
    let images = store.list_images().await?;
    let bytes: u64 = images.iter().map(|image| image.size_bytes).sum();
    text.push_str("# HELP netswim_images Images in the repository.\n# TYPE netswim_images gauge\n");
    text.push_str(&format!("netswim_images {}\n", images.len()));
    text.push_str(
        "# HELP netswim_image_bytes Bytes of all images.\n# TYPE netswim_image_bytes gauge\n",
    );
    text.push_str(&format!("netswim_image_bytes {bytes}\n"));
    let devices = store.list_devices().await?.len();
    text.push_str(
        "# HELP netswim_devices Devices in the inventory.\n# TYPE netswim_devices gauge\n",
    );
    text.push_str(&format!("netswim_devices {devices}\n"));
    let mut by_status = std::collections::BTreeMap::new();
    for job in store.list_jobs().await? {
        *by_status.entry(job.status.as_str()).or_insert(0u64) += 1;
    }
    text.push_str("# HELP netswim_jobs Jobs by status.\n# TYPE netswim_jobs gauge\n");
    for (status, count) in by_status {
        text.push_str(&format!("netswim_jobs{{status=\"{status}\"}} {count}\n"));
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        Body::from(text),
    ))
}

pub async fn openapi() -> Json<Value> {
    Json(crate::routes::openapi_document())
}
