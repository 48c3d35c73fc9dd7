//! The file store: atomic writes, modes, symlinks, locking, corrupt files.

use std::sync::Arc;

use login_agent_identity::{AgentIdentityInput, ExposeSecret as _, SecretString};
use login_storage::{AuthStore, FileStore, StoreError, StoreKind};
use serde_json::{Value, json};

use crate::support::{self, API_KEY, MAX_AUTH_FILE_LEN, add_extra};

fn is_temp_file(name: &str) -> bool {
    name.starts_with(".auth.json.tmp-")
}

#[test]
fn file_storage_keeps_unknown_fields_on_update() {
    let home = support::home();
    let record = support::identity_record();
    let mut record_json = serde_json::to_value(&record).unwrap();
    record_json["future_identity_key"] = json!("identity-extra");
    home.write_auth_file(
        json!({
            "OPENAI_API_KEY": API_KEY,
            "future_top_level": {"nested": true},
            "agent_identity": record_json,
        })
        .to_string()
        .as_bytes(),
    );
    let storage = FileStore::new(&home.path);

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.last_refresh = Some(time::macros::datetime!(2026-01-02 03:04:05 UTC));
            Ok(Some(document))
        })
        .unwrap();

    let written: Value = serde_json::from_slice(&home.read_auth_file()).unwrap();
    assert_eq!(written["future_top_level"], json!({"nested": true}));
    assert_eq!(
        written["agent_identity"]["future_identity_key"],
        json!("identity-extra")
    );
    assert_eq!(written["OPENAI_API_KEY"], json!(API_KEY));
    assert_eq!(written["last_refresh"], json!("2026-01-02T03:04:05Z"));
}

#[test]
fn jwt_identity_loads_as_a_record_and_loading_never_rewrites_the_file() {
    let home = support::home();
    let claims = support::identity_claims();
    let jwt = test_support::identity_jwt(&claims);
    let original = json!({"OPENAI_API_KEY": null, "agent_identity": jwt}).to_string();
    home.write_auth_file(original.as_bytes());
    let storage = FileStore::new(&home.path);

    let loaded = storage.load().unwrap().unwrap();

    let record = loaded.validated_agent_identity().unwrap().unwrap();
    assert_eq!(record.workspace_id(), "ws-1");
    assert_eq!(record.agent_runtime_id(), "rt-1");
    assert_eq!(record.background_task_id(), None);
    assert!(loaded.agent_identity.as_ref().unwrap().is_jwt());
    assert_eq!(home.read_auth_file(), original.as_bytes());
}

#[test]
fn jwt_identity_keeps_its_form_on_rewrite_and_a_cached_task_id_stores_the_object() {
    let home = support::home();
    let jwt = test_support::identity_jwt(&support::identity_claims());
    home.write_auth_file(
        json!({"OPENAI_API_KEY": null, "agent_identity": jwt})
            .to_string()
            .as_bytes(),
    );
    let storage = FileStore::new(&home.path);

    // Saved unchanged: the JWT stays a JWT string.
    let loaded = storage.load().unwrap().unwrap();
    storage.save(&loaded).unwrap();
    let written: Value = serde_json::from_slice(&home.read_auth_file()).unwrap();
    assert_eq!(written["agent_identity"], json!(jwt), "{written}");

    // A task id cached later survives the next load.
    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            let record = document.validated_agent_identity().unwrap().unwrap();
            let record = record.with_background_task_id(Some("task-42".into()));
            document.agent_identity = Some(AgentIdentityInput::Object(record));
            Ok(Some(document))
        })
        .unwrap();
    let written: Value = serde_json::from_slice(&home.read_auth_file()).unwrap();
    assert!(written["agent_identity"].is_object(), "{written}");
    assert_eq!(written["agent_identity"]["agent_runtime_id"], json!("rt-1"));
    let reloaded = storage.load().unwrap().unwrap();
    let record = reloaded.validated_agent_identity().unwrap().unwrap();
    assert_eq!(record.background_task_id(), Some("task-42"));
}

