//! The CLI client (like kubectl): `login`, `image`, `device` and `job`
//! commands talking HTTP to a `netswim serve` API. The token is kept in the
//! user's config folder (`netswim/client.json`, mode 0600).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::output;

/// `--server` and `--json`, on every client command.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// API address (default: the one `netswim login` saved).
    #[arg(long, global = true)]
    pub server: Option<String>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// API address, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    #[arg(long)]
    user: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Image repository commands that talk to the server.
#[derive(Debug, Subcommand)]
pub enum RemoteImageCommand {
    /// Import an image from a local file (streamed upload) or a URL the server fetches.
    Import {
        /// A local file, or an http(s)://, sftp://, scp:// or tftp:// URL.
        #[arg(
            required_unless_present = "from_device",
            conflicts_with = "from_device"
        )]
        source: Option<String>,
        /// Back up a device's image instead: copy it off device ID.
        #[arg(long, value_name = "ID")]
        from_device: Option<i64>,
        /// With --from-device: the file on the device (default: its running image).
        #[arg(long, requires = "from_device", value_name = "FLASH_PATH")]
        path: Option<String>,
        /// The vendor's published MD5.
        #[arg(long)]
        md5: Option<String>,
        /// The vendor's published SHA-512.
        #[arg(long)]
        sha512: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List images in the repository.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show one image.
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Delete an image (refused while a pending job uses it).
    Delete {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Set an image's minimum RAM and flash (bytes).
    Requirements {
        id: i64,
        #[arg(long)]
        min_ram: Option<u64>,
        #[arg(long)]
        min_flash: Option<u64>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Add a device.
    Add {
        name: String,
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: Option<u16>,
        /// ios, iosxe, iosxr, ...
        #[arg(long)]
        os: Option<String>,
        #[arg(long)]
        credential_profile: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Import devices from a CSV file (the lab's `--inventory-out` format).
    Import {
        csv: PathBuf,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List devices.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a device with its latest facts.
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Collect facts from devices (all when none is named) and wait for the job.
    Sync {
        ids: Vec<i64>,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobCommand {
    /// List jobs, newest first.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a job with its runs, tasks and operations.
    Show {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Follow a job to its end, one line per device; exit code 1 unless it succeeded.
    Watch {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Task counts of the latest run: total, successful, failed, in progress, not started, cancelled.
    Summary {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Print (or save with --output) the job's log.
    Log {
        id: i64,
        /// Write the log to FILE instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Cancel a job: no new device starts, running ones stop at a safe point.
    Cancel {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Pause a job: no new device starts, running ones finish.
    Pause {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resume a paused job.
    Resume {
        id: i64,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ClientConfig {
    server: Option<String>,
    token: Option<String>,
}

fn config_path() -> Result<PathBuf> {
    let base = dirs::config_dir()
        .ok_or_else(|| anyhow!("no config folder (hint: set HOME or XDG_CONFIG_HOME)"))?;
    Ok(base.join("netswim").join("client.json"))
}

fn load_config() -> Result<ClientConfig> {
    let path = config_path()?;
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a netswim client config", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save_config(config: &ClientConfig) -> Result<PathBuf> {
    use std::io::Write;
    let path = config_path()?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        // An older file keeps its mode on open; the token must not be readable by others.
        if path.exists() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(serde_json::to_string_pretty(config)?.as_bytes())?;
    Ok(path)
}

/// An authenticated connection to the API.
pub(crate) struct Api {
    http: reqwest::Client,
    server: String,
    token: Option<String>,
}

impl Api {
    pub(crate) fn new(client: &ClientArgs) -> Result<Self> {
        let config = load_config()?;
        let server = client.server.clone().or(config.server).ok_or_else(|| {
            anyhow!(
                "no server (hint: run `netswim login --server URL --user NAME` or pass --server)"
            )
        })?;
        Ok(Api {
            http: reqwest::Client::new(),
            server: server.trim_end_matches('/').to_owned(),
            token: config.token,
        })
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.server));
        match &self.token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub(crate) async fn send(&self, builder: reqwest::RequestBuilder) -> Result<Value> {
        let response = builder.send().await.with_context(|| {
            format!(
                "cannot reach {} (hint: is `netswim serve` running?)",
                self.server
            )
        })?;
        answer(response).await
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Value> {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    /// A JSON body sent with `method`; the answer's JSON.
    pub(crate) async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> Result<Value> {
        self.send(self.request(method, path).json(body)).await
    }

    /// The text of a 2xx answer (logs), or the API's error.
    pub(crate) async fn get_text(&self, path: &str) -> Result<String> {
        let response = self
            .request(reqwest::Method::GET, path)
            .send()
            .await
            .with_context(|| {
                format!(
                    "cannot reach {} (hint: is `netswim serve` running?)",
                    self.server
                )
            })?;
        if response.status().is_success() {
            return response
                .text()
                .await
                .context("the server's answer was cut short");
        }
        answer(response).await.map(|value| value.to_string())
    }
}

/// The JSON of a 2xx answer, or the API's `{code, message, hint}` as an error.
async fn answer(response: reqwest::Response) -> Result<Value> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        if text.is_empty() {
            return Ok(Value::Null);
        }
        return serde_json::from_str(&text)
            .context("the server answered something that is not JSON");
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(error) => bail!(
            "{} ({}; hint: {})",
            error["message"].as_str().unwrap_or("request failed"),
            status,
            error["hint"].as_str().unwrap_or("see the server log")
        ),
        Err(_) => bail!("the server answered {status}: {text}"),
    }
}

pub async fn login(args: LoginArgs) -> Result<()> {
    let password = match std::env::var("NETSWIM_PASSWORD") {
        Ok(password) => password,
        Err(_) => rpassword::prompt_password(format!("password for {}: ", args.user))
            .context("cannot read the password (hint: set NETSWIM_PASSWORD)")?,
    };
    let server = args.server.trim_end_matches('/').to_owned();
    let response = reqwest::Client::new()
        .post(format!("{server}/api/v1/login"))
        .json(&json!({"user": args.user, "password": password}))
        .send()
        .await
        .with_context(|| format!("cannot reach {server}"))?;
    let issued = answer(response).await?;
    let token = issued["token"]
        .as_str()
        .ok_or_else(|| anyhow!("the server issued no token"))?
        .to_owned();
    let path = save_config(&ClientConfig {
        server: Some(server.clone()),
        token: Some(token),
    })?;
    if args.json {
        output::print(
            &json!({"server": server, "user": args.user, "role": issued["role"], "config": path.display().to_string()}),
            true,
        )
    } else {
        output::print_text(&format!(
            "logged in to {server} as {} ({}); token saved in {}",
            args.user,
            issued["role"].as_str().unwrap_or("?"),
            path.display()
        ))
    }
}

fn looks_like_url(source: &str) -> bool {
    [
        "http://", "https://", "sftp://", "scp://", "tftp://", "ftp://",
    ]
    .iter()
    .any(|scheme| source.to_ascii_lowercase().starts_with(scheme))
}

pub async fn image(command: RemoteImageCommand) -> Result<()> {
    match command {
        RemoteImageCommand::Import {
            source,
            from_device,
            path,
            md5,
            sha512,
            client,
        } => {
            let api = Api::new(&client)?;
            let source = source.unwrap_or_default();
            let body = match from_device {
                Some(device_id) => Some(
                    json!({"device_id": device_id, "path": path, "md5": md5, "sha512": sha512}),
                ),
                None if looks_like_url(&source) => {
                    Some(json!({"url": source, "md5": md5, "sha512": sha512}))
                }
                None => None,
            };
            let result = if let Some(body) = body {
                let job = api
                    .send(
                        api.request(reqwest::Method::POST, "/api/v1/images/import")
                            .json(&body),
                    )
                    .await?;
                let id = job["id"]
                    .as_i64()
                    .ok_or_else(|| anyhow!("the server returned no job"))?;
                let finished = watch_job(&api, id, !client.json).await?;
                if finished["status"] != "success" {
                    bail!(
                        "import job {id} ended {}: {}",
                        finished["status"].as_str().unwrap_or("?"),
                        job_message(&finished)
                    );
                }
                let image_id = last_image_id(&api, id).await?;
                json!({"job_id": id, "image": api.get(&format!("/api/v1/images/{image_id}")).await?})
            } else {
                upload(&api, Path::new(&source), md5, sha512, !client.json).await?
            };
            if client.json {
                output::print(&result, true)
            } else {
                print_images(&[result["image"].clone()])
            }
        }
        RemoteImageCommand::List { client } => {
            let api = Api::new(&client)?;
            let images = api.get("/api/v1/images").await?;
            if client.json {
                output::print(&images, true)
            } else {
                print_images(images.as_array().map(Vec::as_slice).unwrap_or_default())
            }
        }
        RemoteImageCommand::Show { id, client } => {
            let api = Api::new(&client)?;
            let image = api.get(&format!("/api/v1/images/{id}")).await?;
            output::print(&image, client.json)
        }
        RemoteImageCommand::Delete { id, client } => {
            let api = Api::new(&client)?;
            api.send(api.request(reqwest::Method::DELETE, &format!("/api/v1/images/{id}")))
                .await?;
            if client.json {
                output::print(&json!({"deleted": id}), true)
            } else {
                output::print_text(&format!("image {id} deleted"))
            }
        }
        RemoteImageCommand::Requirements {
            id,
            min_ram,
            min_flash,
            client,
        } => {
            let api = Api::new(&client)?;
            let image = api
                .send(
                    api.request(
                        reqwest::Method::PATCH,
                        &format!("/api/v1/images/{id}/requirements"),
                    )
                    .json(&json!({"min_ram_bytes": min_ram, "min_flash_bytes": min_flash})),
                )
                .await?;
            output::print(&image, client.json)
        }
    }
}

/// Streams a file to `POST /api/v1/images` with a progress bar.
async fn upload(
    api: &Api,
    path: &Path,
    md5: Option<String>,
    sha512: Option<String>,
    show_progress: bool,
) -> Result<Value> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("cannot open {} (hint: check the path)", path.display()))?;
    let size = file.metadata().await?.len();
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| anyhow!("{} is not a file", path.display()))?;
    let bar = if show_progress {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(file_name.clone());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let counter = bar.clone();
    let stream = tokio_util::io::ReaderStream::new(file).inspect(move |chunk| {
        if let Ok(chunk) = chunk {
            counter.inc(chunk.len() as u64);
        }
    });
    let mut query = vec![("file_name", file_name)];
    if let Some(md5) = md5 {
        query.push(("md5", md5));
    }
    if let Some(sha512) = sha512 {
        query.push(("sha512", sha512));
    }
    let result = api
        .send(
            api.request(reqwest::Method::POST, "/api/v1/images")
                .query(&query)
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, size)
                .body(reqwest::Body::wrap_stream(stream)),
        )
        .await;
    bar.finish_and_clear();
    result
}

async fn last_image_id(api: &Api, job_id: i64) -> Result<i64> {
    let events_free = api.get(&format!("/api/v1/jobs/{job_id}")).await?;
    let message = job_message(&events_free);
    // The task message says "imported as image N" or "already in the repository as image N".
    message
        .rsplit(' ')
        .next()
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| anyhow!("job {job_id} names no image: {message}"))
}

fn job_message(job: &Value) -> String {
    job["runs"]
        .as_array()
        .and_then(|runs| runs.last())
        .and_then(|run| run["tasks"].as_array())
        .map(|tasks| {
            tasks
                .iter()
                .map(|task| task["message"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// Polls a job until it is no longer running; prints each operation once.
async fn watch_job(api: &Api, id: i64, print: bool) -> Result<Value> {
    let mut seen = std::collections::HashSet::new();
    loop {
        let job = api.get(&format!("/api/v1/jobs/{id}")).await?;
        if print {
            for run in job["runs"].as_array().into_iter().flatten() {
                for task in run["tasks"].as_array().into_iter().flatten() {
                    for operation in task["operations"].as_array().into_iter().flatten() {
                        let key = (
                            task["id"].as_i64(),
                            operation["seq"].as_i64(),
                            operation["status"].to_string(),
                        );
                        if seen.insert(key) {
                            eprintln!(
                                "{:<24} {:<12} {:<10} {}",
                                task["subject"].as_str().unwrap_or_default(),
                                operation["name"].as_str().unwrap_or_default(),
                                operation["status"].as_str().unwrap_or_default(),
                                operation["message"].as_str().unwrap_or_default()
                            );
                        }
                    }
                }
            }
        }
        if job["status"] != "running" {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub async fn device(command: DeviceCommand) -> Result<()> {
    match command {
        DeviceCommand::Add {
            name,
            host,
            port,
            os,
            credential_profile,
            client,
        } => {
            let api = Api::new(&client)?;
            let device = api
                .send(
                    api.request(reqwest::Method::POST, "/api/v1/devices")
                        .json(&json!({
                            "name": name, "host": host, "port": port, "os": os,
                            "credential_profile": credential_profile,
                        })),
                )
                .await?;
            output::print(&device, client.json)
        }
        DeviceCommand::Import { csv, client } => {
            let api = Api::new(&client)?;
            let text = std::fs::read_to_string(&csv)
                .with_context(|| format!("cannot read {}", csv.display()))?;
            let result = api
                .send(
                    api.request(reqwest::Method::POST, "/api/v1/devices/import")
                        .header(reqwest::header::CONTENT_TYPE, "text/csv")
                        .body(text),
                )
                .await?;
            output::print(&result, client.json)
        }
        DeviceCommand::List { client } => {
            let api = Api::new(&client)?;
            let devices = api.get("/api/v1/devices").await?;
            print_list(
                &devices,
                client.json,
                &[
                    ("ID", "id"),
                    ("NAME", "name"),
                    ("HOST", "host"),
                    ("PORT", "port"),
                    ("OS", "os"),
                    ("PLATFORM", "platform"),
                ],
            )
        }
        DeviceCommand::Show { id, client } => {
            let api = Api::new(&client)?;
            output::print(
                &api.get(&format!("/api/v1/devices/{id}")).await?,
                client.json,
            )
        }
        DeviceCommand::Sync { ids, client } => {
            let api = Api::new(&client)?;
            let job = api
                .send(
                    api.request(reqwest::Method::POST, "/api/v1/devices/sync")
                        .json(&json!({"device_ids": ids})),
                )
                .await?;
            let id = job["id"]
                .as_i64()
                .ok_or_else(|| anyhow!("the server returned no job"))?;
            let finished = if client.json {
                watch_job(&api, id, false).await?
            } else {
                watch_tasks_with_bar(&api, id).await?
            };
            output::print(&finished, client.json)
        }
    }
}

/// Polls a job, showing finished tasks / all tasks as a progress bar.
async fn watch_tasks_with_bar(api: &Api, id: i64) -> Result<Value> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} devices {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    loop {
        let job = api.get(&format!("/api/v1/jobs/{id}")).await?;
        let (done, total, failed) = task_counts(&job);
        bar.set_length(total);
        bar.set_position(done);
        if failed > 0 {
            bar.set_message(format!("({failed} failed)"));
        }
        if job["status"] != "running" {
            bar.finish();
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// (finished, all, failed) tasks of a job as `GET /jobs/{id}` shows it.
fn task_counts(job: &Value) -> (u64, u64, u64) {
    let tasks: Vec<&Value> = job["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|run| run["tasks"].as_array().into_iter().flatten())
        .collect();
    let status = |task: &&Value| task["status"].as_str().unwrap_or_default().to_owned();
    let done = tasks
        .iter()
        .filter(|task| {
            !matches!(
                status(task).as_str(),
                "running" | "not_started" | "scheduled"
            )
        })
        .count();
    let failed = tasks
        .iter()
        .filter(|task| matches!(status(task).as_str(), "failure" | "interrupted"))
        .count();
    (done as u64, tasks.len() as u64, failed as u64)
}

pub async fn job(command: JobCommand) -> Result<()> {
    match command {
        JobCommand::List { client } => crate::upgrade::list(&client).await,
        JobCommand::Show { id, client } => {
            let api = Api::new(&client)?;
            output::print(&api.get(&format!("/api/v1/jobs/{id}")).await?, client.json)
        }
        JobCommand::Watch { id, client } => {
            let api = Api::new(&client)?;
            crate::upgrade::watch(&api, id, client.json).await
        }
        JobCommand::Summary { id, client } => crate::upgrade::summary(id, &client).await,
        JobCommand::Log { id, output, client } => crate::upgrade::log(id, output, &client).await,
        JobCommand::Cancel { id, client } => crate::upgrade::control(id, "cancel", &client).await,
        JobCommand::Pause { id, client } => crate::upgrade::control(id, "pause", &client).await,
        JobCommand::Resume { id, client } => crate::upgrade::control(id, "resume", &client).await,
    }
}

pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Prints a list the API returned: as JSON, or as a table of the named
/// (header, field) columns.
fn print_list(items: &Value, json: bool, columns: &[(&str, &str)]) -> Result<()> {
    if json {
        return output::print(items, true);
    }
    let headers: Vec<&str> = columns.iter().map(|(header, _)| *header).collect();
    let rows: Vec<Vec<String>> = items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            columns
                .iter()
                .map(|(_, field)| cell(&item[*field]))
                .collect()
        })
        .collect();
    print_table(&headers, &rows)
}

fn print_images(images: &[Value]) -> Result<()> {
    let rows: Vec<Vec<String>> = images
        .iter()
        .map(|image| {
            vec![
                cell(&image["id"]),
                cell(&image["file_name"]),
                cell(&image["family"]),
                cell(&image["version"]),
                cell(&image["size_bytes"]),
                cell(&image["md5"]),
                image["min_ram_bytes"]
                    .as_u64()
                    .map(|bytes| format!("{} MiB", bytes / (1024 * 1024)))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        &["ID", "FILE", "FAMILY", "VERSION", "SIZE", "MD5", "MIN RAM"],
        &rows,
    )
}

pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    output::print_text(&render_table(headers, rows))
}

/// Left-aligned columns two spaces apart, headers first.
pub(crate) fn render_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.len()).collect();
    for row in rows {
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut text = vec![line(
        headers.iter().map(|header| header.to_string()).collect(),
    )];
    text.extend(rows.iter().map(|row| line(row.clone())));
    text.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_progress_counts_finished_and_failed_tasks() {
        let job = |statuses: &[&str]| {
            let tasks: Vec<Value> = statuses
                .iter()
                .map(|status| json!({"status": status}))
                .collect();
            json!({"status": "running", "runs": [{"tasks": tasks}]})
        };
        let cases = [
            (Vec::<&str>::new(), (0, 0, 0)),
            (vec!["running", "not_started", "success"], (1, 3, 0)),
            (vec!["success", "failure", "interrupted"], (3, 3, 2)),
            (vec!["scheduled", "skipped"], (1, 2, 0)),
        ];
        for (statuses, expected) in cases {
            assert_eq!(task_counts(&job(&statuses)), expected, "{statuses:?}");
        }
    }
}
