//! The route table: one row per route (method, path, least role, whether it
//! mutates, summary). The OpenAPI document is generated from it, and the
//! tests walk it to prove every documented route is served, guarded and
//! audited.

use serde_json::{Map, Value, json};

/// One documented route.
#[derive(Debug, Clone, Copy)]
pub struct RouteDoc {
    pub method: &'static str,
    /// Path with `{id}`-style parameters, as axum and OpenAPI write them.
    pub path: &'static str,
    /// Least role allowed; `None` = no authentication (login, OpenAPI, metrics).
    pub role: Option<&'static str>,
    /// Writes something (and so leaves an audit row).
    pub mutates: bool,
    pub summary: &'static str,
}

const fn route(
    method: &'static str,
    path: &'static str,
    role: Option<&'static str>,
    mutates: bool,
    summary: &'static str,
) -> RouteDoc {
    RouteDoc {
        method,
        path,
        role,
        mutates,
        summary,
    }
}

const VIEWER: Option<&str> = Some("viewer");
const OPERATOR: Option<&str> = Some("operator");
const ADMIN: Option<&str> = Some("admin");

/// Every route the API serves.
pub const ROUTES: &[RouteDoc] = &[
    route(
        "post",
        "/api/v1/login",
        None,
        true,
        "Exchange user name and password for a token",
    ),
    route("get", "/api/v1/openapi.json", None, false, "This document"),
    route("get", "/metrics", None, false, "Prometheus metrics"),
    route(
        "get",
        "/api/v1/events",
        VIEWER,
        false,
        "Server-sent events (job progress); ?job_id= filters",
    ),
    route("get", "/api/v1/images", VIEWER, false, "List images"),
    route(
        "post",
        "/api/v1/images",
        OPERATOR,
        true,
        "Upload an image (raw body with ?file_name=, or multipart `file`)",
    ),
    route(
        "post",
        "/api/v1/images/import",
        OPERATOR,
        true,
        "Import an image from a URL or server path (job)",
    ),
    route("get", "/api/v1/images/{id}", VIEWER, false, "Show an image"),
    route(
        "delete",
        "/api/v1/images/{id}",
        OPERATOR,
        true,
        "Delete an image (refused while a pending job uses it)",
    ),
    route(
        "patch",
        "/api/v1/images/{id}/requirements",
        OPERATOR,
        true,
        "Edit minimum RAM/flash and named requirements",
    ),
    route("get", "/api/v1/devices", VIEWER, false, "List devices"),
    route("post", "/api/v1/devices", OPERATOR, true, "Add a device"),
    route(
        "post",
        "/api/v1/devices/import",
        OPERATOR,
        true,
        "Import devices from CSV",
    ),
    route(
        "post",
        "/api/v1/devices/sync",
        OPERATOR,
        true,
        "Sync devices (job)",
    ),
    route(
        "get",
        "/api/v1/devices/{id}",
        VIEWER,
        false,
        "Show a device with its latest facts",
    ),
    route(
        "put",
        "/api/v1/devices/{id}",
        OPERATOR,
        true,
        "Change a device",
    ),
    route(
        "delete",
        "/api/v1/devices/{id}",
        OPERATOR,
        true,
        "Delete a device",
    ),
    route(
        "get",
        "/api/v1/credentials",
        VIEWER,
        false,
        "List credential profiles (never their secrets)",
    ),
    route(
        "post",
        "/api/v1/credentials",
        ADMIN,
        true,
        "Add a credential profile",
    ),
    route(
        "delete",
        "/api/v1/credentials/{id}",
        ADMIN,
        true,
        "Delete a credential profile",
    ),
    route("get", "/api/v1/sites", VIEWER, false, "List sites"),
    route("post", "/api/v1/sites", OPERATOR, true, "Add a site"),
    route(
        "delete",
        "/api/v1/sites/{id}",
        OPERATOR,
        true,
        "Delete a site",
    ),
    route(
        "get",
        "/api/v1/distribution-servers",
        VIEWER,
        false,
        "List distribution servers",
    ),
    route(
        "post",
        "/api/v1/distribution-servers",
        OPERATOR,
        true,
        "Add a distribution server",
    ),
    route(
        "delete",
        "/api/v1/distribution-servers/{id}",
        OPERATOR,
        true,
        "Delete a distribution server",
    ),
    route("get", "/api/v1/jobs", VIEWER, false, "List jobs"),
    route(
        "get",
        "/api/v1/jobs/{id}",
        VIEWER,
        false,
        "Show a job with runs, tasks and operations",
    ),
    route(
        "post",
        "/api/v1/analysis",
        VIEWER,
        false,
        "Live readiness of devices for an image (no job): {image_id, devices, method}",
    ),
    route(
        "post",
        "/api/v1/jobs/analysis",
        OPERATOR,
        true,
        "Submit an analysis job: the spec's fields plus an optional schedule {at, time_zone, recurrence}",
    ),
    route(
        "get",
        "/api/v1/jobs/{id}/analysis",
        VIEWER,
        false,
        "The report of an analysis job's latest run",
    ),
    route(
        "post",
        "/api/v1/jobs/distribution",
        OPERATOR,
        true,
        "Submit a distribution job (optionally with activation): spec fields plus an optional schedule",
    ),
    route(
        "post",
        "/api/v1/jobs/activation",
        OPERATOR,
        true,
        "Submit an activation job, from the library (image_id) or a distribution run (from_run)",
    ),
    route(
        "post",
        "/api/v1/jobs/commit",
        OPERATOR,
        true,
        "Submit an IOS-XR commit job",
    ),
    route(
        "post",
        "/api/v1/jobs/rollback",
        OPERATOR,
        true,
        "Submit a rollback job (IOS-XR to the last commit, IOS/IOS-XE to the previous image)",
    ),
    route(
        "post",
        "/api/v1/jobs/{id}/cancel",
        OPERATOR,
        true,
        "Cancel a job: no new device starts, running ones stop at a safe point",
    ),
    route(
        "post",
        "/api/v1/jobs/{id}/pause",
        OPERATOR,
        true,
        "Pause a job: no new device starts, running ones finish",
    ),
    route(
        "post",
        "/api/v1/jobs/{id}/resume",
        OPERATOR,
        true,
        "Resume a paused job",
    ),
    route(
        "get",
        "/api/v1/jobs/{id}/summary",
        VIEWER,
        false,
        "Task counts of the latest run: total, successful, failed, in progress, not started, cancelled",
    ),
    route(
        "get",
        "/api/v1/jobs/{id}/log",
        VIEWER,
        false,
        "The job's log as a text/plain download",
    ),
    route("get", "/api/v1/settings", VIEWER, false, "All settings"),
    route(
        "put",
        "/api/v1/settings/{key}",
        ADMIN,
        true,
        "Set a setting (JSON value)",
    ),
    route("get", "/api/v1/users", ADMIN, false, "List users"),
    route("post", "/api/v1/users", ADMIN, true, "Add a user"),
    route("delete", "/api/v1/users/{id}", ADMIN, true, "Delete a user"),
    route("get", "/api/v1/tokens", ADMIN, false, "List API tokens"),
    route(
        "post",
        "/api/v1/tokens",
        ADMIN,
        true,
        "Issue a long-lived API token",
    ),
    route(
        "delete",
        "/api/v1/tokens/{id}",
        ADMIN,
        true,
        "Revoke an API token",
    ),
    route(
        "get",
        "/api/v1/audit",
        ADMIN,
        false,
        "The audit log, newest first",
    ),
];

/// The OpenAPI 3.1 document of [`ROUTES`].
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let parameters: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        let mut responses = Map::new();
        responses.insert("2XX".into(), json!({"description": "success"}));
        responses.insert(
            "default".into(),
            json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}),
        );
        let mut operation = json!({
            "summary": route.summary,
            "parameters": parameters,
            "responses": responses,
            "x-netswim-role": route.role,
        });
        if route.role.is_none() {
            operation["security"] = json!([]);
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(methods) = entry {
            methods.insert(route.method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "netswim API", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["code", "message", "hint"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "hint": {"type": "string"}
                }
            }}
        }
    })
}
