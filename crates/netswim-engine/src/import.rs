//! Image import (the collection job): bytes from a local file, an upload or a
//! URL (http, https, sftp, scp, tftp) streamed once into the blob store while
//! MD5/SHA-256/SHA-512 are computed, checked against what the user or a
//! sidecar file states and against a detached minisign signature, inspected
//! (file name + IOS `.tar` `info` file) and recorded as one image row.
//!
//! Crash safety follows the store's order: blob (atomic) → blob row → image
//! row (one transaction). Bytes that fail a check are removed before the
//! error is returned; whatever a crash leaves is removed at the next start
//! ([`crate::jobs::Engine::start`]).

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use md5::Md5;
use netswim_domain::archive::{IosArchive, inspect_ios_tar_named};
use netswim_domain::image::{ImageFormat, bare_file_name, describe_image};
use netswim_store::{BlobStore, Image, LocalBlobStore, NewImage, SignatureStatus, Store};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf};

use crate::EngineError;

/// Setting holding the minisign public keys trusted for image signatures
/// (a JSON array of strings: the base64 key or the whole `.pub` file text).
pub const TRUSTED_SIGNING_KEYS_SETTING: &str = "trusted_signing_keys";

/// Where the bytes of an import come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportSource {
    /// A file on the server's file system.
    File { path: PathBuf },
    /// `http(s)://`, `ftp://`, `sftp://`, `scp://` or `tftp://` URL.
    Url { url: String },
    /// Bytes streamed by the client (the API's upload).
    Upload { file_name: String },
    /// A file copied off a device ("back up current image"); no `path`
    /// means the image the device runs.
    Device {
        device_id: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<String>,
    },
}

/// What an import job is asked to do (stored as the job's spec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSpec {
    pub source: Option<ImportSource>,
    /// The name the image is stored under (default: the source's file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The vendor's published MD5 (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_md5: Option<String>,
    /// The vendor's published SHA-512 (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_sha512: Option<String>,
    /// A minisign signature (`.minisig` text) over the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Private key for `sftp://` and `scp://` sources without a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<PathBuf>,
}

/// What an import produced.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    pub image: Image,
    /// The same bytes were already in the repository: no new row was made.
    pub duplicate: bool,
    /// Which checks passed (`md5 (given)`, `sha512 (sidecar)`, `signature`).
    pub verified: Vec<String>,
}

/// Bytes streamed so far, for progress events.
#[derive(Debug, Default, Clone)]
pub struct ImportProgress {
    pub bytes: Arc<AtomicU64>,
}

/// The feeding side of a source: resolves when it has handed over everything.
pub(crate) type Producer = Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send>>;

/// A byte source plus, for network sources, the task that feeds it: its
/// result tells a complete transfer from a cut one.
pub(crate) struct OpenedSource {
    pub reader: Box<dyn AsyncRead + Send + Unpin>,
    /// Resolves when the feeding side finished: `Err` means the bytes
    /// stopped early, so what was stored is a prefix, not the image.
    pub producer: Option<Producer>,
    pub file_name: String,
}

