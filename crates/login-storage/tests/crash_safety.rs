//! Crash safety: a writer killed with SIGKILL at random moments never leaves
//! a torn or foreign `auth.json`, never leaks the lock, and leaves at most
//! one temporary file, which the next write removes.
//!
//! The writer is this test binary run again in worker mode
//! ([`writer_worker`], through [`support::spawn_worker`]). It loops forever
//! over `save`s and `update`s of documents from one deterministic family
//! ([`family_document`]), so whatever is found on disk after a kill can be
//! compared whole with the family member it claims to be.
//!
//! Ignored by default (it takes a while); `cargo xtask test --slow` runs it.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use login_agent_identity::SecretString;
use login_storage::{AuthDotJson, AuthStore as _, FileStore, StoreError};
use serde_json::json;

use crate::support;

const KILLS: usize = 200;
/// Each kill lands this long (uniformly drawn) after the writer is running.
const MAX_KILL_DELAY_MICROS: u64 = 30_000;
/// Fixed so a failing sequence of delays can be replayed.
const SEED: u64 = 0x5eed_c2a5_4b1d_0006;
/// Below this many kills landing mid-write the test would prove nothing.
const MIN_MID_WRITE_KILLS: usize = 5;
/// A leaked lock blocks the next writer forever; a free one is taken at once.
const LOCK_LIMIT: Duration = Duration::from_secs(10);

/// How long a writer may take to start.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// Bytes of padding per document, so a write takes real time.
const PAD_LEN: usize = 4096;
/// The prefix of the temporary files `FileStore` writes through.
const TEMP_PREFIX: &str = ".auth.json.tmp-";

const WRITER_ROLE: &str = "crash-writer";
const HOME_ENV: &str = "LOGIN_STORAGE_CRASH_HOME";
/// The writer prints this line once it is about to write.
const READY_LINE: &str = "crash-writer: writing";

/// Member `n` of the family: API key `sk-crash-<n>`, unknown key `"n": n`,
/// and a padding that spells `n` too, so a mix of two members shows.
fn family_document(n: u64) -> AuthDotJson {
    let mut document = AuthDotJson::with_api_key(SecretString::from(format!("sk-crash-{n}")));
    document.extra.insert("n".to_owned(), json!(n));
    document.extra.insert(
        "pad".to_owned(),
        json!(format!("{n:016x}").repeat(PAD_LEN / 16)),
    );
    document
}

/// `Some(n)` when `document` is exactly member `n` of the family.
fn family_index(document: &AuthDotJson) -> Option<u64> {
    let n = document.extra.get("n")?.as_u64()?;
    (*document == family_document(n)).then_some(n)
}

/// Worker mode of [`killed_writer_never_leaves_a_torn_or_foreign_auth_json`];
/// returns at once unless started by it. Never returns when started: it
/// writes until it is killed.
#[test]
fn writer_worker() {
    if !support::is_worker(WRITER_ROLE) {
        return;
    }
    let home = PathBuf::from(std::env::var(HOME_ENV).unwrap());
    let storage = FileStore::new(&home);
    let mut n = storage
        .load()
        .unwrap()
        .map_or(0, |document| family_index(&document).unwrap());
    println!("{READY_LINE}");
    loop {
        n += 1;
        storage.save(&family_document(n)).unwrap();
        let stored = storage
            .update(&mut |current| {
                let current = current.expect("saved just before");
                let k = family_index(&current).expect("only family members are written");
                Ok(Some(family_document(k + 1)))
            })
            .unwrap();
        n = family_index(&stored.unwrap()).unwrap();
    }
}

