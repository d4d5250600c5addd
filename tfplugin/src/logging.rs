//! Logging as hclog JSON lines on stderr.
//!
//! go-plugin reads a plugin's stderr line by line; lines that parse as hclog
//! JSON (`{"@level":…,"@message":…,"@timestamp":…}`) keep their level in
//! Terraform's log, everything else is logged at DEBUG. Terraform shows them
//! with `TF_LOG=debug` (or `TF_LOG_PROVIDER=…`). Our level comes from
//! `TF_LOG_PROVIDER`, then `TF_LOG`, and defaults to `info`.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// Installs the hclog layer as the global subscriber. Safe to call twice.
pub fn init() {
    let level =
        level_from_env(std::env::var("TF_LOG_PROVIDER").ok().as_deref(), std::env::var("TF_LOG").ok().as_deref());
    // The HTTP/2 and TLS stacks log every frame at debug/trace; keep them to
    // warnings so TF_LOG=trace shows our RPCs rather than frames.
    let noisy = level.min(LevelFilter::WARN);
    let filter = Targets::new().with_default(level).with_targets(NOISY_TARGETS.iter().map(|t| (*t, noisy)));
    let subscriber = tracing_subscriber::registry().with(HclogLayer.with_filter(filter));
    // Fails only if a subscriber is already installed, which is fine.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Dependencies whose debug logs are per-frame noise.
const NOISY_TARGETS: &[&str] = &["h2", "hyper", "hyper_util", "tonic", "tower", "rustls", "tokio_rustls", "tokio_util"];

/// The level filter for the given `TF_LOG_PROVIDER` / `TF_LOG` values.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let pick = provider.filter(|s| !s.trim().is_empty()).or(global.filter(|s| !s.trim().is_empty()));
    match pick.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        // TF_LOG=json means trace in JSON.
        Some("trace" | "json") => LevelFilter::TRACE,
        Some("debug") => LevelFilter::DEBUG,
        Some("info") => LevelFilter::INFO,
        Some("warn") => LevelFilter::WARN,
        Some("error") => LevelFilter::ERROR,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Writes each event as one hclog JSON line.
struct HclogLayer;

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let line = format_event(event, &timestamp());
        // One write per line so concurrent events don't interleave; a
        // closed stderr is not worth failing over.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn timestamp() -> String {
    // hclog's format: 2006-01-02T15:04:05.000000Z07:00
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

fn format_event(event: &Event<'_>, timestamp: &str) -> String {
    let mut fields = FieldCollector::default();
    event.record(&mut fields);
    let mut obj = serde_json::Map::new();
    obj.insert("@level".into(), level_name(event.metadata().level()).into());
    obj.insert("@message".into(), fields.message.into());
    obj.insert("@module".into(), "provider".into());
    obj.insert("@timestamp".into(), timestamp.into());
    for (k, v) in fields.fields {
        // Don't let a field named like an hclog key clobber it.
        let key = if k.starts_with('@') { format!("_{k}") } else { k };
        obj.insert(key, v);
    }
    let mut line = serde_json::Value::Object(obj).to_string();
    line.push('\n');
    line
}

#[derive(Default)]
struct FieldCollector {
    message: String,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for FieldCollector {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.fields.push((field.name().to_string(), format!("{value:?}").into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn level_precedence() {
        assert_eq!(level_from_env(Some("debug"), Some("error")), LevelFilter::DEBUG);
        assert_eq!(level_from_env(None, Some("TRACE")), LevelFilter::TRACE);
        assert_eq!(level_from_env(Some(""), Some("json")), LevelFilter::TRACE);
        assert_eq!(level_from_env(None, None), LevelFilter::INFO);
    }

    struct Capture(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            self.0.lock().unwrap().push(format_event(event, "2026-01-02T03:04:05.000000Z"));
        }
    }

    #[test]
    fn events_are_hclog_json() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(lines.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(rpc = "PlanResourceChange", n = 3, "planned {}", "x");
        });
        let line = lines.lock().unwrap()[0].clone();
        assert!(line.ends_with('\n'));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "planned x");
        assert_eq!(v["@module"], "provider");
        assert_eq!(v["@timestamp"], "2026-01-02T03:04:05.000000Z");
        assert_eq!(v["rpc"], "PlanResourceChange");
        assert_eq!(v["n"], 3);
    }
}
