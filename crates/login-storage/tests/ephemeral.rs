//! The ephemeral store: process memory keyed like the keyring entry.

use login_storage::{AuthStore, EphemeralStore, StoreKind};
use serde_json::json;

use crate::support;

#[test]
fn ephemeral_homes_share_documents_by_home_and_never_touch_disk() {
    let home = support::home();
    let other = support::home();
    let first = EphemeralStore::new(&home.path);
    let second = EphemeralStore::new(&home.path);

    first.save(&support::full_document()).unwrap();

    assert_eq!(second.load().unwrap(), Some(support::full_document()));
    assert!(EphemeralStore::new(&other.path).load().unwrap().is_none());
    assert_eq!(first.location(), StoreKind::Ephemeral);
    assert!(!home.path.exists(), "nothing may touch the disk");
    assert!(second.delete().unwrap());
}

#[test]
fn ephemeral_delete_reports_whether_there_was_a_document() {
    let home = support::home();
    let storage = EphemeralStore::new(&home.path);
    assert!(!storage.delete().unwrap());
    storage.save(&support::api_key_document()).unwrap();
    assert!(storage.delete().unwrap());
    assert!(storage.load().unwrap().is_none());
    assert!(!storage.delete().unwrap());
}

#[test]
fn ephemeral_update_keeps_unknown_fields_and_none_keeps_the_document() {
    let home = support::home();
    let storage = EphemeralStore::new(&home.path);
    storage.save(&support::full_document()).unwrap();

    storage
        .update(&mut |current| {
            let mut document = current.unwrap();
            document.extra.insert("updated".into(), json!(1));
            Ok(Some(document))
        })
        .unwrap();
    let unchanged = storage.update(&mut |_| Ok(None)).unwrap().unwrap();

    assert_eq!(unchanged.extra["updated"], json!(1));
    assert!(unchanged.extra.contains_key("future_top_level"));
    assert!(!home.path.exists());
    storage.delete().unwrap();
}