#[test]
#[ignore = "slow: run by cargo xtask test --slow"]
fn killed_writer_never_leaves_a_torn_or_foreign_auth_json() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let mut delays = SplitMix64(SEED);
    let mut stored_at_least: Option<u64> = None;
    let mut mid_write_kills = 0;
    let started = Instant::now();

    for kill in 0..KILLS {
        let delay = Duration::from_micros(delays.below(MAX_KILL_DELAY_MICROS + 1));
        kill_writer_after(&home.path, delay, kill);

        // At most one stray temporary file, and nothing else foreign.
        let entries = home.entries();
        let temp_files: Vec<&String> = entries
            .iter()
            .filter(|name| name.starts_with(TEMP_PREFIX))
            .collect();
        assert!(
            temp_files.len() <= 1,
            "kill {kill}: more than one stray temporary file: {entries:?}"
        );
        if !temp_files.is_empty() {
            mid_write_kills += 1;
        }
        let foreign: Vec<&String> = entries
            .iter()
            .filter(|name| {
                !name.starts_with(TEMP_PREFIX)
                    && name.as_str() != "auth.json"
                    && name.as_str() != "auth.json.lock"
            })
            .collect();
        assert!(
            foreign.is_empty(),
            "kill {kill}: unexpected files (a corrupt copy means a torn auth.json was moved aside): {entries:?}"
        );

        // auth.json parses and is one whole member of the family, never an
        // older one than the last write seen.
        let loaded = storage.load().unwrap_or_else(|error| {
            panic!("kill {kill} after {delay:?}: auth.json does not parse: {error}")
        });
        let n = match (loaded, stored_at_least) {
            (None, None) => None,
            (None, Some(n)) => {
                panic!("kill {kill}: auth.json vanished after member {n} was stored")
            }
            (Some(document), _) => {
                let n = family_index(&document).unwrap_or_else(|| {
                    panic!("kill {kill} after {delay:?}: auth.json is no whole member of the family: {document:?}")
                });
                if let Some(at_least) = stored_at_least {
                    assert!(
                        n >= at_least,
                        "kill {kill}: auth.json went back from member {at_least} to {n}"
                    );
                }
                Some(n)
            }
        };

        // The lock can be taken again, and the next write removes the stray
        // temporary file.
        let next = n.map_or(0, |n| n + 1);
        let updated = within(LOCK_LIMIT, kill, {
            let storage = storage.clone();
            move || storage.update(&mut |_| Ok(Some(family_document(next))))
        })
        .unwrap_or_else(|error| panic!("kill {kill}: update after the kill failed: {error}"));
        assert_eq!(updated.as_ref().and_then(family_index), Some(next));
        assert_eq!(
            temp_files_in(&home),
            0,
            "kill {kill}: the update left a temporary file"
        );
        storage.save(&family_document(next + 1)).unwrap();
        assert_eq!(
            temp_files_in(&home),
            0,
            "kill {kill}: the save left a temporary file"
        );
        stored_at_least = Some(next + 1);
    }

    let written = stored_at_least.unwrap_or_default();
    report(&format!(
        "crash safety: {KILLS} SIGKILLs (delays 0-{} ms, seed {SEED:#x}) in {:.1} s; \
         {mid_write_kills} landed mid-write (a temporary file was left); \
         {written} documents written in all",
        MAX_KILL_DELAY_MICROS / 1000,
        started.elapsed().as_secs_f64()
    ));
    assert!(
        mid_write_kills >= MIN_MID_WRITE_KILLS,
        "only {mid_write_kills} of {KILLS} kills landed mid-write: the test proved too little"
    );
}

/// Starts the writer on `home`, waits until it writes, lets it write for
/// `delay` and kills it with SIGKILL.
fn kill_writer_after(home: &std::path::Path, delay: Duration, kill: usize) {
    let mut child = support::spawn_worker(
        "crash_safety::writer_worker",
        WRITER_ROLE,
        &[(HOME_ENV, home.to_string_lossy().into_owned())],
    );
    if !wait_until_ready(&mut child) {
        let _ = child.kill();
        let status = child.wait().unwrap();
        panic!(
            "kill {kill}: the writer never got ready ({status}):\n{}",
            stderr_of(&mut child)
        );
    }
    std::thread::sleep(delay);
    // `Child::kill` sends SIGKILL on Unix.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "kill {kill}: the writer stopped by itself ({status}) instead of being killed:\n{}",
        stderr_of(&mut child)
    );
}

/// Whether the writer printed [`READY_LINE`] within [`READY_LIMIT`]. Its
/// stdout is drained on another thread until it closes, so the writer never
/// blocks on a full pipe.
fn wait_until_ready(child: &mut Child) -> bool {
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The harness prints `test <name> ... ` on the same line first.
            if line.ends_with(READY_LINE) {
                let _ = sender.send(());
            }
        }
    });
    receiver.recv_timeout(READY_LIMIT).is_ok()
}

fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut text);
    }
    text
}

fn temp_files_in(home: &support::Home) -> usize {
    home.entries()
        .iter()
        .filter(|name| name.starts_with(TEMP_PREFIX))
        .count()
}

/// Runs `work` on its own thread and fails the test if it has not returned
/// within `limit` (the thread is left blocked: the test has failed anyway).
fn within<T: Send + 'static>(
    limit: Duration,
    kill: usize,
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!(
                "kill {kill}: the lock was not free within {limit:?}: the killed writer leaked it"
            )
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("kill {kill}: the update after the kill panicked")
        }
    }
}

/// Straight to stderr: `eprintln!` output of a passing test is captured,
/// and hidden, by the test harness.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A small seeded PRNG (SplitMix64) for the kill delays.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..bound` for delays.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}
