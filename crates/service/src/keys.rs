//! Installation keys: the master key (wraps per-person keys, derives blind-index keys) and the
//! Ed25519 signing key for checkpoints. Created by `init` in `DATA_DIR/keys`, owner-only; the master
//! key may come from the environment (`KONSENT_MASTER_KEY`) instead of a file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::{SigningKey, VerifyingKey};
use konsent_domain::crypto::{BlindIndexKey, MasterKey};
use konsent_domain::ids::TenantId;
use konsent_domain::time::{Entropy, random_array};

/// Environment variable that supplies the master key (64 hex characters).
pub const MASTER_KEY_ENV: &str = "KONSENT_MASTER_KEY";

/// Errors loading or creating keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file is missing.
    #[error("key file {0} is missing: run `konsent init` or restore the keys from backup")]
    Missing(PathBuf),
    /// A key file is malformed.
    #[error("key file {0} is malformed: {1}")]
    Malformed(PathBuf, String),
    /// A key file is readable by others.
    #[error("key file {0} is readable by group or others (mode {1:o}); run: chmod 600 {0}")]
    Permissions(PathBuf, u32),
    /// The environment variable is malformed.
    #[error("{MASTER_KEY_ENV} is malformed: {0}")]
    BadEnv(String),
    /// I/O.
    #[error("cannot access key file {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// The loaded keys.
#[derive(Clone)]
pub struct Keyring {
    master: MasterKey,
    signing: SigningKey,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring(master {}, signing {})", self.master.fingerprint(), hex::encode(self.public().to_bytes()))
    }
}

fn write_secret(path: &Path, content: &str) -> Result<(), KeyError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| KeyError::Io(path.into(), e))?;
    f.write_all(content.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| KeyError::Io(path.into(), e))
}

fn read_secret(path: &Path) -> Result<String, KeyError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => KeyError::Missing(path.into()),
        _ => KeyError::Io(path.into(), e),
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions(path.into(), mode));
        }
    }
    let _ = meta;
    fs::read_to_string(path).map_err(|e| KeyError::Io(path.into(), e))
}

impl Keyring {
    /// Key directory inside a data dir.
    pub fn dir(data_dir: &Path) -> PathBuf {
        data_dir.join("keys")
    }

    /// Creates new keys in `data_dir/keys` (owner-only). When the master key comes from the
    /// environment, no master key file is written.
    pub fn create(data_dir: &Path, entropy: &dyn Entropy) -> Result<Self, KeyError> {
        let dir = Self::dir(data_dir);
        fs::create_dir_all(&dir).map_err(|e| KeyError::Io(dir.clone(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(|e| KeyError::Io(dir.clone(), e))?;
        }
        let master = match Self::master_from_env()? {
            Some(m) => m,
            None => {
                let m = MasterKey::from_bytes(random_array(entropy));
                write_secret(&dir.join("master.key"), &m.to_hex())?;
                m
            }
        };
        let signing = SigningKey::from_bytes(&random_array(entropy));
        write_secret(&dir.join("signing.key"), &hex::encode(signing.to_bytes()))?;
        let pub_path = dir.join("signing.pub");
        fs::write(&pub_path, hex::encode(signing.verifying_key().to_bytes())).map_err(|e| KeyError::Io(pub_path, e))?;
        Ok(Self { master, signing })
    }

    fn master_from_env() -> Result<Option<MasterKey>, KeyError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                MasterKey::from_hex(&v).map(Some).map_err(|e| KeyError::BadEnv(e.to_string()))
            }
            _ => Ok(None),
        }
    }

    /// Loads the keys of a data dir (master key from the environment if set).
    pub fn load(data_dir: &Path) -> Result<Self, KeyError> {
        let dir = Self::dir(data_dir);
        let master = match Self::master_from_env()? {
            Some(m) => m,
            None => {
                let p = dir.join("master.key");
                MasterKey::from_hex(&read_secret(&p)?).map_err(|e| KeyError::Malformed(p, e.to_string()))?
            }
        };
        let p = dir.join("signing.key");
        let raw = hex::decode(read_secret(&p)?.trim()).map_err(|e| KeyError::Malformed(p.clone(), e.to_string()))?;
        let seed: [u8; 32] = raw.try_into().map_err(|_| KeyError::Malformed(p, "expected 32 bytes".into()))?;
        Ok(Self { master, signing: SigningKey::from_bytes(&seed) })
    }

    /// Keys for tests, from fixed bytes.
    pub fn from_parts(master: [u8; 32], signing_seed: [u8; 32]) -> Self {
        Self { master: MasterKey::from_bytes(master), signing: SigningKey::from_bytes(&signing_seed) }
    }

    /// The master key.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }
    /// The checkpoint signing key.
    pub fn signing(&self) -> &SigningKey {
        &self.signing
    }
    /// The public key third parties verify checkpoints with.
    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
    /// Blind-index key of a tenant.
    pub fn blind_index(&self, tenant: TenantId) -> BlindIndexKey {
        self.master.blind_index_key(tenant.as_uuid().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konsent_domain::time::SeededEntropy;

    #[test]
    fn create_then_load_with_owner_only_files() {
        let dir = tempfile::tempdir().unwrap();
        let k = Keyring::create(dir.path(), &SeededEntropy::new(1)).unwrap();
        let l = Keyring::load(dir.path()).unwrap();
        assert_eq!(k.public(), l.public());
        assert_eq!(k.master().fingerprint(), l.master().fingerprint());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("keys/master.key")).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            fs::set_permissions(dir.path().join("keys/signing.key"), fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(Keyring::load(dir.path()), Err(KeyError::Permissions(..))));
        }
        assert!(!format!("{k:?}").contains(&k.master().to_hex()));
    }
}
