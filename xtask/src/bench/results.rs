//! Criterion's results on disk: `<criterion dir>/<benchmark dir>/new/`
//! holds `benchmark.json` (the benchmark's ids) and `estimates.json` (the
//! statistics, in nanoseconds per iteration). Benchmarks are found by the
//! title criterion prints for them (`cargo bench -- --list`), which is also
//! the `title` in `benchmark.json`, so no directory name is hard-coded.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::json::Json;

/// Deepest benchmark directory below the criterion dir
/// (`group/function/value/new`), with room to spare.
const MAX_WALK_DEPTH: usize = 6;

/// How a benchmark is named: criterion's `benchmark.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchId {
    /// The group, e.g. `decode/typical` or `decode_by_size`.
    pub group: String,
    /// The function within the group, e.g. `ours`; none for
    /// `BenchmarkId::from_parameter`.
    pub function: Option<String>,
    /// The parameter, e.g. `60k` for `BenchmarkId::new("ours", "60k")`.
    pub value: Option<String>,
    /// Bytes per iteration, when the group set a byte throughput.
    pub bytes: Option<u64>,
}

/// Criterion's statistics for one benchmark, in nanoseconds per iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Median of the samples.
    pub median: f64,
    /// Lower bound of the 95% confidence interval of the median.
    pub ci_low: f64,
    /// Upper bound of the 95% confidence interval of the median.
    pub ci_high: f64,
    /// Median absolute deviation of the samples.
    pub mad: f64,
}

/// A benchmark with this run's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Its ids.
    pub id: BenchId,
    /// Its statistics.
    pub estimate: Estimate,
}

/// One listed benchmark and its result, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchResult {
    /// The benchmark's title, e.g. `decode/typical/ours`.
    pub title: String,
    /// This run's numbers, or why they are missing.
    pub outcome: Result<Measured, String>,
}

/// Where criterion writes: `$CRITERION_HOME`, else `<target>/criterion`.
pub fn criterion_dir(target_dir: &Path) -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir.join("criterion"))
}

/// Benchmark titles from the output of a criterion bench run with
/// `--list` (`<title>: benchmark` lines).
pub fn parse_listing(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| line.trim_end().strip_suffix(": benchmark"))
        .map(str::to_owned)
        .collect()
}

/// The results of the benchmarks titled `titles`, written no earlier than
/// `since`; older results (an earlier run's) count as missing.
pub fn collect(criterion_dir: &Path, titles: &[String], since: SystemTime) -> Vec<BenchResult> {
    let index = index(criterion_dir);
    titles
        .iter()
        .map(|title| BenchResult {
            title: title.clone(),
            outcome: match index.get(title) {
                Some(new_dir) => read_measured(new_dir, since),
                None => Err(format!("no result under {}", criterion_dir.display())),
            },
        })
        .collect()
}

/// Maps each benchmark title found under `dir` to its `new/` directory.
fn index(dir: &Path) -> HashMap<String, PathBuf> {
    let mut found = HashMap::new();
    walk(dir, 0, &mut found);
    found
}

fn walk(dir: &Path, depth: usize, found: &mut HashMap<String, PathBuf>) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if entry.file_name() != "new" {
            walk(&path, depth + 1, found);
            continue;
        }
        let title = fs::read_to_string(path.join("benchmark.json"))
            .ok()
            .and_then(|text| Json::parse(&text).ok())
            .and_then(|json| json.string(&["title"]).map(str::to_owned));
        if let Some(title) = title {
            found.insert(title, path);
        }
    }
}

fn read_measured(new_dir: &Path, since: SystemTime) -> Result<Measured, String> {
    let estimates = new_dir.join("estimates.json");
    let modified = fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .map_err(|e| read_error(&estimates, &e))?;
    if modified < since {
        return Err(format!(
            "only a stale result from an earlier run ({})",
            estimates.display()
        ));
    }
    let id = read_json(&new_dir.join("benchmark.json")).and_then(|j| parse_id(&j))?;
    let estimate = read_json(&estimates).and_then(|j| parse_estimate(&j))?;
    Ok(Measured { id, estimate })
}