/// Imports what `reader` yields (the whole pipeline after the source is open).
pub(crate) async fn import_from_reader(
    store: &Store,
    blobs: &LocalBlobStore,
    spec: &ImportSpec,
    opened: OpenedSource,
    progress: &ImportProgress,
    step: &mut dyn StepRecorder,
) -> Result<ImportOutcome, EngineError> {
    let file_name = spec
        .file_name
        .clone()
        .unwrap_or_else(|| opened.file_name.clone());
    if file_name.is_empty() {
        return Err(EngineError::Invalid {
            what: "image file name",
            reason: "the source names no file (hint: pass a file name)".into(),
        });
    }

    step.begin("fetch").await?;
    let hashing = HashingReader::new(opened.reader, progress.bytes.clone());
    let digests = hashing.digests();
    let put = blobs.put(Box::new(hashing), None).await;
    let producer_result = match opened.producer {
        Some(producer) => producer.await,
        None => Ok(()),
    };
    let put = match (put, producer_result) {
        (Ok(put), Ok(())) => put,
        (Ok(put), Err(error)) => {
            // The transfer was cut: what was stored is a prefix, not the image.
            discard_blob(store, blobs, &put.sha256, put.already_present).await;
            return Err(error);
        }
        (Err(error), _) => return Err(error.into()),
    };
    let (md5, sha512) = digests.finish();
    step.finish(&format!(
        "{} bytes received, sha256 {}",
        put.size_bytes, put.sha256
    ))
    .await?;

    let checked = async {
        step.begin("verify").await?;
        let verified = verify(
            store,
            blobs,
            spec,
            &opened_sidecars(spec),
            &md5,
            &sha512,
            &put.sha256,
        )
        .await?;
        step.finish(&if verified.checks.is_empty() {
            "no checksum or signature given".to_owned()
        } else {
            format!("verified: {}", verified.checks.join(", "))
        })
        .await?;
        if let Some(existing) = store.find_image_by_sha256(&put.sha256).await? {
            return Ok((Some(existing), verified, None));
        }
        step.begin("inspect").await?;
        let archive = inspect(blobs, &put.sha256, &file_name).await?;
        step.finish(&match &archive {
            Some(archive) => format!(
                "IOS archive: {} members, image {}",
                archive.member_count,
                archive.image_name.as_deref().unwrap_or("unnamed")
            ),
            None => "not an archive; metadata from the file name".to_owned(),
        })
        .await?;
        Ok::<_, EngineError>((None, verified, Some(archive)))
    }
    .await;
    let (existing, verified, archive) = match checked {
        Ok(result) => result,
        Err(error) => {
            discard_blob(store, blobs, &put.sha256, put.already_present).await;
            return Err(error);
        }
    };
    if let Some(image) = existing {
        return Ok(ImportOutcome {
            image,
            duplicate: true,
            verified: verified.checks,
        });
    }

    step.begin("record").await?;
    let metadata = describe_image(&file_name, put.size_bytes, archive.flatten());
    let archive_json = metadata.archive.as_ref().map(|archive| {
        // Members can number thousands; the row keeps the count, not the list.
        let mut archive = archive.clone();
        archive.members.clear();
        archive
    });
    let family = metadata.name.platform.clone().or_else(|| {
        metadata
            .archive
            .as_ref()
            .and_then(|archive| archive.image_family.as_ref().map(|f| f.to_lowercase()))
    });
    let new_image = NewImage {
        sha256: put.sha256.clone(),
        file_name: bare_file_name(&file_name).to_owned(),
        family,
        os: metadata.name.os,
        image_type: metadata.name.image_type,
        version: metadata.name.version.clone(),
        feature_set: metadata.name.feature_set.clone(),
        format: metadata.name.format,
        size_bytes: put.size_bytes,
        md5,
        sha512,
        min_ram_bytes: metadata.min_ram_bytes,
        min_flash_bytes: metadata
            .archive
            .as_ref()
            .and_then(|archive| archive.total_image_file_size),
        signature_status: verified.signature,
        metadata: serde_json::json!({ "name": metadata.name, "archive": archive_json }),
        platforms: metadata.supported_platforms.clone(),
        requirements: Default::default(),
    };
    store.record_blob(&put.sha256, put.size_bytes).await?;
    let (image, duplicate) = match store.insert_image(&new_image).await {
        Ok(image) => (image, false),
        // Another import of the same bytes won the race: one image row.
        Err(netswim_store::StoreError::Conflict { .. }) => (
            store
                .find_image_by_sha256(&put.sha256)
                .await?
                .ok_or_else(|| EngineError::Invalid {
                    what: "image",
                    reason: "conflicting image row vanished".into(),
                })?,
            true,
        ),
        Err(error) => return Err(error.into()),
    };
    step.finish(&format!("image {} ({})", image.id, image.file_name))
        .await?;
    Ok(ImportOutcome {
        image,
        duplicate,
        verified: verified.checks,
    })
}

