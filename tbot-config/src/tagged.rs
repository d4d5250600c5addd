//! Decoding a mapping tagged by its `type` key (tbot's outputs) into an
//! enum, with the parser's key paths and lines intact.
//!
//! serde's `#[serde(tag = "type")]` buffers a whole mapping before it reads
//! the tag, so every error inside would be reported at the mapping (`at line
//! 6 column 5`) instead of at the offending key (`outputs[0].ssh_config: ...
//! at line 8 column 17`). Here the enum keeps serde's derived, externally
//! tagged decoding (reached through `#[serde(remote = "Self")]`, see
//! [`TaggedEnum`]) and this module feeds it the mapping as it streams by:
//! the `type` value is the variant name, decoded in place (so `unknown
//! variant` errors point at it), then the variant's struct decodes every
//! entry in place, starting with a `type` entry of its own. Only entries
//! written *before* `type` have to be buffered; an error in one of those is
//! reported with its key at the mapping's line.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, StrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, VariantAccess, Visitor};
use serde::forward_to_deserialize_any;

/// The tag key.
const TAG: &str = "type";

/// An enum decoded from mappings tagged by `type`: one newtype variant per
/// tag value, each holding a struct that has a `type` field of its own.
pub(crate) trait TaggedEnum: Sized {
    /// What a value that is not a mapping is reported as ("expected ...").
    const EXPECTING: &'static str;

    /// The derived, externally tagged decoding (`#[serde(remote = "Self")]`).
    fn deserialize_variant<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Decodes `T` from a mapping tagged by `type`.
pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: TaggedEnum>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: TaggedEnum> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize_variant(AsEnum { map })
    }
}

/// The mapping, presented to the derived code as an externally tagged enum.
struct AsEnum<A> {
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for AsEnum<A> {
    type Error = A::Error;

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, A::Error> {
        // Only derived enum code is handed this deserializer, and it asks for an enum.
        Err(de::Error::custom("a tagged mapping decodes only into an enum"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for AsEnum<A> {
    type Error = A::Error;
    type Variant = Variant<A>;

    fn variant_seed<S: DeserializeSeed<'de>>(mut self, seed: S) -> Result<(S::Value, Variant<A>), A::Error> {
        let mut before = Vec::new();
        loop {
            match self.map.next_key::<String>()? {
                None => return Err(de::Error::missing_field(TAG)),
                Some(key) if key == TAG => break,
                Some(key) => {
                    let value: serde_yaml_ng::Value = self.map.next_value()?;
                    before.push((key, value));
                }
            }
        }
        let mut tag = String::new();
        let variant = self.map.next_value_seed(CaptureTag { seed, tag: &mut tag })?;
        Ok((variant, Variant { map: self.map, tag, before }))
    }
}

/// Decodes the variant name in place and keeps a copy for the struct's own `type` field.
struct CaptureTag<'a, S> {
    seed: S,
    tag: &'a mut String,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for CaptureTag<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for CaptureTag<'_, S> {
    type Value = S::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("variant identifier")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<S::Value, E> {
        v.clone_into(self.tag);
        let name: StrDeserializer<E> = v.into_deserializer();
        self.seed.deserialize(name)
    }
}

/// The chosen variant; its struct reads `type`, the buffered entries, then the rest.
struct Variant<A> {
    map: A,
    tag: String,
    before: Vec<(String, serde_yaml_ng::Value)>,
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<A> {
    type Error = A::Error;

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, A::Error> {
        let entries = Entries {
            map: self.map,
            tag: Some(self.tag),
            before: self.before.into_iter(),
            next_value: NextValue::Live,
        };
        seed.deserialize(MapAccessDeserializer::new(entries))
    }

    fn unit_variant(self) -> Result<(), A::Error> {
        Err(de::Error::custom("a tagged mapping is a newtype variant"))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("a tagged mapping is a newtype variant"))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::custom("a tagged mapping is a newtype variant"))
    }
}

/// Where the value of the key just returned comes from.
enum NextValue {
    Tag(String),
    Buffered(String, serde_yaml_ng::Value),
    Live,
}

struct Entries<A> {
    map: A,
    tag: Option<String>,
    before: std::vec::IntoIter<(String, serde_yaml_ng::Value)>,
    next_value: NextValue,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Entries<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if let Some(tag) = self.tag.take() {
            self.next_value = NextValue::Tag(tag);
            let key: StrDeserializer<A::Error> = TAG.into_deserializer();
            return seed.deserialize(key).map(Some);
        }
        if let Some((key, value)) = self.before.next() {
            let name: StringDeserializer<A::Error> = key.clone().into_deserializer();
            self.next_value = NextValue::Buffered(key, value);
            return seed.deserialize(name).map(Some);
        }
        self.next_value = NextValue::Live;
        self.map.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match std::mem::replace(&mut self.next_value, NextValue::Live) {
            NextValue::Tag(tag) => {
                let value: StringDeserializer<A::Error> = tag.into_deserializer();
                seed.deserialize(value)
            }
            // Decoded from a buffer, the error has no line: name the key at least.
            NextValue::Buffered(key, value) => {
                seed.deserialize(value).map_err(|e| de::Error::custom(format!("{key}: {e}")))
            }
            NextValue::Live => self.map.next_value_seed(seed),
        }
    }
}
