//! Inventory CSV import into a SQLite store: devices, shared sealed
//! credential profiles, sites, peers, row errors, and re-import as update.

use netswim_domain::Os;
use netswim_engine::credentials::DeviceSecrets;
use netswim_engine::inventory::import_csv;
use netswim_store::Store;
use netswim_store::crypto::SecretKey;

async fn store() -> (tempfile::TempDir, Store) {
    let folder = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("netswim.db").display()
    );
    let store = Store::open(&url).await.unwrap();
    (folder, store)
}

const CSV: &str = "\
name,host,port,platform,username,password,site,role,peer,enable_secret
core-1,127.44.200.1,22,ios,admin,secret-a,dc-1,core,core-2,en-a
core-2,127.44.200.2,2222,iosxe,admin,secret-a,dc-1,core,core-1,en-a
edge-1,127.44.200.3,,c3750,ops,\"pass,with,commas\",branch-7,edge,,
";

#[tokio::test]
async fn a_csv_creates_devices_sites_shared_profiles_and_peers() {
    let (_folder, store) = store().await;
    let key = SecretKey::generate();
    let report = import_csv(&store, &key, CSV).await.unwrap();
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.created, ["core-1", "core-2", "edge-1"]);
    assert_eq!(report.sites_created, ["dc-1", "branch-7"]);
    assert_eq!(report.credential_profiles_created, ["csv-admin", "csv-ops"]);

    let core1 = store.find_device_by_name("core-1").await.unwrap().unwrap();
    let core2 = store.find_device_by_name("core-2").await.unwrap().unwrap();
    let edge = store.find_device_by_name("edge-1").await.unwrap().unwrap();
    assert_eq!(
        (core1.os, core2.os, edge.os),
        (Some(Os::Ios), Some(Os::Iosxe), None)
    );
    assert_eq!(edge.platform.as_deref(), Some("c3750"));
    assert_eq!((core2.port, edge.port), (2222, 22));
    assert_eq!(core1.redundancy_peer_id, Some(core2.id));
    assert_eq!(core2.redundancy_peer_id, Some(core1.id));
    assert_eq!(core1.credential_profile_id, core2.credential_profile_id);
    assert_eq!(core1.role.as_deref(), Some("core"));

    // Secrets are sealed: the row holds ciphertext that opens to the CSV's values.
    let profile = store
        .get_credential_profile(edge.credential_profile_id.unwrap())
        .await
        .unwrap();
    assert_eq!(profile.username, "ops");
    assert!(!String::from_utf8_lossy(&profile.secret.ciphertext).contains("pass,with"));
    let secrets = DeviceSecrets::open(&profile.secret, &key).unwrap();
    assert_eq!(secrets.password, "pass,with,commas");
    assert_eq!(secrets.enable_secret, None);
    let admin = store
        .get_credential_profile(core1.credential_profile_id.unwrap())
        .await
        .unwrap();
    let admin = DeviceSecrets::open(&admin.secret, &key).unwrap();
    assert_eq!(admin.enable_secret.as_deref(), Some("en-a"));
}

#[tokio::test]
async fn importing_again_updates_devices_and_reuses_profiles() {
    let (_folder, store) = store().await;
    let key = SecretKey::generate();
    import_csv(&store, &key, CSV).await.unwrap();
    let moved = CSV.replace("127.44.200.3,,", "127.44.200.9,2200,");
    let report = import_csv(&store, &key, &moved).await.unwrap();
    assert!(report.created.is_empty());
    assert_eq!(report.updated.len(), 3);
    assert!(report.credential_profiles_created.is_empty());
    assert!(report.sites_created.is_empty());
    let edge = store.find_device_by_name("edge-1").await.unwrap().unwrap();
    assert_eq!((edge.host.as_str(), edge.port), ("127.44.200.9", 2200));
    assert_eq!(store.list_devices().await.unwrap().len(), 3);
    // A changed password is a new profile, named apart from the first.
    let rekeyed = CSV.replace("secret-a", "secret-b");
    let report = import_csv(&store, &key, &rekeyed).await.unwrap();
    assert_eq!(report.credential_profiles_created, ["csv-admin-2"]);
}

#[tokio::test]
async fn bad_rows_are_reported_by_line_and_the_rest_imported() {
    let (_folder, store) = store().await;
    let key = SecretKey::generate();
    let csv = "\
name,host,port,username,password,peer
good,127.44.200.1,22,admin,pw,
,127.44.200.2,22,admin,pw,
no-host,,22,admin,pw,
bad-port,127.44.200.4,99999,admin,pw,
half-login,127.44.200.5,22,admin,,
good,127.44.200.6,22,admin,pw,
lonely,127.44.200.7,22,admin,pw,nobody
";
    let report = import_csv(&store, &key, csv).await.unwrap();
    assert_eq!(report.created, ["good", "lonely"]);
    let errors: Vec<(u64, &str)> = report
        .errors
        .iter()
        .map(|error| (error.line, error.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 6, "{errors:?}");
    let lines: Vec<u64> = errors.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, [3, 4, 5, 6, 7, 8]);
    assert!(errors[2].1.contains("99999"), "{errors:?}");
    assert!(errors[4].1.contains("line 2"), "{errors:?}");
    assert!(errors[5].1.contains("nobody"), "{errors:?}");
}

#[tokio::test]
async fn a_csv_without_name_and_host_columns_is_refused() {
    let (_folder, store) = store().await;
    let error = import_csv(&store, &SecretKey::generate(), "device,address\nx,y\n")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("name"), "{error}");
}
