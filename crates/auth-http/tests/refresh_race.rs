//! The race: 8 processes sharing one home refresh the same stale tokens at
//! the same moment, against a token server that rotates refresh tokens and
//! answers `refresh_token_reused` (401) to any reuse. Exactly one process
//! redeems; the others adopt its tokens under the storage lock.
//!
//! The processes are this test binary run again in worker mode
//! ([`race_worker`], selected by [`DIR_VAR`]); they wait for a `go` file so
//! they all call `refresh_if_stale` at once.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_http::{HttpOptions, HttpTokenRefresher, RefreshConfig};
use core_auth::AuthManager;
use login_agent_identity::ExposeSecret as _;
use login_storage::{AuthDotJson, AuthStore as _, FileStore};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use test_support::loopback::{LoopbackServer, Reply, access_token, unix_now};
use test_support::{TestEnv, config, id_token};

const PROCESSES: usize = 8;
const ROUNDS: usize = 20;

/// Selects worker mode: the directory of one round's signals and results.
const DIR_VAR: &str = "CORE_AUTH_RACE_DIR";
const HOME_VAR: &str = "CORE_AUTH_RACE_HOME";
const URL_VAR: &str = "CORE_AUTH_RACE_URL";
const INDEX_VAR: &str = "CORE_AUTH_RACE_INDEX";

const WAIT_LIMIT: Duration = Duration::from_secs(60);

/// Tokens are compared by fingerprint, never written out.
fn fingerprint(token: &str) -> String {
    let mut hasher = DefaultHasher::new();
    token.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + WAIT_LIMIT;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Worker mode: returns at once unless run by the race test.
#[test]
fn race_worker() {
    let Some(dir) = std::env::var_os(DIR_VAR).map(PathBuf::from) else {
        return;
    };
    let home = PathBuf::from(std::env::var_os(HOME_VAR).unwrap());
    let url = std::env::var(URL_VAR).unwrap();
    let index = std::env::var(INDEX_VAR).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let line = runtime.block_on(async {
        let refresher = HttpTokenRefresher::new(
            RefreshConfig::new(&url, "client-race")
                .with_options(HttpOptions::default().with_timeout(Duration::from_secs(10))),
        )
        .unwrap();
        let manager = AuthManager::load(
            config(&home, &TestEnv::default()).with_token_refresher(Arc::new(refresher)),
        )
        .await
        .unwrap();
        assert!(
            manager
                .auth()
                .unwrap()
                .needs_refresh(OffsetDateTime::now_utc())
        );
        std::fs::write(dir.join(format!("ready-{index}")), "").unwrap();
        wait_for(&dir.join("go"));
        let started = Instant::now();
        let result = manager.refresh_if_stale().await;
        let micros = started.elapsed().as_micros();
        match result {
            Ok(outcome) => {
                let auth = manager.auth().unwrap();
                let tokens = auth.tokens().unwrap();
                format!(
                    "ok {outcome:?} {micros} {} {}",
                    fingerprint(tokens.access_token.expose_secret()),
                    fingerprint(tokens.refresh_token.expose_secret())
                )
            }
            Err(error) => format!("error {micros} {error}"),
        }
    });
    let partial = dir.join(format!("result-{index}.partial"));
    std::fs::write(&partial, line).unwrap();
    std::fs::rename(partial, dir.join(format!("result-{index}"))).unwrap();
}

/// The token server's state: the one refresh token it honours.
#[derive(Debug, Default)]
struct Rotation {
    generation: usize,
    current_refresh: String,
    current_access: String,
    redemptions: usize,
    reuses: usize,
}

fn rotating_token_server(rotation: Arc<Mutex<Rotation>>) -> LoopbackServer {
    LoopbackServer::start(ROUNDS * PROCESSES + 16, move |request| {
        let presented = request.json()["refresh_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut rotation = rotation.lock().unwrap();
        if presented != rotation.current_refresh {
            rotation.reuses += 1;
            return Reply::json(
                401,
                serde_json::json!({"error": {"code": "refresh_token_reused", "message": "already used"}}),
            );
        }
        rotation.generation += 1;
        rotation.redemptions += 1;
        rotation.current_refresh = format!("rt-gen-{}", rotation.generation);
        rotation.current_access =
            access_token(unix_now() + 3600, &format!("gen-{}", rotation.generation));
        Reply::json(
            200,
            serde_json::json!({
                "access_token": rotation.current_access,
                "refresh_token": rotation.current_refresh,
                "id_token": id_token("race@example.com", "acct"),
            }),
        )
    })
}

/// Stores stale tokens holding `refresh_token` in `home`.
fn store_stale_tokens(home: &Path, refresh_token: &str, round: usize) {
    let document: AuthDotJson = serde_json::from_value(serde_json::json!({
        "auth_mode": "chatgpt",
        "tokens": {
            "id_token": id_token("race@example.com", "acct"),
            "access_token": access_token(unix_now() - 60, &format!("stale-{round}")),
            "refresh_token": refresh_token,
            "account_id": "acct",
        },
        "last_refresh": (OffsetDateTime::now_utc() - time::Duration::hours(1)).format(&Rfc3339).unwrap(),
    }))
    .unwrap();
    FileStore::new(home).save(&document).unwrap();
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
        "refresh_race::race_worker",
        &envs,
        &dir.join(format!("stderr-{index}")),
    )
}

fn worker_stderr(dir: &Path, index: usize) -> String {
    std::fs::read_to_string(dir.join(format!("stderr-{index}"))).unwrap_or_default()
}

fn percentile(values: &[u128], fraction: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index] as f64 / 1000.0
}

