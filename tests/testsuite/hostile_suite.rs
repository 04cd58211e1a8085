//! The generated hostile-input suite: `tests/hostile/generate.py` writes hundreds of site folders
//! made to crash, hang, exhaust or trick relsite (broken zips and zip bombs, property lists that
//! nest, share or lie, garbage profiles, icons of absurd sizes, YAML bombs, hostile names, links
//! out of the site, FIFOs), each with what a build of it must do. Each is built here by the real
//! binary, and must:
//!
//! - end by itself within [`TIME_LIMIT`], with exit code 0 or 1 (never a panic or a signal);
//! - peak under [`RSS_LIMIT_KIB`] of resident memory, as `wait4` reports it to the generator's
//!   `run`, a small process between the test and relsite;
//! - fail with exit code 1 where it is expected to, each error naming its file (relative to the
//!   site root), or succeed with warnings naming the files expected;
//! - when it succeeds, write manifests and feeds that parse (`plist`, `serde_json`, and Python's
//!   expat for every XML file), and pages without the raw markup the case planted;
//! - change nothing but its output, its cache and its lock: not the site's inputs, and not the
//!   `outside/` folder beside the site that its links point into.
//!
//! Every case runs, and every broken expectation is reported at the end, by case name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::support::RELSITE;

/// How long one case may run.
const TIME_LIMIT: Duration = Duration::from_secs(10);

/// The resident memory one case may peak at, in KiB.
const RSS_LIMIT_KIB: u64 = 200 * 1024;

/// The address space a case may take: a guard so that a case that runs away fails to allocate
/// instead of taking the machine's memory. Well above what [`RSS_LIMIT_KIB`] allows.
const ADDRESS_SPACE_LIMIT: u64 = 1 << 30;

/// The script that writes the cases, and runs and checks what they need.
const GENERATOR: &str = "tests/hostile/generate.py";

/// The generator writes at least this many cases, besides the ones cut from the real fixtures.
const MIN_CASES: usize = 200;

/// What the generator says of one case.
#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    /// The case's folder below the generator's output, holding `site/` and `outside/`.
    dir: PathBuf,
    args: Vec<String>,
    /// SOURCE_DATE_EPOCH.
    now: u64,
    expect: Expect,
    /// Files errors must name, as relsite prints them.
    errors: Vec<String>,
    /// Files warnings must name, when the build succeeds.
    warnings: Vec<String>,
    /// Text no page may carry raw.
    absent: Vec<String>,
    /// The output folder, below the case's folder.
    output: PathBuf,
    /// Paths outside the site (prefixes below the case's folder) the build may write: an output
    /// or cache that a link in the site points at.
    owned: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Expect {
    /// Exit 0.
    Ok,
    /// Exit 1, with an error naming each of the case's files.
    Fail,
    /// Exit 0, or exit 1 with an error naming one of the case's files.
    Either,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Exit(i32),
    Signal(i32),
    /// Killed at [`TIME_LIMIT`].
    TimedOut,
}

/// One run of relsite on a case.
struct Outcome {
    end: End,
    elapsed: Duration,
    /// Peak resident memory, in KiB.
    peak_rss_kib: u64,
    stderr: String,
    /// What changed in the case's folder that the run had no business changing.
    changed: Vec<String>,
}

#[test]
fn generated_hostile_inputs() {
    let work = tempfile::tempdir().expect("temp dir");
    let out = work.path().join("generated");
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = generate(manifest_dir, &out);
    let own = cases
        .iter()
        .filter(|c| !c.name.starts_with("real/"))
        .count();
    assert!(own >= MIN_CASES, "only {own} generated cases");

    let logs = work.path().join("logs");
    std::fs::create_dir_all(&logs).expect("logs dir");
    let started = Instant::now();
    let script = manifest_dir.join(GENERATOR);
    let outcomes = run_all(&cases, &out, &script, &logs);
    let took = started.elapsed();

    let mut problems = Vec::new();
    let mut xml_files = Vec::new();
    for (case, outcome) in cases.iter().zip(&outcomes) {
        let mut found = check_run(case, outcome);
        if outcome.end == End::Exit(0) {
            found.extend(check_output(case, &out.join(&case.dir), &mut xml_files));
        }
        for problem in found {
            problems.push(format!(
                "{}: {problem}\n    stderr: {}",
                case.name,
                outcome.stderr.trim_end().replace('\n', "\n            ")
            ));
        }
    }
    problems.extend(malformed_xml(manifest_dir, work.path(), &xml_files));

    let most = |measure: fn(&Outcome) -> u64| {
        cases
            .iter()
            .zip(&outcomes)
            .map(|(c, o)| (measure(o), c.name.as_str()))
            .max()
            .unwrap_or_default()
    };
    let (rss, rss_case) = most(|o| o.peak_rss_kib);
    let (ms, ms_case) = most(|o| o.elapsed.as_millis() as u64);
    eprintln!(
        "hostile suite: {} cases in {:.1}s; most memory {} MiB ({rss_case}); longest {:.2}s ({ms_case})",
        cases.len(),
        took.as_secs_f64(),
        rss / 1024,
        ms as f64 / 1000.0,
    );
    assert!(
        problems.is_empty(),
        "{} problems in {} hostile cases:\n{}",
        problems.len(),
        cases.len(),
        problems.join("\n")
    );
}

