//! Jobs dashboard and job detail: summary counts, per-device table with
//! each device's operations, live progress (server-sent events refresh the
//! progress fragment), log download, cancel/pause/resume.

use std::convert::Infallible;

use axum::extract::{Path, RawQuery, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::{Stream, StreamExt};
use maud::{Markup, html};
use netswim_engine::upgrade::{JobControl, JobSummary};
use netswim_store::{Role, Status};
use serde_json::json;

use super::pages::job_table;
use super::{
    Form, Page, PageResult, Section, WebUser, layout, script, status_badge, when, when_opt,
};
use crate::{ApiError, AppState, handlers};

pub async fn jobs(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let mut jobs = state.engine.store().list_jobs().await?;
    jobs.sort_by_key(|job| std::cmp::Reverse(job.id));
    let mut kinds: Vec<String> = jobs.iter().map(|job| job.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    let count = |status: Status| jobs.iter().filter(|job| job.status == status).count();
    let cards = [
        Status::Running,
        Status::Scheduled,
        Status::Success,
        Status::Partial,
        Status::Failure,
        Status::Cancelled,
    ];
    let counts: Vec<(Status, usize)> = cards
        .iter()
        .map(|status| (*status, count(*status)))
        .collect();
    if let Some(kind) = form.get("kind") {
        jobs.retain(|job| job.kind == kind);
    }
    if let Some(status) = form.get("status") {
        jobs.retain(|job| job.status.as_str() == status);
    }
    let content = html! {
        div.cards {
            @for (status, n) in &counts {
                div.card { div.n { (n) } div { a href={ "/jobs?status=" (status.as_str()) } { (status_badge(status.as_str())) } } }
            }
        }
        form.filters method="get" action="/jobs" {
            div {
                label for="kind" { "Kind" }
                select #kind name="kind" {
                    option value="" { "any" }
                    @for kind in &kinds { option value=(kind) selected[form.get("kind") == Some(kind.as_str())] { (kind) } }
                }
            }
            div {
                label for="status" { "Status" }
                select #status name="status" {
                    option value="" { "any" }
                    @for status in Status::ALL { option value=(status.as_str()) selected[form.get("status") == Some(status.as_str())] { (status.as_str()) } }
                }
            }
            div { button type="submit" { "Filter" } }
        }
        (job_table(&jobs))
    };
    Ok(layout(
        &user,
        Section::Jobs,
        "Jobs",
        form.get("msg"),
        content,
    ))
}

