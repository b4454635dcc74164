//! Sealing of device secrets and the secret key file.

use std::os::unix::fs::PermissionsExt;

use netswim_store::StoreError;
use netswim_store::crypto::{SecretKey, hash_password, verify_password};

#[test]
fn sealed_secret_opens_with_the_same_key_only() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"cisco123").unwrap();
    assert_eq!(sealed.nonce.len(), 24);
    assert_ne!(sealed.ciphertext, b"cisco123");
    assert_eq!(key.open(&sealed).unwrap(), b"cisco123");

    let wrong_key = SecretKey::generate();
    let error = wrong_key.open(&sealed).unwrap_err();
    assert!(matches!(error, StoreError::Decrypt { .. }), "{error:?}");
    assert!(error.to_string().contains("wrong secret key"));

    let mut tampered = sealed.clone();
    tampered.ciphertext[0] ^= 1;
    assert!(key.open(&tampered).is_err());
    let mut short_nonce = sealed.clone();
    short_nonce.nonce.truncate(12);
    assert!(key.open(&short_nonce).is_err());
}

#[test]
fn the_same_secret_sealed_twice_differs() {
    let key = SecretKey::generate();
    let first = key.seal(b"same").unwrap();
    let second = key.seal(b"same").unwrap();
    assert_ne!(first.nonce, second.nonce);
    assert_ne!(first.ciphertext, second.ciphertext);
}

#[test]
fn key_file_is_created_with_mode_0600_and_reused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    let created = SecretKey::load_or_create(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let loaded = SecretKey::load_or_create(&path).unwrap();
    assert_eq!(created, loaded);
    let sealed = created.seal(b"secret").unwrap();
    assert_eq!(loaded.open(&sealed).unwrap(), b"secret");
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    SecretKey::load_or_create(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let error = SecretKey::load_or_create(&path).unwrap_err();
    assert!(matches!(error, StoreError::SecretKey { .. }), "{error:?}");
    assert!(error.to_string().contains("chmod 600"), "{error}");
}

#[test]
fn malformed_key_file_is_refused() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("secret.key");
    std::fs::write(&path, "not a key\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(
        SecretKey::load_or_create(&path),
        Err(StoreError::SecretKey { .. })
    ));
}

#[test]
fn key_text_from_the_environment_variable_format() {
    // `from_env_or_file` reads NETSWIM_SECRET_KEY with this parser; setting
    // process environment in a multi-threaded test harness is not safe.
    let key = SecretKey::generate();
    let parsed =
        SecretKey::from_text(&format!("  {}\n", key.to_hex()), "NETSWIM_SECRET_KEY").unwrap();
    assert_eq!(parsed, key);
    let error = SecretKey::from_text("short", "NETSWIM_SECRET_KEY").unwrap_err();
    assert!(error.to_string().contains("NETSWIM_SECRET_KEY"), "{error}");
}

#[test]
fn password_hash_is_a_phc_string_that_verifies() {
    let hash = hash_password("s3cret!").unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(verify_password("s3cret!", &hash).unwrap());
    assert!(!verify_password("s3cret", &hash).unwrap());
    assert_ne!(hash, hash_password("s3cret!").unwrap());
    assert!(matches!(
        verify_password("x", "not a phc string"),
        Err(StoreError::PasswordHash { .. })
    ));
}

/// Runs this test binary again with `NETSWIM_SECRET_KEY` set (changing the
/// environment of a running multi-threaded test process is not safe).
#[test]
fn environment_variable_key_is_preferred_over_the_key_file() {
    let key = SecretKey::generate();
    let folder = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_reads_key_from_environment", "--nocapture"])
        .env("NETSWIM_SECRET_KEY", key.to_hex())
        .env("NETSWIM_TEST_KEY_FOLDER", folder.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
    assert!(
        stdout.contains(&format!("key {}", key.to_hex())),
        "{stdout}"
    );
    // The variable won: no key file was created.
    assert!(!folder.path().join("secret.key").exists());
}

#[test]
fn child_reads_key_from_environment() {
    // Only meaningful when started by the test above.
    let Some(folder) = std::env::var_os("NETSWIM_TEST_KEY_FOLDER") else {
        return;
    };
    let key =
        SecretKey::from_env_or_file(&std::path::Path::new(&folder).join("secret.key")).unwrap();
    println!("key {}", key.to_hex());
}
