//! The web UI: server-rendered HTML pages (maud, checked at compile time; no
//! JavaScript build step) mounted under `/`, beside the API under `/api/v1`.
//!
//! Sessions: the login form checks the user's password like `POST
//! /api/v1/login` and stores the issued token in an `HttpOnly`,
//! `SameSite=Strict` cookie. Forms carry no CSRF token: a `SameSite=Strict`
//! cookie is never sent on a cross-site request, so a forged form arrives
//! without a session and is sent to the login page. Role checks and audit
//! rows are the API's (`Caller::require`, `Caller::audit`); mutations reuse
//! the API handlers where one exists, and upgrade jobs call the engine.
//! Every page works without JavaScript; job pages add a small inline script
//! that refreshes progress from server-sent events.

mod jobs;
mod pages;
mod wizards;

use crate::handlers;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use netswim_store::Timestamp;
use netswim_store::crypto::hash_token;
use serde_json::json;

use crate::{ApiError, AppState, Caller};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "netswim_session";
/// How long a web session lasts.
const SESSION_DAYS: u64 = 7;
const CSS: &str = include_str!("netswim.css");

/// The pages, to be merged into the API router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/static/netswim.css", get(css))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/images", get(pages::images))
        .route(
            "/images/upload",
            post(pages::upload_image).layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/images/import", post(pages::import_image))
        .route("/images/{id}", get(pages::image_detail))
        .route("/images/{id}/requirements", post(pages::edit_requirements))
        .route("/devices", get(pages::devices))
        .route("/devices/import", post(pages::import_devices))
        .route("/devices/sync", post(pages::sync_devices))
        .route("/devices/{id}", get(pages::device_detail))
        .route("/settings", get(pages::settings))
        .route("/settings/protocol-order", post(pages::set_protocol_order))
        .route("/settings/job-defaults", post(pages::set_job_defaults))
        .route("/settings/sites", post(pages::add_site))
        .route(
            "/settings/distribution-servers",
            post(pages::add_distribution_server),
        )
        .route(
            "/settings/distribution-servers/{id}/delete",
            post(pages::delete_distribution_server),
        )
        .route("/settings/users", post(pages::add_user))
        .route("/settings/users/{id}/delete", post(pages::delete_user))
        .route("/settings/tokens", post(pages::add_token))
        .route("/settings/tokens/{id}/delete", post(pages::delete_token))
        .route(
            "/analysis",
            get(wizards::analysis).post(wizards::save_analysis),
        )
        .route(
            "/distribute",
            get(wizards::distribute).post(wizards::submit_distribution),
        )
        .route(
            "/activate",
            get(wizards::activate).post(wizards::submit_activation),
        )
        .route("/commit", get(wizards::commit).post(wizards::submit_commit))
        .route(
            "/rollback",
            get(wizards::rollback).post(wizards::submit_rollback),
        )
        .route("/jobs", get(jobs::jobs))
        .route("/jobs/{id}", get(jobs::job_detail))
        .route("/jobs/{id}/progress", get(jobs::job_progress))
        .route("/jobs/{id}/events", get(jobs::job_events))
        .route("/jobs/{id}/log", get(jobs::job_log))
        .route("/jobs/{id}/control", post(jobs::control_job))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        CSS,
    )
}

// ---------------------------------------------------------------- session

/// The signed-in user of a page request: the API's [`Caller`] read from the
/// session cookie, plus the token hash (for logout).
#[derive(Debug, Clone)]
pub struct WebUser {
    pub caller: Caller,
    token_hash: String,
}

/// Reads one cookie. Written by hand: the only cookie read is our own
/// session token (URL-safe characters), so a cookie crate buys nothing.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || {
            let next = parts
                .uri
                .path_and_query()
                .map(|path| path.as_str().to_owned())
                .unwrap_or_else(|| "/".into());
            let target = format!("/login?next={}", url_escape(&next));
            Redirect::to(&target).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let token_hash = hash_token(token);
        let store = state.engine.store();
        let found = match store
            .find_valid_api_token(&token_hash, Timestamp::now())
            .await
        {
            Ok(Some(found)) => found,
            Ok(None) => return Err(to_login()),
            Err(error) => return Err(Page(error.into()).into_response()),
        };
        let name = match found.user_id {
            Some(user_id) => match store.get_user(user_id).await {
                Ok(user) => user.name,
                Err(_) => return Err(to_login()),
            },
            None => format!("token:{}", found.name),
        };
        Ok(WebUser {
            caller: Caller {
                name,
                role: found.role,
            },
            token_hash,
        })
    }
}

