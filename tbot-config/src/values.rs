//! The scalar types tbot's YAML uses beyond strings, numbers and booleans:
//! Go durations and `on`/`off` switches.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A Go duration (`"20m"`, `"1h30m"`), as tbot's YAML spells them.
///
/// The text is kept as written, so a configuration renders back with the
/// user's spelling (`90m` stays `90m`, not `1h30m0s`); equality is by value.
#[derive(Debug, Clone)]
pub struct GoDuration {
    text: Cow<'static, str>,
    value: Duration,
}

impl GoDuration {
    /// A duration written as `text`, whose value the caller vouches for
    /// (for constants; a test checks each against the parser).
    pub const fn literal(text: &'static str, value: Duration) -> Self {
        GoDuration { text: Cow::Borrowed(text), value }
    }

    /// Parses a Go duration (`"20m"`, `"1h30m"`, `"0"`).
    pub fn parse(text: &str) -> Result<Self, joinery_util::duration::ParseDurationError> {
        let value = joinery_util::duration::parse(text)?;
        Ok(GoDuration { text: Cow::Owned(text.to_string()), value })
    }

    /// The duration.
    pub fn value(&self) -> Duration {
        self.value
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl From<Duration> for GoDuration {
    /// The duration in Go's `Duration.String()` form (`1h0m0s`).
    fn from(value: Duration) -> Self {
        GoDuration { text: Cow::Owned(joinery_util::duration::format(value)), value }
    }
}

impl PartialEq for GoDuration {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for GoDuration {}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"20m\" or \"1h\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<GoDuration, E> {
                GoDuration::parse(s).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<GoDuration, E> {
                if n == 0 {
                    return Ok(GoDuration::literal("0", Duration::ZERO));
                }
                Err(E::custom(format!("a bare number ({n}) is not a duration: add a unit, e.g. \"{n}s\"")))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<GoDuration, E> {
                Err(E::custom(format!("a bare number ({n}) is not a duration: add a unit, e.g. \"{n}s\"")))
            }
        }
        d.deserialize_any(V)
    }
}

/// `ssh_config: on|off` (YAML 1.2 reads both as strings; `true`/`false` are accepted too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    /// `on`.
    On,
    /// `off`.
    Off,
}

impl Serialize for Switch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Switch::On => "on",
            Switch::Off => "off",
        })
    }
}

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Switch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("on or off")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Switch, E> {
                Ok(if b { Switch::On } else { Switch::Off })
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Switch, E> {
                match s {
                    "on" | "true" | "yes" => Ok(Switch::On),
                    "off" | "false" | "no" => Ok(Switch::Off),
                    _ => Err(E::custom(format!("expected on or off, got {s:?}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_their_spelling() {
        let d: GoDuration = serde_yaml_ng::from_str("90m").unwrap();
        assert_eq!(d.value(), Duration::from_secs(5400));
        assert_eq!(serde_yaml_ng::to_string(&d).unwrap(), "90m\n");
        assert_eq!(d, GoDuration::from(Duration::from_secs(5400)));
        let zero: GoDuration = serde_yaml_ng::from_str("0").unwrap();
        assert_eq!(zero.value(), Duration::ZERO);
    }

    #[test]
    fn switches_round_trip() {
        for (text, want) in [("on", Switch::On), ("off", Switch::Off), ("true", Switch::On), ("no", Switch::Off)] {
            let s: Switch = serde_yaml_ng::from_str(text).unwrap();
            assert_eq!(s, want);
            let back: Switch = serde_yaml_ng::from_str(&serde_yaml_ng::to_string(&s).unwrap()).unwrap();
            assert_eq!(back, want);
        }
    }
}
