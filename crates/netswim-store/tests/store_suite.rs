//! The store test suite: every test body runs on SQLite and on PostgreSQL.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::TestDb;
use netswim_domain::Os;
use netswim_domain::image::{ImageFormat, ImageType};
use netswim_store::crypto::{SecretKey, hash_password, hash_token, verify_password};
use netswim_store::{
    DEFAULT_PROTOCOL_ORDER, MIGRATIONS, NewApiToken, NewAuditEntry, NewCredentialProfile,
    NewDevice, NewDistributionServer, NewEvent, NewImage, NewJob, NewTask, Role, SignatureStatus,
    Status, Store, StoreError, Timestamp,
};
use serde_json::json;

on_both_backends!(
    migrations_are_idempotent_and_keep_changed_settings,
    image_with_same_sha256_is_a_conflict,
    image_metadata_platforms_and_requirements_round_trip,
    device_names_are_unique_and_bulk_insert_is_all_or_nothing,
    device_references_sites_profiles_and_peers,
    fact_history_records_changed_fields,
    job_run_task_operation_lifecycle,
    mark_running_as_interrupted_recovers_after_a_crash,
    task_leases_are_exclusive_until_they_expire,
    audit_rows_are_appended_newest_first,
    settings_default_protocol_order_and_job_defaults,
    users_and_tokens_keep_roles_and_expiry,
    credential_profiles_store_only_sealed_secrets,
    distribution_servers_serve_sites,
    events_resume_after_last_seen_id,
    blob_records_track_unreferenced_blobs,
    missing_rows_are_not_found,
    concurrent_writers_do_not_fail,
    nodes_starting_together_migrate_once,
);

fn sample_image(sha_seed: u8) -> NewImage {
    NewImage {
        sha256: hex_of(sha_seed, 32),
        file_name: "c3750-ipbasek9-tar.122-55.SE12.tar".to_owned(),
        family: Some("c3750".to_owned()),
        os: Some(Os::Ios),
        image_type: ImageType::System,
        version: Some("12.2(55)SE12".to_owned()),
        feature_set: Some("ipbasek9".to_owned()),
        format: ImageFormat::Tar,
        size_bytes: 16_000_000,
        md5: hex_of(sha_seed, 16),
        sha512: hex_of(sha_seed, 64),
        min_ram_bytes: Some(128 * 1024 * 1024),
        min_flash_bytes: Some(32 * 1024 * 1024),
        signature_status: SignatureStatus::NotChecked,
        metadata: json!({"info": {"image_system_type_id": "0x00000002"}}),
        platforms: vec!["c3750".to_owned(), "c3750e".to_owned()],
        requirements: BTreeMap::from([("min_boot_loader".to_owned(), json!("12.2(44)SE5"))]),
    }
}

fn hex_of(seed: u8, bytes: usize) -> String {
    format!("{seed:02x}").repeat(bytes)
}

fn sample_device(name: &str) -> NewDevice {
    NewDevice {
        name: name.to_owned(),
        os: Some(Os::Ios),
        platform: Some("c3750".to_owned()),
        host: "127.0.1.10".to_owned(),
        port: 22,
        ..NewDevice::default()
    }
}

fn sample_job(status: Status) -> NewJob {
    NewJob {
        kind: "distribution".to_owned(),
        name: "distribute 12.2(55)SE12".to_owned(),
        spec: json!({"image_ids": [1], "device_ids": [1, 2]}),
        schedule: json!({"at": "now"}),
        status,
        created_by: Some("admin".to_owned()),
        next_run_at: None,
    }
}

async fn migrations_are_idempotent_and_keep_changed_settings(database: &TestDb) {
    let store = &database.store;
    let report = store.migrate().await.unwrap();
    assert!(report.applied.is_empty(), "{report:?}");
    assert_eq!(report.current_version, MIGRATIONS.last().unwrap().version);
    store
        .set_setting("protocol_order", &json!(["tftp", "scp"]))
        .await
        .unwrap();

    let reopened = Store::open(&database.url).await.unwrap();
    assert!(reopened.migrate().await.unwrap().applied.is_empty());
    assert_eq!(reopened.protocol_order().await.unwrap(), ["tftp", "scp"]);
    reopened.close().await;
}

async fn image_with_same_sha256_is_a_conflict(database: &TestDb) {
    let store = &database.store;
    let image = sample_image(0xab);
    let stored = store.insert_image(&image).await.unwrap();
    let mut same_bytes_other_name = image.clone();
    same_bytes_other_name.file_name = "renamed.tar".to_owned();
    let error = store
        .insert_image(&same_bytes_other_name)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { what: "image", key } if *key == image.sha256),
        "{error:?}"
    );
    assert_eq!(store.list_images().await.unwrap().len(), 1);
    let found = store
        .find_image_by_sha256(&image.sha256)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, stored);
    assert!(
        store
            .find_image_by_sha256(&hex_of(0x01, 32))
            .await
            .unwrap()
            .is_none()
    );

    let bad_hash = NewImage {
        sha256: "ABC".to_owned(),
        ..sample_image(1)
    };
    assert!(matches!(
        store.insert_image(&bad_hash).await,
        Err(StoreError::InvalidInput { what: "sha256", .. })
    ));
}