/// Where the job records its steps; the job runner writes operations.
pub(crate) trait StepRecorder: Send {
    fn begin<'a>(
        &'a mut self,
        name: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>>;
    fn finish<'a>(
        &'a mut self,
        message: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + 'a>>;
}

/// Removes bytes that failed a check, unless an image already uses them.
async fn discard_blob(store: &Store, blobs: &LocalBlobStore, sha256: &str, already_present: bool) {
    if already_present {
        return;
    }
    if let Ok(Some(_)) = store.find_image_by_sha256(sha256).await {
        return;
    }
    if let Err(error) = blobs.delete(sha256).await {
        tracing::warn!(%sha256, %error, "could not remove rejected image bytes");
    }
}

/// Sidecar files are looked up only when the user gave no digest of that kind.
fn opened_sidecars(spec: &ImportSpec) -> SidecarPlan {
    SidecarPlan {
        md5: spec.expected_md5.is_none(),
        sha512: spec.expected_sha512.is_none(),
        signature: spec.signature.is_none(),
    }
}

struct SidecarPlan {
    md5: bool,
    sha512: bool,
    signature: bool,
}

struct Verified {
    checks: Vec<String>,
    signature: SignatureStatus,
}

async fn verify(
    store: &Store,
    blobs: &LocalBlobStore,
    spec: &ImportSpec,
    plan: &SidecarPlan,
    md5: &str,
    sha512: &str,
    sha256: &str,
) -> Result<Verified, EngineError> {
    let mut checks = Vec::new();
    let source = spec.source.as_ref();
    let sidecar = |extension: &'static str, wanted: bool| async move {
        match (wanted, source) {
            (true, Some(source)) => read_sidecar(source, extension, spec).await,
            _ => None,
        }
    };
    let md5_expected = match &spec.expected_md5 {
        Some(given) => Some((given.clone(), "given")),
        None => sidecar("md5", plan.md5)
            .await
            .and_then(|text| first_hex_token(&text))
            .map(|hex| (hex, "sidecar")),
    };
    if let Some((expected, origin)) = md5_expected {
        compare_digest("MD5", &expected, md5)?;
        checks.push(format!("md5 ({origin})"));
    }
    let sha512_expected = match &spec.expected_sha512 {
        Some(given) => Some((given.clone(), "given")),
        None => sidecar("sha512", plan.sha512)
            .await
            .and_then(|text| first_hex_token(&text))
            .map(|hex| (hex, "sidecar")),
    };
    if let Some((expected, origin)) = sha512_expected {
        compare_digest("SHA-512", &expected, sha512)?;
        checks.push(format!("sha512 ({origin})"));
    }
    let signature_text = match &spec.signature {
        Some(text) => Some(text.clone()),
        None => sidecar("minisig", plan.signature).await,
    };
    let signature = match signature_text {
        None => SignatureStatus::Unsigned,
        Some(text) => {
            let keys = trusted_keys(store).await?;
            let path = blobs.path_of(sha256)?;
            let verdict =
                tokio::task::spawn_blocking(move || verify_signature(&path, &text, &keys))
                    .await
                    .map_err(|error| EngineError::Invalid {
                        what: "signature check",
                        reason: error.to_string(),
                    })?;
            verdict?;
            checks.push("minisign signature".to_owned());
            SignatureStatus::Verified
        }
    };
    Ok(Verified { checks, signature })
}

fn compare_digest(kind: &str, expected: &str, actual: &str) -> Result<(), EngineError> {
    let expected = expected.trim().to_ascii_lowercase();
    if expected == actual {
        Ok(())
    } else {
        Err(EngineError::ImageRejected {
            reason: format!(
                "{kind} mismatch: expected {expected}, got {actual} (hint: the file is corrupt or truncated, or the published checksum belongs to another file)"
            ),
        })
    }
}

