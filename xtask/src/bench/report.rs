//! `BENCHMARKS.md`: the machine, how to reproduce, a table per suite, the
//! ratio against the peer decoder, growth with size, the process-level
//! comparison, and everything that is missing.

use super::machine::Machine;
use super::process::{self, Comparison};
use super::results::{BenchResult, Estimate, Measured};
use super::{GROWTH, Growth, PEER, Suite};

/// One suite's outcome.
#[derive(Debug)]
pub struct SuiteRun {
    /// The suite.
    pub suite: &'static Suite,
    /// Every benchmark it listed, with its result or why there is none.
    pub results: Vec<BenchResult>,
    /// Why listing or running it failed, if it did.
    pub failure: Option<String>,
}

impl SuiteRun {
    /// A suite that produced nothing, and why.
    pub fn failed(suite: &'static Suite, reason: String) -> Self {
        Self {
            suite,
            results: Vec::new(),
            failure: Some(reason),
        }
    }

    fn measured(&self) -> impl Iterator<Item = &Measured> {
        self.results.iter().filter_map(|r| r.outcome.as_ref().ok())
    }
}

/// Everything the report shows.
#[derive(Debug)]
pub struct Report {
    /// Whether `--quick` was given.
    pub quick: bool,
    /// Arguments passed to criterion.
    pub criterion_args: &'static [&'static str],
    /// Measured runs of each command in the process-level comparison.
    pub process_runs: usize,
    /// The machine.
    pub machine: Machine,
    /// The suites, in the order they ran.
    pub suites: Vec<SuiteRun>,
    /// The process-level comparison, or why it failed.
    pub process: Result<Comparison, String>,
}

/// Our time and the peer's on one input.
#[derive(Debug)]
struct PeerRow<'a> {
    group: &'a str,
    value: Option<&'a str>,
    ours: Option<&'a Estimate>,
    peer: Option<&'a Estimate>,
}

impl PeerRow<'_> {
    fn label(&self) -> String {
        match self.value {
            Some(value) => format!("{}/{value}", self.group),
            None => self.group.to_owned(),
        }
    }

    fn ratio(&self) -> Option<f64> {
        Some(self.ours?.median / self.peer?.median)
    }

    /// The widest ratio the two 95% CIs allow.
    fn ratio_range(&self) -> Option<(f64, f64)> {
        let (ours, peer) = (self.ours?, self.peer?);
        Some((ours.ci_low / peer.ci_high, ours.ci_high / peer.ci_low))
    }

    fn is_target(&self) -> bool {
        self.group == PEER.target_group && self.value.is_none()
    }
}

/// One size in a growth series.
#[derive(Debug)]
struct GrowthPoint<'a> {
    series: &'a str,
    label: &'a str,
    kib: Option<u64>,
    bytes: f64,
    estimate: &'a Estimate,
}

impl Report {
    /// The whole markdown file.
    pub fn render(&self) -> String {
        let mut doc = Doc::default();
        self.header(&mut doc);
        self.targets(&mut doc);
        self.missing_section(&mut doc);
        self.machine_section(&mut doc);
        self.reproduce(&mut doc);
        self.suites_section(&mut doc);
        self.peer_section(&mut doc);
        for growth in &GROWTH {
            self.growth_section(&mut doc, growth);
        }
        self.process_section(&mut doc);
        doc.0
    }

