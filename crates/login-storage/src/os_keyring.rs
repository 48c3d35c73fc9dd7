//! [`OsKeyring`]: the OS keyring through the `keyring` crate, or,
//! without the `keyring` feature, a store that is never reachable.

use crate::keyring_store::{Keyring, KeyringError, WINDOWS_MAX_VALUE_LEN};

/// The OS keyring through the `keyring` crate's default store (the entry
/// the mirrored CLI uses): the Keychain on macOS, the Credential Manager on
/// Windows (values of at most 1,280 UTF-16 units, split into chunks
/// beyond; no limit elsewhere), and on Linux the
/// Secret Service. Without the `keyring` feature every call fails with
/// [`KeyringError::NoAccess`] (so the auto store falls back to the file). (keyring 3.6's `linux-native-async-persistent` builder
/// creates Secret Service credentials only; the kernel keyring is not put in
/// front of it, which also means no per-session cache can go stale when
/// another client updates the entry.)
#[derive(Debug, Clone, Copy, Default)]
pub struct OsKeyring;

#[cfg(feature = "keyring")]
impl OsKeyring {
    fn entry(service: &str, account: &str) -> Result<keyring::Entry, KeyringError> {
        keyring::Entry::new(service, account).map_err(platform_error)
    }
}

#[cfg(feature = "keyring")]
fn platform_error(error: keyring::Error) -> KeyringError {
    match error {
        keyring::Error::NoStorageAccess(source) => KeyringError::NoAccess(source.to_string()),
        other => KeyringError::Platform(other.to_string()),
    }
}

#[cfg(feature = "keyring")]
impl Keyring for OsKeyring {
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        match Self::entry(service, account)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(platform_error(error)),
        }
    }

    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        Self::entry(service, account)?
            .set_password(value)
            .map_err(platform_error)
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        match Self::entry(service, account)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(error) => Err(platform_error(error)),
        }
    }

    fn max_value_len(&self) -> Option<usize> {
        cfg!(windows).then_some(WINDOWS_MAX_VALUE_LEN)
    }
}

/// Why a build without the `keyring` feature cannot reach the OS keyring.
#[cfg(not(feature = "keyring"))]
const NO_KEYRING: &str = "this build has no OS keyring (login-storage's `keyring` feature is off)";

#[cfg(not(feature = "keyring"))]
impl Keyring for OsKeyring {
    fn load(&self, _service: &str, _account: &str) -> Result<Option<String>, KeyringError> {
        Err(KeyringError::NoAccess(NO_KEYRING.to_owned()))
    }

    fn save(&self, _service: &str, _account: &str, _value: &str) -> Result<(), KeyringError> {
        Err(KeyringError::NoAccess(NO_KEYRING.to_owned()))
    }

    fn delete(&self, _service: &str, _account: &str) -> Result<bool, KeyringError> {
        Err(KeyringError::NoAccess(NO_KEYRING.to_owned()))
    }

    fn max_value_len(&self) -> Option<usize> {
        cfg!(windows).then_some(WINDOWS_MAX_VALUE_LEN)
    }
}