/// The live part of the job page: status, counts, progress bar, devices.
async fn progress(state: &AppState, job_id: i64) -> Result<(Markup, bool), ApiError> {
    let detail = state.engine.job_detail(job_id).await?;
    let latest = detail.runs.iter().max_by_key(|(run, _)| run.id);
    let mut tasks: Vec<_> = latest.map(|(_, tasks)| tasks.clone()).unwrap_or_default();
    // Failed devices first, then running ones, then the rest by name.
    let rank = |status: Status| match status {
        Status::Failure | Status::Interrupted => 0,
        Status::Running => 1,
        _ => 2,
    };
    tasks.sort_by(|(a, _), (b, _)| {
        rank(a.status)
            .cmp(&rank(b.status))
            .then_with(|| a.subject.cmp(&b.subject))
    });
    // The engine's summary; when it cannot give one (a job kind without
    // it), the counts of the tasks shown.
    let summary = match state.engine.job_summary(job_id).await {
        Ok(summary) => summary,
        Err(_) => {
            let of = |wanted: &[Status]| {
                tasks
                    .iter()
                    .filter(|(task, _)| wanted.contains(&task.status))
                    .count() as u64
            };
            JobSummary {
                total: tasks.len() as u64,
                successful: of(&[Status::Success]),
                failed: of(&[Status::Failure, Status::Interrupted, Status::Partial]),
                in_progress: of(&[Status::Running]),
                not_started: of(&[Status::NotStarted, Status::Scheduled]),
                cancelled: of(&[Status::Cancelled]),
            }
        }
    };
    let done = summary.successful + summary.failed + summary.cancelled;
    let finished = detail.job.status.is_finished();
    // What running operations report live (a transfer's bytes): only for
    // the operation still running, so nothing stale shows.
    let live: std::collections::HashMap<i64, (String, Option<(u64, u64)>)> = tasks
        .iter()
        .filter(|(task, _)| task.status == Status::Running)
        .filter_map(|(task, operations)| {
            let running = operations
                .iter()
                .filter(|operation| operation.status == Status::Running)
                .max_by_key(|operation| operation.seq)?;
            let payload = state.engine.live_progress(task.id)?;
            (payload["operation"] == running.name.as_str()).then(|| (task.id, live_text(&payload)))
        })
        .collect();
    let markup = html! {
        div #progress data-status=(detail.job.status.as_str()) data-finished=(finished) {
            p {
                "Status " (status_badge(detail.job.status.as_str()))
                " · " (done) " of " (summary.total) " devices done "
                progress value=(done) max=(summary.total.max(1)) aria-label="Devices done" {}
            }
            div.cards aria-label="Summary" {
                div.card { div.n { (summary.total) } div.muted { "total" } }
                div.card { div.n { (summary.successful) } div { (status_badge("success")) } }
                div.card { div.n { (summary.failed) } div { (status_badge("failure")) } }
                div.card { div.n { (summary.in_progress) } div { (status_badge("running")) } }
                div.card { div.n { (summary.not_started) } div { (status_badge("not_started")) } }
                div.card { div.n { (summary.cancelled) } div { (status_badge("cancelled")) } }
            }
            table #tasks {
                thead { tr {
                    th scope="col" { "Device" } th scope="col" { "Status" } th scope="col" { "Current or last step" }
                    th scope="col" { "Message" } th scope="col" { "Started" } th scope="col" { "Ended" }
                } }
                tbody {
                    @for (task, operations) in &tasks {
                        @let last = operations.iter().max_by_key(|operation| operation.seq);
                        tr #{ "task-" (task.id) } data-status=(task.status.as_str()) {
                            td {
                                @if let Some(device_id) = task.device_id {
                                    a href={ "/devices/" (device_id) } { (task.subject) }
                                } @else { (task.subject) }
                            }
                            td { (status_badge(task.status.as_str())) }
                            td {
                                (last.map(|operation| operation.name.as_str()).unwrap_or(""))
                                @if let Some((text, counts)) = live.get(&task.id) {
                                    div.muted.live { (text) }
                                    @if let Some((bytes, total)) = counts {
                                        progress value=(bytes) max=(total) aria-label={ "Bytes of " (task.subject) } {}
                                    }
                                }
                            }
                            td {
                                (task.message)
                                details id={ "ops-" (task.id) } {
                                    summary { (operations.len()) " operations" }
                                    table.ops {
                                        thead { tr {
                                            th.num scope="col" { "#" } th scope="col" { "Operation" } th scope="col" { "Status" }
                                            th scope="col" { "Message" } th scope="col" { "Started" } th scope="col" { "Ended" }
                                        } }
                                        tbody {
                                            @for operation in operations {
                                                tr {
                                                    td.num { (operation.seq) }
                                                    td { (operation.name) }
                                                    td { (status_badge(operation.status.as_str())) }
                                                    td { (operation.message) }
                                                    td.when { (when_opt(operation.started_at)) }
                                                    td.when { (when_opt(operation.ended_at)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            td.when { (when_opt(task.started_at)) }
                            td.when { (when_opt(task.ended_at)) }
                        }
                    }
                    @if tasks.is_empty() { tr { td colspan="6" { "No device tasks yet." } } }
                }
            }
        }
    };
    Ok((markup, finished))
}

/// A running operation's live progress in words (`scp from local, 4.0 MiB
/// of 24.0 MiB (16%)`) and its (bytes, total) when it counts bytes.
fn live_text(payload: &serde_json::Value) -> (String, Option<(u64, u64)>) {
    let mut words = Vec::new();
    if let Some(protocol) = payload["protocol"].as_str() {
        words.push(protocol.to_owned());
    }
    if let Some(source) = payload["source"].as_str() {
        words.push(format!("from {source}"));
    }
    if let Some(attempt) = payload["attempt"].as_u64().filter(|attempt| *attempt > 1) {
        words.push(format!("attempt {attempt}"));
    }
    let counts = payload["bytes"]
        .as_u64()
        .zip(payload["total"].as_u64())
        .filter(|(_, total)| *total > 0);
    let mut text = words.join(" ");
    if let Some((bytes, total)) = counts {
        text.push_str(&format!(
            ", {} of {} ({}%)",
            super::bytes(bytes),
            super::bytes(total),
            bytes.saturating_mul(100) / total
        ));
    }
    (text, counts)
}

/// Refreshes `#progress` from `/jobs/ID/progress` when an event of the job
/// arrives (at most twice a second), keeping open operation lists open.
const LIVE_SCRIPT: &str = r#"
(function () {
  var box = document.getElementById('progress');
  if (!box || box.dataset.finished === 'true' || !window.EventSource) return;
  var base = location.pathname.replace(/\/$/, '');
  var source = new EventSource(base + '/events');
  var pending = false;
  function refresh() {
    pending = false;
    fetch(base + '/progress', {credentials: 'same-origin'}).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (!html) return;
      var open = Array.prototype.map.call(document.querySelectorAll('#progress details[open]'), function (d) { return d.id; });
      var current = document.getElementById('progress');
      current.outerHTML = html;
      open.forEach(function (id) { var d = document.getElementById(id); if (d) d.open = true; });
      var now = document.getElementById('progress');
      var badge = document.getElementById('job-status');
      if (badge) badge.textContent = now.dataset.status;
      if (now.dataset.finished === 'true') { source.close(); location.reload(); }
    });
  }
  source.addEventListener('open', function () { refresh(); });
  // Every event of the job comes unnamed (its kind is in the data).
  source.onmessage = function () { if (!pending) { pending = true; setTimeout(refresh, 500); } };
  // Event kinds are open-ended; poll gently as well while the job runs.
  setInterval(function () { if (!pending) { pending = true; refresh(); } }, 3000);
})();
"#;

pub async fn job_detail(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let form = Form::parse(query.as_deref().unwrap_or(""));
    let job = state.engine.store().get_job(id).await?;
    let (live, finished) = progress(&state, id).await?;
    let can_control = user.caller.require(Role::Operator, "control jobs").is_ok();
    let content = html! {
        p {
            (job.kind) " job · created " (when(job.created_at)) " by " (job.created_by.as_deref().unwrap_or("?"))
            " · status " span #job-status { (job.status.as_str()) }
        }
        div.actions {
            a.button.secondary href={ "/jobs/" (id) "/log" } download { "Download log" }
            @if can_control && !finished {
                @for (action, label) in [("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel")] {
                    form.inline method="post" action={ "/jobs/" (id) "/control" } {
                        input type="hidden" name="action" value=(action);
                        @if action == "cancel" {
                            button.danger type="submit" { (label) }
                        } @else {
                            button.secondary type="submit" { (label) }
                        }
                    }
                }
            }
            a.button.secondary href={ "/jobs/" (id) } { "Refresh" }
        }
        (live)
        details {
            summary { "Job specification" }
            pre.mono { (serde_json::to_string_pretty(&job.spec).unwrap_or_default()) }
        }
        (script(LIVE_SCRIPT))
    };
    Ok(layout(
        &user,
        Section::Jobs,
        &format!("Job {id}: {}", job.name),
        form.get("msg"),
        content,
    ))
}

pub async fn job_progress(
    State(state): State<AppState>,
    _user: WebUser,
    Path(id): Path<i64>,
) -> PageResult {
    Ok(progress(&state, id).await?.0)
}

pub async fn job_events(
    State(state): State<AppState>,
    _user: WebUser,
    Path(id): Path<i64>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = state.engine.subscribe();
    let stream = tokio_stream::wrappers::BroadcastStream::new(receiver).filter_map(move |event| {
        let item = match event {
            // Unnamed (`message`) events: the page's one listener takes
            // every kind, which is open-ended.
            Ok(event) if event.job_id == Some(id) => {
                Some(Ok(SseEvent::default().id(event.id.to_string()).data(
                    json!({"kind": event.kind, "task_id": event.task_id, "payload": event.payload})
                        .to_string(),
                )))
            }
            _ => None,
        };
        std::future::ready(item)
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

pub async fn job_log(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
) -> Result<Response, Page> {
    Ok(handlers::job_log(State(state), user.caller, Path(id))
        .await?
        .into_response())
}

pub async fn control_job(
    State(state): State<AppState>,
    user: WebUser,
    Path(id): Path<i64>,
    body: String,
) -> Result<Response, Page> {
    user.caller.require(Role::Operator, "control jobs")?;
    let form = Form::parse(&body);
    let control = match form.get("action") {
        Some("cancel") => JobControl::Cancel,
        Some("pause") => JobControl::Pause,
        Some("resume") => JobControl::Resume,
        other => {
            return Err(Page(ApiError::BadRequest(format!(
                "unknown job action {other:?} (hint: cancel, pause or resume)"
            ))));
        }
    };
    let job = state.engine.control_job(id, control).await?;
    user.caller
        .audit(
            &state,
            "job.control",
            format!("job:{id}"),
            json!({"action": form.get("action")}),
        )
        .await?;
    Ok(Redirect::to(&format!(
        "/jobs/{id}?msg={}",
        super::url_escape(&format!("Job is now {}.", job.status.as_str()))
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::live_text;
    use serde_json::json;

    #[test]
    fn live_progress_reads_as_protocol_source_attempt_and_bytes() {
        let mib = 1024 * 1024;
        let cases = [
            (
                json!({"operation": "transfer", "protocol": "scp", "attempt": 1, "source": "local", "bytes": 6 * mib, "total": 24 * mib}),
                (
                    "scp from local, 6.0 MiB of 24.0 MiB (25%)",
                    Some((6 * mib, 24 * mib)),
                ),
            ),
            (
                json!({"operation": "transfer", "protocol": "ftp", "attempt": 2, "source": "relay-1"}),
                ("ftp from relay-1 attempt 2", None),
            ),
            (
                json!({"protocol": "http", "bytes": 5, "total": 0}),
                ("http", None),
            ),
        ];
        for (payload, (text, counts)) in cases {
            assert_eq!(live_text(&payload), (text.to_owned(), counts), "{payload}");
        }
    }
}