    /// Everything the contract asks for that this run did not measure.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for run in &self.suites {
            let name = run.suite.name;
            if let Some(failure) = &run.failure {
                missing.push(format!("suite `{name}`: {failure}"));
            }
            for result in &run.results {
                if let Err(reason) = &result.outcome {
                    missing.push(format!("`{}`: {reason}", result.title));
                }
            }
            for required in run.suite.required {
                if !run.results.iter().any(|r| r.title == *required) {
                    missing.push(format!("`{required}`: not listed by suite `{name}`"));
                }
            }
        }
        for growth in &GROWTH {
            for kib in self.missing_sizes(growth) {
                missing.push(format!(
                    "`{}` at {kib} KiB: no result in suite `{}`",
                    growth.group, growth.suite
                ));
            }
        }
        if let Err(reason) = &self.process {
            missing.push(format!("process-level comparison: {reason}"));
        }
        missing
    }

    /// The targets this run measured and missed.
    pub fn unmet_targets(&self) -> Vec<String> {
        let mut unmet = Vec::new();
        if let Some(ratio) = self.target_peer_ratio().filter(|r| *r > PEER.target_ratio) {
            unmet.push(format!(
                "{} {} / {} = {ratio:.2}x, target <= {:.2}x",
                PEER.target_group, PEER.ours, PEER.peer, PEER.target_ratio
            ));
        }
        if let Ok(cmp) = &self.process
            && !cmp.meets_target()
        {
            unmet.push(format!(
                "status --json costs {:+.2} ms over --version, target <= {:.2} ms",
                cmp.extra_ms(),
                process::TARGET_EXTRA_MS
            ));
        }
        unmet
    }

    fn command(&self) -> &'static str {
        if self.quick {
            "cargo xtask bench --quick"
        } else {
            "cargo xtask bench"
        }
    }

    fn suite(&self, name: &str) -> Option<&SuiteRun> {
        self.suites.iter().find(|run| run.suite.name == name)
    }

    fn header(&self, doc: &mut Doc) {
        doc.line(
            "Generated by `cargo xtask bench`: do not edit by hand, rerun the command to update.",
        );
        doc.blank();
        doc.line("# Benchmarks");
        doc.blank();
        doc.line(&format!(
            "Produced by `{}` on {} (commit {}). Criterion figures are the median time per \
             iteration, with its spread as the 95% confidence interval of that median and the \
             median absolute deviation (MAD) of the samples. Process figures are wall-clock \
             medians with minimum, interquartile range and maximum.",
            self.command(),
            self.machine.date,
            self.machine.commit
        ));
        doc.blank();
    }

    fn targets(&self, doc: &mut Doc) {
        doc.line("## Targets");
        doc.blank();
        let ratio = self.target_peer_row().and_then(|row| {
            let (low, high) = row.ratio_range()?;
            Some((row.ratio()?, low, high))
        });
        let decode = match ratio {
            Some((ratio, low, high)) => [
                format!("{ratio:.2}x ({low:.2}x to {high:.2}x)"),
                yes_no(ratio <= PEER.target_ratio),
            ],
            None => missing_pair(),
        };
        let startup = match &self.process {
            Ok(cmp) => [
                format!(
                    "{:+.2} ms ({} vs {})",
                    cmp.extra_ms(),
                    ms(cmp.status.median),
                    ms(cmp.version.median)
                ),
                yes_no(cmp.meets_target()),
            ],
            Err(_) => missing_pair(),
        };
        let [decode_value, decode_met] = decode;
        let [startup_value, startup_met] = startup;
        doc.table(
            &["Target", "Measured", "Goal", "Met"],
            &[
                vec![
                    format!(
                        "Decoding the `{}` token: median of `{}` / median of `{}` (range from the 95% CIs)",
                        PEER.target_group, PEER.ours, PEER.peer
                    ),
                    decode_value,
                    format!("≤ {:.2}x", PEER.target_ratio),
                    decode_met,
                ],
                vec![
                    "`agent-login status --json` minus `agent-login --version`, \
                     difference of medians"
                        .to_owned(),
                    startup_value,
                    format!("≤ {:.2} ms", process::TARGET_EXTRA_MS),
                    startup_met,
                ],
            ],
        );
    }

    fn missing_section(&self, doc: &mut Doc) {
        doc.line("## Missing results");
        doc.blank();
        let missing = self.missing();
        if missing.is_empty() {
            doc.line("None: every benchmark the contract asks for was measured in this run.");
            doc.blank();
            return;
        }
        doc.line(
            "These were not measured in this run (no number is carried over from an earlier \
             run), and the command exited non-zero:",
        );
        doc.blank();
        for line in &missing {
            doc.line(&format!("- {line}"));
        }
        doc.blank();
    }

    fn machine_section(&self, doc: &mut Doc) {
        let m = &self.machine;
        doc.line("## Machine");
        doc.blank();
        for (name, value) in [
            ("CPU", &m.cpu),
            ("CPUs", &m.cpus),
            ("Memory", &m.memory),
            ("OS", &m.os),
            ("Toolchain", &m.rustc),
            ("Commit", &m.commit),
            ("Date", &m.date),
            ("Load average at start (1, 5, 15 min)", &m.load),
        ] {
            doc.line(&format!("- {name}: {value}"));
        }
        doc.blank();
        doc.line(
            "The machine may be shared with other work; the load average hints at how much \
             noise to expect.",
        );
        doc.blank();
    }

    fn reproduce(&self, doc: &mut Doc) {
        doc.line("## Reproduce");
        doc.blank();
        doc.line("```sh");
        doc.line(self.command());
        doc.line("```");
        doc.blank();
        let args = if self.criterion_args.is_empty() {
            "nothing".to_owned()
        } else {
            format!("`{}`", self.criterion_args.join(" "))
        };
        doc.line(&format!(
            "For each suite it runs `cargo bench -p <package> --bench <suite> -- --list` to \
             learn the benchmarks, then `cargo bench -p <package> --bench <suite> -- <args>`. \
             With `--quick` the args are `{}`; without it there are none, so criterion's \
             defaults apply (3 s warm-up, 5 s measurement, 100 samples). This run passed {args}. \
             Then it builds `agent-login` with `cargo build --release -p login-cli` and times \
             it as described under Process level.",
            super::QUICK_ARGS.join(" ")
        ));
        doc.blank();
    }

    fn suites_section(&self, doc: &mut Doc) {
        doc.line("## Criterion suites");
        doc.blank();
        for run in &self.suites {
            doc.line(&format!(
                "### `{}` (`{}`, package `{}`)",
                run.suite.name, run.suite.source, run.suite.package
            ));
            doc.blank();
            if let Some(failure) = &run.failure {
                doc.line(&format!("**Missing**: {failure}."));
                doc.blank();
            }
            if run.results.is_empty() {
                continue;
            }
            let rows: Vec<Vec<String>> = run.results.iter().map(suite_row).collect();
            doc.table(&["Benchmark", "Median", "95% CI of median", "MAD"], &rows);
        }
    }

    fn peer_rows(&self) -> Vec<PeerRow<'_>> {
        let mut rows: Vec<PeerRow<'_>> = Vec::new();
        let Some(run) = self.suite(PEER.suite) else {
            return rows;
        };
        for m in run.measured() {
            let function = m.id.function.as_deref();
            let is_ours = function == Some(PEER.ours);
            if !is_ours && function != Some(PEER.peer) {
                continue;
            }
            let (group, value) = (m.id.group.as_str(), m.id.value.as_deref());
            let index = match rows
                .iter()
                .position(|r| r.group == group && r.value == value)
            {
                Some(index) => index,
                None => {
                    rows.push(PeerRow {
                        group,
                        value,
                        ours: None,
                        peer: None,
                    });
                    rows.len() - 1
                }
            };
            let Some(row) = rows.get_mut(index) else {
                continue;
            };
            if is_ours {
                row.ours = Some(&m.estimate);
            } else {
                row.peer = Some(&m.estimate);
            }
        }
        if !rows.iter().any(PeerRow::is_target) {
            rows.push(PeerRow {
                group: PEER.target_group,
                value: None,
                ours: None,
                peer: None,
            });
        }
        rows
    }

    fn target_peer_row(&self) -> Option<PeerRow<'_>> {
        self.peer_rows().into_iter().find(PeerRow::is_target)
    }

    fn target_peer_ratio(&self) -> Option<f64> {
        self.target_peer_row()?.ratio()
    }

    fn peer_section(&self, doc: &mut Doc) {
        doc.line(&format!("## Decode: `{}` vs `{}`", PEER.ours, PEER.peer));
        doc.blank();
        doc.line(&format!(
            "Both decode the same tokens into the same fields (see the suite's source for what \
             each one checks). A ratio below 1 means `{}` is faster. The range is the widest \
             ratio the two 95% confidence intervals allow. Target: at most {:.2}x on `{}`.",
            PEER.ours, PEER.target_ratio, PEER.target_group
        ));
        doc.blank();
        let rows: Vec<Vec<String>> = self
            .peer_rows()
            .iter()
            .map(|row| {
                let ratio = row.ratio();
                let range = row.ratio_range();
                let target = match (row.is_target(), ratio) {
                    (false, _) => "-".to_owned(),
                    (true, None) => "missing".to_owned(),
                    (true, Some(r)) => format!(
                        "≤ {:.2}x: {}",
                        PEER.target_ratio,
                        if r <= PEER.target_ratio {
                            "met"
                        } else {
                            "NOT met"
                        }
                    ),
                };
                vec![
                    format!("`{}`", row.label()),
                    row.ours.map_or_else(missing, |e| ns(e.median)),
                    row.peer.map_or_else(missing, |e| ns(e.median)),
                    ratio.map_or_else(missing, |r| format!("{r:.2}x")),
                    range.map_or_else(missing, |(l, h)| format!("{l:.2}x to {h:.2}x")),
                    target,
                ]
            })
            .collect();
        doc.table(
            &[
                "Input",
                PEER.ours,
                PEER.peer,
                &format!("{} / {}", PEER.ours, PEER.peer),
                "Range",
                "Target",
            ],
            &rows,
        );
    }

    fn growth_points(&self, growth: &Growth) -> Vec<GrowthPoint<'_>> {
        let Some(run) = self.suite(growth.suite) else {
            return Vec::new();
        };
        let mut points: Vec<GrowthPoint<'_>> = run
            .measured()
            .filter(|m| m.id.group.contains(growth.group))
            .filter_map(|m| {
                // `BenchmarkId::new(function, size)`, `from_parameter(size)`
                // or one function per size.
                let group = m.id.group.as_str();
                let function = m.id.function.as_deref();
                let (series, label) = match (function, m.id.value.as_deref()) {
                    (Some(function), Some(value)) => (function, value),
                    (None, Some(label)) | (Some(label), None) => (group, label),
                    (None, None) => return None,
                };
                let kib = nominal_kib(label).or_else(|| m.id.bytes.map(|b| (b + 512) / 1024));
                let bytes = m.id.bytes.or_else(|| kib.map(|k| k * 1024))? as f64;
                Some(GrowthPoint {
                    series,
                    label,
                    kib,
                    bytes,
                    estimate: &m.estimate,
                })
            })
            .collect();
        let order: Vec<&str> = series_order(&points);
        points.sort_by(|a, b| {
            let rank = |p: &GrowthPoint<'_>| order.iter().position(|s| *s == p.series);
            rank(a).cmp(&rank(b)).then(a.bytes.total_cmp(&b.bytes))
        });
        points
    }

    fn missing_sizes(&self, growth: &Growth) -> Vec<u64> {
        let points = self.growth_points(growth);
        growth
            .sizes_kib
            .iter()
            .copied()
            .filter(|kib| !points.iter().any(|p| p.kib == Some(*kib)))
            .collect()
    }

    fn growth_section(&self, doc: &mut Doc, growth: &Growth) {
        doc.line(&format!("## Growth: {} (`{}`)", growth.what, growth.group));
        doc.blank();
        let sizes: Vec<String> = growth
            .sizes_kib
            .iter()
            .map(|k| format!("{k} KiB"))
            .collect();
        doc.line(&format!(
            "Sizes required: {}. Linear growth shows as a steady marginal cost (extra time per \
             extra KiB since the previous size); time per KiB falls as the fixed per-call cost \
             is spread over more bytes.",
            sizes.join(", ")
        ));
        doc.blank();
        let missing_sizes = self.missing_sizes(growth);
        if !missing_sizes.is_empty() {
            let list: Vec<String> = missing_sizes.iter().map(|k| format!("{k} KiB")).collect();
            doc.line(&format!("**Missing**: {}.", list.join(", ")));
            doc.blank();
        }
        let points = self.growth_points(growth);
        if points.is_empty() {
            return;
        }
        let mut rows = Vec::new();
        for (i, point) in points.iter().enumerate() {
            let previous = i
                .checked_sub(1)
                .and_then(|j| points.get(j))
                .filter(|p| p.series == point.series);
            let marginal = previous
                .and_then(|p| marginal_ns_per_kib(p, point))
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ns"));
            rows.push(vec![
                format!("`{}`", point.series),
                format!("`{}`", point.label),
                format!("{:.0}", point.bytes),
                ns(point.estimate.median),
                ci(point.estimate),
                format!("{:.1} ns", point.estimate.median / (point.bytes / 1024.0)),
                marginal,
            ]);
        }
        doc.table(
            &[
                "Series",
                "Size",
                "Bytes",
                "Median",
                "95% CI of median",
                "Per KiB",
                "Marginal per KiB",
            ],
            &rows,
        );
        for line in growth_summaries(&points) {
            doc.line(&line);
        }
        doc.blank();
    }

    fn process_section(&self, doc: &mut Doc) {
        doc.line("## Process level: `agent-login status --json` vs `agent-login --version`");
        doc.blank();
        doc.line(&format!(
            "`agent-login` built with `cargo build --release -p login-cli`. A temporary \
             `CODEX_HOME` holds an `auth.json` with only `agent_identity`, a JWT minted by \
             `agent-login identity mint --workspace-id ws-bench --agent-runtime-id rt-bench`; \
             {} are removed from the environment; `status --json` is checked once to exit 0 \
             and report mode `agentIdentity` from source `file`. The two commands then run \
             alternately (which goes first swaps every round), stdout and stderr to /dev/null: \
             {} warm-up runs each, then {} measured runs each, timed from spawn to exit.",
            process::CLEARED_VARS
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
            process::WARMUP_RUNS,
            self.process_runs
        ));
        doc.blank();
        let cmp = match &self.process {
            Ok(cmp) => cmp,
            Err(reason) => {
                doc.line(&format!("**Missing**: {reason}."));
                doc.blank();
                return;
            }
        };
        let rows: Vec<Vec<String>> = [
            (process::COMMANDS[0], &cmp.version),
            (process::COMMANDS[1], &cmp.status),
        ]
        .iter()
        .map(|(args, s)| {
            vec![
                format!("`agent-login {}`", args.join(" ")),
                ms(s.median),
                ms(s.min),
                format!("{} to {} ({})", ms(s.p25), ms(s.p75), ms(s.iqr())),
                ms(s.max),
                s.count.to_string(),
            ]
        })
        .collect();
        doc.table(
            &[
                "Command",
                "Median",
                "Min",
                "p25 to p75 (IQR)",
                "Max",
                "Runs",
            ],
            &rows,
        );
        doc.line(&format!(
            "Difference of medians: {:+.2} ms (target ≤ {:.2} ms: {}). \
             Ratio of medians (status / version): {:.2}x.",
            cmp.extra_ms(),
            process::TARGET_EXTRA_MS,
            if cmp.meets_target() { "met" } else { "NOT met" },
            cmp.ratio()
        ));
    }
}

