//! [`FileAuthStorage`]: `$CODEX_HOME/auth.json`. (scaffold: to be replaced)

use std::path::{Path, PathBuf};

use crate::{AuthDotJson, AuthStorageBackend, StorageError, StorageLocation, UpdateFn};

/// The file name inside `CODEX_HOME`.
pub const AUTH_FILE_NAME: &str = "auth.json";

/// Files larger than this are refused before they are read whole: 1 MiB.
pub const MAX_AUTH_FILE_LEN: u64 = 1024 * 1024;

/// `$CODEX_HOME/auth.json`.
#[derive(Debug, Clone)]
pub struct FileAuthStorage {
    codex_home: PathBuf,
}

impl FileAuthStorage {
    /// The file home of `codex_home`.
    pub fn new(codex_home: &Path) -> Self {
        Self {
            codex_home: codex_home.to_path_buf(),
        }
    }

    /// `$CODEX_HOME/auth.json`.
    pub fn auth_file(&self) -> PathBuf {
        self.codex_home.join(AUTH_FILE_NAME)
    }
}

impl AuthStorageBackend for FileAuthStorage {
    fn load(&self) -> Result<Option<AuthDotJson>, StorageError> {
        let path = self.auth_file();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(StorageError::io("read", path, error)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|error| StorageError::Corrupt {
                line: error.line(),
                column: error.column(),
                reason: crate::describe_parse_error(&error),
                path,
            })
    }

    fn save(&self, auth: &AuthDotJson) -> Result<(), StorageError> {
        let text = serde_json::to_string_pretty(auth).map_err(|error| StorageError::Serialize {
            reason: crate::describe_parse_error(&error),
        })?;
        std::fs::create_dir_all(&self.codex_home)
            .map_err(|e| StorageError::io("create", &self.codex_home, e))?;
        std::fs::write(self.auth_file(), text)
            .map_err(|e| StorageError::io("write", self.auth_file(), e))
    }

    fn delete(&self) -> Result<bool, StorageError> {
        match std::fs::remove_file(self.auth_file()) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(StorageError::io("remove", self.auth_file(), error)),
        }
    }

    fn update(&self, f: &mut UpdateFn<'_>) -> Result<Option<AuthDotJson>, StorageError> {
        let current = self.load()?;
        match f(current.clone())? {
            Some(next) => {
                self.save(&next)?;
                Ok(Some(next))
            }
            None => Ok(current),
        }
    }

    fn location(&self) -> StorageLocation {
        StorageLocation::File
    }
}
