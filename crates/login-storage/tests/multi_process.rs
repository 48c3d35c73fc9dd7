//! Several processes updating one home through the lock lose nothing.

use login_agent_identity::ExposeSecret as _;
use login_storage::{AuthStore, FileStore};
use serde_json::json;

use crate::support;

const PROCESSES: usize = 4;
const UPDATES: usize = 100;
const HOME_ENV: &str = "LOGIN_STORAGE_TEST_HOME";
const ID_ENV: &str = "LOGIN_STORAGE_TEST_WORKER_ID";

#[test]
fn four_processes_doing_100_updates_each_lose_no_key() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();

    let children: Vec<_> = (0..PROCESSES)
        .map(|id| {
            support::spawn_worker(
                "multi_process::update_worker",
                "update",
                &[
                    (HOME_ENV, home.path.to_string_lossy().into_owned()),
                    (ID_ENV, id.to_string()),
                ],
            )
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a worker failed: {output:?}");
    }

    let document = storage.load().unwrap().unwrap();
    for id in 0..PROCESSES {
        for i in 0..UPDATES {
            assert_eq!(
                document.extra.get(&format!("p{id}-{i}")),
                Some(&json!(i)),
                "key p{id}-{i} was lost"
            );
        }
    }
    assert_eq!(document.extra.len(), PROCESSES * UPDATES);
    assert_eq!(
        document.openai_api_key.unwrap().expose_secret(),
        support::API_KEY
    );
    assert_eq!(home.entries(), ["auth.json", "auth.json.lock"]);
}

/// Worker of `four_processes_doing_100_updates_each_lose_no_key`; idle
/// unless started by it.
#[test]
fn update_worker() {
    if !support::is_worker("update") {
        return;
    }
    let home = std::path::PathBuf::from(std::env::var(HOME_ENV).unwrap());
    let id = std::env::var(ID_ENV).unwrap();
    let storage = FileStore::new(&home);
    for i in 0..UPDATES {
        storage
            .update(&mut |current| {
                let mut document = current.unwrap();
                document.extra.insert(format!("p{id}-{i}"), json!(i));
                Ok(Some(document))
            })
            .unwrap();
    }
}
