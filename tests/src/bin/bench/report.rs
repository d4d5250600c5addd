//! The figures of one run: printed as one table, written as JSON.

use std::path::Path;
use std::time::SystemTime;

/// One measured figure and what it is compared to.
struct Figure {
    section: &'static str,
    what: String,
    value: f64,
    unit: &'static str,
    compare: Option<String>,
}

/// Every figure of a run, in the order measured.
pub(crate) struct Report {
    figures: Vec<Figure>,
}

impl Report {
    pub(crate) fn new() -> Report {
        Report { figures: Vec::new() }
    }

    /// Records a figure (also printed at once, so a long run shows progress).
    pub(crate) fn add(
        &mut self,
        section: &'static str,
        what: impl Into<String>,
        value: f64,
        unit: &'static str,
        compare: Option<String>,
    ) {
        let figure = Figure { section, what: what.into(), value, unit, compare };
        eprintln!("{}", figure.line());
        self.figures.push(figure);
    }

    /// The table: section, figure, value with its unit, and what it is compared to.
    pub(crate) fn table(&self) -> String {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let mut out = format!("# joinery-bench on {cores} cores\n");
        for f in &self.figures {
            out.push_str(&f.line());
            out.push('\n');
        }
        out
    }

    /// Writes the figures as JSON to `path` (its directory is created).
    pub(crate) fn write_json(&self, path: &Path, at: SystemTime) -> std::io::Result<()> {
        let figures: Vec<serde_json::Value> = self
            .figures
            .iter()
            .map(|f| {
                serde_json::json!({
                    "section": f.section,
                    "figure": f.what,
                    "value": f.value,
                    "unit": f.unit,
                    "compared_to": f.compare,
                })
            })
            .collect();
        let doc = serde_json::json!({
            "unix_time": at.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "figures": figures,
        });
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&doc).map_err(std::io::Error::other)?)
    }
}

impl Figure {
    fn line(&self) -> String {
        let value = if self.value.abs() >= 100.0 { format!("{:.0}", self.value) } else { format!("{:.2}", self.value) };
        let compare = self.compare.as_deref().map(|c| format!("   ({c})")).unwrap_or_default();
        format!("{:<10}{:<62}{:>10} {:<6}{compare}", self.section, self.what, value, self.unit)
    }
}