/// Runs the generator into `out`, with the real fixtures when they are there, and reads its list.
fn generate(manifest_dir: &Path, out: &Path) -> Vec<Case> {
    let mut command = Command::new("python3");
    command.arg(manifest_dir.join(GENERATOR)).arg(out);
    let fixtures = manifest_dir.join("../shared/fixtures/real");
    if fixtures.is_dir() {
        command.arg("--fixtures").arg(&fixtures);
    }
    let generated = command.output().expect("python3 runs");
    assert!(
        generated.status.success(),
        "generate.py failed: {}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let list = std::fs::read(out.join("cases.json")).expect("cases.json is written");
    serde_json::from_slice(&list).expect("cases.json parses")
}

/// Runs every case, as many at once as the machine has cores, and returns their outcomes in order.
fn run_all(cases: &[Case], out: &Path, script: &Path, logs: &Path) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(BTreeMap::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let log = logs.join(i.to_string());
                    let outcome = run_case(case, &out.join(&case.dir), script, &log);
                    outcomes
                        .lock()
                        .expect("no worker panicked")
                        .insert(i, outcome);
                }
            });
        }
    });
    outcomes
        .into_inner()
        .expect("no worker panicked")
        .into_values()
        .collect()
}

/// Builds one case with relsite, measuring its time and peak memory, and lists what the run
/// changed outside what is its own. relsite runs below the generator's `run`, which reports
/// its peak memory, in a process group of their own, killed whole at [`TIME_LIMIT`].
fn run_case(case: &Case, dir: &Path, script: &Path, log: &Path) -> Outcome {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let before = listing(dir);
    let (stderr_path, rss_path) = (log.with_extension("stderr"), log.with_extension("rss"));
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg("run")
        .arg(&rss_path)
        .arg(ADDRESS_SPACE_LIMIT.to_string())
        .arg(RELSITE)
        .args(&case.args)
        .arg("--root")
        .arg(dir.join("site"))
        .env("SOURCE_DATE_EPOCH", case.now.to_string())
        .env("RAYON_NUM_THREADS", "2")
        .env("NO_COLOR", "1")
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"));
    let started = Instant::now();
    let mut child = command.spawn().expect("python3 runs");
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for relsite") {
            break status;
        }
        if !timed_out && started.elapsed() > TIME_LIMIT {
            // The group's id is the child's: it is not reaped yet, so it is still ours.
            let group = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
            timed_out = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    let end = match (timed_out, status.code(), status.signal()) {
        (true, _, _) => End::TimedOut,
        (false, Some(code), _) => End::Exit(code),
        (false, None, signal) => End::Signal(signal.unwrap_or(0)),
    };
    let read = |path: &Path| {
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    };
    Outcome {
        end,
        elapsed,
        peak_rss_kib: read(&rss_path).trim().parse().unwrap_or(0),
        stderr: read(&stderr_path),
        changed: changes(&before, &listing(dir), &case.owned),
    }
}

/// Whether a path of the case's folder is one a build may change: the output, the cache, and
/// the files relsite keeps beside the output (its lock, its staging folder), in the site or
/// where the case says a link of the site leads.
fn is_relsites(rel: &Path, owned: &[String]) -> bool {
    if owned
        .iter()
        .any(|prefix| rel.to_string_lossy().starts_with(prefix.as_str()))
    {
        return true;
    }
    let mut parts = rel.components();
    if parts.next().is_none_or(|c| c.as_os_str() != "site") {
        return false;
    }
    parts.next().is_some_and(|c| {
        let name = c.as_os_str().to_string_lossy();
        name == "public" || name == ".relsite-cache" || name.starts_with(".public.relsite-")
    })
}

/// Every entry below `dir` (links not followed), with what identifies its content: kind, size,
/// inode and modification time for files, the target for links.
fn listing(dir: &Path) -> BTreeMap<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let mut entries = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let Ok(entry) = entry else { continue };
        let rel = entry.path().strip_prefix(dir).expect("below").to_path_buf();
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let kind = meta.file_type();
        let what = if kind.is_symlink() {
            format!("link to {:?}", std::fs::read_link(entry.path()).ok())
        } else if kind.is_dir() {
            "folder".to_string()
        } else {
            format!(
                "{kind:?} of {} bytes, inode {}, modified {}.{:09}",
                meta.len(),
                meta.ino(),
                meta.mtime(),
                meta.mtime_nsec()
            )
        };
        entries.insert(rel, what);
    }
    entries
}

