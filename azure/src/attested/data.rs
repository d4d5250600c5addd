//! The signed JSON content of an attested document (`nonce`, `vmId`, `timeStamp`, …) and
//! Azure's date format.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::AttestedError;

/// The marketplace plan of the VM image (empty strings when none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Plan name.
    pub name: String,
    /// Plan product.
    pub product: String,
    /// Plan publisher.
    pub publisher: String,
}

/// The `timeStamp` object, dates kept verbatim (`MM/dd/yy HH:mm:ss -0000`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimeStamp {
    /// When the document was created.
    #[serde(rename = "createdOn")]
    pub created_on: String,
    /// When the document expires.
    #[serde(rename = "expiresOn")]
    pub expires_on: String,
}

impl TimeStamp {
    /// A time stamp for `created_on .. created_on + lifetime`, formatted as Azure does.
    pub fn new(created_on: OffsetDateTime, lifetime: Duration) -> Self {
        TimeStamp { created_on: format_azure_date(created_on), expires_on: format_azure_date(created_on + lifetime) }
    }

    /// `createdOn`, parsed.
    pub fn created_on(&self) -> Result<OffsetDateTime, AttestedError> {
        parse_azure_date(&self.created_on)
    }

    /// `expiresOn`, parsed.
    pub fn expires_on(&self) -> Result<OffsetDateTime, AttestedError> {
        parse_azure_date(&self.expires_on)
    }
}

/// The JSON content Azure signs. Field order in serialization is the one Azure emits
/// (alphabetical); optional fields are omitted when absent, as older api-versions do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttestedData {
    /// Only for Azure Hybrid Benefit VMs (api-version ≥ 2020-09-01).
    #[serde(rename = "licenseType", skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    /// The request nonce echoed back (or a `yyyyMMdd-HHmmss` time stamp when none was given).
    pub nonce: String,
    /// Marketplace plan.
    pub plan: Plan,
    /// Image SKU (api-version ≥ 2019-11-01).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Subscription GUID (api-version ≥ 2019-04-30).
    #[serde(rename = "subscriptionId", skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// Validity window of the document.
    #[serde(rename = "timeStamp")]
    pub time_stamp: TimeStamp,
    /// The VM's unique id (lower-case GUID).
    #[serde(rename = "vmId")]
    pub vm_id: String,
}

/// Looks a key up the way Go's `encoding/json` does: exact match first, then the first
/// case-insensitive match.
/// A key of a JSON object, matched case-insensitively as Go's decoder does.
pub(super) fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

fn string_field(map: &Map<String, Value>, key: &str) -> Result<Option<String>, AttestedError> {
    match get_ci(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(AttestedError::BadContent(format!("field {key:?} is not a string: {other}"))),
    }
}

fn object_field<'a>(map: &'a Map<String, Value>, key: &str) -> Result<Option<&'a Map<String, Value>>, AttestedError> {
    match get_ci(map, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(other) => Err(AttestedError::BadContent(format!("field {key:?} is not an object: {other}"))),
    }
}

impl AttestedData {
    /// Parses the signed JSON content. Keys match case-insensitively (`timestamp` is accepted
    /// for `timeStamp`), absent strings become empty, as with Go's decoder.
    pub fn from_json(bytes: &[u8]) -> Result<Self, AttestedError> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| AttestedError::BadContent(e.to_string()))?;
        let Value::Object(map) = v else {
            return Err(AttestedError::BadContent("content is not a JSON object".to_string()));
        };
        let plan = match object_field(&map, "plan")? {
            Some(p) => Plan {
                name: string_field(p, "name")?.unwrap_or_default(),
                product: string_field(p, "product")?.unwrap_or_default(),
                publisher: string_field(p, "publisher")?.unwrap_or_default(),
            },
            None => Plan::default(),
        };
        let time_stamp = match object_field(&map, "timeStamp")? {
            Some(t) => TimeStamp {
                created_on: string_field(t, "createdOn")?.unwrap_or_default(),
                expires_on: string_field(t, "expiresOn")?.unwrap_or_default(),
            },
            None => TimeStamp::default(),
        };
        Ok(AttestedData {
            license_type: string_field(&map, "licenseType")?,
            nonce: string_field(&map, "nonce")?.unwrap_or_default(),
            plan,
            sku: string_field(&map, "sku")?,
            subscription_id: string_field(&map, "subscriptionId")?,
            time_stamp,
            vm_id: string_field(&map, "vmId")?.unwrap_or_default(),
        })
    }

    /// Compact JSON, as Azure signs it.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing a struct of strings cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Parses Azure's `MM/dd/yy HH:mm:ss -0000` date (two-digit years are 20yy).
pub fn parse_azure_date(s: &str) -> Result<OffsetDateTime, AttestedError> {
    let bad = || AttestedError::BadContent(format!("invalid Azure date {s:?}"));
    let parts: Vec<&str> = s.split(' ').collect();
    let [date, clock, offset] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |t: &str| -> Result<u32, AttestedError> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        t.parse().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('/').collect();
    let c: Vec<&str> = clock.split(':').collect();
    let ([mo, da, yy], [hh, mi, ss]) = (d.as_slice(), c.as_slice()) else {
        return Err(bad());
    };
    if yy.len() != 2 || offset.len() != 5 {
        return Err(bad());
    }
    let month = time::Month::try_from(u8::try_from(num(mo)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let date =
        time::Date::from_calendar_date(2000 + num(yy)? as i32, month, u8::try_from(num(da)?).map_err(|_| bad())?)
            .map_err(|_| bad())?;
    let clock = time::Time::from_hms(
        u8::try_from(num(hh)?).map_err(|_| bad())?,
        u8::try_from(num(mi)?).map_err(|_| bad())?,
        u8::try_from(num(ss)?).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    let sign = match &offset[..1] {
        "+" => 1i32,
        "-" => -1i32,
        _ => return Err(bad()),
    };
    let oh = num(&offset[1..3])? as i32;
    let om = num(&offset[3..5])? as i32;
    let off = time::UtcOffset::from_whole_seconds(sign * (oh * 3600 + om * 60)).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, clock).assume_offset(off).to_offset(time::UtcOffset::UTC))
}

/// Formats a time the way Azure does in `timeStamp`: `MM/dd/yy HH:mm:ss -0000` (UTC).
pub fn format_azure_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}/{:02}/{:02} {:02}:{:02}:{:02} -0000",
        u8::from(t.month()),
        t.day(),
        t.year().rem_euclid(100),
        t.hour(),
        t.minute(),
        t.second()
    )
}