fn first_hex_token(text: &str) -> Option<String> {
    text.split_whitespace()
        .next()
        .filter(|token| !token.is_empty() && token.chars().all(|c| c.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

async fn trusted_keys(store: &Store) -> Result<Vec<String>, EngineError> {
    let value = store.get_setting(TRUSTED_SIGNING_KEYS_SETTING).await?;
    Ok(value
        .and_then(|value| value.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect())
}

fn verify_signature(path: &Path, signature_text: &str, keys: &[String]) -> Result<(), EngineError> {
    use std::io::Read;
    let rejected = |reason: String| EngineError::ImageRejected { reason };
    let signature = minisign_verify::Signature::decode(signature_text).map_err(|error| {
        rejected(format!(
            "the signature is not a minisign signature: {error}"
        ))
    })?;
    if keys.is_empty() {
        return Err(rejected(format!(
            "a signature came with the image but no signing key is trusted (hint: an admin adds minisign public keys to the {TRUSTED_SIGNING_KEYS_SETTING} setting)"
        )));
    }
    for key_text in keys {
        let key = minisign_verify::PublicKey::decode(key_text)
            .or_else(|_| minisign_verify::PublicKey::from_base64(key_text.trim()));
        let Ok(key) = key else { continue };
        let Ok(mut verifier) = key.verify_stream(&signature) else {
            continue;
        };
        let mut file = std::fs::File::open(path).map_err(|error| EngineError::Io {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let read = file.read(&mut buffer).map_err(|error| EngineError::Io {
                path: path.display().to_string(),
                reason: error.to_string(),
            })?;
            if read == 0 {
                break;
            }
            verifier.update(buffer.get(..read).unwrap_or_default());
        }
        return verifier.finalize().map_err(|error| {
            rejected(format!(
                "signature does not verify with trusted key: {error} (hint: the image was altered or signed by someone else)"
            ))
        });
    }
    Err(rejected(
        "the signature was made by a key that is not trusted (hint: an admin adds the signer's public key to the trusted keys)".into(),
    ))
}

/// Reads the IOS archive when the image is a `.tar`; a truncated or
/// malformed archive rejects the import with the inspection's words.
async fn inspect(
    blobs: &LocalBlobStore,
    sha256: &str,
    file_name: &str,
) -> Result<Option<IosArchive>, EngineError> {
    let is_tar = file_name.to_ascii_lowercase().ends_with(".tar")
        || netswim_domain::image::parse_image_name(file_name)
            .is_ok_and(|name| name.format == ImageFormat::Tar);
    if !is_tar {
        return Ok(None);
    }
    let path = blobs.path_of(sha256)?;
    let name = bare_file_name(file_name).to_owned();
    let inspected = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&path).map_err(|error| EngineError::Io {
            path: path.display().to_string(),
            reason: error.to_string(),
        })?;
        inspect_ios_tar_named(&name, std::io::BufReader::new(file)).map_err(|error| {
            EngineError::ImageRejected {
                reason: error.to_string(),
            }
        })
    })
    .await
    .map_err(|error| EngineError::Invalid {
        what: "archive inspection",
        reason: error.to_string(),
    })??;
    Ok(Some(inspected))
}

/// MD5 and SHA-512 over the bytes as they pass to the blob store (which
/// computes SHA-256 itself), so the source is read exactly once. The domain's
/// `checksum` does the same over a blocking `Read`; this is its async twin.
struct HashingReader {
    inner: Box<dyn AsyncRead + Send + Unpin>,
    state: Arc<std::sync::Mutex<(Md5, Sha512)>>,
    bytes: Arc<AtomicU64>,
}

struct Digests(Arc<std::sync::Mutex<(Md5, Sha512)>>);

impl Digests {
    fn finish(self) -> (String, String) {
        let guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (md5, sha512) = guard.clone();
        (hex::encode(md5.finalize()), hex::encode(sha512.finalize()))
    }
}

impl HashingReader {
    fn new(inner: Box<dyn AsyncRead + Send + Unpin>, bytes: Arc<AtomicU64>) -> Self {
        HashingReader {
            inner,
            state: Arc::new(std::sync::Mutex::new((Md5::new(), Sha512::new()))),
            bytes,
        }
    }

    fn digests(&self) -> Digests {
        Digests(self.state.clone())
    }
}

impl AsyncRead for HashingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buffer.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(context, buffer);
        if let Poll::Ready(Ok(())) = &polled {
            let fresh = buffer.filled().get(before..).unwrap_or_default();
            if !fresh.is_empty() {
                let mut guard = self
                    .state
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                guard.0.update(fresh);
                guard.1.update(fresh);
                self.bytes.fetch_add(fresh.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }
}

/// Opens a file or URL source (uploads are opened by the API).
pub(crate) async fn open_source(
    source: &ImportSource,
    spec: &ImportSpec,
) -> Result<OpenedSource, EngineError> {
    match source {
        ImportSource::File { path } => {
            let file = tokio::fs::File::open(path).await.map_err(|error| {
                EngineError::fetch(
                    &path.display().to_string(),
                    error,
                    "check the path exists on the server and is readable",
                )
            })?;
            Ok(OpenedSource {
                reader: Box::new(file),
                producer: None,
                file_name: bare_file_name(&path.display().to_string()).to_owned(),
            })
        }
        ImportSource::Url { url } => {
            let parsed = url::Url::parse(url).map_err(|error| EngineError::Invalid {
                what: "image URL",
                reason: format!(
                    "{url}: {error} (hint: use http(s)://, sftp://, scp:// or tftp://)"
                ),
            })?;
            let file_name = bare_file_name(parsed.path()).to_owned();
            let (writer, reader) = tokio::io::duplex(256 * 1024);
            let producer = match parsed.scheme() {
                "http" | "https" => tokio::spawn(fetch_http(url.clone(), writer)),
                "sftp" | "scp" => tokio::spawn(fetch_sftp(
                    parsed.clone(),
                    spec.identity_file.clone(),
                    writer,
                )),
                "tftp" => tokio::spawn(fetch_tftp(parsed.clone(), writer)),
                "ftp" => tokio::spawn(fetch_ftp(parsed.clone(), writer)),
                other => {
                    return Err(EngineError::Invalid {
                        what: "image URL",
                        reason: format!(
                            "scheme {other:?} is not supported (hint: use http, https, ftp, sftp, scp or tftp)"
                        ),
                    });
                }
            };
            Ok(OpenedSource {
                reader: Box::new(reader),
                producer: Some(Box::pin(async move {
                    producer.await.unwrap_or_else(|error| {
                        Err(EngineError::Invalid {
                            what: "transfer task",
                            reason: error.to_string(),
                        })
                    })
                })),
                file_name,
            })
        }
        ImportSource::Upload { .. } => Err(EngineError::Invalid {
            what: "import source",
            reason: "an upload needs its byte stream (hint: use the API's upload route)".into(),
        }),
        ImportSource::Device { .. } => Err(EngineError::Invalid {
            what: "import source",
            reason: "a device backup needs a session (hint: submit it as an import job)".into(),
        }),
    }
}

/// Reads `X.<extension>` next to the source; absent or unreadable → `None`.
async fn read_sidecar(source: &ImportSource, extension: &str, spec: &ImportSpec) -> Option<String> {
    const MAX_SIDECAR_BYTES: usize = 64 * 1024;
    let bytes = match source {
        ImportSource::File { path } => {
            let mut sidecar = path.as_os_str().to_owned();
            sidecar.push(format!(".{extension}"));
            tokio::fs::read(PathBuf::from(sidecar)).await.ok()?
        }
        ImportSource::Url { url } => {
            let mut parsed = url::Url::parse(url).ok()?;
            let path = format!("{}.{extension}", parsed.path());
            parsed.set_path(&path);
            let (writer, mut reader) = tokio::io::duplex(MAX_SIDECAR_BYTES);
            let fetch = async {
                match parsed.scheme() {
                    "http" | "https" => fetch_http(parsed.to_string(), writer).await,
                    "sftp" | "scp" => {
                        fetch_sftp(parsed.clone(), spec.identity_file.clone(), writer).await
                    }
                    "tftp" => fetch_tftp(parsed.clone(), writer).await,
                    "ftp" => fetch_ftp(parsed.clone(), writer).await,
                    _ => Ok(()),
                }
            };
            let mut collected = Vec::new();
            let read = async {
                use tokio::io::AsyncReadExt;
                let mut limited = (&mut reader).take(MAX_SIDECAR_BYTES as u64);
                limited.read_to_end(&mut collected).await
            };
            let (fetched, _) =
                tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(fetch, read) })
                    .await
                    .ok()?;
            fetched.ok()?;
            collected
        }
        ImportSource::Upload { .. } | ImportSource::Device { .. } => return None,
    };
    (bytes.len() <= MAX_SIDECAR_BYTES)
        .then(|| String::from_utf8(bytes).ok())
        .flatten()
}

async fn fetch_http(url: String, mut writer: tokio::io::DuplexStream) -> Result<(), EngineError> {
    use futures_util::StreamExt;
    let hint = "check the URL and that the server answers; the import can be retried";
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .build()
        .map_err(|error| EngineError::fetch(&url, error, hint))?;
    let response = client
        .get(&url)
        .send()
        .await
        .map_err(|error| EngineError::fetch(&url, error, hint))?;
    if !response.status().is_success() {
        return Err(EngineError::fetch(
            &url,
            format!("the server answered {}", response.status()),
            "check the URL names an existing file",
        ));
    }
    let expected = response.content_length();
    let mut received = 0u64;
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|error| EngineError::fetch(&url, error, hint))?;
        received += chunk.len() as u64;
        writer
            .write_all(&chunk)
            .await
            .map_err(|error| EngineError::fetch(&url, error, hint))?;
    }
    if let Some(expected) = expected {
        if received != expected {
            return Err(EngineError::fetch(
                &url,
                format!("received {received} of {expected} bytes"),
                "the transfer was cut; retry the import",
            ));
        }
    }
    writer
        .shutdown()
        .await
        .map_err(|error| EngineError::fetch(&url, error, hint))
}