#[test]
fn undecodable_jwt_identity_fails_to_serialize_and_changes_nothing() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let mut document = support::api_key_document();
    document.agent_identity = Some(AgentIdentityInput::Jwt(SecretString::from(
        "not.a-valid.jwt-SECRET",
    )));

    let error = storage.save(&document).unwrap_err();

    assert!(matches!(error, StoreError::Serialize { .. }), "{error:?}");
    assert!(!error.to_string().contains("jwt-SECRET"), "{error}");
    assert!(!home.path.exists(), "nothing may be created");

    storage.save(&support::api_key_document()).unwrap();
    let before = home.read_auth_file();
    let error = storage.save(&document).unwrap_err();
    assert!(matches!(error, StoreError::Serialize { .. }));
    assert_eq!(home.read_auth_file(), before);
}

#[test]
fn corrupt_file_load_names_the_file_line_and_column_without_content() {
    let home = support::home();
    let bytes = format!("{{\n  \"OPENAI_API_KEY\": \"{API_KEY}\",\n  oops\n}}\n");
    home.write_auth_file(bytes.as_bytes());

    let error = FileStore::new(&home.path).load().unwrap_err();

    let StoreError::Corrupt {
        path, line, column, ..
    } = &error
    else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert_eq!(path, &home.auth_file());
    assert_eq!((*line, *column), (3, 3));
    let message = error.to_string();
    assert!(message.contains("auth.json"), "{message}");
    assert!(message.contains("line 3 column 3"), "{message}");
    support::assert_no_secret(&message, None);
    support::assert_no_secret(&format!("{error:?}"), None);
    assert_eq!(home.read_auth_file(), bytes.as_bytes());
}

