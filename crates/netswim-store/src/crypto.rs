//! Secrets at rest: XChaCha20-Poly1305 sealing of device credentials with a
//! key kept in a 0600 file (or given by `NETSWIM_SECRET_KEY`), argon2
//! password hashing, and API token generation and hashing.
//!
//! The store keeps only what these functions produce: ciphertext + nonce,
//! PHC password strings, token hashes. Deciding when to seal or verify is the
//! caller's job.

use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::StoreError;

/// Environment variable that, when set, supplies the secret key (64 hex
/// digits or standard base64 of 32 bytes) instead of the key file.
pub const SECRET_KEY_ENV: &str = "NETSWIM_SECRET_KEY";

const KEY_LENGTH: usize = 32;
const NONCE_LENGTH: usize = 24;

/// A secret sealed with [`SecretKey::seal`]: what the database stores.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedSecret {
    /// Ciphertext with its 16-byte authentication tag.
    pub ciphertext: Vec<u8>,
    /// The 24-byte random nonce used for this secret only.
    pub nonce: Vec<u8>,
}

impl fmt::Debug for SealedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedSecret")
            .field("ciphertext_bytes", &self.ciphertext.len())
            .field("nonce_bytes", &self.nonce.len())
            .finish()
    }
}

/// The 256-bit key that seals device credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; KEY_LENGTH]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LENGTH];
        OsRng.fill_bytes(&mut bytes);
        SecretKey(bytes)
    }

    /// A key from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_LENGTH]) -> Self {
        SecretKey(bytes)
    }

    /// Parses 64 hex digits or standard base64 of 32 bytes (surrounding
    /// white space ignored).
    pub fn from_text(text: &str, origin: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let bytes =
            if text.len() == KEY_LENGTH * 2 && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                hex::decode(text).ok()
            } else {
                base64::engine::general_purpose::STANDARD.decode(text).ok()
            };
        let bytes = bytes.unwrap_or_default();
        let array: [u8; KEY_LENGTH] = bytes.try_into().map_err(|_| StoreError::SecretKey {
            origin: origin.to_owned(),
            reason: "expected 64 hex digits or base64 of 32 bytes".to_owned(),
        })?;
        Ok(SecretKey(array))
    }

    /// The key as 64 lowercase hex digits (what the key file holds).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads the key file, or creates it with a new random key and mode 0600
    /// when it does not exist. A key file readable by group or others is
    /// refused.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        let origin = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private_mode(path)?;
                SecretKey::from_text(&text, &origin)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = SecretKey::generate();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options
                    .open(path)
                    .map_err(|source| StoreError::io(path, source))?;
                file.write_all(format!("{}\n", key.to_hex()).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|source| StoreError::io(path, source))?;
                Ok(key)
            }
            Err(source) => Err(StoreError::io(path, source)),
        }
    }

    /// The key from `NETSWIM_SECRET_KEY` when set, else from the key file
    /// (created on first use).
    pub fn from_env_or_file(path: &Path) -> Result<Self, StoreError> {
        match std::env::var(SECRET_KEY_ENV) {
            Ok(text) => SecretKey::from_text(&text, SECRET_KEY_ENV),
            Err(_) => SecretKey::load_or_create(path),
        }
    }

    /// Encrypts a secret with a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8]) -> Result<SealedSecret, StoreError> {
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext =
            cipher
                .encrypt(&nonce, plaintext)
                .map_err(|_| StoreError::InvalidInput {
                    what: "secret",
                    reason: "too long to encrypt".to_owned(),
                })?;
        Ok(SealedSecret {
            ciphertext,
            nonce: nonce.to_vec(),
        })
    }

    /// Decrypts a sealed secret; a wrong key or altered bytes fail.
    pub fn open(&self, sealed: &SealedSecret) -> Result<Vec<u8>, StoreError> {
        if sealed.nonce.len() != NONCE_LENGTH {
            return Err(StoreError::Decrypt { what: "secret" });
        }
        let cipher = XChaCha20Poly1305::new(Key::from_slice(&self.0));
        cipher
            .decrypt(
                XNonce::from_slice(&sealed.nonce),
                sealed.ciphertext.as_slice(),
            )
            .map_err(|_| StoreError::Decrypt { what: "secret" })
    }
}

#[cfg(unix)]
fn check_private_mode(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)
        .map_err(|source| StoreError::io(path, source))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::SecretKey {
            origin: path.display().to_string(),
            reason: format!(
                "mode {:o} lets others read it (hint: chmod 600 the file)",
                mode & 0o777
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_mode(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Hashes a password with argon2id and a random salt; returns the PHC string.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    use argon2::PasswordHasher;
    let mut salt_bytes = [0u8; 16];
    OsRng.fill_bytes(&mut salt_bytes);
    let salt = argon2::password_hash::SaltString::encode_b64(&salt_bytes).map_err(|error| {
        StoreError::PasswordHash {
            reason: error.to_string(),
        }
    })?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| StoreError::PasswordHash {
            reason: error.to_string(),
        })
}

/// Checks a password against a PHC string; `Ok(false)` for a wrong password.
pub fn verify_password(password: &str, phc: &str) -> Result<bool, StoreError> {
    use argon2::PasswordVerifier;
    let parsed = argon2::password_hash::PasswordHash::new(phc).map_err(|error| {
        StoreError::PasswordHash {
            reason: error.to_string(),
        }
    })?;
    Ok(argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A new random API token (`nsw_` + 43 URL-safe characters, 256 bits).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "nsw_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// The hash of a token as stored (SHA-256 hex: tokens are random, so a fast
/// hash is enough and lets the server look tokens up by hash).
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_text_accepts_hex_and_base64_and_rejects_short_keys() {
        let key = SecretKey::generate();
        assert_eq!(SecretKey::from_text(&key.to_hex(), "test").unwrap(), key);
        let base64_text = base64::engine::general_purpose::STANDARD.encode(key.0);
        assert_eq!(SecretKey::from_text(&base64_text, "test").unwrap(), key);
        assert!(SecretKey::from_text("abcd", "test").is_err());
    }

    #[test]
    fn debug_output_hides_key_material() {
        let key = SecretKey::generate();
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }

    #[test]
    fn tokens_are_unique_and_hash_stably() {
        let first = generate_token();
        let second = generate_token();
        assert_ne!(first, second);
        assert!(first.starts_with("nsw_"));
        assert_eq!(hash_token(&first), hash_token(&first));
        assert_eq!(hash_token(&first).len(), 64);
    }
}
