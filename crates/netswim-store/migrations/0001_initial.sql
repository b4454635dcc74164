-- netswim store schema, version 1.
-- One template for both databases: `@ID@` becomes the dialect's auto-increment
-- primary key and `@BYTES@` its binary type when the migration is applied.
-- Times are BIGINT milliseconds since the Unix epoch (UTC); JSON is TEXT, so
-- the same queries read and write it on both databases.

CREATE TABLE sites (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE images (
    id @ID@,
    sha256 TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL,
    family TEXT,
    os TEXT,
    image_type TEXT NOT NULL,
    version TEXT,
    feature_set TEXT,
    format TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    md5 TEXT NOT NULL,
    sha512 TEXT NOT NULL,
    min_ram_bytes BIGINT,
    min_flash_bytes BIGINT,
    signature_status TEXT NOT NULL,
    metadata_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE image_platforms (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    platform TEXT NOT NULL,
    PRIMARY KEY (image_id, platform)
);

CREATE TABLE image_requirements (
    image_id BIGINT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value_json TEXT NOT NULL,
    PRIMARY KEY (image_id, name)
);

CREATE TABLE credential_profiles (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    secret_ciphertext @BYTES@ NOT NULL,
    secret_nonce @BYTES@ NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE distribution_servers (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE distribution_server_sites (
    server_id BIGINT NOT NULL REFERENCES distribution_servers (id) ON DELETE CASCADE,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    PRIMARY KEY (server_id, site_id)
);

CREATE TABLE devices (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    os TEXT,
    platform TEXT,
    host TEXT NOT NULL,
    port BIGINT NOT NULL,
    credential_profile_id BIGINT REFERENCES credential_profiles (id) ON DELETE SET NULL,
    site_id BIGINT REFERENCES sites (id) ON DELETE SET NULL,
    role TEXT,
    redundancy_peer_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,
    ssh_host_key TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE device_facts (
    id @ID@,
    device_id BIGINT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    collected_at BIGINT NOT NULL,
    facts_json TEXT NOT NULL,
    changed_fields_json TEXT NOT NULL
);
CREATE INDEX device_facts_by_device ON device_facts (device_id, id);

CREATE TABLE jobs (
    id @ID@,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    schedule_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT,
    next_run_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_by_status ON jobs (status, next_run_at);

CREATE TABLE job_runs (
    id @ID@,
    job_id BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX job_runs_by_job ON job_runs (job_id, id);

CREATE TABLE tasks (
    id @ID@,
    run_id BIGINT NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    device_id BIGINT REFERENCES devices (id) ON DELETE SET NULL,
    subject TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    started_at BIGINT,
    ended_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX tasks_by_run ON tasks (run_id, id);
CREATE INDEX tasks_by_status ON tasks (status, lease_expires_at);

CREATE TABLE operations (
    id @ID@,
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    started_at BIGINT,
    ended_at BIGINT,
    UNIQUE (task_id, seq)
);

CREATE TABLE events (
    id @ID@,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    job_id BIGINT,
    run_id BIGINT,
    task_id BIGINT,
    payload_json TEXT NOT NULL
);
CREATE INDEX events_by_job ON events (job_id, id);

CREATE TABLE users (
    id @ID@,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id @ID@,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id @ID@,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at, id);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