async fn fetch_tftp(url: url::Url, mut writer: tokio::io::DuplexStream) -> Result<(), EngineError> {
    let shown = url.to_string();
    let hint = "check the TFTP server is reachable and serves the file";
    let host = url
        .host_str()
        .ok_or_else(|| EngineError::fetch(&shown, "the URL has no host", hint))?;
    let port = url.port().unwrap_or(69);
    let address = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?
        .next()
        .ok_or_else(|| EngineError::fetch(&shown, "the host name has no address", hint))?;
    let file_name = url.path().trim_start_matches('/').to_owned();
    netswim_tftp::client::get(
        address,
        &file_name,
        &netswim_tftp::client::ClientOptions::default(),
        &mut writer,
    )
    .await
    .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    writer
        .shutdown()
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))
}

/// Passive-mode binary RETR; anonymous unless the URL carries a login.
async fn fetch_ftp(url: url::Url, mut writer: tokio::io::DuplexStream) -> Result<(), EngineError> {
    use suppaftp::tokio::AsyncFtpStream;
    let shown = {
        let mut safe = url.clone();
        let _ = safe.set_password(None);
        safe.to_string()
    };
    let hint = "check the FTP server, the login and the file path";
    let host = url
        .host_str()
        .ok_or_else(|| EngineError::fetch(&shown, "the URL has no host", hint))?
        .to_owned();
    let port = url.port().unwrap_or(21);
    let (user, password) = match url.username() {
        "" => ("anonymous".to_owned(), "netswim@".to_owned()),
        user => (
            percent_decode(user),
            url.password().map(percent_decode).unwrap_or_default(),
        ),
    };
    let mut ftp = tokio::time::timeout(
        Duration::from_secs(30),
        AsyncFtpStream::connect((host.as_str(), port)),
    )
    .await
    .map_err(|_| EngineError::fetch(&shown, "connection timed out", hint))?
    .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    ftp.login(user.as_str(), password.as_str())
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    ftp.transfer_type(suppaftp::types::FileType::Binary)
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let path = percent_decode(url.path());
    let mut data = ftp
        .retr_as_stream(path.as_str())
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    tokio::io::copy(&mut data, &mut writer)
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    // The server's 226 after the data connection closes says the file was whole.
    ftp.finalize_retr_stream(data)
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let _ = ftp.quit().await;
    writer
        .shutdown()
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))
}