#[test]
fn type_error_in_a_field_does_not_echo_the_value() {
    let home = support::home();
    home.write_auth_file(
        format!(r#"{{"OPENAI_API_KEY":null,"last_refresh":"{API_KEY}"}}"#).as_bytes(),
    );
    let error = FileStore::new(&home.path).load().unwrap_err();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
    support::assert_no_secret(&error.to_string(), None);
}

#[test]
fn empty_file_is_corrupt_at_line_1_column_0() {
    let home = support::home();
    home.write_auth_file(b"");

    let error = FileStore::new(&home.path).load().unwrap_err();

    let StoreError::Corrupt {
        line,
        column,
        reason,
        ..
    } = &error
    else {
        panic!("expected Corrupt, got {error:?}");
    };
    assert_eq!((*line, *column), (1, 0));
    assert!(reason.contains("empty"), "{reason}");
    assert_eq!(home.read_auth_file(), b"");
}

#[test]
fn update_refuses_a_corrupt_file_and_leaves_it_byte_for_byte() {
    for bytes in [&b""[..], b"{\"OPENAI_API_KEY\": tru", b"\n\n  \n"] {
        let home = support::home();
        home.write_auth_file(bytes);
        let storage = FileStore::new(&home.path);
        let mut called = false;

        let error = storage
            .update(&mut |_| {
                called = true;
                Ok(Some(support::api_key_document()))
            })
            .unwrap_err();

        assert!(matches!(error, StoreError::Corrupt { .. }), "{error:?}");
        assert!(!called, "the closure must not run on a corrupt file");
        assert_eq!(home.read_auth_file(), bytes);
        assert!(!home.entries().iter().any(|name| name.contains("corrupt")));
    }
}

#[test]
fn explicit_save_moves_a_corrupt_file_aside_with_a_utc_timestamp_and_warns() {
    let home = support::home();
    let corrupt = format!("{{\"OPENAI_API_KEY\": \"{API_KEY}\" oops");
    home.write_auth_file(corrupt.as_bytes());
    let storage = FileStore::new(&home.path);

    let (result, logs) = support::capture_logs(|| storage.save(&support::api_key_document()));
    result.unwrap();

    let aside: Vec<String> = home
        .entries()
        .into_iter()
        .filter(|name| name.starts_with("auth.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{:?}", home.entries());
    let stamp = aside[0].trim_start_matches("auth.json.corrupt-");
    assert_eq!(stamp.len(), "20261128T213300Z".len(), "{stamp}");
    assert_eq!(&stamp[8..9], "T");
    assert!(stamp.ends_with('Z'));
    assert_eq!(
        std::fs::read(home.path.join(&aside[0])).unwrap(),
        corrupt.as_bytes()
    );
    assert!(storage.load().unwrap().is_some());

    let warnings = support::warnings(&logs);
    assert_eq!(warnings.len(), 1, "{logs:?}");
    assert!(warnings[0].contains("auth.json.corrupt-"), "{warnings:?}");
    support::assert_no_secret(&logs.join("\n"), None);
}

#[test]
fn two_corrupt_files_moved_aside_in_one_second_do_not_overwrite_each_other() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    for round in 0..2 {
        home.write_auth_file(format!("corrupt {round}").as_bytes());
        storage.save(&support::api_key_document()).unwrap();
    }
    let aside = home
        .entries()
        .into_iter()
        .filter(|name| name.starts_with("auth.json.corrupt-"))
        .count();
    assert_eq!(aside, 2, "{:?}", home.entries());
}

#[test]
fn oversized_file_is_refused_by_size_and_left_alone() {
    let home = support::home();
    home.create();
    let file = std::fs::File::create(home.auth_file()).unwrap();
    file.set_len(MAX_AUTH_FILE_LEN + 1).unwrap();
    let storage = FileStore::new(&home.path);

    let error = storage.load().unwrap_err();
    assert!(
        matches!(error, StoreError::TooLarge { len, limit, .. }
            if len == MAX_AUTH_FILE_LEN + 1 && limit == MAX_AUTH_FILE_LEN),
        "{error:?}"
    );
    let error = storage.update(&mut |_| Ok(None)).unwrap_err();
    assert!(matches!(error, StoreError::TooLarge { .. }), "{error:?}");
    assert_eq!(
        std::fs::metadata(home.auth_file()).unwrap().len(),
        MAX_AUTH_FILE_LEN + 1
    );
}

#[test]
fn load_of_a_missing_file_is_none_and_creates_nothing() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    assert!(storage.load().unwrap().is_none());
    assert_eq!(storage.location(), StoreKind::File);
    assert!(!home.path.exists());
}

#[cfg(unix)]
#[test]
fn save_creates_the_file_0600_and_the_directory_0700() {
    let home = support::home();
    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();
    assert_eq!(support::mode(&home.auth_file()), 0o600);
    assert_eq!(support::mode(&home.path), 0o700);
    assert_eq!(support::mode(&home.lock_file()), 0o600);
}

#[cfg(unix)]
#[test]
fn writes_tighten_an_existing_0644_file_and_0755_directory() {
    let home = support::home();
    home.write_auth_file(&serde_json::to_vec(&support::api_key_document()).unwrap());
    support::set_mode(&home.auth_file(), 0o644);
    support::set_mode(&home.path, 0o755);
    let storage = FileStore::new(&home.path);

    storage.update(&mut add_extra("k", json!(1))).unwrap();

    assert_eq!(support::mode(&home.auth_file()), 0o600);
    assert_eq!(support::mode(&home.path), 0o700);
}

