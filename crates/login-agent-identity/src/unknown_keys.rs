//! Keys a stored object does not know, kept with their values in the order
//! they were read, so that a rewrite changes nothing a reader can see.
//!
//! Hand-written over a `Vec` rather than serde_json's `preserve_order`
//! feature: that feature is global to a build (every map of every crate in
//! it becomes an `IndexMap`) and brings four crates into a lean embedder's
//! build, while only these few, small maps need their order.

use std::fmt;
use std::ops::Index;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// Unknown keys of a JSON object, in their original order.
///
/// Inserting a key that is already there replaces its value in place, as
/// the last of duplicate keys does when an object is read; equality ignores
/// the order (two objects with the same keys and values are equal).
///
/// ```
/// use login_agent_identity::UnknownKeys;
/// use serde_json::json;
///
/// let keys: UnknownKeys = serde_json::from_str(r#"{"zeta": 1, "alpha": 2}"#).unwrap();
/// assert_eq!(keys.keys().collect::<Vec<_>>(), ["zeta", "alpha"]);
/// assert_eq!(keys["alpha"], json!(2));
/// assert_eq!(serde_json::to_string(&keys).unwrap(), r#"{"zeta":1,"alpha":2}"#);
/// ```
#[derive(Clone, Default)]
pub struct UnknownKeys(Vec<(String, Value)>);

impl UnknownKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`, if it is there.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is there.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: in place when it is already there (returning
    /// the old value), else last.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        if let Some((_, held)) = self.0.iter_mut().find(|(k, _)| *k == key) {
            return Some(std::mem::replace(held, value));
        }
        self.0.push((key, value));
        None
    }

    /// Removes `key`, keeping the order of the others.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(at).1)
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The keys with their values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// `keys["name"]`: the value, or `null` when the key is not there (as
/// indexing a [`Value`] does; never a panic).
impl Index<&str> for UnknownKeys {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(key).unwrap_or(&NULL)
    }
}

impl PartialEq for UnknownKeys {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Eq for UnknownKeys {}

/// Like a map; the values are shown, as unknown keys carry nothing this
/// crate knows to be secret. Records that may hold secrets in unknown keys
/// show only [`keys`](UnknownKeys::keys) in their own `Debug`.
impl fmt::Debug for UnknownKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for UnknownKeys {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(entries: I) -> Self {
        let mut keys = Self::new();
        for (key, value) in entries {
            keys.insert(key.into(), value);
        }
        keys
    }
}

impl Serialize for UnknownKeys {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for UnknownKeys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(InOrder)
    }
}

struct InOrder;

impl<'de> Visitor<'de> for InOrder {
    type Value = UnknownKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UnknownKeys, A::Error> {
        let mut keys = UnknownKeys::new();
        while let Some((key, value)) = access.next_entry::<String, Value>()? {
            keys.insert(key, value);
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_keys_keep_their_order_and_replace_duplicates_in_place() {
        let text = r#"{"zeta":1,"alpha":2,"zeta":3,"mid":{"b":1}}"#;
        let mut keys: UnknownKeys = serde_json::from_str(text).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["zeta", "alpha", "mid"]);
        assert_eq!(keys["zeta"], json!(3));
        assert_eq!(keys["absent"], Value::Null);
        assert_eq!(keys.remove("alpha"), Some(json!(2)));
        assert_eq!(keys.insert("new".to_owned(), json!(true)), None);
        assert_eq!(
            serde_json::to_string(&keys).unwrap(),
            r#"{"zeta":3,"mid":{"b":1},"new":true}"#
        );
    }

    #[test]
    fn unknown_keys_are_equal_whatever_their_order() {
        let a: UnknownKeys = [("x", json!(1)), ("y", json!(2))].into_iter().collect();
        let b: UnknownKeys = [("y", json!(2)), ("x", json!(1))].into_iter().collect();
        let c: UnknownKeys = [("y", json!(2)), ("x", json!(0))].into_iter().collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, UnknownKeys::new());
    }
}