async fn image_metadata_platforms_and_requirements_round_trip(database: &TestDb) {
    let store = &database.store;
    let stored = store.insert_image(&sample_image(0x11)).await.unwrap();
    assert_eq!(stored.platforms, ["c3750", "c3750e"]);
    assert_eq!(stored.requirements["min_boot_loader"], json!("12.2(44)SE5"));
    assert_eq!(stored.os, Some(Os::Ios));
    assert_eq!(stored.format, ImageFormat::Tar);
    assert_eq!(stored.min_ram_bytes, Some(128 * 1024 * 1024));
    assert_eq!(store.get_image(stored.id).await.unwrap(), stored);

    let mut edited = stored.clone();
    edited.min_ram_bytes = Some(256 * 1024 * 1024);
    edited.min_flash_bytes = None;
    edited.signature_status = SignatureStatus::Verified;
    edited.platforms = vec!["c3560".to_owned()];
    edited.requirements.clear();
    let updated = store.update_image(&edited).await.unwrap();
    assert_eq!(updated.min_ram_bytes, Some(256 * 1024 * 1024));
    assert_eq!(updated.min_flash_bytes, None);
    assert_eq!(updated.signature_status, SignatureStatus::Verified);
    assert_eq!(updated.platforms, ["c3560"]);
    assert!(updated.requirements.is_empty());
    assert_eq!(updated.sha256, stored.sha256);

    let second = store
        .insert_image(&NewImage {
            image_type: ImageType::ApImage,
            format: ImageFormat::Bin,
            os: None,
            ..sample_image(0x22)
        })
        .await
        .unwrap();
    let listed = store.list_images().await.unwrap();
    assert_eq!(listed, vec![updated.clone(), second.clone()]);

    store.delete_image(updated.id).await.unwrap();
    assert_eq!(store.list_images().await.unwrap(), vec![second]);
    assert!(matches!(
        store.delete_image(updated.id).await,
        Err(StoreError::NotFound { what: "image", .. })
    ));
}

