//! Contention: 8 processes do 2,000 locked updates of one home between
//! them, each adding its own keys, while two more processes cache a
//! background task id for the agent identity stored in that home. No update
//! is lost, exactly one task id is stored, and both registering processes
//! report that one after `reload`.
//!
//! The processes are this test binary run again in worker mode
//! ([`update_worker`], [`registration_worker`], selected by [`ROLE_VAR`]);
//! they wait for a `go` file so they all start at once.
//!
//! Ignored by default (it takes a while); `cargo xtask test --slow` runs it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use core_auth::{AuthManager, RegistrarError, TaskRegistrar};
use login_agent_identity::{AgentIdentity, AgentIdentityKey};
use login_storage::{AuthStore as _, FileStore};
use serde_json::json;

use test_support::{TestEnv, config, identity};

const UPDATERS: usize = 8;
const UPDATES_PER_PROCESS: usize = 250;
const REGISTRANTS: usize = 2;

/// Selects worker mode: `update` or `register`.
const ROLE_VAR: &str = "CORE_AUTH_CONTENTION_ROLE";
/// The directory of the start signal (`go`) and the `ready-<index>` files.
const DIR_VAR: &str = "CORE_AUTH_CONTENTION_DIR";
const HOME_VAR: &str = "CORE_AUTH_CONTENTION_HOME";
const INDEX_VAR: &str = "CORE_AUTH_CONTENTION_INDEX";
/// A registration worker prints its ids on a line starting with this.
const REPORT_PREFIX: &str = "contention-report:";

const WAIT_LIMIT: Duration = Duration::from_secs(60);
const RUNTIME_ID: &str = "rt-contention";

/// The key worker `index` adds in its update `i`; small on purpose.
fn update_key(index: usize, i: usize) -> String {
    format!("w{index}-{i}")
}

/// Registers a task with an id unique to this process and call, slowly
/// enough that the two registering processes overlap.
#[derive(Debug, Default)]
struct PidRegistrar {
    calls: AtomicUsize,
}

impl TaskRegistrar for PidRegistrar {
    fn register_task(
        &self,
        _key: &AgentIdentityKey,
        identity: &AgentIdentity,
    ) -> Result<String, RegistrarError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        std::thread::sleep(Duration::from_millis(5));
        Ok(format!(
            "task-{}-pid{}-{n}",
            identity.agent_runtime_id(),
            std::process::id()
        ))
    }
}

fn is_role(role: &str) -> bool {
    std::env::var(ROLE_VAR).is_ok_and(|value| value == role)
}

/// The signal directory, home and index of this worker.
fn worker_env() -> (PathBuf, PathBuf, usize) {
    let dir = PathBuf::from(std::env::var_os(DIR_VAR).unwrap());
    let home = PathBuf::from(std::env::var_os(HOME_VAR).unwrap());
    let index = std::env::var(INDEX_VAR).unwrap().parse().unwrap();
    (dir, home, index)
}