/// Percent-encodes a query value.
pub fn url_escape(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

async fn login_form(query: axum::extract::RawQuery) -> Markup {
    let form = Form::parse(query.0.as_deref().unwrap_or(""));
    login_page(form.get("next").unwrap_or("/"), "", None)
}

fn login_page(next: &str, user: &str, error: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Log in · netswim" }
                link rel="stylesheet" href="/static/netswim.css";
            }
            body.login {
                main #main {
                    h1 { "netswim" }
                    p.muted { "Software image management for network devices" }
                    @if let Some(error) = error {
                        p.error role="alert" { (error) }
                    }
                    form method="post" action="/login" {
                        input type="hidden" name="next" value=(next);
                        label for="user" { "User" }
                        input #user name="user" value=(user) autocomplete="username" required autofocus;
                        label for="password" { "Password" }
                        input #password type="password" name="password" autocomplete="current-password" required;
                        button type="submit" { "Log in" }
                    }
                }
            }
        }
    }
}

/// Only same-site paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") => path.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn login(State(state): State<AppState>, body: String) -> Result<Response, Page> {
    let form = Form::parse(&body);
    let user_name = form.get("user").unwrap_or("").trim();
    let password = form.get("password").unwrap_or("");
    let next = safe_next(form.get("next"));
    let Some(user) = handlers::check_password(&state, user_name, password).await? else {
        return Ok((
            StatusCode::UNAUTHORIZED,
            login_page(&next, user_name, Some("Wrong user name or password.")),
        )
            .into_response());
    };
    let (token, _) =
        handlers::open_session(&state, &user, "web", SESSION_DAYS, json!({"via": "web"})).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        SESSION_DAYS * 24 * 3600
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn logout(State(state): State<AppState>, user: WebUser) -> Result<Response, Page> {
    let store = state.engine.store();
    if let Some(token) = store
        .find_valid_api_token(&user.token_hash, Timestamp::now())
        .await?
    {
        store.delete_api_token(token.id).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("netswim_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

// ---------------------------------------------------------------- errors

/// An error shown as an HTML page with the API's status, message and hint.
#[derive(Debug)]
pub struct Page(pub ApiError);

impl<E: Into<ApiError>> From<E> for Page {
    fn from(error: E) -> Self {
        Page(error.into())
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let (status, hint) = self.0.status_and_hint();
        if let ApiError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error answering a page");
        }
        let body = html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { "Error · netswim" }
                    link rel="stylesheet" href="/static/netswim.css";
                }
                body {
                    main #main {
                        h1 { "Something went wrong" }
                        p.error role="alert" { (self.0.to_string()) }
                        p.muted { "Hint: " (hint) }
                        p { a href="javascript:history.back()" { "Back" } " · " a href="/" { "Dashboard" } }
                    }
                }
            }
        };
        (status, body).into_response()
    }
}

pub type PageResult<T = Markup> = Result<T, Page>;

// ---------------------------------------------------------------- forms

/// Form fields (`application/x-www-form-urlencoded` body or query string)
/// in order, repeated names kept (checkbox lists).
#[derive(Debug, Clone, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(text: &str) -> Self {
        Form(
            url::form_urlencoded::parse(text.as_bytes())
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, empty values counted as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A number field; absent is `None`, a malformed one an error naming it.
    pub fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => text.trim().parse().map(Some).map_err(|_| {
                ApiError::BadRequest(format!(
                    "{name} must be a number, not {text:?} (hint: correct the field)"
                ))
            }),
        }
    }

    pub fn ids(&self, name: &str) -> Result<Vec<i64>, ApiError> {
        self.all(name)
            .into_iter()
            .map(|text| {
                text.parse().map_err(|_| {
                    ApiError::BadRequest(format!("{name} must be numbers, not {text:?}"))
                })
            })
            .collect()
    }

    /// Hidden inputs repeating every field but those named in `except`
    /// (wizards carry earlier steps' answers this way).
    pub fn carry(&self, except: &[&str]) -> Markup {
        html! {
            @for (key, value) in &self.0 {
                @if !except.iter().any(|skip| skip == key || (skip.ends_with('*') && key.starts_with(skip.trim_end_matches('*')))) {
                    input type="hidden" name=(key) value=(value);
                }
            }
        }
    }

    /// The fields as a query string, without `except`.
    pub fn query(&self, except: &[&str]) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &self.0 {
            if !except.contains(&key.as_str()) {
                out.append_pair(key, value);
            }
        }
        out.finish()
    }
}

