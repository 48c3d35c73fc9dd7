//! The registration race: 8 processes sharing one home start at once with
//! an agent identity that has no background task id yet, and each asks for
//! request headers. The task registration service (on loopback) sees exactly
//! one registration, every process sends an assertion for that one task id,
//! and `auth.json` holds it. Ten rounds, each on a fresh home and server.
//!
//! This is what core-auth's `RegistrationLock`
//! (`$CODEX_HOME/auth.json.register.lock`) buys: without it every process
//! would register (the storage lock alone only makes them agree on which id
//! to keep). It lives here, with the HTTP registrar it drives.
//!
//! The processes are this test binary run again in worker mode
//! ([`registration_worker`], selected by [`DIR_VAR`]); each loads its
//! manager, says it is ready, then waits for a `go` file so they all call
//! `request_headers` at once.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_http::{HttpOptions, HttpTaskRegistrar};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use core_auth::{AUTHORIZATION_HEADER, AuthManager};
use login_agent_identity::ExposeSecret as _;
use login_storage::{AuthStore as _, FileStore};
use serde_json::json;

use test_support::loopback::{LoopbackServer, Reply};
use test_support::{TestEnv, config, identity};

const PROCESSES: usize = 8;
const ROUNDS: usize = 10;

/// Selects worker mode: the directory of one round's signals and results.
const DIR_VAR: &str = "CORE_AUTH_REGISTRATION_RACE_DIR";
const HOME_VAR: &str = "CORE_AUTH_REGISTRATION_RACE_HOME";
const URL_VAR: &str = "CORE_AUTH_REGISTRATION_RACE_URL";
const INDEX_VAR: &str = "CORE_AUTH_REGISTRATION_RACE_INDEX";

/// How long any one wait (a worker getting ready, the start signal, a
/// worker finishing) may take before the test fails.
const WAIT_LIMIT: Duration = Duration::from_secs(60);

fn ready_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("ready-{index}"))
}

fn result_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("result-{index}"))
}

fn stderr_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(format!("stderr-{index}"))
}

fn worker_stderr(dir: &Path, index: usize) -> String {
    std::fs::read_to_string(stderr_file(dir, index)).unwrap_or_default()
}

/// The task id inside an `AgentAssertion <token>` header value (the token
/// itself is a secret and is never shown).
fn assertion_task_id(value: &str) -> String {
    let token = value
        .strip_prefix("AgentAssertion ")
        .expect("an AgentAssertion header");
    let object: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token).expect("base64url token"))
            .expect("a JSON assertion");
    object["task_id"]
        .as_str()
        .expect("a task id in the assertion")
        .to_owned()
}

/// Worker mode: loads a manager for the shared home, waits for the start
/// signal, builds request headers and writes the task id its assertion
/// carries (and the one its manager caches) to its result file. Returns at
/// once unless run by the race test.
#[test]
fn registration_worker() {
    let Some(dir) = std::env::var_os(DIR_VAR).map(PathBuf::from) else {
        return;
    };
    let home = PathBuf::from(std::env::var_os(HOME_VAR).unwrap());
    let url = std::env::var(URL_VAR).unwrap();
    let index: usize = std::env::var(INDEX_VAR).unwrap().parse().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let line = runtime.block_on(async {
        let registrar = HttpTaskRegistrar::new(&url)
            .unwrap()
            .with_options(HttpOptions::default().with_timeout(Duration::from_secs(10)));
        let manager = AuthManager::load(
            config(&home, &TestEnv::default()).with_task_registrar(Arc::new(registrar)),
        )
        .await
        .unwrap();
        let loaded = manager.auth().expect("an agent identity is stored");
        assert!(
            loaded
                .agent_identity()
                .is_some_and(|record| record.background_task_id().is_none()),
            "the round starts without a task id"
        );
        std::fs::write(ready_file(&dir, index), "").unwrap();
        let go = dir.join("go");
        let deadline = Instant::now() + WAIT_LIMIT;
        while !go.exists() {
            assert!(Instant::now() < deadline, "the start signal never came");
            std::thread::sleep(Duration::from_micros(500));
        }

        let headers = manager.request_headers().await.unwrap();
        let (_, assertion) = headers
            .iter()
            .find(|(name, _)| *name == AUTHORIZATION_HEADER)
            .expect("an Authorization header");
        let used = assertion_task_id(assertion.expose_secret());
        let cached = manager
            .auth()
            .and_then(|auth| {
                auth.agent_identity()?
                    .background_task_id()
                    .map(str::to_owned)
            })
            .expect("a cached task id");
        format!("used={used} cached={cached}")
    });
    let partial = dir.join(format!("result-{index}.partial"));
    std::fs::write(&partial, line).unwrap();
    std::fs::rename(partial, result_file(&dir, index)).unwrap();
}

fn spawn_worker(dir: &Path, home: &Path, url: &str, index: usize) -> Child {
    let index_text = index.to_string();
    let envs: [(&str, &OsStr); 4] = [
        (DIR_VAR, dir.as_os_str()),
        (HOME_VAR, home.as_os_str()),
        (URL_VAR, OsStr::new(url)),
        (INDEX_VAR, OsStr::new(&index_text)),
    ];
    test_support::worker::spawn_worker(
        "registration_race::registration_worker",
        &envs,
        &stderr_file(dir, index),
    )
}

