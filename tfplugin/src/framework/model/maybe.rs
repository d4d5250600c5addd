//! [`Maybe`]: a model field that can be null, unknown or known.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};

/// The newtype name [`Maybe`] asks deserializers for; the model
/// deserializer answers it with the three-state protocol below.
pub(super) const MAYBE_TOKEN: &str = "$joinery_tfplugin::Maybe";
/// The unit-struct name an unknown [`Maybe`] serializes as; the model
/// serializer turns it into [`crate::cty::Value::Unknown`].
pub(super) const UNKNOWN_TOKEN: &str = "$joinery_tfplugin::Unknown";

/// An attribute value that may be null, not known yet, or known — what
/// terraform-plugin-framework's `types.String` and friends are in Go.
///
/// Use it for every attribute a model can meet unknown (see the
/// [module docs](super)). An unknown anywhere inside the value that the
/// field's type cannot hold (an unknown element of a `Vec<String>`, say)
/// makes the nearest enclosing `Maybe` unknown: never a wrong value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum Maybe<T> {
    /// Null: not set in configuration, or absent from state.
    #[default]
    Null,
    /// Not known until apply.
    Unknown,
    /// A known value.
    Known(T),
}

impl<T> Maybe<T> {
    /// Whether this is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Maybe::Null)
    }

    /// Whether this is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Maybe::Unknown)
    }

    /// Whether this is a known value.
    pub fn is_known(&self) -> bool {
        matches!(self, Maybe::Known(_))
    }

    /// The value if known; `None` for null **and** unknown.
    pub fn known(&self) -> Option<&T> {
        match self {
            Maybe::Known(v) => Some(v),
            Maybe::Null | Maybe::Unknown => None,
        }
    }

    /// The value if known, by value; `None` for null and unknown.
    pub fn into_known(self) -> Option<T> {
        match self {
            Maybe::Known(v) => Some(v),
            Maybe::Null | Maybe::Unknown => None,
        }
    }

    /// Borrows the value.
    pub fn as_ref(&self) -> Maybe<&T> {
        match self {
            Maybe::Null => Maybe::Null,
            Maybe::Unknown => Maybe::Unknown,
            Maybe::Known(v) => Maybe::Known(v),
        }
    }

    /// Maps a known value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Maybe<U> {
        match self {
            Maybe::Null => Maybe::Null,
            Maybe::Unknown => Maybe::Unknown,
            Maybe::Known(v) => Maybe::Known(f(v)),
        }
    }

    /// The known value, or `T::default()` for null and unknown: the Go
    /// framework's `ValueString()`. Use it where "not set" and "not known
    /// yet" mean the same, e.g. filling a request from a plan at apply,
    /// when only computed attributes can still be unknown.
    pub fn known_or_default(&self) -> T
    where
        T: Clone + Default,
    {
        self.known().cloned().unwrap_or_default()
    }
}

impl Maybe<String> {
    /// The known string; `None` for null and unknown.
    pub fn known_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<Option<T>> for Maybe<T> {
    /// `None` is null.
    fn from(v: Option<T>) -> Maybe<T> {
        v.map_or(Maybe::Null, Maybe::Known)
    }
}

impl<T: Serialize> Serialize for Maybe<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Maybe::Null => serializer.serialize_none(),
            // Other serializers see a unit struct (JSON: null).
            Maybe::Unknown => serializer.serialize_unit_struct(UNKNOWN_TOKEN),
            Maybe::Known(v) => serializer.serialize_some(v),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(MAYBE_TOKEN, MaybeVisitor(PhantomData))
    }
}

/// The three-state protocol between [`Maybe`] and the model deserializer:
/// `visit_none` is null, `visit_unit` unknown, and `visit_seq` the value as
/// the one element of a sequence — a sequence that comes back *empty* when
/// the value held an unknown `T` cannot represent, which the deserializer
/// can tell (it owns the error type) but `Maybe` cannot.
///
/// Other deserializers call `visit_newtype_struct`, read as an `Option`.
struct MaybeVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MaybeVisitor<T> {
    type Value = Maybe<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value, null or unknown")
    }

    fn visit_none<E: de::Error>(self) -> Result<Maybe<T>, E> {
        Ok(Maybe::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Maybe<T>, E> {
        Ok(Maybe::Unknown)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Maybe<T>, D::Error> {
        T::deserialize(deserializer).map(Maybe::Known)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Maybe<T>, A::Error> {
        Ok(seq.next_element()?.map_or(Maybe::Unknown, Maybe::Known))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Maybe<T>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Maybe::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors() {
        let k = Maybe::Known("a".to_string());
        assert_eq!(k.known_str(), Some("a"));
        assert_eq!(Maybe::<String>::Unknown.known_or_default(), "");
        assert!(Maybe::<u8>::default().is_null());
        assert_eq!(Maybe::from(Some(1)).map(|x| x + 1), Maybe::Known(2));
        assert_eq!(Maybe::<u8>::from(None), Maybe::Null);
        assert!(Maybe::<u8>::Unknown.known().is_none());
    }

    #[test]
    fn other_formats_see_an_option() {
        assert_eq!(serde_json::to_string(&Maybe::Known(1)).unwrap(), "1");
        assert_eq!(serde_json::to_string(&Maybe::<u8>::Unknown).unwrap(), "null");
        assert_eq!(serde_json::from_str::<Maybe<u8>>("null").unwrap(), Maybe::Null);
        assert_eq!(serde_json::from_str::<Maybe<u8>>("3").unwrap(), Maybe::Known(3));
    }
}