#[cfg(unix)]
#[test]
fn loading_a_group_readable_file_warns_without_content_and_changes_nothing() {
    let home = support::home();
    let bytes = serde_json::to_vec(&support::api_key_document()).unwrap();
    home.write_auth_file(&bytes);
    support::set_mode(&home.auth_file(), 0o640);
    let storage = FileStore::new(&home.path);

    let (loaded, logs) = support::capture_logs(|| storage.load());

    assert!(loaded.unwrap().is_some());
    let warnings = support::warnings(&logs);
    assert_eq!(warnings.len(), 1, "{logs:?}");
    assert!(warnings[0].contains("auth.json"), "{warnings:?}");
    support::assert_no_secret(&logs.join("\n"), None);
    assert_eq!(support::mode(&home.auth_file()), 0o640);
    assert_eq!(home.read_auth_file(), bytes);

    support::set_mode(&home.auth_file(), 0o600);
    let (_, logs) = support::capture_logs(|| storage.load());
    assert!(support::warnings(&logs).is_empty(), "{logs:?}");
}

#[cfg(unix)]
#[test]
fn symlinked_auth_json_keeps_the_link_and_replaces_the_target_atomically() {
    let home = support::home();
    home.create();
    let elsewhere = home.dir.path().join("secrets");
    std::fs::create_dir(&elsewhere).unwrap();
    let target = elsewhere.join("real-auth.json");
    std::fs::write(
        &target,
        serde_json::to_vec(&support::api_key_document()).unwrap(),
    )
    .unwrap();
    std::os::unix::fs::symlink("../secrets/real-auth.json", home.auth_file()).unwrap();
    let storage = FileStore::new(&home.path);

    storage
        .update(&mut add_extra("through_link", json!(true)))
        .unwrap();

    let link = std::fs::symlink_metadata(home.auth_file()).unwrap();
    assert!(link.file_type().is_symlink(), "the link must be kept");
    let written: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(written["through_link"], json!(true));
    assert_eq!(support::mode(&target), 0o600);
    // The lock beside the target serializes every home linked to it; no
    // temporary file may be left.
    assert_eq!(
        support::list_dir(&elsewhere),
        ["real-auth.json", "real-auth.json.lock"],
        "no temporary file may be left beside the target"
    );
    assert_eq!(
        storage.load().unwrap().unwrap().extra["through_link"],
        json!(true)
    );
}

#[test]
fn stale_temporary_files_of_killed_writers_are_removed_on_the_next_write() {
    let home = support::home();
    home.create();
    // A writer that has exited (its pid reaped) and one whose pid runs (pid
    // 1) but whose file is older than any write takes: both are stale.
    let dead = support::exited_pid();
    for (name, age) in [
        (format!(".auth.json.tmp-{dead}-00000000deadbeef"), None),
        (
            ".auth.json.tmp-1-0123456789abcdef".to_owned(),
            Some(std::time::Duration::from_secs(3600)),
        ),
    ] {
        let path = home.path.join(name);
        std::fs::write(&path, b"{\"OPENAI_API_KEY\":\"half").unwrap();
        if let Some(age) = age {
            support::age_file(&path, age);
        }
    }
    std::fs::write(home.path.join("unrelated.tmp-1"), b"keep me").unwrap();

    FileStore::new(&home.path)
        .save(&support::api_key_document())
        .unwrap();

    assert_eq!(
        home.entries(),
        ["auth.json", "auth.json.lock", "unrelated.tmp-1"]
    );
}