fn read_json(path: &Path) -> Result<Json, String> {
    let text = fs::read_to_string(path).map_err(|e| read_error(path, &e))?;
    Json::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_error(path: &Path, error: &io::Error) -> String {
    format!("cannot read {}: {error}", path.display())
}

/// The ids in a `benchmark.json`.
pub fn parse_id(json: &Json) -> Result<BenchId, String> {
    let field = |name: &str| {
        json.string(&[name])
            .map(str::to_owned)
            .ok_or_else(|| format!("benchmark.json has no `{name}`"))
    };
    let bytes = ["Bytes", "BytesDecimal"]
        .iter()
        .find_map(|unit| json.number(&["throughput", unit]))
        .map(|n| n as u64);
    Ok(BenchId {
        group: field("group_id")?,
        function: json.string(&["function_id"]).map(str::to_owned),
        value: json.string(&["value_str"]).map(str::to_owned),
        bytes,
    })
}

/// The median, its 95% confidence interval and the median absolute
/// deviation from an `estimates.json`.
pub fn parse_estimate(json: &Json) -> Result<Estimate, String> {
    let number = |path: &[&str]| {
        json.number(path)
            .ok_or_else(|| format!("estimates.json has no number at {}", path.join(".")))
    };
    Ok(Estimate {
        median: number(&["median", "point_estimate"])?,
        ci_low: number(&["median", "confidence_interval", "lower_bound"])?,
        ci_high: number(&["median", "confidence_interval", "upper_bound"])?,
        mad: number(&["median_abs_dev", "point_estimate"])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_keeps_only_benchmark_lines() {
        let out = "token bytes: 1\ndecode/typical/ours: benchmark\n\
                   decode_by_size/ours/1k: benchmark\n\nother\n";
        assert_eq!(
            parse_listing(out),
            ["decode/typical/ours", "decode_by_size/ours/1k"]
        );
    }

    #[test]
    fn reads_ids_with_and_without_parameter() {
        let with = Json::parse(
            r#"{"group_id":"decode_by_size","function_id":"ours","value_str":"8k",
                "throughput":{"Bytes":8190},"title":"decode_by_size/ours/8k"}"#,
        )
        .unwrap();
        assert_eq!(
            parse_id(&with).unwrap(),
            BenchId {
                group: "decode_by_size".to_owned(),
                function: Some("ours".to_owned()),
                value: Some("8k".to_owned()),
                bytes: Some(8190),
            }
        );
        let without = Json::parse(
            r#"{"group_id":"startup","function_id":"auth_hot_path","value_str":null,
                "throughput":null,"title":"startup/auth_hot_path"}"#,
        )
        .unwrap();
        let id = parse_id(&without).unwrap();
        assert_eq!((id.value, id.bytes), (None, None));
        let parameter_only = Json::parse(
            r#"{"group_id":"load_by_size","function_id":null,"value_str":"64KiB",
                "throughput":{"Bytes":65530},"title":"load_by_size/64KiB"}"#,
        )
        .unwrap();
        let id = parse_id(&parameter_only).unwrap();
        assert_eq!(id.function, None);
        assert_eq!(id.value.as_deref(), Some("64KiB"));
        assert!(parse_id(&Json::parse("{}").unwrap()).is_err());
    }

    #[test]
    fn reads_median_ci_and_mad() {
        let json = Json::parse(
            r#"{"median":{"confidence_interval":{"confidence_level":0.95,
                "lower_bound":90.0,"upper_bound":110.5},"point_estimate":100.25},
                "median_abs_dev":{"point_estimate":3.5}}"#,
        )
        .unwrap();
        assert_eq!(
            parse_estimate(&json).unwrap(),
            Estimate {
                median: 100.25,
                ci_low: 90.0,
                ci_high: 110.5,
                mad: 3.5,
            }
        );
        let no_mad = Json::parse(r#"{"median":{"point_estimate":1}}"#).unwrap();
        assert!(parse_estimate(&no_mad).is_err());
    }
}