/// Kills this round's workers that are still running (they are this test's
/// own children) and fails the test with `message`.
fn fail_round(children: &mut [Child], message: String) -> ! {
    for child in children.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{message}");
}

/// The `name=value` field of a worker's result line.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|field| field.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name} in the result `{line}`"))
}

/// One round: a fresh home holding an identity JWT, a fresh registration
/// service, 8 workers. Returns the server's registrations and the ids the
/// workers used.
fn race_round(round: usize) -> (usize, Vec<String>) {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let runtime_id = format!("rt-race-{round}");
    let (jwt, _) = identity("ws-race", &runtime_id);
    std::fs::write(
        home.path().join("auth.json"),
        json!({ "agent_identity": jwt }).to_string(),
    )
    .unwrap();

    // Every request gets an id of its own, so extra registrations would
    // also show up as different ids.
    let issued = Arc::new(Mutex::new(Vec::<String>::new()));
    let server = {
        let issued = issued.clone();
        LoopbackServer::start(PROCESSES + 4, move |_| {
            let mut issued = issued.lock().unwrap();
            let task_id = format!("task-{round}-{}", issued.len() + 1);
            issued.push(task_id.clone());
            Reply::json(200, json!({ "task_id": task_id }))
        })
    };

    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|index| spawn_worker(dir.path(), home.path(), &server.url(), index))
        .collect();

    // Every worker holds the identity without a task id before any starts.
    let deadline = Instant::now() + WAIT_LIMIT;
    for index in 0..PROCESSES {
        while !ready_file(dir.path(), index).exists() {
            if let Some(status) = children[index].try_wait().unwrap() {
                let message = format!(
                    "round {round}: worker {index} exited before the start ({status}):\n{}",
                    worker_stderr(dir.path(), index)
                );
                fail_round(&mut children, message);
            }
            if Instant::now() >= deadline {
                let message = format!("round {round}: worker {index} never got ready");
                fail_round(&mut children, message);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    std::fs::write(dir.path().join("go"), "").unwrap();

    let deadline = Instant::now() + WAIT_LIMIT;
    for index in 0..PROCESSES {
        let status = loop {
            if let Some(status) = children[index].try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let message = format!("round {round}: worker {index} never finished");
                fail_round(&mut children, message);
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        if !status.success() {
            let message = format!(
                "round {round}: worker {index} failed ({status}):\n{}",
                worker_stderr(dir.path(), index)
            );
            fail_round(&mut children, message);
        }
    }

    let registrations = server.request_count();
    for request in server.requests() {
        assert_eq!(request.method, "POST");
        assert_eq!(
            request.path,
            format!("/v1/agent/{runtime_id}/task/register")
        );
    }
    let mut used = Vec::new();
    for index in 0..PROCESSES {
        let line = std::fs::read_to_string(result_file(dir.path(), index)).unwrap();
        assert_eq!(
            field(&line, "used"),
            field(&line, "cached"),
            "round {round}: worker {index} sent an id it does not cache"
        );
        used.push(field(&line, "used").to_owned());
    }

    // The stored identity carries the id, in object form.
    let stored = FileStore::new(home.path())
        .load()
        .unwrap()
        .expect("auth.json is still there");
    let stored_id = stored
        .validated_agent_identity()
        .unwrap()
        .and_then(|record| record.background_task_id().map(str::to_owned))
        .expect("a task id is stored");
    assert!(
        used.iter().all(|id| *id == stored_id),
        "round {round}: the workers used {used:?}, auth.json holds {stored_id}"
    );
    let issued = issued.lock().unwrap();
    assert!(
        issued.contains(&stored_id),
        "round {round}: {stored_id} was never issued (issued: {issued:?})"
    );
    (registrations, used)
}

#[test]
fn eight_processes_starting_on_one_home_register_one_task_and_all_use_its_id() {
    let started = Instant::now();
    let mut per_round = Vec::new();
    for round in 1..=ROUNDS {
        let (registrations, used) = race_round(round);
        let distinct = {
            let mut ids = used.clone();
            ids.sort();
            ids.dedup();
            ids.len()
        };
        let same = if distinct == 1 {
            "same id".to_owned()
        } else {
            format!("{distinct} different ids")
        };
        // Straight to stderr: `eprintln!` output of a passing test is
        // captured, and hidden, by the test harness.
        let _ = writeln!(
            std::io::stderr(),
            "registration race: round {round}: {registrations} registration(s), {PROCESSES} processes, {same} ({})",
            used[0]
        );
        assert_eq!(
            registrations, 1,
            "round {round}: the registration service saw {registrations} registrations"
        );
        assert_eq!(distinct, 1, "round {round}: the processes used {used:?}");
        per_round.push(registrations);
    }
    let _ = writeln!(
        std::io::stderr(),
        "registration race: {ROUNDS} rounds x {PROCESSES} processes in {:.1} s; registrations per round: {per_round:?}",
        started.elapsed().as_secs_f64()
    );
}