#[test]
fn an_empty_home_path_is_the_current_directory_stale_temporary_files_included() {
    let test_path =
        "file::an_empty_home_path_is_the_current_directory_stale_temporary_files_included";
    if support::is_worker("empty-home") {
        FileStore::new(std::path::Path::new(""))
            .save(&support::api_key_document())
            .unwrap();
        println!("worker: saved");
        return;
    }
    let home = support::home();
    home.create();
    let stale = format!(".auth.json.tmp-{}-00000000deadbeef", support::exited_pid());
    std::fs::write(home.path.join(&stale), b"{").unwrap();
    // The current directory is per process: the save runs in a worker.
    let output = support::worker_command(test_path, "empty-home", &[])
        .current_dir(&home.path)
        .output()
        .unwrap();
    assert!(
        output.status.success()
            && String::from_utf8_lossy(&output.stdout).contains("worker: saved"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(home.entries(), ["auth.json", "auth.json.lock"]);
    assert_eq!(support::mode(&home.auth_file()), 0o600);
}

#[test]
fn delete_removes_the_file_keeps_the_lock_file_and_reports_whether_it_existed() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();

    assert!(storage.delete().unwrap());
    assert!(!home.auth_file().exists());
    assert!(home.lock_file().exists(), "the lock file is never deleted");
    assert!(!storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
}

#[test]
fn delete_on_a_missing_home_is_false_and_creates_nothing() {
    let home = support::home();
    assert!(!FileStore::new(&home.path).delete().unwrap());
    assert!(!home.path.exists());
}

#[test]
fn update_returning_none_writes_nothing_and_returns_the_current_document() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let document = support::api_key_document();
    storage.save(&document).unwrap();
    let before = std::fs::metadata(home.auth_file())
        .unwrap()
        .modified()
        .unwrap();

    let returned = storage.update(&mut |_| Ok(None)).unwrap();

    assert_eq!(returned, Some(document));
    let after = std::fs::metadata(home.auth_file())
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
    assert!(!home.entries().iter().any(|name| is_temp_file(name)));
}

#[test]
fn update_on_an_empty_home_creates_the_document() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    let stored = storage
        .update(&mut |current| {
            assert!(current.is_none());
            Ok(Some(support::api_key_document()))
        })
        .unwrap();
    assert_eq!(stored, Some(support::api_key_document()));
    assert_eq!(storage.load().unwrap(), Some(support::api_key_document()));
}

#[test]
fn failing_update_closure_aborts_without_writing() {
    let home = support::home();
    let storage = FileStore::new(&home.path);
    storage.save(&support::api_key_document()).unwrap();
    let before = home.read_auth_file();

    let error = storage
        .update(&mut |_| Err(StoreError::Update("refresh failed".into())))
        .unwrap_err();

    assert!(matches!(error, StoreError::Update(_)), "{error:?}");
    assert_eq!(home.read_auth_file(), before);
}

#[test]
fn concurrent_updates_from_threads_lose_nothing_and_leave_no_temporary_file() {
    let home = support::home();
    let storage = Arc::new(FileStore::new(&home.path));
    storage.save(&support::api_key_document()).unwrap();

    std::thread::scope(|scope| {
        for thread in 0..4 {
            let storage = storage.clone();
            scope.spawn(move || {
                for i in 0..25 {
                    storage
                        .update(&mut add_extra(&format!("t{thread}-{i}"), json!(i)))
                        .unwrap();
                }
            });
        }
    });

    let document = storage.load().unwrap().unwrap();
    assert_eq!(document.extra.len(), 100);
    assert_eq!(document.openai_api_key.unwrap().expose_secret(), API_KEY);
    assert_eq!(home.entries(), ["auth.json", "auth.json.lock"]);
}

/// Sets its flag when dropped: a thread signals that it is done (or has
/// panicked) from it, so a loop waiting for the flag always ends.
struct SetOnDrop<'a>(&'a std::sync::atomic::AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn load_during_concurrent_saves_always_sees_a_whole_document() {
    // Far more than 50 saves need; only a stuck writer gets near it.
    const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);
    let home = support::home();
    let storage = Arc::new(FileStore::new(&home.path));
    storage.save(&support::full_document()).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    let started = std::time::Instant::now();

    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Set even when a save panics: the reader below then stops and
            // the scope re-raises the panic.
            let _done = SetOnDrop(&done);
            for i in 0..50 {
                let mut document = support::full_document();
                document.extra.insert("round".into(), json!(i));
                storage.save(&document).unwrap();
            }
        });
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(
                started.elapsed() < LIMIT,
                "the writer did not finish within {LIMIT:?}"
            );
            let loaded = storage.load().unwrap().unwrap();
            assert!(loaded.tokens.is_some());
        }
    });
}