/// What differs between two listings of a case's folder, leaving out what is relsite's.
fn changes(
    before: &BTreeMap<PathBuf, String>,
    after: &BTreeMap<PathBuf, String>,
    owned: &[String],
) -> Vec<String> {
    let mut changed = Vec::new();
    for (path, was) in before {
        if is_relsites(path, owned) {
            continue;
        }
        match after.get(path) {
            None => changed.push(format!("{} was removed", path.display())),
            Some(now) if now != was => {
                changed.push(format!("{} changed: {was} became {now}", path.display()))
            }
            Some(_) => {}
        }
    }
    for path in after.keys() {
        if !before.contains_key(path) && !is_relsites(path, owned) {
            changed.push(format!("{} was written", path.display()));
        }
    }
    changed
}

/// The problems with how a case's run ended and what it printed.
fn check_run(case: &Case, outcome: &Outcome) -> Vec<String> {
    let mut problems = outcome.changed.clone();
    if outcome.elapsed > TIME_LIMIT || outcome.end == End::TimedOut {
        problems.push(format!("took {:.1}s", outcome.elapsed.as_secs_f64()));
    }
    if outcome.peak_rss_kib > RSS_LIMIT_KIB {
        problems.push(format!("peaked at {} MiB", outcome.peak_rss_kib / 1024));
    }
    if outcome.stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    let names_file = |name: &str, label: &str| {
        lines
            .iter()
            .any(|l| l.starts_with(&format!("{name}:")) && l.contains(&format!(" {label}: ")))
    };
    for line in &lines {
        let unplaced = line.starts_with("warning: ")
            || (line.starts_with("error: ") && !line.starts_with("error: found "));
        if unplaced {
            problems.push(format!("a problem that names no file: {line}"));
        }
    }
    match (outcome.end, case.expect) {
        (End::Exit(0), Expect::Ok | Expect::Either) => {
            for name in &case.warnings {
                if !names_file(name, "warning") {
                    problems.push(format!("no warning names {name}"));
                }
            }
        }
        (End::Exit(1), Expect::Fail) => {
            for name in &case.errors {
                if !names_file(name, "error") {
                    problems.push(format!("no error names {name}"));
                }
            }
        }
        (End::Exit(1), Expect::Either) => {
            if !case.errors.iter().any(|name| names_file(name, "error")) {
                problems.push(format!("no error names any of {:?}", case.errors));
            }
        }
        (end, expect) => problems.push(format!("ended with {end:?}, expected {expect:?}")),
    }
    problems
}

/// The problems with what a successful build of a case wrote: manifests and JSON feeds that do
/// not parse, pages that carry planted markup raw. XML files are added to `xml_files` to be
/// parsed at once at the end.
fn check_output(case: &Case, dir: &Path, xml_files: &mut Vec<PathBuf>) -> Vec<String> {
    let mut problems = Vec::new();
    let public = dir.join(&case.output);
    if !public.join(".relsite-output").is_file() {
        problems.push(format!(
            "succeeded without writing {}",
            case.output.display()
        ));
    }
    for entry in walkdir::WalkDir::new(&public) {
        let Ok(entry) = entry else { continue };
        let path = entry.path();
        let rel = path.strip_prefix(dir).expect("below").display().to_string();
        match path.extension().and_then(|e| e.to_str()) {
            Some("plist") => {
                if let Err(e) = plist::Value::from_file(path) {
                    problems.push(format!("{rel} does not parse: {e}"));
                }
                xml_files.push(path.to_path_buf());
            }
            Some("xml") => xml_files.push(path.to_path_buf()),
            Some("json") => {
                let bytes = std::fs::read(path).expect("read a feed");
                if let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                    problems.push(format!("{rel} does not parse: {e}"));
                }
            }
            Some("html") => {
                let page = String::from_utf8_lossy(&std::fs::read(path).expect("read a page"))
                    .into_owned();
                for text in case.absent.iter().filter(|t| page.contains(t.as_str())) {
                    problems.push(format!("{rel} carries {text:?}"));
                }
            }
            _ => {}
        }
    }
    problems
}

/// Every file of `files` that Python's expat (and, for a .plist, plistlib) does not parse, each
/// as a problem naming it.
fn malformed_xml(manifest_dir: &Path, work: &Path, files: &[PathBuf]) -> Vec<String> {
    let list = work.join("xml-files.txt");
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(&list, text).expect("write the list");
    let checked = Command::new("python3")
        .arg(manifest_dir.join(GENERATOR))
        .arg("check-xml")
        .arg(&list)
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&checked.stdout);
    let mut problems: Vec<String> = report.lines().map(|l| format!("malformed: {l}")).collect();
    if !checked.status.success() && problems.is_empty() {
        problems.push(format!(
            "check-xml failed: {}",
            String::from_utf8_lossy(&checked.stderr)
        ));
    }
    problems
}