/// A client for image servers: their host keys are not pinned (the image is
/// verified by its checksums and signature instead).
struct ImageServerClient;

impl russh::client::Handler for ImageServerClient {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

async fn fetch_sftp(
    url: url::Url,
    identity_file: Option<PathBuf>,
    mut writer: tokio::io::DuplexStream,
) -> Result<(), EngineError> {
    let shown = {
        let mut safe = url.clone();
        let _ = safe.set_password(None);
        safe.to_string()
    };
    let hint = "check the host, port, user, key or password and the file path";
    let host = url
        .host_str()
        .ok_or_else(|| EngineError::fetch(&shown, "the URL has no host", hint))?
        .to_owned();
    let port = url.port().unwrap_or(22);
    let user = match url.username() {
        "" => "root".to_owned(),
        user => percent_decode(user),
    };
    let config = Arc::new(russh::client::Config {
        inactivity_timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    });
    let mut session = tokio::time::timeout(
        Duration::from_secs(30),
        russh::client::connect(config, (host.as_str(), port), ImageServerClient),
    )
    .await
    .map_err(|_| EngineError::fetch(&shown, "connection timed out", hint))?
    .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let authenticated = if let Some(password) = url.password() {
        session
            .authenticate_password(&user, percent_decode(password))
            .await
            .map_err(|error| EngineError::fetch(&shown, error, hint))?
            .success()
    } else if let Some(path) = identity_file {
        let key = russh::keys::load_secret_key(&path, None).map_err(|error| {
            EngineError::fetch(&shown, format!("key {}: {error}", path.display()), hint)
        })?;
        let hash = session
            .best_supported_rsa_hash()
            .await
            .map_err(|error| EngineError::fetch(&shown, error, hint))?
            .flatten();
        session
            .authenticate_publickey(
                &user,
                russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
            .map_err(|error| EngineError::fetch(&shown, error, hint))?
            .success()
    } else {
        return Err(EngineError::fetch(
            &shown,
            "no password in the URL and no identity file",
            "put the password in the URL or give an identity file",
        ));
    };
    if !authenticated {
        return Err(EngineError::fetch(&shown, "authentication failed", hint));
    }
    let channel = session
        .channel_open_session()
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let path = percent_decode(url.path());
    let mut file = sftp
        .open(path.clone())
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    tokio::io::copy(&mut file, &mut writer)
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))?;
    let _ = sftp.close().await;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    writer
        .shutdown()
        .await
        .map_err(|error| EngineError::fetch(&shown, error, hint))
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| text.to_owned())
}

/// An upload from the API as an opened source; `completion` (when given)
/// fires once the client's last byte was handed over.
pub(crate) fn upload_source(
    reader: Box<dyn AsyncRead + Send + Unpin>,
    file_name: &str,
    completion: Option<tokio::sync::oneshot::Receiver<()>>,
) -> OpenedSource {
    let name = bare_file_name(file_name).to_owned();
    let shown = name.clone();
    OpenedSource {
        reader,
        producer: completion.map(|completion| {
            Box::pin(async move {
                completion.await.map_err(|_| {
                    EngineError::fetch(
                        &format!("upload {shown}"),
                        "the client stopped sending before the end",
                        "upload the file again",
                    )
                })
            }) as Producer
        }),
        file_name: name,
    }
}