/// Says this worker is ready, then waits for the start signal.
fn ready_then_wait_for_go(dir: &Path, index: usize) {
    std::fs::write(dir.join(format!("ready-{index}")), "").unwrap();
    let go = dir.join("go");
    let deadline = Instant::now() + WAIT_LIMIT;
    while !go.exists() {
        assert!(Instant::now() < deadline, "the start signal never came");
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Worker mode: [`UPDATES_PER_PROCESS`] locked updates, each adding one key
/// of its own. Returns at once unless started by the contention test.
#[test]
fn update_worker() {
    if !is_role("update") {
        return;
    }
    let (dir, home, index) = worker_env();
    let storage = FileStore::new(&home);
    ready_then_wait_for_go(&dir, index);
    for i in 0..UPDATES_PER_PROCESS {
        storage
            .update(&mut |current| {
                let mut document = current.expect("the identity is stored before the start");
                document.extra.insert(update_key(index, i), json!(i));
                Ok(Some(document))
            })
            .unwrap();
    }
}

/// Worker mode: one `AuthManager` that ensures a background task id, reloads
/// and prints the id it holds. Returns at once unless started by the
/// contention test.
#[test]
fn registration_worker() {
    if !is_role("register") {
        return;
    }
    let (dir, home, index) = worker_env();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(async {
        let registrar = Arc::new(PidRegistrar::default());
        let manager = AuthManager::load(
            config(&home, &TestEnv::default()).with_task_registrar(registrar.clone()),
        )
        .await
        .unwrap();
        ready_then_wait_for_go(&dir, index);
        let ensured = manager.ensure_background_task_id().await.unwrap();
        manager.reload().await.unwrap();
        let auth = manager.auth().expect("still logged in after reload");
        let held = auth
            .agent_identity()
            .and_then(|record| record.background_task_id().map(str::to_owned))
            .expect("a task id after reload");
        format!(
            "ensured={ensured} held={held} registrations={}",
            registrar.calls.load(Ordering::SeqCst)
        )
    });
    println!("{REPORT_PREFIX} {report}");
}

fn spawn_worker(role: &str, test: &str, dir: &Path, home: &Path, index: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(ROLE_VAR, role)
        .env(DIR_VAR, dir)
        .env(HOME_VAR, home)
        .env(INDEX_VAR, index.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finished(child: Child, what: &str) -> Output {
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The `key=value` fields of a registration worker's report line.
fn report_field<'a>(stdout: &'a str, name: &str) -> &'a str {
    let line = stdout
        .lines()
        .find_map(|line| line.split_once(REPORT_PREFIX).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no report in:\n{stdout}"));
    line.split_whitespace()
        .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in the report `{line}`"))
}

#[test]
#[ignore = "slow: run by cargo xtask test --slow"]
fn eight_processes_lose_no_update_while_two_others_store_exactly_one_task_id() {
    let home = tempfile::tempdir().unwrap();
    let signals = tempfile::tempdir().unwrap();
    let (jwt, record) = identity("ws-contention", RUNTIME_ID);
    std::fs::write(
        home.path().join("auth.json"),
        json!({ "agent_identity": jwt }).to_string(),
    )
    .unwrap();

    let mut workers = Vec::new();
    for index in 0..UPDATERS {
        let child = spawn_worker(
            "update",
            "contention::update_worker",
            signals.path(),
            home.path(),
            index,
        );
        workers.push((index, child));
    }
    for index in UPDATERS..UPDATERS + REGISTRANTS {
        let child = spawn_worker(
            "register",
            "contention::registration_worker",
            signals.path(),
            home.path(),
            index,
        );
        workers.push((index, child));
    }
    let deadline = Instant::now() + WAIT_LIMIT;
    for (index, child) in &mut workers {
        while !signals.path().join(format!("ready-{index}")).exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("worker {index} exited before the start ({status})");
            }
            assert!(Instant::now() < deadline, "worker {index} never got ready");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    std::fs::write(signals.path().join("go"), "").unwrap();
    let started = Instant::now();
    let mut registrants = workers.split_off(UPDATERS);
    for (index, child) in workers {
        finished(child, &format!("update worker {index}"));
    }
    let update_time = started.elapsed();
    let reports: Vec<String> = registrants
        .drain(..)
        .map(|(index, child)| {
            let output = finished(child, &format!("registration worker {index}"));
            String::from_utf8_lossy(&output.stdout).into_owned()
        })
        .collect();

    // Every update is there, and the identity survived them all.
    let stored = FileStore::new(home.path()).load().unwrap().unwrap();
    for index in 0..UPDATERS {
        for i in 0..UPDATES_PER_PROCESS {
            assert_eq!(
                stored.extra.get(&update_key(index, i)),
                Some(&json!(i)),
                "update {i} of worker {index} was lost"
            );
        }
    }
    assert_eq!(stored.extra.len(), UPDATERS * UPDATES_PER_PROCESS);
    let stored_record = stored.validated_agent_identity().unwrap().unwrap();
    let stored_id = stored_record
        .background_task_id()
        .map(str::to_owned)
        .expect("a task id is stored");
    assert_eq!(
        stored_record.with_background_task_id(None),
        record,
        "the identity changed under the updates"
    );

    // Exactly one id stored, and every registering process holds it.
    let text = std::fs::read_to_string(home.path().join("auth.json")).unwrap();
    assert_eq!(text.matches("background_task_id").count(), 1, "{text}");
    assert!(
        stored_id.starts_with(&format!("task-{RUNTIME_ID}-pid")),
        "{stored_id}"
    );
    let mut registrations = 0;
    for report in &reports {
        assert_eq!(report_field(report, "ensured"), stored_id);
        assert_eq!(report_field(report, "held"), stored_id);
        registrations += report_field(report, "registrations")
            .parse::<usize>()
            .unwrap();
    }
    let mut entries: Vec<String> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["auth.json", "auth.json.lock", "auth.json.register.lock"],
        "the document and its two lock files, no temporary file left"
    );
    assert_eq!(
        registrations, 1,
        "the registration lock lets one of the registering processes register"
    );

    let updates = UPDATERS * UPDATES_PER_PROCESS;
    // Straight to stderr: `eprintln!` output of a passing test is captured,
    // and hidden, by the test harness.
    let _ = writeln!(
        std::io::stderr(),
        "contention: {updates} locked updates by {UPDATERS} processes in {:.2} s = {:.0} updates/s; \
         {REGISTRANTS} processes made {registrations} registration(s), 1 task id stored and held by both",
        update_time.as_secs_f64(),
        updates as f64 / update_time.as_secs_f64()
    );
}