async fn device_names_are_unique_and_bulk_insert_is_all_or_nothing(database: &TestDb) {
    let store = &database.store;
    store.insert_device(&sample_device("sw1")).await.unwrap();
    let error = store
        .insert_device(&sample_device("sw1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { what: "device", key } if key == "sw1"),
        "{error:?}"
    );

    let batch: Vec<NewDevice> = (0..50)
        .map(|index| sample_device(&format!("lab-{index:03}")))
        .collect();
    let stored = store.insert_devices(&batch).await.unwrap();
    assert_eq!(stored.len(), 50);
    assert_eq!(store.list_devices().await.unwrap().len(), 51);

    let clashing = vec![sample_device("new-1"), sample_device("sw1")];
    assert!(matches!(
        store.insert_devices(&clashing).await,
        Err(StoreError::Conflict { what: "device", .. })
    ));
    assert!(store.find_device_by_name("new-1").await.unwrap().is_none());

    let mut renamed = stored[0].clone();
    renamed.name = "sw1".to_owned();
    assert!(matches!(
        store.update_device(&renamed).await,
        Err(StoreError::Conflict { what: "device", .. })
    ));
}

async fn device_references_sites_profiles_and_peers(database: &TestDb) {
    let store = &database.store;
    let site = store.insert_site("paris", "Paris campus").await.unwrap();
    assert!(matches!(
        store.insert_site("paris", "").await,
        Err(StoreError::Conflict { what: "site", .. })
    ));
    let key = SecretKey::generate();
    let profile = store
        .insert_credential_profile(&NewCredentialProfile {
            name: "lab".to_owned(),
            username: "admin".to_owned(),
            secret: key.seal(b"cisco").unwrap(),
        })
        .await
        .unwrap();
    let primary = store
        .insert_device(&NewDevice {
            site_id: Some(site.id),
            credential_profile_id: Some(profile.id),
            role: Some("core".to_owned()),
            ..sample_device("core-1")
        })
        .await
        .unwrap();
    let standby = store
        .insert_device(&NewDevice {
            site_id: Some(site.id),
            role: Some("core".to_owned()),
            redundancy_peer_id: Some(primary.id),
            port: 2222,
            ..sample_device("core-2")
        })
        .await
        .unwrap();
    let mut primary_edit = primary.clone();
    primary_edit.redundancy_peer_id = Some(standby.id);
    let primary = store.update_device(&primary_edit).await.unwrap();
    assert_eq!(primary.redundancy_peer_id, Some(standby.id));
    assert_eq!(store.get_device(standby.id).await.unwrap().port, 2222);
    assert_eq!(store.list_devices_in_site(site.id).await.unwrap().len(), 2);

    store
        .set_device_host_key(primary.id, Some("ssh-rsa AAAAB3Nza"))
        .await
        .unwrap();
    assert_eq!(
        store
            .get_device(primary.id)
            .await
            .unwrap()
            .ssh_host_key
            .as_deref(),
        Some("ssh-rsa AAAAB3Nza")
    );

    // Deleting what a device refers to leaves the device, without the reference.
    store.delete_credential_profile(profile.id).await.unwrap();
    store.delete_site(site.id).await.unwrap();
    store.delete_device(standby.id).await.unwrap();
    let primary = store.get_device(primary.id).await.unwrap();
    assert_eq!(primary.credential_profile_id, None);
    assert_eq!(primary.site_id, None);
    assert_eq!(primary.redundancy_peer_id, None);
}

async fn fact_history_records_changed_fields(database: &TestDb) {
    let store = &database.store;
    let device = store.insert_device(&sample_device("sw1")).await.unwrap();
    let first_facts = json!({
        "version": "12.2(55)SE11",
        "serial": "FOC1234",
        "file_systems": [{"name": "flash1:", "free_bytes": 1000}, {"name": "flash2:", "free_bytes": 2000}]
    });
    let first = store
        .record_device_facts(device.id, Timestamp(1_000), &first_facts)
        .await
        .unwrap();
    assert_eq!(first.changed_fields, ["file_systems", "serial", "version"]);

    let second_facts = json!({
        "version": "12.2(55)SE12",
        "serial": "FOC1234",
        "file_systems": [{"name": "flash1:", "free_bytes": 1000}, {"name": "flash2:", "free_bytes": 500}]
    });
    let second = store
        .record_device_facts(device.id, Timestamp(2_000), &second_facts)
        .await
        .unwrap();
    assert_eq!(
        second.changed_fields,
        ["file_systems[1].free_bytes", "version"]
    );
    let unchanged = store
        .record_device_facts(device.id, Timestamp(3_000), &second_facts)
        .await
        .unwrap();
    assert!(unchanged.changed_fields.is_empty());

    let latest = store.latest_device_facts(device.id).await.unwrap().unwrap();
    assert_eq!(latest, unchanged);
    let history = store.device_fact_history(device.id, 10).await.unwrap();
    assert_eq!(
        history
            .iter()
            .map(|snapshot| snapshot.collected_at)
            .collect::<Vec<_>>(),
        [Timestamp(3_000), Timestamp(2_000), Timestamp(1_000)]
    );
    assert_eq!(history[2].facts, first_facts);
    assert_eq!(
        store.device_fact_history(device.id, 1).await.unwrap().len(),
        1
    );

    assert!(matches!(
        store
            .record_device_facts(999_999, Timestamp(1), &json!({}))
            .await,
        Err(StoreError::NotFound { what: "device", .. })
    ));
}

async fn job_run_task_operation_lifecycle(database: &TestDb) {
    let store = &database.store;
    let devices = store
        .insert_devices(&[sample_device("sw1"), sample_device("sw2")])
        .await
        .unwrap();
    let job = store
        .insert_job(&sample_job(Status::Running))
        .await
        .unwrap();
    assert_eq!(job.spec["device_ids"], json!([1, 2]));
    let run = store.insert_run(job.id, Status::Running).await.unwrap();
    assert!(run.started_at.is_some());
    let tasks = store
        .insert_tasks(
            run.id,
            &devices
                .iter()
                .map(|device| NewTask {
                    device_id: Some(device.id),
                    subject: device.name.clone(),
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert!(tasks.iter().all(|task| task.status == Status::NotStarted));

    let task = &tasks[0];
    store
        .set_task_status(task.id, Status::Running, None)
        .await
        .unwrap();
    let transfer = store
        .add_operation(task.id, "transfer", Status::Running)
        .await
        .unwrap();
    assert_eq!(transfer.seq, 1);
    assert!(transfer.started_at.is_some() && transfer.ended_at.is_none());
    store
        .set_operation_status(
            transfer.id,
            Status::Success,
            Some("copied 16000000 bytes by scp"),
        )
        .await
        .unwrap();
    let set_boot = store
        .add_operation(task.id, "set boot", Status::NotStarted)
        .await
        .unwrap();
    assert_eq!(set_boot.seq, 2);
    store
        .set_operation_status(set_boot.id, Status::Running, None)
        .await
        .unwrap();
    store
        .set_operation_status(set_boot.id, Status::Failure, Some("boot command rejected"))
        .await
        .unwrap();
    store
        .set_task_status(task.id, Status::Failure, Some("set boot failed"))
        .await
        .unwrap();
    store
        .set_task_status(tasks[1].id, Status::Running, None)
        .await
        .unwrap();
    store
        .set_task_status(tasks[1].id, Status::Success, None)
        .await
        .unwrap();

    let operations = store.list_operations(task.id).await.unwrap();
    assert_eq!(
        operations
            .iter()
            .map(|operation| (
                operation.seq,
                operation.name.as_str(),
                operation.status,
                operation.message.as_str()
            ))
            .collect::<Vec<_>>(),
        [
            (
                1,
                "transfer",
                Status::Success,
                "copied 16000000 bytes by scp"
            ),
            (2, "set boot", Status::Failure, "boot command rejected"),
        ]
    );
    assert!(
        operations
            .iter()
            .all(|operation| operation.started_at.is_some() && operation.ended_at.is_some())
    );
    let finished_task = store.get_task(task.id).await.unwrap();
    assert_eq!(finished_task.status, Status::Failure);
    assert_eq!(finished_task.message, "set boot failed");
    assert!(finished_task.ended_at.is_some());

    let counts = store.run_task_counts(run.id).await.unwrap();
    assert_eq!(
        counts,
        BTreeMap::from([(Status::Success, 1), (Status::Failure, 1)])
    );
    store.set_run_status(run.id, Status::Partial).await.unwrap();
    store.set_job_status(job.id, Status::Partial).await.unwrap();
    let run = store.get_run(run.id).await.unwrap();
    assert_eq!(run.status, Status::Partial);
    assert!(run.ended_at.is_some());
    assert_eq!(store.list_runs(job.id).await.unwrap(), vec![run]);
    assert_eq!(store.get_job(job.id).await.unwrap().status, Status::Partial);

    // Scheduling: only scheduled jobs whose time has come are due.
    let scheduled = store
        .insert_job(&NewJob {
            next_run_at: Some(Timestamp(5_000)),
            ..sample_job(Status::Scheduled)
        })
        .await
        .unwrap();
    assert!(store.due_jobs(Timestamp(4_999)).await.unwrap().is_empty());
    assert_eq!(
        store.due_jobs(Timestamp(5_000)).await.unwrap()[0].id,
        scheduled.id
    );
    assert_eq!(store.list_jobs().await.unwrap()[0].id, scheduled.id);
    assert_eq!(
        store
            .list_jobs_with_status(Status::Scheduled)
            .await
            .unwrap()
            .len(),
        1
    );
    store.set_job_next_run(scheduled.id, None).await.unwrap();
    assert!(
        store
            .due_jobs(Timestamp(i64::MAX))
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting a job removes its runs, tasks and operations.
    store.delete_job(job.id).await.unwrap();
    assert!(matches!(
        store.get_task(task.id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(store.list_operations(task.id).await.unwrap().is_empty());
    assert!(matches!(
        store.insert_run(job.id, Status::Running).await,
        Err(StoreError::NotFound { what: "job", .. })
    ));
}

async fn mark_running_as_interrupted_recovers_after_a_crash(database: &TestDb) {
    let store = &database.store;
    let job = store
        .insert_job(&sample_job(Status::Running))
        .await
        .unwrap();
    let done_job = store
        .insert_job(&sample_job(Status::Success))
        .await
        .unwrap();
    let run = store.insert_run(job.id, Status::Running).await.unwrap();
    let tasks = store
        .insert_tasks(
            run.id,
            &[
                NewTask {
                    device_id: None,
                    subject: "a".to_owned(),
                },
                NewTask {
                    device_id: None,
                    subject: "b".to_owned(),
                },
            ],
        )
        .await
        .unwrap();
    store
        .set_task_status(tasks[0].id, Status::Running, None)
        .await
        .unwrap();
    assert!(
        store
            .try_lease_task(
                tasks[0].id,
                "node-a",
                Timestamp::now(),
                Duration::from_secs(60)
            )
            .await
            .unwrap()
    );
    let finished = store
        .add_operation(tasks[0].id, "prechecks", Status::Success)
        .await
        .unwrap();
    let in_flight = store
        .add_operation(tasks[0].id, "transfer", Status::Running)
        .await
        .unwrap();

    // The process dies here; on restart the store is reopened and recovered.
    let reopened = Store::open(&database.url).await.unwrap();
    let counts = reopened.mark_running_as_interrupted().await.unwrap();
    assert_eq!(
        (counts.jobs, counts.runs, counts.tasks, counts.operations),
        (1, 1, 1, 1)
    );

    assert_eq!(
        reopened.get_job(job.id).await.unwrap().status,
        Status::Interrupted
    );
    assert_eq!(
        reopened.get_job(done_job.id).await.unwrap().status,
        Status::Success
    );
    let run = reopened.get_run(run.id).await.unwrap();
    assert_eq!(run.status, Status::Interrupted);
    assert!(run.ended_at.is_some());
    let task = reopened.get_task(tasks[0].id).await.unwrap();
    assert_eq!(task.status, Status::Interrupted);
    assert_eq!(task.lease_owner, None);
    assert_eq!(
        reopened.get_task(tasks[1].id).await.unwrap().status,
        Status::NotStarted
    );
    let operations = reopened.list_operations(tasks[0].id).await.unwrap();
    assert_eq!(operations[0].id, finished.id);
    assert_eq!(operations[0].status, Status::Success);
    assert_eq!(operations[1].id, in_flight.id);
    assert_eq!(operations[1].status, Status::Interrupted);
    assert!(operations[1].ended_at.is_some());
    assert!(operations[1].message.contains("interrupted"));

    // Running recovery twice changes nothing more.
    let again = reopened.mark_running_as_interrupted().await.unwrap();
    assert_eq!(
        (again.jobs, again.runs, again.tasks, again.operations),
        (0, 0, 0, 0)
    );
    reopened.close().await;
}

async fn task_leases_are_exclusive_until_they_expire(database: &TestDb) {
    let store = &database.store;
    let job = store
        .insert_job(&sample_job(Status::Running))
        .await
        .unwrap();
    let run = store.insert_run(job.id, Status::Running).await.unwrap();
    let tasks = store
        .insert_tasks(
            run.id,
            &[
                NewTask {
                    device_id: None,
                    subject: "a".to_owned(),
                },
                NewTask {
                    device_id: None,
                    subject: "b".to_owned(),
                },
            ],
        )
        .await
        .unwrap();
    let minute = Duration::from_secs(60);
    let start = Timestamp(1_000_000);

    let leased_by_a = store
        .lease_next_task(Some(run.id), "node-a", start, minute)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased_by_a.id, tasks[0].id);
    assert_eq!(leased_by_a.lease_owner.as_deref(), Some("node-a"));
    assert_eq!(leased_by_a.lease_expires_at, Some(start.plus(minute)));
    let leased_by_b = store
        .lease_next_task(Some(run.id), "node-b", start, minute)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leased_by_b.id, tasks[1].id);
    assert!(
        store
            .lease_next_task(Some(run.id), "node-c", start, minute)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .try_lease_task(tasks[0].id, "node-b", start, minute)
            .await
            .unwrap()
    );
    assert!(
        store
            .try_lease_task(tasks[0].id, "node-a", start, minute)
            .await
            .unwrap()
    );

    // node-a renews; node-b dies and its lease runs out.
    let later = start.plus(Duration::from_secs(45));
    assert!(
        store
            .renew_task_lease(tasks[0].id, "node-a", later, minute)
            .await
            .unwrap()
    );
    store
        .set_task_status(tasks[1].id, Status::Running, None)
        .await
        .unwrap();
    let operation = store
        .add_operation(tasks[1].id, "transfer", Status::Running)
        .await
        .unwrap();
    let after_expiry = start.plus(Duration::from_secs(61));
    let counts = store.interrupt_expired_tasks(after_expiry).await.unwrap();
    assert_eq!((counts.tasks, counts.operations), (1, 1));
    assert_eq!(
        store.get_task(tasks[0].id).await.unwrap().status,
        Status::NotStarted
    );
    assert_eq!(
        store.list_operations(tasks[1].id).await.unwrap()[0].id,
        operation.id
    );
    assert_eq!(
        store.list_operations(tasks[1].id).await.unwrap()[0].status,
        Status::Interrupted
    );

    let taken_over = store
        .lease_next_task(Some(run.id), "node-c", after_expiry, minute)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken_over.id, tasks[1].id);
    assert_eq!(taken_over.status, Status::Interrupted);
    assert!(
        !store
            .renew_task_lease(tasks[1].id, "node-b", after_expiry, minute)
            .await
            .unwrap()
    );

    assert!(
        store
            .release_task_lease(tasks[1].id, "node-c")
            .await
            .unwrap()
    );
    assert!(
        !store
            .release_task_lease(tasks[1].id, "node-c")
            .await
            .unwrap()
    );
    store
        .set_task_status(tasks[1].id, Status::Success, None)
        .await
        .unwrap();
    store
        .set_task_status(tasks[0].id, Status::Success, None)
        .await
        .unwrap();
    assert!(
        store
            .lease_next_task(None, "node-d", Timestamp(i64::MAX / 2), minute)
            .await
            .unwrap()
            .is_none()
    );
}

async fn audit_rows_are_appended_newest_first(database: &TestDb) {
    let store = &database.store;
    for action in ["image.import", "device.add", "job.create"] {
        store
            .insert_audit(&NewAuditEntry {
                actor: "admin".to_owned(),
                action: action.to_owned(),
                object: "object:1".to_owned(),
                detail: json!({"reason": action}),
            })
            .await
            .unwrap();
    }
    assert_eq!(store.count_audit().await.unwrap(), 3);
    let entries = store.list_audit(2).await.unwrap();
    assert_eq!(
        entries
            .iter()
            .map(|entry| entry.action.as_str())
            .collect::<Vec<_>>(),
        ["job.create", "device.add"]
    );
    assert_eq!(entries[0].detail, json!({"reason": "job.create"}));
    assert_eq!(entries[0].actor, "admin");
    assert!(entries[0].at.as_millis() > 0);
}

async fn settings_default_protocol_order_and_job_defaults(database: &TestDb) {
    let store = &database.store;
    assert_eq!(
        store.protocol_order().await.unwrap(),
        DEFAULT_PROTOCOL_ORDER
    );
    assert_eq!(
        store.get_setting("protocol_order").await.unwrap(),
        Some(json!(["scp", "sftp", "ftp", "tftp"]))
    );
    let defaults = store.job_defaults().await.unwrap();
    assert_eq!(defaults["continue_on_failure"], json!(false));
    assert!(defaults["max_parallel_devices"].as_u64().unwrap() > 0);

    store
        .set_setting("protocol_order", &json!(["sftp", "tftp"]))
        .await
        .unwrap();
    assert_eq!(store.protocol_order().await.unwrap(), ["sftp", "tftp"]);
    store
        .set_setting("ui_theme", &json!({"dark": true}))
        .await
        .unwrap();
    let keys: Vec<String> = store
        .list_settings()
        .await
        .unwrap()
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    assert_eq!(keys, ["job_defaults", "protocol_order", "ui_theme"]);
    assert_eq!(store.get_setting("missing").await.unwrap(), None);
}

async fn users_and_tokens_keep_roles_and_expiry(database: &TestDb) {
    let store = &database.store;
    assert_eq!(store.count_users().await.unwrap(), 0);
    let password_hash = hash_password("correct horse").unwrap();
    let admin = store
        .insert_user("admin", &password_hash, Role::Admin)
        .await
        .unwrap();
    let viewer = store
        .insert_user("viewer", &password_hash, Role::Viewer)
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_user("admin", &password_hash, Role::Viewer)
            .await,
        Err(StoreError::Conflict { what: "user", .. })
    ));
    let found = store.find_user_by_name("admin").await.unwrap().unwrap();
    assert_eq!(found, admin);
    assert!(verify_password("correct horse", &found.password_hash).unwrap());
    assert!(!verify_password("wrong", &found.password_hash).unwrap());
    store
        .set_user_role(viewer.id, Role::Operator)
        .await
        .unwrap();
    assert_eq!(
        store.get_user(viewer.id).await.unwrap().role,
        Role::Operator
    );
    assert_eq!(store.list_users().await.unwrap().len(), 2);

    let now = Timestamp(10_000);
    let long_lived = store
        .insert_api_token(&NewApiToken {
            user_id: Some(admin.id),
            name: "ci".to_owned(),
            token_hash: hash_token("nsw_one"),
            role: Role::Operator,
            expires_at: None,
        })
        .await
        .unwrap();
    let short_lived = store
        .insert_api_token(&NewApiToken {
            user_id: Some(viewer.id),
            name: "session".to_owned(),
            token_hash: hash_token("nsw_two"),
            role: Role::Viewer,
            expires_at: Some(Timestamp(20_000)),
        })
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_api_token(&NewApiToken {
                user_id: None,
                name: "dup".to_owned(),
                token_hash: hash_token("nsw_one"),
                role: Role::Viewer,
                expires_at: None,
            })
            .await,
        Err(StoreError::Conflict { .. })
    ));
    let valid = store
        .find_valid_api_token(&hash_token("nsw_one"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(valid.role, Role::Operator);
    assert_eq!(valid.id, long_lived.id);
    assert!(
        store
            .find_valid_api_token(&hash_token("nsw_two"), now)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .find_valid_api_token(&hash_token("nsw_two"), Timestamp(20_000))
            .await
            .unwrap()
            .is_none()
    );
    assert!(short_lived.is_expired(Timestamp(20_000)));
    assert!(
        store
            .find_valid_api_token(&hash_token("nsw_other"), now)
            .await
            .unwrap()
            .is_none()
    );
    store.touch_api_token(long_lived.id, now).await.unwrap();
    assert_eq!(
        store.list_api_tokens(Some(admin.id)).await.unwrap()[0].last_used_at,
        Some(now)
    );
    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 2);

    // A deleted user's tokens go with it.
    store.delete_user(viewer.id).await.unwrap();
    assert_eq!(store.list_api_tokens(None).await.unwrap().len(), 1);
    store.delete_api_token(long_lived.id).await.unwrap();
    assert!(store.list_api_tokens(None).await.unwrap().is_empty());
}

async fn credential_profiles_store_only_sealed_secrets(database: &TestDb) {
    let store = &database.store;
    let key = SecretKey::generate();
    let sealed = key.seal(b"enable-secret").unwrap();
    assert!(
        !sealed
            .ciphertext
            .windows(6)
            .any(|window| window == b"enable")
    );
    let profile = store
        .insert_credential_profile(&NewCredentialProfile {
            name: "branch".to_owned(),
            username: "netops".to_owned(),
            secret: sealed.clone(),
        })
        .await
        .unwrap();
    let loaded = store
        .find_credential_profile_by_name("branch")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded, profile);
    assert_eq!(loaded.secret, sealed);
    assert_eq!(key.open(&loaded.secret).unwrap(), b"enable-secret");
    assert!(matches!(
        SecretKey::generate().open(&loaded.secret),
        Err(StoreError::Decrypt { .. })
    ));

    let mut changed = loaded.clone();
    changed.secret = key.seal(b"new-secret").unwrap();
    changed.username = "netops2".to_owned();
    let updated = store.update_credential_profile(&changed).await.unwrap();
    assert_eq!(key.open(&updated.secret).unwrap(), b"new-secret");
    assert_eq!(
        store.list_credential_profiles().await.unwrap(),
        vec![updated]
    );
}

async fn distribution_servers_serve_sites(database: &TestDb) {
    let store = &database.store;
    let paris = store.insert_site("paris", "").await.unwrap();
    let lyon = store.insert_site("lyon", "").await.unwrap();
    let relay = store
        .insert_distribution_server(&NewDistributionServer {
            name: "relay-fr".to_owned(),
            url: "http://10.0.0.5:8080".to_owned(),
            site_ids: vec![lyon.id, paris.id, lyon.id],
        })
        .await
        .unwrap();
    let mut expected_sites = vec![paris.id, lyon.id];
    expected_sites.sort_unstable();
    assert_eq!(relay.site_ids, expected_sites);
    assert!(matches!(
        store
            .insert_distribution_server(&NewDistributionServer {
                name: "relay-fr".to_owned(),
                url: "http://x".to_owned(),
                site_ids: vec![],
            })
            .await,
        Err(StoreError::Conflict {
            what: "distribution server",
            ..
        })
    ));
    assert_eq!(
        store
            .distribution_servers_for_site(paris.id)
            .await
            .unwrap()
            .len(),
        1
    );

    let mut edited = relay.clone();
    edited.site_ids = vec![lyon.id];
    edited.url = "http://10.0.0.6:8080".to_owned();
    let updated = store.update_distribution_server(&edited).await.unwrap();
    assert_eq!(updated.site_ids, [lyon.id]);
    assert!(
        store
            .distribution_servers_for_site(paris.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.list_distribution_servers().await.unwrap(),
        vec![updated.clone()]
    );
    assert_eq!(
        store.get_distribution_server(updated.id).await.unwrap(),
        updated
    );
    assert_eq!(store.list_sites().await.unwrap().len(), 2);
    assert_eq!(
        store.find_site_by_name("lyon").await.unwrap().unwrap(),
        lyon
    );
    store.delete_distribution_server(updated.id).await.unwrap();
    assert!(store.list_distribution_servers().await.unwrap().is_empty());
}

async fn events_resume_after_last_seen_id(database: &TestDb) {
    let store = &database.store;
    let job = store
        .insert_job(&sample_job(Status::Running))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for step in 0..5 {
        let event = store
            .insert_event(&NewEvent {
                kind: "operation.finished".to_owned(),
                job_id: Some(job.id),
                payload: json!({"step": step}),
                ..NewEvent::default()
            })
            .await
            .unwrap();
        ids.push(event.id);
    }
    store
        .insert_event(&NewEvent {
            kind: "system.started".to_owned(),
            payload: json!(null),
            ..NewEvent::default()
        })
        .await
        .unwrap();
    let resumed = store.list_events_after(ids[2], 2).await.unwrap();
    assert_eq!(
        resumed.iter().map(|event| event.id).collect::<Vec<_>>(),
        &ids[3..5]
    );
    assert_eq!(resumed[0].payload, json!({"step": 3}));
    assert_eq!(store.list_job_events(job.id).await.unwrap().len(), 5);
    assert_eq!(store.list_events_after(0, 100).await.unwrap().len(), 6);
    assert_eq!(store.prune_events(Timestamp(0)).await.unwrap(), 0);
    assert_eq!(store.prune_events(Timestamp(i64::MAX)).await.unwrap(), 6);
}

async fn blob_records_track_unreferenced_blobs(database: &TestDb) {
    let store = &database.store;
    let image = sample_image(0x33);
    let record = store
        .record_blob(&image.sha256, image.size_bytes)
        .await
        .unwrap();
    assert_eq!(
        store
            .record_blob(&image.sha256, image.size_bytes)
            .await
            .unwrap(),
        record
    );
    let orphan = hex_of(0x44, 32);
    store.record_blob(&orphan, 10).await.unwrap();
    store.insert_image(&image).await.unwrap();
    assert_eq!(store.list_blob_records().await.unwrap().len(), 2);
    let unreferenced = store.list_unreferenced_blobs().await.unwrap();
    assert_eq!(unreferenced.len(), 1);
    assert_eq!(unreferenced[0].sha256, orphan);
    store.delete_blob_record(&orphan).await.unwrap();
    assert!(store.list_unreferenced_blobs().await.unwrap().is_empty());
    assert!(matches!(
        store.get_blob_record(&orphan).await,
        Err(StoreError::NotFound { what: "blob", .. })
    ));
}

async fn missing_rows_are_not_found(database: &TestDb) {
    let store = &database.store;
    let missing = 424_242;
    assert!(matches!(
        store.get_image(missing).await,
        Err(StoreError::NotFound { what: "image", .. })
    ));
    assert!(matches!(
        store.get_device(missing).await,
        Err(StoreError::NotFound { what: "device", .. })
    ));
    assert!(matches!(
        store.get_job(missing).await,
        Err(StoreError::NotFound { what: "job", .. })
    ));
    assert!(matches!(
        store.get_run(missing).await,
        Err(StoreError::NotFound { what: "run", .. })
    ));
    assert!(matches!(
        store.get_user(missing).await,
        Err(StoreError::NotFound { what: "user", .. })
    ));
    assert!(matches!(
        store.set_task_status(missing, Status::Running, None).await,
        Err(StoreError::NotFound { what: "task", .. })
    ));
    assert!(matches!(
        store
            .set_operation_status(missing, Status::Running, None)
            .await,
        Err(StoreError::NotFound {
            what: "operation",
            ..
        })
    ));
    assert!(matches!(
        store.get_credential_profile(missing).await,
        Err(StoreError::NotFound {
            what: "credential profile",
            ..
        })
    ));
    let message = store.get_device(missing).await.unwrap_err().to_string();
    assert!(message.contains("device 424242 not found"), "{message}");
}

async fn concurrent_writers_do_not_fail(database: &TestDb) {
    // An inventory sync stores facts for many devices at once while job
    // steps are recorded: no writer may fail with "database is locked".
    let store = &database.store;
    let devices: Vec<NewDevice> = (0..24)
        .map(|index| sample_device(&format!("dev-{index}")))
        .collect();
    let devices = store.insert_devices(&devices).await.unwrap();
    let job = store
        .insert_job(&sample_job(Status::Running))
        .await
        .unwrap();
    let run = store.insert_run(job.id, Status::Running).await.unwrap();
    let tasks = store
        .insert_tasks(
            run.id,
            &devices
                .iter()
                .map(|device| NewTask {
                    device_id: Some(device.id),
                    subject: device.name.clone(),
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let mut handles = Vec::new();
    for (device, task) in devices.iter().zip(&tasks) {
        let store = store.clone();
        let (device_id, task_id) = (device.id, task.id);
        handles.push(tokio::spawn(async move {
            for round in 0..3 {
                store
                    .record_device_facts(device_id, Timestamp(round), &json!({"round": round}))
                    .await
                    .unwrap();
                let operation = store
                    .add_operation(task_id, "collect", Status::Running)
                    .await
                    .unwrap();
                store
                    .set_operation_status(operation.id, Status::Success, None)
                    .await
                    .unwrap();
            }
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    for (device, task) in devices.iter().zip(&tasks) {
        assert_eq!(
            store
                .device_fact_history(device.id, 10)
                .await
                .unwrap()
                .len(),
            3
        );
        assert_eq!(store.list_operations(task.id).await.unwrap().len(), 3);
    }
}

async fn nodes_starting_together_migrate_once(database: &TestDb) {
    let url = database.fresh_url().await;
    let mut handles = Vec::new();
    for _ in 0..3 {
        let url = url.clone();
        handles.push(tokio::spawn(
            async move { Store::open(&url).await.unwrap() },
        ));
    }
    let mut stores = Vec::new();
    for handle in handles {
        stores.push(handle.await.unwrap());
    }
    let versions: Vec<i64> = MIGRATIONS
        .iter()
        .map(|migration| migration.version)
        .collect();
    for store in &stores {
        let report = store.migrate().await.unwrap();
        assert!(report.applied.is_empty());
        assert_eq!(report.current_version, *versions.last().unwrap());
        assert_eq!(
            store.protocol_order().await.unwrap(),
            DEFAULT_PROTOCOL_ORDER
        );
        store.close().await;
    }
}

/// Both databases carry the same tables and columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_have_the_same_columns() {
    let sqlite = TestDb::sqlite().await;
    let postgres = TestDb::postgres().await;
    let sqlite_columns = sqlite.store.schema_columns().await.unwrap();
    let postgres_columns = postgres.store.schema_columns().await.unwrap();
    assert!(
        sqlite_columns
            .iter()
            .any(|(table, column)| table == "images" && column == "sha256")
    );
    assert_eq!(sqlite_columns, postgres_columns);
    sqlite.finish().await;
    postgres.finish().await;
}

/// A second program version cannot silently run on a newer schema.
#[tokio::test]
async fn a_newer_schema_version_is_refused() {
    let database = TestDb::sqlite().await;
    sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, 'future', 'x', 0)")
        .execute(&sqlx::SqlitePool::connect(&database.url).await.unwrap())
        .await
        .unwrap();
    let error = Store::open(&database.url).await.unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaTooNew { found: 9999, .. }),
        "{error:?}"
    );
    database.finish().await;
}

/// The SQLite file is in WAL mode, so readers do not wait for writers.
#[tokio::test]
async fn sqlite_database_uses_write_ahead_logging() {
    let database = TestDb::sqlite().await;
    let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    pool.close().await;
    database.finish().await;
}