// ---------------------------------------------------------------- layout

/// Which top-level section a page belongs to (for the navigation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Dashboard,
    Repository,
    Devices,
    Analysis,
    Distribute,
    Activate,
    Jobs,
    Settings,
}

const NAV: &[(Section, &str, &str)] = &[
    (Section::Dashboard, "/", "Software Images"),
    (Section::Repository, "/images", "Repository"),
    (Section::Devices, "/devices", "Devices"),
    (Section::Analysis, "/analysis", "Analysis"),
    (Section::Distribute, "/distribute", "Distribute"),
    (Section::Activate, "/activate", "Activate"),
    (Section::Jobs, "/jobs", "Jobs"),
    (Section::Settings, "/settings", "Settings"),
];

/// The page frame: navigation, signed-in user, notice from `?msg=`.
pub fn layout(
    user: &WebUser,
    section: Section,
    title: &str,
    notice: Option<&str>,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · netswim" }
                link rel="stylesheet" href="/static/netswim.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "netswim" }
                    nav aria-label="Main" {
                        ul {
                            @for (item, href, label) in NAV {
                                li {
                                    @if *item == section {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                    form.logout method="post" action="/logout" {
                        span.muted { (user.caller.name) " (" (user.caller.role.as_str()) ")" }
                        " "
                        button.link type="submit" { "Log out" }
                    }
                }
                main #main {
                    h1 { (title) }
                    @if let Some(notice) = notice {
                        p.notice role="status" { (notice) }
                    }
                    (content)
                }
            }
        }
    }
}

// ---------------------------------------------------------------- formatting

/// Bytes in binary units (`12.3 MiB`).
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut size = value as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

/// `2026-11-22 21:40:05 UTC`. Written by hand (days → civil date, Howard
/// Hinnant's algorithm) so the UI does not pull a calendar crate for one
/// format.
pub fn when(at: Timestamp) -> String {
    let seconds = at.as_millis().div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

pub fn when_opt(at: Option<Timestamp>) -> String {
    at.map(when).unwrap_or_default()
}

/// A status as a coloured badge.
pub fn status_badge(status: &str) -> Markup {
    html! { span class={ "badge s-" (status) } { (status) } }
}

/// Raw HTML of an inline script (no user data inside).
pub fn script(text: &'static str) -> Markup {
    html! { script { (PreEscaped(text)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_formats_utc_dates_across_leap_years() {
        for (millis, text) in [
            (0, "1970-01-01 00:00:00 UTC"),
            (951_782_400_000, "2000-02-29 00:00:00 UTC"),
            (1_795_383_645_000, "2026-11-22 21:40:45 UTC"),
        ] {
            assert_eq!(when(Timestamp(millis)), text);
        }
    }

    #[test]
    fn bytes_use_binary_units() {
        for (value, text) in [
            (512, "512 B"),
            (8 * 1024 * 1024, "8.0 MiB"),
            (1536, "1.5 KiB"),
        ] {
            assert_eq!(bytes(value), text);
        }
    }

    #[test]
    fn form_keeps_repeated_fields_and_carries_all_but_the_excepted() {
        let form = Form::parse("device=1&device=2&loc_a=flash%3A&step=3&empty=");
        assert_eq!(form.all("device"), ["1", "2"]);
        assert_eq!(form.get("empty"), None);
        let carried = form.carry(&["step", "loc_*"]).into_string();
        assert!(carried.contains(r#"name="device" value="2""#), "{carried}");
        assert!(
            !carried.contains("loc_a") && !carried.contains("step"),
            "{carried}"
        );
    }

    #[test]
    fn next_after_login_stays_on_this_site() {
        for (next, expected) in [
            (Some("/jobs/3"), "/jobs/3"),
            (Some("//evil.example/"), "/"),
            (Some("https://evil.example/"), "/"),
            (None, "/"),
        ] {
            assert_eq!(safe_next(next), expected);
        }
    }
}
