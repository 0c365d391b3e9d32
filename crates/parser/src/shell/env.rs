//! Where variable values come from.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// A set of variables the lexer can read.
///
/// Names are compared exactly (case-sensitive, as on Unix). A variable that is present
/// with an empty value is *set*: `${NULL-x}` gives the empty string, `${NULL:-x}` gives
/// `x`. Implemented for slices, vectors and arrays of `(name, value)` pairs (the **last**
/// pair with a name wins, as when `ENV` lines accumulate), for `HashMap` and `BTreeMap`,
/// and for references to any of those.
pub trait Env {
    /// The value of `name`, or `None` when it is unset.
    fn get(&self, name: &str) -> Option<&str>;
}

impl<E: Env + ?Sized> Env for &E {
    fn get(&self, name: &str) -> Option<&str> {
        (**self).get(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Env for [(K, V)] {
    fn get(&self, name: &str) -> Option<&str> {
        // Later definitions override earlier ones, so search from the end.
        self.iter()
            .rev()
            .find(|(key, _)| key.as_ref() == name)
            .map(|(_, value)| value.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Env for Vec<(K, V)> {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Env for [(K, V); N] {
    fn get(&self, name: &str) -> Option<&str> {
        Env::get(self.as_slice(), name)
    }
}

impl<V: AsRef<str>, S: BuildHasher> Env for HashMap<String, V, S> {
    fn get(&self, name: &str) -> Option<&str> {
        HashMap::get(self, name).map(AsRef::as_ref)
    }
}

impl<V: AsRef<str>> Env for BTreeMap<String, V> {
    fn get(&self, name: &str) -> Option<&str> {
        BTreeMap::get(self, name).map(AsRef::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_let_the_last_definition_win() {
        let env = vec![
            ("car".to_string(), "hat".to_string()),
            ("car".to_string(), "bike".to_string()),
        ];
        assert_eq!(Env::get(&env, "car"), Some("bike"));
        assert_eq!(Env::get(&env, "CAR"), None, "names are case-sensitive");
        assert_eq!(Env::get(&[("a", "")], "a"), Some(""), "empty is still set");
    }

    #[test]
    fn maps_are_environments() {
        let mut map = HashMap::new();
        map.insert("FOO".to_string(), "x".to_string());
        assert_eq!(Env::get(&map, "FOO"), Some("x"));
        let tree: BTreeMap<String, &str> = [("B".to_string(), "y")].into();
        assert_eq!(Env::get(&tree, "B"), Some("y"));
        assert_eq!(Env::get(&tree, "b"), None);
    }
}