/// A markdown document being built line by line.
#[derive(Debug, Default)]
struct Doc(String);

impl Doc {
    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }

    /// A table: first column left-aligned, the others right-aligned.
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.line(&format!("| {} |", header.join(" | ")));
        let rule: Vec<&str> = (0..header.len())
            .map(|i| if i == 0 { ":---" } else { "---:" })
            .collect();
        self.line(&format!("|{}|", rule.join("|")));
        for row in rows {
            self.line(&format!("| {} |", row.join(" | ")));
        }
        self.blank();
    }
}

fn suite_row(result: &BenchResult) -> Vec<String> {
    let title = format!("`{}`", result.title);
    match &result.outcome {
        Ok(m) => vec![
            title,
            ns(m.estimate.median),
            ci(&m.estimate),
            ns(m.estimate.mad),
        ],
        Err(_) => vec![title, missing(), missing(), missing()],
    }
}

/// Series names in order of first appearance.
fn series_order<'a>(points: &[GrowthPoint<'a>]) -> Vec<&'a str> {
    let mut order: Vec<&str> = Vec::new();
    for point in points {
        if !order.contains(&point.series) {
            order.push(point.series);
        }
    }
    order
}

/// Extra nanoseconds per extra KiB from `from` to `to`.
fn marginal_ns_per_kib(from: &GrowthPoint<'_>, to: &GrowthPoint<'_>) -> Option<f64> {
    let extra_kib = (to.bytes - from.bytes) / 1024.0;
    (extra_kib > 0.0).then(|| (to.estimate.median - from.estimate.median) / extra_kib)
}

