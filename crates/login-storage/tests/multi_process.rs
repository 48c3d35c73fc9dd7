//! Several processes updating one home through the lock lose nothing, nor
//! do processes updating one file through homes that link to it.

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

const LINKED_HOMES: usize = 6;
const LINKED_UPDATES: usize = 5;

#[cfg(unix)]
#[test]
fn six_processes_through_six_homes_linked_to_one_file_lose_no_update() {
    let root = tempfile::tempdir().unwrap();
    let shared_dir = root.path().join("shared");
    FileStore::new(&shared_dir)
        .save(&support::api_key_document())
        .unwrap();
    let children: Vec<_> = (0..LINKED_HOMES)
        .map(|id| {
            let home = root.path().join(format!("home{id}"));
            std::fs::create_dir(&home).unwrap();
            std::os::unix::fs::symlink(shared_dir.join("auth.json"), home.join("auth.json"))
                .unwrap();
            support::spawn_worker(
                "multi_process::linked_update_worker",
                "linked-update",
                &[
                    (HOME_ENV, home.to_string_lossy().into_owned()),
                    (ID_ENV, id.to_string()),
                ],
            )
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "a worker failed: {output:?}");
    }

    let document = FileStore::new(&shared_dir).load().unwrap().unwrap();
    for id in 0..LINKED_HOMES {
        for i in 0..LINKED_UPDATES {
            assert_eq!(
                document.extra.get(&format!("h{id}-{i}")),
                Some(&json!(i)),
                "key h{id}-{i} was lost"
            );
        }
    }
    assert_eq!(
        support::list_dir(&shared_dir),
        ["auth.json", "auth.json.lock"]
    );
}

/// Worker of `six_processes_through_six_homes_linked_to_one_file_lose_no_update`;
/// idle unless started by it.
#[test]
fn linked_update_worker() {
    if !support::is_worker("linked-update") {
        return;
    }
    let home = std::path::PathBuf::from(std::env::var(HOME_ENV).unwrap());
    let id = std::env::var(ID_ENV).unwrap();
    let storage = FileStore::new(&home);
    for i in 0..LINKED_UPDATES {
        storage
            .update(&mut |current| {
                let mut document = current.unwrap();
                document.extra.insert(format!("h{id}-{i}"), json!(i));
                Ok(Some(document))
            })
            .unwrap();
    }
}
