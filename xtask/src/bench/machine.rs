//! The machine a benchmark ran on, for the report: CPU, memory, OS,
//! toolchain, commit and date. Every field falls back to `unknown` rather
//! than failing the run.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

const UNKNOWN: &str = "unknown";

/// What the report says about the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// CPU model name from /proc/cpuinfo.
    pub cpu: String,
    /// Logical CPUs in /proc/cpuinfo and CPUs this process may use (nproc).
    pub cpus: String,
    /// Total memory from /proc/meminfo.
    pub memory: String,
    /// PRETTY_NAME from /etc/os-release, and the kernel release.
    pub os: String,
    /// `rustc --version`.
    pub rustc: String,
    /// `git rev-parse --short HEAD`, noting uncommitted changes.
    pub commit: String,
    /// The 1, 5 and 15 minute load averages when the run started.
    pub load: String,
    /// When the run started, UTC.
    pub date: String,
}

/// Describes this machine now; `root` is the repository.
pub fn describe(root: &Path) -> Machine {
    let cpuinfo = read("/proc/cpuinfo");
    let nproc = thread::available_parallelism().map_or(0, usize::from);
    let logical = cpuinfo.as_deref().map_or(0, logical_cpus);
    let kernel = read("/proc/sys/kernel/osrelease").map_or_else(|| UNKNOWN.to_owned(), trimmed);
    let os = read("/etc/os-release")
        .as_deref()
        .and_then(pretty_name)
        .unwrap_or_else(|| UNKNOWN.to_owned());
    Machine {
        cpu: cpuinfo
            .as_deref()
            .and_then(cpu_model)
            .unwrap_or_else(|| UNKNOWN.to_owned()),
        cpus: format!("{nproc} available to the run (nproc), {logical} logical in /proc/cpuinfo"),
        memory: read("/proc/meminfo")
            .as_deref()
            .and_then(mem_total)
            .unwrap_or_else(|| UNKNOWN.to_owned()),
        os: format!("{os}, kernel {kernel}"),
        rustc: stdout_of("rustc", &["--version"], root).unwrap_or_else(|| UNKNOWN.to_owned()),
        commit: commit(root),
        load: read("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| UNKNOWN.to_owned()),
        date: now_utc(),
    }
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok()
}

fn trimmed(s: String) -> String {
    s.trim().to_owned()
}

/// Trimmed stdout of a successful `program args` run in `dir`, silently.
fn stdout_of(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    String::from_utf8(output.stdout).ok().map(trimmed)
}

fn commit(root: &Path) -> String {
    let Some(head) = stdout_of("git", &["rev-parse", "--short", "HEAD"], root) else {
        return UNKNOWN.to_owned();
    };
    match stdout_of("git", &["status", "--porcelain"], root) {
        Some(changes) if changes.is_empty() => head,
        Some(_) => format!("{head} with uncommitted changes"),
        None => head,
    }
}

/// The first `model name` in /proc/cpuinfo.
fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo_values(cpuinfo, "model name")
        .next()
        .map(str::to_owned)
}

/// How many `processor` entries /proc/cpuinfo lists.
fn logical_cpus(cpuinfo: &str) -> usize {
    cpuinfo_values(cpuinfo, "processor").count()
}

fn cpuinfo_values<'a>(cpuinfo: &'a str, key: &'a str) -> impl Iterator<Item = &'a str> {
    cpuinfo.lines().filter_map(move |line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim())
    })
}

/// `MemTotal` from /proc/meminfo, in GiB.
fn mem_total(meminfo: &str) -> Option<String> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(format!("{:.1} GiB", kib / (1024.0 * 1024.0)))
}

/// `PRETTY_NAME` from /etc/os-release, unquoted.
fn pretty_name(os_release: &str) -> Option<String> {
    let value = os_release
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    Some(value.trim().trim_matches('"').to_owned())
}

fn now_utc() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or_else(|_| UNKNOWN.to_owned(), |d| utc_timestamp(d.as_secs()))
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the Unix epoch.
fn utc_timestamp(secs: u64) -> String {
    let (year, month, day) = civil_date(secs / 86_400);
    let minutes = secs % 86_400 / 60;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minutes / 60,
        minutes % 60
    )
}

/// The proleptic Gregorian (year, month, day) of a day count since
/// 1970-01-01. Works in 400-year eras starting on March 1st, so the leap
/// day is the last day of an era-year.
fn civil_date(days: u64) -> (u64, u64, u64) {
    const DAYS_PER_ERA: u64 = 146_097;
    // Days from 0000-03-01 to 1970-01-01.
    let shifted = days + 719_468;
    let era = shifted / DAYS_PER_ERA;
    let day_of_era = shifted % DAYS_PER_ERA;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months counted from March: 0 = March, 11 = February.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_timestamp(1_776_388_680), "2026-04-17 01:18 UTC");
        assert_eq!(utc_timestamp(4_107_542_399), "2100-02-28 23:59 UTC");
    }

    #[test]
    fn reads_proc_and_os_release() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n\n\
                       processor\t: 1\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(cpuinfo).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(logical_cpus(cpuinfo), 2);
        assert_eq!(
            mem_total("MemTotal:       24684092 kB\nMemFree: 1 kB\n").as_deref(),
            Some("23.5 GiB")
        );
        assert_eq!(
            pretty_name("NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n")
                .as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(pretty_name("NAME=x\n"), None);
    }
}