/// Per series: from the smallest to the largest size, how much the input
/// and the time grew.
fn growth_summaries(points: &[GrowthPoint<'_>]) -> Vec<String> {
    series_order(points)
        .into_iter()
        .filter_map(|series| {
            let mut of_series = points.iter().filter(|p| p.series == series);
            let first = of_series.next()?;
            let last = of_series.next_back()?;
            Some(format!(
                "- `{series}`: from `{}` to `{}` the input grows {:.1}x and the median time \
                 {:.1}x.",
                first.label,
                last.label,
                last.bytes / first.bytes,
                last.estimate.median / first.estimate.median
            ))
        })
        .collect()
}

/// The size in KiB a label such as `1k`, `64KiB`, `512 kib` or `1MiB`
/// names; a bare number is bytes and must be whole KiB.
fn nominal_kib(label: &str) -> Option<u64> {
    let label: String = label
        .chars()
        .filter(|c| !matches!(c, ' ' | '_'))
        .collect::<String>()
        .to_ascii_lowercase();
    let digits = label
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(label.len());
    let (number, unit) = label.split_at(digits);
    let number: u64 = number.parse().ok()?;
    match unit {
        "k" | "kb" | "kib" => Some(number),
        "m" | "mb" | "mib" => number.checked_mul(1024),
        "" | "b" if number.is_multiple_of(1024) => Some(number / 1024),
        _ => None,
    }
}

fn missing() -> String {
    "missing".to_owned()
}

fn missing_pair() -> [String; 2] {
    [missing(), missing()]
}

fn yes_no(met: bool) -> String {
    if met { "yes" } else { "**no**" }.to_owned()
}

/// `low to high` of the median's 95% confidence interval.
fn ci(e: &Estimate) -> String {
    format!("{} to {}", ns(e.ci_low), ns(e.ci_high))
}

/// Milliseconds with two decimals.
fn ms(value: f64) -> String {
    format!("{value:.2} ms")
}

/// Nanoseconds in the largest unit that keeps the value at least 1, to
/// three significant figures.
fn ns(value: f64) -> String {
    let (scaled, unit) = match value {
        v if v < 1e3 => (v, "ns"),
        v if v < 1e6 => (v / 1e3, "µs"),
        v if v < 1e9 => (v / 1e6, "ms"),
        v => (v / 1e9, "s"),
    };
    let digits = match scaled {
        s if s >= 100.0 => 0,
        s if s >= 10.0 => 1,
        _ => 2,
    };
    format!("{scaled:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::results::BenchId;
    use crate::bench::stats::Summary;

    fn estimate(median: f64) -> Estimate {
        Estimate {
            median,
            ci_low: median * 0.9,
            ci_high: median * 1.1,
            mad: median * 0.05,
        }
    }

    fn measured(group: &str, function: &str, value: Option<&str>, median: f64) -> BenchResult {
        let title = [group, function, value.unwrap_or_default()]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        BenchResult {
            title,
            outcome: Ok(Measured {
                id: BenchId {
                    group: group.to_owned(),
                    function: (!function.is_empty()).then(|| function.to_owned()),
                    value: value.map(str::to_owned),
                    bytes: None,
                },
                estimate: estimate(median),
            }),
        }
    }

    fn machine() -> Machine {
        let s = |v: &str| v.to_owned();
        Machine {
            cpu: s("Test CPU"),
            cpus: s("2"),
            memory: s("1.0 GiB"),
            os: s("TestOS"),
            rustc: s("rustc 1.95.0"),
            commit: s("abc1234"),
            load: s("0.00 0.00 0.00"),
            date: s("2026-01-01 00:00 UTC"),
        }
    }

    fn summary(median: f64) -> Summary {
        Summary::of(&[median - 0.1, median, median + 0.1]).unwrap()
    }

    fn complete_report() -> Report {
        let [decode, storage, startup] = &crate::bench::SUITES;
        Report {
            quick: true,
            criterion_args: &super::super::QUICK_ARGS,
            process_runs: 30,
            machine: machine(),
            suites: vec![
                SuiteRun {
                    suite: decode,
                    results: vec![
                        measured("decode/typical", "ours", None, 700.0),
                        measured("decode/typical", "jsonwebtoken", None, 1000.0),
                        measured("decode_by_size", "ours", Some("1k"), 1000.0),
                        measured("decode_by_size", "ours", Some("8k"), 8000.0),
                        measured("decode_by_size", "ours", Some("60k"), 60000.0),
                        measured("decode_by_size", "jsonwebtoken", Some("1k"), 1500.0),
                        measured("decode_by_size", "jsonwebtoken", Some("8k"), 11000.0),
                        measured("decode_by_size", "jsonwebtoken", Some("60k"), 90000.0),
                    ],
                    failure: None,
                },
                SuiteRun {
                    suite: storage,
                    results: vec![
                        measured("file", "load", None, 9000.0),
                        measured("load_by_size", "", Some("1KiB"), 2000.0),
                        measured("load_by_size", "", Some("64KiB"), 20000.0),
                        measured("load_by_size", "", Some("512KiB"), 150000.0),
                    ],
                    failure: None,
                },
                SuiteRun {
                    suite: startup,
                    results: vec![
                        measured("startup", "load_file_jwt_identity", None, 50000.0),
                        measured("startup", "auth_hot_path", None, 20.0),
                    ],
                    failure: None,
                },
            ],
            process: Ok(Comparison {
                version: summary(2.0),
                status: summary(3.0),
            }),
        }
    }

    #[test]
    fn complete_run_has_nothing_missing() {
        let report = complete_report();
        assert_eq!(report.missing(), Vec::<String>::new());
        assert_eq!(report.unmet_targets(), Vec::<String>::new());
        let text = report.render();
        assert!(text.starts_with("Generated by `cargo xtask bench`"));
        assert!(text.contains("cargo xtask bench --quick"));
        assert!(text.contains("| `decode/typical` | 700 ns | 1.00 µs | 0.70x |"));
        assert!(text.contains("Difference of medians: +1.00 ms (target ≤ 2.00 ms: met)"));
        assert!(!text.contains("missing"), "{text}");
    }

    #[test]
    fn growth_rows_show_marginal_cost() {
        let report = complete_report();
        let text = report.render();
        // 1 KiB to 8 KiB: 7000 ns more over 7 KiB more.
        assert!(
            text.contains(
                "| `ours` | `8k` | 8192 | 8.00 µs | 7.20 µs to 8.80 µs | 1000.0 ns | 1000.0 ns |"
            ),
            "{text}"
        );
        assert!(text.contains("the input grows 512.0x and the median time 75.0x"));
        assert!(
            text.contains("| `load_by_size` | `64KiB` | 65536 | 20.0 µs |"),
            "{text}"
        );
    }

    #[test]
    fn absent_results_are_reported_missing() {
        let mut report = complete_report();
        let [_, storage, _] = &crate::bench::SUITES;
        report.suites[1] = SuiteRun::failed(storage, "the suite defines no benchmarks".into());
        report.suites[2].results[1].outcome = Err("no result".into());
        report.process = Err("build failed".into());
        let missing = report.missing();
        assert_eq!(
            missing,
            [
                "suite `storage`: the suite defines no benchmarks",
                "`startup/auth_hot_path`: no result",
                "`load_by_size` at 1 KiB: no result in suite `storage`",
                "`load_by_size` at 64 KiB: no result in suite `storage`",
                "`load_by_size` at 512 KiB: no result in suite `storage`",
                "process-level comparison: build failed",
            ]
        );
        let text = report.render();
        assert!(text.contains("| `startup/auth_hot_path` | missing | missing | missing |"));
        assert!(text.contains("**Missing**: build failed."));
    }

    #[test]
    fn missing_peer_and_unmet_targets() {
        let mut report = complete_report();
        report.suites[0].results.remove(1);
        assert!(
            report
                .missing()
                .contains(&"`decode/typical/jsonwebtoken`: not listed by suite `decode`".into())
        );
        assert!(
            report
                .render()
                .contains("| `decode/typical` | 700 ns | missing |")
        );

        let mut report = complete_report();
        report.suites[0].results[0] = measured("decode/typical", "ours", None, 1300.0);
        report.process = Ok(Comparison {
            version: summary(2.0),
            status: summary(4.5),
        });
        assert_eq!(report.unmet_targets().len(), 2);
        let text = report.render();
        assert!(
            text.contains("| 1.30x | 1.06x to 1.59x | ≤ 1.25x: NOT met |"),
            "{text}"
        );
        assert!(text.contains("target ≤ 2.00 ms: NOT met"));
    }

    #[test]
    fn reads_size_labels() {
        assert_eq!(nominal_kib("1k"), Some(1));
        assert_eq!(nominal_kib("64KiB"), Some(64));
        assert_eq!(nominal_kib("512 kib"), Some(512));
        assert_eq!(nominal_kib("1_MiB"), Some(1024));
        assert_eq!(nominal_kib("65536"), Some(64));
        assert_eq!(nominal_kib("1000"), None);
        assert_eq!(nominal_kib("typical"), None);
        assert_eq!(nominal_kib("k"), None);
    }

    #[test]
    fn formats_durations() {
        assert_eq!(ns(12.345), "12.3 ns");
        assert_eq!(ns(999.0), "999 ns");
        assert_eq!(ns(1234.0), "1.23 µs");
        assert_eq!(ns(45_600_000.0), "45.6 ms");
        assert_eq!(ns(2.5e9), "2.50 s");
        assert_eq!(ms(1.005), "1.00 ms");
    }
}
