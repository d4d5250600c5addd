//! What Terraform sends: cty msgpack (plans, configs, state) and JSON
//! (stored state during upgrades), decoded with a resource's type, and type
//! constraints themselves.
#![no_main]

use joinery_tfplugin::cty::{Type, json, msgpack};
use libfuzzer_sys::fuzz_target;

/// A type with every kind of nesting a schema produces.
const TYPE: &str = r#"["object",{"id":"string","n":"number","b":"bool","d":"dynamic","tags":["map",["list","string"]],"set":["set","string"],"spec":["object",{"roles":["list","string"],"rules":["list",["object",{"sub":"string","groups":["list","string"]}]]}],"t":["tuple",["string","number"]]}]"#;

fuzz_target!(|bytes: &[u8]| {
    let Ok(ty) = Type::from_json_bytes(TYPE.as_bytes()) else { return };
    let _ = msgpack::decode(bytes, &ty);
    let _ = json::decode(bytes, &ty);
    let _ = msgpack::decode(bytes, &Type::Dynamic);
    let _ = Type::from_json_bytes(bytes);
});
