//! `outputs` (and `services`, where newer tbot versions list them too):
//! credentials the agent writes for other programs, one module per output
//! `type`.
//!
//! [`OutputConfig`] is an output as written and [`Output`] a validated one;
//! both have one variant per type. A block is decoded by its `type` (see
//! `tagged.rs`) into the type's struct, which owns the block's keys,
//! defaults and rules.
//!
//! Adding a type `foo`: a module `foo.rs` with `FooOutputConfig` (a `type`
//! field first, then its keys) and its `validate`, a variant in
//! [`OutputConfig`] and in [`Output`]; the compiler then points at the two
//! `match`es below.

pub mod identity;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{ConfigError, Source};
use crate::tagged::{self, TaggedEnum};

/// An output, as written: its `type` picks the variant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
// `remote = "Self"`: the derived decoding is an inherent function that
// `tagged` drives; `Deserialize` itself is implemented below.
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum OutputConfig {
    /// `type: identity`.
    Identity(identity::IdentityOutputConfig),
}

impl OutputConfig {
    /// Validates the block found at `key` (`outputs[0]`).
    pub(crate) fn validate(self, src: &Source, key: &str) -> Result<Output, ConfigError> {
        match self {
            OutputConfig::Identity(o) => o.validate(src, key).map(Output::Identity),
        }
    }
}

impl Serialize for OutputConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Each block carries its own `type`.
        match self {
            OutputConfig::Identity(o) => o.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for OutputConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        tagged::deserialize(d)
    }
}

impl TaggedEnum for OutputConfig {
    // The words of "invalid type: ..., expected struct RawOutput", kept as they were.
    const EXPECTING: &'static str = "struct RawOutput";

    fn deserialize_variant<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        OutputConfig::deserialize(d)
    }
}

/// An output (validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// `type: identity`.
    Identity(identity::IdentityOutput),
}