#[test]
fn eight_processes_redeem_a_rotating_refresh_token_exactly_once_per_round() {
    let rotation = Arc::new(Mutex::new(Rotation {
        current_refresh: "rt-gen-0".to_owned(),
        ..Rotation::default()
    }));
    let server = rotating_token_server(rotation.clone());
    let home = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut redemptions_per_round = Vec::new();
    let mut redeemer_micros = Vec::new();
    let mut slowest_micros = Vec::new();

    for round in 0..ROUNDS {
        let (refresh_token, redemptions_before) = {
            let rotation = rotation.lock().unwrap();
            (rotation.current_refresh.clone(), rotation.redemptions)
        };
        store_stale_tokens(home.path(), &refresh_token, round);
        let dir = tempfile::tempdir().unwrap();
        let mut children: Vec<Child> = (0..PROCESSES)
            .map(|index| spawn_worker(dir.path(), home.path(), &server.url(), index))
            .collect();

        // Every worker holds the stale tokens before any refreshes.
        let deadline = Instant::now() + WAIT_LIMIT;
        for (index, child) in children.iter_mut().enumerate() {
            while !dir.path().join(format!("ready-{index}")).exists() {
                if let Some(status) = child.try_wait().unwrap() {
                    panic!(
                        "round {round}: worker {index} exited early ({status}):\n{}",
                        worker_stderr(dir.path(), index)
                    );
                }
                assert!(
                    Instant::now() < deadline,
                    "round {round}: worker {index} never got ready"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        std::fs::write(dir.path().join("go"), "").unwrap();

        let mut outcomes = BTreeMap::<String, usize>::new();
        let mut finals = Vec::new();
        for (index, child) in children.iter_mut().enumerate() {
            let status = child.wait().unwrap();
            assert!(
                status.success(),
                "round {round}: worker {index} failed ({status}):\n{}",
                worker_stderr(dir.path(), index)
            );
            let line = std::fs::read_to_string(dir.path().join(format!("result-{index}"))).unwrap();
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!(
                fields[0], "ok",
                "round {round}: worker {index} saw an error: {line}"
            );
            let micros: u128 = fields[2].parse().unwrap();
            slowest_micros.push(micros);
            if fields[1] == "Refreshed" {
                redeemer_micros.push(micros);
            }
            *outcomes.entry(fields[1].to_owned()).or_default() += 1;
            finals.push((fields[3].to_owned(), fields[4].to_owned()));
        }

        let rotation = rotation.lock().unwrap();
        let redemptions = rotation.redemptions - redemptions_before;
        redemptions_per_round.push(redemptions);
        assert_eq!(
            redemptions, 1,
            "round {round}: the server saw {redemptions} redemptions"
        );
        assert_eq!(
            rotation.reuses, 0,
            "round {round}: a spent refresh token was presented"
        );
        assert_eq!(
            outcomes,
            BTreeMap::from([
                ("Adopted".to_owned(), PROCESSES - 1),
                ("Refreshed".to_owned(), 1)
            ]),
            "round {round}"
        );
        let expected = (
            fingerprint(&rotation.current_access),
            fingerprint(&rotation.current_refresh),
        );
        assert!(
            finals.iter().all(|held| *held == expected),
            "round {round}: the processes ended with different tokens"
        );
        let stored = FileStore::new(home.path()).load().unwrap().unwrap();
        let stored = stored.tokens.unwrap();
        assert_eq!(
            stored.refresh_token.expose_secret(),
            rotation.current_refresh
        );
    }

    eprintln!(
        "refresh race: {ROUNDS} rounds x {PROCESSES} processes in {:.1} s; redemptions per round: {redemptions_per_round:?}",
        started.elapsed().as_secs_f64()
    );
    eprintln!(
        "refresh race: redeeming call (lock + read + loopback HTTP + write) median {:.2} ms, max {:.2} ms; \
         any call incl. waiting for the lock median {:.2} ms, max {:.2} ms",
        percentile(&redeemer_micros, 0.5),
        percentile(&redeemer_micros, 1.0),
        percentile(&slowest_micros, 0.5),
        percentile(&slowest_micros, 1.0),
    );
}
