//! The one keyring fake of the workspace's tests: entries in memory, with
//! fault injection (every call fails, or hangs) and an optional value size
//! limit, as a platform store has. The real keyring is exercised by the
//! Secret Service tests; this fake is for fault-free runs without one and
//! for the faults a real keyring cannot be made to show on demand.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use login_storage::{Keyring, KeyringError};

/// What a [`FakeKeyring`] call does besides its job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Fault {
    #[default]
    None,
    /// Every call fails with [`KeyringError::NoAccess`] (a locked keyring).
    Fail,
    /// Every call first waits this long (a hung Secret Service), or until
    /// [`FakeKeyring::set_fault`] changes the fault; then the new fault
    /// applies.
    Hang(Duration),
}

/// An in-memory keyring for tests, with fault injection: errors, hangs and
/// a value size limit. `Debug` never shows a stored value.
#[derive(Default)]
pub struct FakeKeyring {
    entries: Mutex<BTreeMap<(String, String), String>>,
    fault: Mutex<Fault>,
    fault_changed: Condvar,
    started_calls: AtomicUsize,
    finished_calls: AtomicUsize,
    limit: Option<usize>,
}

impl fmt::Debug for FakeKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeKeyring")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl FakeKeyring {
    /// A keyring whose values hold at most `limit` UTF-16 code units (the
    /// unit of the Windows limit), as [`Keyring::max_value_len`] tells.
    pub fn with_limit(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit: Some(limit),
            ..Self::default()
        })
    }

    /// A keyring with `fault` from the start.
    pub fn with_fault(fault: Fault) -> Arc<Self> {
        let store = Self::default();
        *store.fault.lock().unwrap() = fault;
        Arc::new(store)
    }

    /// Changes the fault for later calls, and ends the hang of calls
    /// waiting in a [`Fault::Hang`].
    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
        self.fault_changed.notify_all();
    }

    /// The value of an entry, read past any fault.
    pub fn get(&self, service: &str, account: &str) -> Option<String> {
        self.entries
            .lock()
            .unwrap()
            .get(&(service.to_owned(), account.to_owned()))
            .cloned()
    }

    /// Writes an entry past any fault and limit.
    pub fn put(&self, service: &str, account: &str, value: &str) {
        self.entries
            .lock()
            .unwrap()
            .insert((service.to_owned(), account.to_owned()), value.to_owned());
    }

    /// Removes an entry past any fault.
    pub fn remove(&self, service: &str, account: &str) {
        self.entries
            .lock()
            .unwrap()
            .remove(&(service.to_owned(), account.to_owned()));
    }

    /// Accounts of every entry, sorted.
    pub fn accounts(&self) -> Vec<String> {
        self.entries
            .lock()
            .unwrap()
            .keys()
            .map(|(_, account)| account.clone())
            .collect()
    }

    /// How many [`Keyring`] calls have started so far (including calls
    /// still hanging).
    pub fn started_calls(&self) -> usize {
        self.started_calls.load(Ordering::SeqCst)
    }

    /// How many [`Keyring`] calls have returned so far, whatever their
    /// result. A caller that gave up on a hung call returns before it does.
    pub fn finished_calls(&self) -> usize {
        self.finished_calls.load(Ordering::SeqCst)
    }

    /// Runs `call` after the fault's hang, unless the fault fails it.
    fn call<T>(&self, call: impl FnOnce() -> Result<T, KeyringError>) -> Result<T, KeyringError> {
        self.started_calls.fetch_add(1, Ordering::SeqCst);
        let result = self.before_call().and_then(|()| call());
        self.finished_calls.fetch_add(1, Ordering::SeqCst);
        result
    }

    fn before_call(&self) -> Result<(), KeyringError> {
        let mut fault = self.fault.lock().unwrap();
        if let Fault::Hang(duration) = *fault {
            fault = self
                .fault_changed
                .wait_timeout_while(fault, duration, |fault| matches!(fault, Fault::Hang(_)))
                .unwrap()
                .0;
        }
        match *fault {
            Fault::Fail => Err(KeyringError::NoAccess(
                "the fake keyring is locked".to_owned(),
            )),
            Fault::None | Fault::Hang(_) => Ok(()),
        }
    }
}

impl Keyring for FakeKeyring {
    fn load(&self, service: &str, account: &str) -> Result<Option<String>, KeyringError> {
        self.call(|| Ok(self.get(service, account)))
    }

    fn save(&self, service: &str, account: &str, value: &str) -> Result<(), KeyringError> {
        self.call(|| {
            if let Some(limit) = self.limit {
                let len = value.encode_utf16().count();
                if len > limit {
                    return Err(KeyringError::Platform(format!(
                        "value of {len} UTF-16 units exceeds the fake's limit {limit}"
                    )));
                }
            }
            self.put(service, account, value);
            Ok(())
        })
    }

    fn delete(&self, service: &str, account: &str) -> Result<bool, KeyringError> {
        self.call(|| {
            Ok(self
                .entries
                .lock()
                .unwrap()
                .remove(&(service.to_owned(), account.to_owned()))
                .is_some())
        })
    }

    fn max_value_len(&self) -> Option<usize> {
        self.limit
    }
}
