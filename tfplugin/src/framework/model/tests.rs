use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::*;
use crate::cty::{Number, Type};
use crate::framework::{Attribute, AttributePath, Diagnostics, Schema};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Spec {
    tags: Maybe<BTreeMap<String, Vec<String>>>,
    count: Maybe<i64>,
    enabled: Maybe<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Rule {
    who: Maybe<String>,
    regions: Maybe<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Thing {
    id: Maybe<String>,
    name: Maybe<String>,
    #[serde(rename = "type")]
    kind: Maybe<Mode>,
    spec: Maybe<Spec>,
    rules: Maybe<Vec<Rule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Mode {
    Standard,
    Fast,
}

fn schema() -> Schema {
    Schema::new()
        .attribute(Attribute::string("id").computed())
        .attribute(Attribute::string("name").required())
        .attribute(Attribute::string("type").optional())
        .attribute(
            Attribute::single_nested(
                "spec",
                [
                    Attribute::map("tags", Type::list(Type::String)).optional(),
                    Attribute::number("count").optional(),
                    Attribute::bool("enabled").optional(),
                ],
            )
            .optional(),
        )
        .attribute(
            Attribute::list_nested(
                "rules",
                [Attribute::string("who").required(), Attribute::set("regions", Type::String).optional()],
            )
            .optional(),
        )
}

fn sample() -> Value {
    Value::object([
        ("id", Value::from("id-1")),
        ("name", Value::from("n")),
        ("type", Value::from("fast")),
        (
            "spec",
            Value::object([
                ("tags", Value::Map([("env".to_string(), Value::string_list(["dev", "test"]))].into())),
                ("count", Value::Number(Number::UInt(3))),
                ("enabled", Value::Bool(true)),
            ]),
        ),
        ("rules", Value::List(vec![Value::object([("who", Value::from("a")), ("regions", Value::Null)])])),
    ])
}

#[test]
fn round_trips_nested_values() {
    let thing: Thing = from_value(&sample()).unwrap();
    assert_eq!(thing.kind, Maybe::Known(Mode::Fast));
    let spec = thing.spec.known().unwrap();
    assert_eq!(spec.count, Maybe::Known(3));
    assert_eq!(spec.tags.known().unwrap()["env"], ["dev", "test"]);
    assert!(thing.rules.known().unwrap()[0].regions.is_null());
    assert_eq!(to_value(&thing).unwrap(), sample());
}

#[test]
fn missing_attributes_read_as_null_and_sets_read_as_vecs() {
    let v = Value::object([(
        "rules",
        Value::List(vec![Value::object([("who", Value::from("a")), ("regions", Value::Set(vec!["x".into()]))])]),
    )]);
    let thing: Thing = from_value(&v).unwrap();
    assert!(thing.id.is_null() && thing.spec.is_null());
    assert_eq!(thing.rules.known().unwrap()[0].regions, Maybe::Known(vec!["x".to_string()]));
}

#[test]
fn unknowns_become_maybe_unknown_at_the_nearest_maybe() {
    let v = Value::object([
        ("id", Value::Unknown),
        (
            "spec",
            Value::object([("tags", Value::Map([("env".to_string(), Value::List(vec![Value::Unknown]))].into()))]),
        ),
        ("rules", Value::List(vec![Value::Unknown])),
    ]);
    let thing: Thing = from_value(&v).unwrap();
    assert!(thing.id.is_unknown());
    let spec = thing.spec.known().expect("spec itself is known");
    assert!(spec.tags.is_unknown(), "an unknown element makes the map unknown");
    assert!(spec.count.is_null());
    assert!(thing.rules.is_unknown(), "an unknown element object makes the list unknown");
    let back = to_value(&thing).unwrap();
    assert!(back.attr("id").is_unknown());
    assert!(!back.is_wholly_known());
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)] // read only through Debug in failures
struct Plain {
    name: String,
    note: Option<String>,
    inner: Option<Inner>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Inner {
    items: Vec<String>,
}

#[test]
fn unknown_or_null_in_a_plain_field_is_an_error_at_its_path() {
    let e = from_value::<Plain>(&Value::object([("name", Value::Unknown)])).unwrap_err();
    assert_eq!(e.problem, Problem::Unknown);
    assert_eq!(e.path, AttributePath::root("name"));
    let e = from_value::<Plain>(&Value::object([("name", Value::from("n")), ("note", Value::Unknown)])).unwrap_err();
    assert_eq!(e.problem, Problem::Unknown, "an Option cannot hold an unknown either");
    let e = from_value::<Plain>(&Value::object([("note", Value::from("x"))])).unwrap_err();
    assert_eq!(e.problem, Problem::Null);
    assert_eq!(e.to_string(), format!("name: {}", Problem::Null));
    let v = Value::object([
        ("name", Value::from("n")),
        ("inner", Value::object([("items", Value::List(vec![Value::from("a"), Value::from(true)]))])),
    ]);
    let e = from_value::<Plain>(&v).unwrap_err();
    assert_eq!(e.path.to_string(), "inner.items[1]");
    assert_eq!(e.problem, Problem::Message("invalid type: boolean `true`, expected a string".into()));
    let d = Diagnostics::from(e);
    assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "inner.items[1]");
}

#[test]
fn schema_check_accepts_a_matching_model() {
    check::<Thing>(&schema(), Role::Resource).unwrap();
    check::<Thing>(&schema(), Role::DataSource).unwrap();
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Wrong {
    id: Option<String>,
    name: String,
    extra: Maybe<String>,
    spec: Maybe<Vec<String>>,
    rules: Maybe<Vec<WrongRule>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct WrongRule {
    who: Maybe<bool>,
}

#[test]
fn schema_check_names_every_problem() {
    let e = check::<Wrong>(&schema(), Role::Resource).unwrap_err();
    let text = e.to_string();
    for expected in [
        "type: attribute has no field in the model",
        "rules.regions: attribute has no field in the model",
        "extra: field is not an attribute of the schema",
        "id: can be unknown in a resource's configuration or plan",
        "name: can be unknown",
        "spec: the schema has a nested object (a struct) but the field is a Maybe of a list of a string",
        "rules.who: the schema type is \"string\" but the field is a Maybe of a bool",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // A provider's model is checked for names and types only.
    let provider =
        Schema::new().attribute(Attribute::string("id").optional()).attribute(Attribute::bool("on").optional());
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Config {
        id: String,
        on: String,
    }
    let e = check::<Config>(&provider, Role::Provider).unwrap_err();
    assert_eq!(e.problems, ["on: the schema type is \"bool\" but the field is a string"], "{e}");
}

#[test]
fn data_source_models_need_maybe_only_where_configurable() {
    let schema =
        Schema::new().attribute(Attribute::string("name").required()).attribute(Attribute::string("id").computed());
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Good {
        name: Maybe<String>,
        id: Option<String>,
    }
    check::<Good>(&schema, Role::DataSource).unwrap();
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Bad {
        name: Option<String>,
        id: String,
    }
    let e = check::<Bad>(&schema, Role::DataSource).unwrap_err();
    assert_eq!(e.problems.len(), 2, "{e}");
    assert!(e.problems[0].starts_with("name: can be unknown in configuration"), "{e}");
    assert!(e.problems[1].starts_with("id: is not required, so it can be null"), "{e}");
}
