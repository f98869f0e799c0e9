//! `aisigma scan`: run the loaded rules over JSON Lines events, as a stream.
//!
//! All rules are compiled into one [`Scanner`]: a literal [`Prefilter`] picks the rules that
//! may match each raw line, the line is decoded only as far as those rules read
//! ([`lazy_json`]), and only the candidates are evaluated, by the same engine as `aisigma
//! test`. Lines are processed in batches on all cores (rayon); a reader thread fills the next
//! batch meanwhile, up to a bounded size, and hands over whatever it has as soon as the
//! workers are free, so a slow stream is answered line by line and a fast one in large
//! batches. Output keeps input order.
//!
//! Log-source scoping: a rule applies to an event whose category (from `--category`, else the
//! event's category field, `ai.category` by default) equals the rule's `logsource.category`
//! (ASCII letters in either case),
//! and to every event whose category is unknown; a rule without a category applies to every
//! event.
//!
//! Correlations run over the stream: the workers hand on what each correlation reads of the
//! events that match its input rules, and the consumer (one thread, in input order) puts them
//! in timestamp order within `--lateness` and runs them through the correlation engine
//! ([`crate::engine::correlate::Runner`]), as `aisigma test` runs a sorted case.

use crate::engine::matcher::{EventView, FieldTable, ScanMatcher, Slots};
use crate::regex::casefold::CaseMode;
use crate::scan::lazy_json::{self, Paths};
use crate::scan::prefilter::{self, Noise, Prefilter};
use crate::scan::value_index::{self, ValueIndex};
use crate::semantics::ir::Expr;
use serde_json::Value;
use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex};

/// One loaded rule.
#[derive(Debug)]
pub struct ScanRule {
    pub id: String,
    pub title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub category: Option<String>,
    pub file: String,
    pub matcher: ScanMatcher,
    /// Reported on its own; false for a rule that is only an input of correlations.
    pub report: bool,
}

/// A correlation that scan evaluates over the stream.
#[derive(Debug)]
pub struct ScanCorrelation {
    pub id: String,
    pub title: String,
    pub level: String,
    pub tags: Vec<String>,
    pub file: String,
    pub net: crate::engine::correlate::Network,
    /// The correlation's own node in `net`.
    pub node: usize,
    /// The scanner rule of each rule node of `net` (`None` for correlation nodes).
    pub rule_of: Vec<Option<usize>>,
}

/// What [`load_rules`] found: the rules (with their detections, in the same order), the
/// correlations, and messages about the documents left out.
#[derive(Debug, Default)]
pub struct Loaded {
    pub rules: Vec<ScanRule>,
    pub exprs: Vec<Expr>,
    /// The fields the rules' matchers read, numbered (one table for all of them).
    pub table: FieldTable,
    /// The rules' field-value sets, over `table`.
    pub index: ValueIndex,
    pub correlations: Vec<ScanCorrelation>,
    pub skipped: Vec<String>,
}

/// Per-thread buffers of [`Scanner::scan_line`].
#[derive(Debug, Default)]
pub struct Scratch {
    prefilter: prefilter::Scratch,
    slots: Slots,
    marks: value_index::Marks,
}

/// How events are scoped to rules.
#[derive(Clone, Debug)]
pub struct Scope {
    /// The field that holds an event's category.
    pub category_field: String,
    /// A category for every event, overriding the field.
    pub category: Option<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            category_field: "ai.category".to_string(),
            category: None,
        }
    }
}

/// What the correlations that read a matching rule keep of an event: its time (ms), and per
/// correlation (index into the scanned correlations) the fields it reads.
#[derive(Debug, PartialEq)]
pub struct CorrelationInput {
    pub time: Option<i64>,
    pub fields: Vec<(usize, crate::engine::correlate::Fields)>,
}

/// Every rule, compiled together.
pub struct Scanner {
    rules: Vec<ScanRule>,
    /// Per rule: the correlations that read its matches.
    readers: Vec<Vec<usize>>,
    /// Per correlation: the fields it reads of an input.
    correlation_fields: Vec<Vec<Arc<str>>>,
    /// Their numbers in `table`.
    correlation_ids: Vec<Vec<u32>>,
    /// The numbers of the category field and `@timestamp` in `table`.
    category_id: u32,
    timestamp_id: u32,
    prefilter: Prefilter,
    table: FieldTable,
    index: ValueIndex,
    paths: Paths,
    scope: Scope,
}

/// What became of one line.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// An empty line.
    Blank,
    /// Not a JSON object (the message says why).
    Malformed(String),
    /// The matching rules (indexes into the scanner's rules, ascending), the event's
    /// timestamp when a rule matched, and, when a rule that correlations read matched, what
    /// they read of the event.
    Event(Vec<usize>, Option<String>, Option<CorrelationInput>),
}

impl Scanner {
    /// `exprs[i]` is the detection of `rules[i]`, whose matcher reads the fields of `table`;
    /// `index` holds their field-value sets (as [`load_rules`] returns them).
    /// The schema tells the prefilter which words most events hold (their keys), to avoid
    /// them as literals.
    pub fn new(
        rules: Vec<ScanRule>,
        exprs: &[Expr],
        (table, index): (FieldTable, ValueIndex),
        scope: Scope,
    ) -> Scanner {
        Scanner::with_correlations(rules, exprs, (table, index), &[], scope)
    }

    /// [`Scanner::new`], also decoding the fields `correlations` read, and handing on the
    /// events of the rules they read.
    pub fn with_correlations(
        rules: Vec<ScanRule>,
        exprs: &[Expr],
        (table, index): (FieldTable, ValueIndex),
        correlations: &[ScanCorrelation],
        scope: Scope,
    ) -> Scanner {
        let mut readers = vec![Vec::new(); rules.len()];
        let mut correlation_fields = Vec::new();
        for (ci, c) in correlations.iter().enumerate() {
            for &r in c.rule_of.iter().flatten() {
                if !readers[r].contains(&ci) {
                    readers[r].push(ci);
                }
            }
            correlation_fields.push(c.net.fields());
        }
        let extra: Vec<String> = correlation_fields.iter().flatten().cloned().collect();
        // Only values are searched, never keys: no literal is noise.
        let noise = Noise::default();
        let sets: Vec<_> = exprs
            .iter()
            .map(|e| crate::scan::prefilter::necessary(e, &noise))
            .collect();
        let mut table = table;
        let prefilter = Prefilter::new(&sets, &mut table);
        let correlation_ids = correlation_fields
            .iter()
            .map(|fs| fs.iter().map(|f| table.id(f)).collect())
            .collect();
        let correlation_fields = correlation_fields
            .into_iter()
            .map(|fs| fs.iter().map(|f| Arc::from(f.as_str())).collect())
            .collect();
        let category_id = table.id(&scope.category_field);
        let timestamp_id = table.id("@timestamp");
        let mut paths = vec![scope.category_field.clone(), "@timestamp".to_string()];
        paths.extend(extra);
        let selective = exprs.iter().all(|e| e.fields_read(&mut paths));
        // The deprecated (or current) names the engine reads in their place.
        let alternates: Vec<String> = paths
            .iter()
            .flat_map(|p| crate::engine::aliases::alternates(p))
            .collect();
        paths.extend(alternates);
        Scanner {
            rules,
            readers,
            correlation_fields,
            correlation_ids,
            category_id,
            timestamp_id,
            prefilter,
            table,
            index,
            paths: if selective {
                Paths::of(paths)
            } else {
                Paths::all()
            },
            scope,
        }
    }

    pub fn rules(&self) -> &[ScanRule] {
        &self.rules
    }

    /// Rules whose literals the prefilter knows (the others are evaluated on every event).
    pub fn prefiltered_rules(&self) -> usize {
        self.prefilter.filtered_rules()
    }

    /// Judge one line.
    pub fn scan_line(&self, line: &[u8], scratch: &mut Scratch) -> Verdict {
        let line = line.trim_ascii();
        if line.is_empty() {
            return Verdict::Blank;
        }
        if !(line.starts_with(b"{") && line.ends_with(b"}")) {
            return Verdict::Malformed("not a JSON object".to_string());
        }
        // JSON text is UTF-8 (RFC 8259, 8.1); the parser does not check the values it skips.
        // The SIMD check says only whether the line is valid; the standard one, where not.
        if simdutf8::basic::from_utf8(line).is_err()
            && let Err(e) = std::str::from_utf8(line)
        {
            return Verdict::Malformed(format!(
                "invalid UTF-8 at byte {} of the line",
                e.valid_up_to() + 1
            ));
        }
        let event = match lazy_json::decode(line, &self.paths) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return Verdict::Malformed("not a JSON object".to_string()),
            Err(e) => return Verdict::Malformed(e.to_string()),
        };
        let Scratch {
            prefilter,
            slots,
            marks,
        } = scratch;
        let mut view = EventView::new(&event, &self.table, slots);
        self.prefilter.candidates(&mut view, prefilter);
        if prefilter.rules.is_empty() {
            return Verdict::Event(Vec::new(), None, None);
        }
        self.index.retain(&mut prefilter.rules, &mut view, marks);
        let category = match &self.scope.category {
            Some(c) => Some(c.clone()),
            None => view.text_at(self.category_id),
        };
        let hits: Vec<usize> = prefilter
            .rules
            .iter()
            .copied()
            .filter(|&i| match (&self.rules[i].category, &category) {
                (Some(rc), Some(ec)) => rc == ec,
                _ => true,
            })
            .filter(|&i| self.rules[i].matcher.matches_view(&mut view))
            .collect();
        let ts = if hits.is_empty() {
            None
        } else {
            view.text_at(self.timestamp_id)
        };
        let mut readers: Vec<usize> = hits
            .iter()
            .flat_map(|&h| self.readers[h].iter().copied())
            .collect();
        let input = (!readers.is_empty()).then(|| {
            readers.sort_unstable();
            readers.dedup();
            CorrelationInput {
                time: ts
                    .as_deref()
                    .and_then(crate::syntax::time::parse_timestamp_ms),
                fields: readers
                    .into_iter()
                    .map(|c| {
                        let found = self.correlation_ids[c]
                            .iter()
                            .map(|&f| (view.text_at(f), view.number_at(f)));
                        let f = crate::engine::correlate::Fields::from_found(
                            &self.correlation_fields[c],
                            found,
                        );
                        (c, f)
                    })
                    .collect(),
            }
        });
        Verdict::Event(hits, ts, input)
    }
}

/// The rules and correlations of checked files, ready to scan with. Documents with errors,
/// filters, rules the engine cannot evaluate (unresolved placeholders) and correlations it
/// cannot evaluate are left out, each with a message. Rules that are only inputs of
/// correlations (no `generate: true`) are loaded but not reported on their own.
pub fn load_rules(results: &[crate::semantics::checked::FileResult]) -> Loaded {
    load_rules_with(results, CaseMode::default())
}

/// [`load_rules`], with case-insensitive tests compared by `mode` (`--unicode-exact`).
pub fn load_rules_with(
    results: &[crate::semantics::checked::FileResult],
    mode: CaseMode,
) -> Loaded {
    let mut loaded = Loaded::default();
    let inputs = crate::semantics::correlation::hidden_inputs(results);
    let mut rule_at: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let meta = |cd: &crate::semantics::checked::CheckedDoc| {
        let m = &cd.doc.meta;
        (
            m.id.as_ref().map(|i| i.value.clone()).unwrap_or_default(),
            cd.doc.label(),
            m.level
                .as_ref()
                .map(|l| l.value.clone())
                .unwrap_or_else(|| "medium".to_string()),
            m.tags.iter().map(|t| t.value.clone()).collect::<Vec<_>>(),
        )
    };
    let mut correlations = Vec::new();
    for (fi, r) in results.iter().enumerate() {
        let errors = r
            .diags
            .iter()
            .filter(|d| d.severity == crate::report::diagnostic::Severity::Error)
            .count();
        if errors > 0 {
            loaded.skipped.push(format!(
                "{}: skipped: {errors} error(s) (run `aisigma check`)",
                r.path
            ));
            continue;
        }
        for (di, cd) in r.docs.iter().enumerate() {
            if matches!(cd.doc.body, Some(crate::syntax::ast::Body::Correlation(_))) {
                correlations.push((fi, di));
                continue;
            }
            let Some(expr) = &cd.expr else {
                loaded.skipped.push(format!(
                    "{}: `{}`: {} documents are not evaluated by scan yet",
                    r.path,
                    cd.doc.label(),
                    cd.doc.kind_name()
                ));
                continue;
            };
            let matcher = match ScanMatcher::load(expr, mode, &mut loaded.table) {
                Ok(m) => m,
                Err(e) => {
                    loaded
                        .skipped
                        .push(format!("{}: `{}`: skipped: {e}", r.path, cd.doc.label()));
                    continue;
                }
            };
            let (id, title, level, tags) = meta(cd);
            rule_at.insert((fi, di), loaded.rules.len());
            loaded.rules.push(ScanRule {
                id,
                title,
                level,
                tags,
                category: cd.scope.clone(),
                file: r.path.clone(),
                matcher,
                report: !inputs.contains(&(fi, di)),
            });
            loaded.exprs.push(expr.clone());
        }
    }
    loaded.index = ValueIndex::new(&loaded.exprs, &mut loaded.table, mode);
    for (fi, di) in correlations {
        let cd = &results[fi].docs[di];
        let path = &results[fi].path;
        let built = crate::engine::correlate::build_with(results, (fi, di), mode).and_then(
            |(net, node)| {
                let rule_of = (0..net.nodes.len())
                    .map(|n| match net.nodes[n] {
                        crate::engine::correlate::Node::Rule { .. } => {
                            rule_at.get(&net.docs[n]).copied().map(Some).ok_or_else(|| {
                                format!("its input `{}` is not loaded", net.labels[n])
                            })
                        }
                        crate::engine::correlate::Node::Correlation(_) => Ok(None),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((net, node, rule_of))
            },
        );
        match built {
            Ok((net, node, rule_of)) => {
                let (id, title, level, tags) = meta(cd);
                loaded.correlations.push(ScanCorrelation {
                    id,
                    title,
                    level,
                    tags,
                    file: path.clone(),
                    net,
                    node,
                    rule_of,
                });
            }
            Err(e) => loaded
                .skipped
                .push(format!("{path}: `{}`: skipped: {e}", cd.doc.label())),
        }
    }
    loaded
}

/// Output format of the matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per match and line.
    Jsonl,
    /// A table row per match.
    Human,
}

/// Scan options.
#[derive(Clone, Debug)]
pub struct Options {
    pub format: Format,
    /// A malformed line stops the scan (after the lines before it are reported).
    pub strict: bool,
    /// Largest batch handed to the workers: lines and bytes.
    pub batch_lines: usize,
    pub batch_bytes: usize,
    /// How far (ms) an input of a correlation may arrive behind the newest timestamp seen and
    /// still be evaluated in its place; later ones are counted as late and left out.
    pub lateness_ms: i64,
    /// `scan --source`: each raw line becomes the schema events of its records.
    pub normalizer: Option<Arc<crate::source::normalize::Normalizer>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            format: Format::Jsonl,
            strict: false,
            batch_lines: 16_384,
            batch_bytes: 8 << 20,
            lateness_ms: 60_000,
            normalizer: None,
        }
    }
}

/// Counts for the summary.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub events: u64,
    pub bad_lines: u64,
    /// Bytes of the lines read (after decompression).
    pub bytes: u64,
    pub matches: u64,
    pub per_rule: Vec<u64>,
    /// The first malformed line, when `strict` stopped the scan.
    pub stopped_at: Option<String>,
    /// Inputs that could not be read to the end, with the reason and where (exit 2).
    pub failed_inputs: Vec<String>,
    /// Correlation alerts, per correlation.
    pub alerts: u64,
    pub per_correlation: Vec<u64>,
    /// Inputs of correlations that arrived more than the lateness behind the newest time,
    /// or without a readable `@timestamp`: not evaluated.
    pub late_inputs: u64,
    pub untimed_inputs: u64,
}

/// A line read, with where it came from.
struct Line {
    source: usize,
    number: u64,
    /// `None`: longer than the line limit, or not a record of the source (skipped).
    text: Option<Vec<u8>>,
    /// Why `text` is `None`, when it is not the line limit.
    problem: Option<String>,
}

#[derive(Default)]
struct Queue {
    lines: VecDeque<Line>,
    bytes: usize,
    done: bool,
    /// Inputs that could not be read to the end (corrupt or truncated compression, I/O
    /// errors): their names and why, in input order. The scan goes on with the next input.
    failed: Vec<String>,
    /// Set by the consumer to stop the reader.
    stop: bool,
}

/// Diagnostics about the input (malformed lines, read errors) go to `warn`.
pub fn run(
    scanner: &Scanner,
    correlations: &[ScanCorrelation],
    sources: Vec<crate::scan::event_input::Source>,
    opts: &Options,
    out: &mut dyn Write,
    warn: &mut dyn Write,
    progress: &dyn Fn(u64),
) -> io::Result<Stats> {
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let counters: Vec<_> = sources.iter().map(|s| s.read.clone()).collect();
    let shared = Arc::new((Mutex::new(Queue::default()), Condvar::new()));
    let reader = {
        let shared = shared.clone();
        let (max_lines, max_bytes) = (opts.batch_lines, opts.batch_bytes);
        let normalizer = opts.normalizer.clone();
        std::thread::spawn(move || {
            read_all(
                sources,
                &shared,
                max_lines,
                max_bytes,
                normalizer.as_deref(),
            )
        })
    };
    let mut stats = Stats {
        per_rule: vec![0; scanner.rules().len()],
        per_correlation: vec![0; correlations.len()],
        ..Stats::default()
    };
    let mut stage = Stage::new(correlations, opts.lateness_ms);
    let mut result = consume(
        scanner, &mut stage, opts, &shared, &names, &counters, out, warn, progress, &mut stats,
    );
    if result.is_ok() {
        // The end of the input: every waiting input is evaluated.
        result = stage.release(i64::MAX, &names, opts.format, out, &mut stats);
    }
    {
        let (m, cv) = &*shared;
        m.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        cv.notify_all();
    }
    let _ = reader.join();
    result.map(|()| stats)
}

fn read_all(
    sources: Vec<crate::scan::event_input::Source>,
    shared: &(Mutex<Queue>, Condvar),
    max_lines: usize,
    max_bytes: usize,
    normalizer: Option<&crate::source::normalize::Normalizer>,
) {
    let (m, cv) = shared;
    // Queue a line; false when the consumer stopped the reader.
    let push = |line: Line| -> bool {
        let size = line.text.as_ref().map_or(0, Vec::len);
        let mut q = m.lock().unwrap_or_else(|e| e.into_inner());
        // Back-pressure: wait while the next batch is full.
        while !q.stop && (q.lines.len() >= max_lines || q.bytes >= max_bytes) {
            q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
        }
        if q.stop {
            return false;
        }
        q.bytes += size;
        q.lines.push_back(line);
        cv.notify_all();
        true
    };
    // `scan --source`: raw lines waiting to be normalised.
    let mut pending: Vec<(usize, u64, Option<Vec<u8>>)> = Vec::new();
    let flush = |pending: &mut Vec<(usize, u64, Option<Vec<u8>>)>| -> bool {
        use rayon::prelude::*;
        let Some(n) = normalizer else {
            return true;
        };
        let lines: Vec<Vec<Line>> = pending
            .par_drain(..)
            .map(|(source, number, raw)| normalized(n, source, number, raw))
            .collect();
        lines.into_iter().flatten().all(&push)
    };
    let mut buf = Vec::new();
    for (i, mut src) in sources.into_iter().enumerate() {
        let mut number = 0u64;
        loop {
            let r = crate::scan::event_input::read_line(src.reader.as_mut(), &mut buf);
            let ok = match r {
                Ok(None) => break,
                Ok(Some(ok)) => ok,
                Err(e) => {
                    // The lines read before the error are scanned; the next input follows.
                    let at = src.read.load(std::sync::atomic::Ordering::Relaxed);
                    let mut q = m.lock().unwrap_or_else(|e| e.into_inner());
                    q.failed.push(format!(
                        "{}: {e} (after {at} bytes of the file, line {})",
                        src.name,
                        number + 1
                    ));
                    drop(q);
                    break;
                }
            };
            number += 1;
            let raw = ok.then(|| std::mem::take(&mut buf));
            match normalizer {
                // Raw records are normalised a chunk at a time, in parallel, in order.
                Some(_) => {
                    pending.push((i, number, raw));
                    if pending.len() >= NORMALIZE_CHUNK && !flush(&mut pending) {
                        return;
                    }
                }
                None => {
                    let line = Line {
                        source: i,
                        number,
                        text: raw,
                        problem: None,
                    };
                    if !push(line) {
                        return;
                    }
                }
            }
        }
        if !flush(&mut pending) {
            return;
        }
    }
    let mut q = m.lock().unwrap_or_else(|e| e.into_inner());
    q.done = true;
    cv.notify_all();
}

/// Raw lines normalised per call in `scan --source` (in parallel).
const NORMALIZE_CHUNK: usize = 2048;

/// The lines scan reads for one raw line of a source: one per event of its records, or one
/// malformed line.
fn normalized(
    n: &crate::source::normalize::Normalizer,
    source: usize,
    number: u64,
    raw: Option<Vec<u8>>,
) -> Vec<Line> {
    match raw {
        Some(text) if !text.trim_ascii().is_empty() => match n.events(&text) {
            Ok(events) => events
                .into_iter()
                .map(|e| Line {
                    source,
                    number,
                    text: Some(serde_json::to_vec(&e).unwrap_or_default()),
                    problem: None,
                })
                .collect(),
            Err(why) => vec![Line {
                source,
                number,
                text: None,
                problem: Some(format!("not a `{}` record: {why}", n.pack().name)),
            }],
        },
        text => vec![Line {
            source,
            number,
            text,
            problem: None,
        }],
    }
}

#[allow(clippy::too_many_arguments)]
fn consume(
    scanner: &Scanner,
    stage: &mut Stage,
    opts: &Options,
    shared: &(Mutex<Queue>, Condvar),
    names: &[String],
    counters: &[Arc<std::sync::atomic::AtomicU64>],
    out: &mut dyn Write,
    warn: &mut dyn Write,
    progress: &dyn Fn(u64),
    stats: &mut Stats,
) -> io::Result<()> {
    use rayon::prelude::*;
    let (m, cv) = shared;
    loop {
        let batch: Vec<Line> = {
            let mut q = m.lock().unwrap_or_else(|e| e.into_inner());
            while q.lines.is_empty() && !q.done {
                q = cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            if q.lines.is_empty() {
                for f in std::mem::take(&mut q.failed) {
                    writeln!(warn, "aisigma: input failed, continuing with the next: {f}")?;
                    stats.failed_inputs.push(f);
                }
                return Ok(());
            }
            q.bytes = 0;
            let b = q.lines.drain(..).collect();
            cv.notify_all();
            b
        };
        let verdicts: Vec<Verdict> = batch
            .par_iter()
            .map_init(Scratch::default, |scratch, l| match &l.text {
                Some(t) => scanner.scan_line(t, scratch),
                None => Verdict::Malformed(l.problem.clone().unwrap_or_else(|| {
                    format!(
                        "line longer than {} bytes",
                        crate::scan::event_input::MAX_LINE
                    )
                })),
            })
            .collect();
        for (l, v) in batch.iter().zip(verdicts) {
            stats.bytes += l.text.as_ref().map_or(0, |t| t.len() as u64 + 1);
            match v {
                Verdict::Blank => {}
                Verdict::Malformed(why) => {
                    stats.bad_lines += 1;
                    let at = format!("{}:{}", names[l.source], l.number);
                    writeln!(warn, "{at}: malformed line skipped: {why}")?;
                    if opts.strict {
                        stats.stopped_at = Some(at);
                        return Ok(());
                    }
                }
                Verdict::Event(hits, ts, input) => {
                    stats.events += 1;
                    let text = l.text.as_deref().unwrap_or_default();
                    if let Some(input) = input {
                        stage.offer(
                            (l.source, l.number),
                            names,
                            &hits,
                            input,
                            opts.format,
                            out,
                            stats,
                        )?;
                    }
                    for r in hits {
                        if !scanner.rules()[r].report {
                            continue;
                        }
                        stats.matches += 1;
                        stats.per_rule[r] += 1;
                        let rule = &scanner.rules()[r];
                        write_match(
                            out,
                            opts.format,
                            rule,
                            &names[l.source],
                            l.number,
                            ts.as_deref(),
                            text,
                        )?;
                    }
                }
            }
        }
        progress(
            counters
                .iter()
                .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
                .sum(),
        );
    }
}

/// Correlations over the stream. The inputs of correlations wait in a buffer, ordered by
/// timestamp (then arrival), until the newest timestamp seen is `lateness` ahead of them;
/// then they run through each correlation in that order, as `aisigma test` runs a case. An
/// input that arrives behind the last one released is late: counted, not evaluated. Only the
/// fields the correlations read are kept of an input.
struct Stage<'a> {
    correlations: &'a [ScanCorrelation],
    runners: Vec<crate::engine::correlate::Runner<'a>>,
    lateness: i64,
    /// (time, arrival) -> where the input was read, the scanner rules that matched, and the
    /// fields of each correlation that reads one of them.
    pending: BTreeMap<(i64, u64), Pending>,
    arrivals: u64,
    newest: i64,
    released: i64,
    since_sweep: u32,
}

struct Pending {
    source: usize,
    line: u64,
    hits: Vec<usize>,
    fields: Vec<(usize, crate::engine::correlate::Fields)>,
}

impl<'a> Stage<'a> {
    fn new(correlations: &'a [ScanCorrelation], lateness: i64) -> Self {
        Stage {
            correlations,
            runners: correlations
                .iter()
                .map(|c| crate::engine::correlate::Runner::new(&c.net))
                .collect(),
            lateness: lateness.max(0),
            pending: BTreeMap::new(),
            arrivals: 0,
            newest: i64::MIN,
            released: i64::MIN,
            since_sweep: 0,
        }
    }

    /// A line whose rules `hits` matched, with what the correlations that read one of them
    /// keep of it: queue it.
    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        at: (usize, u64),
        names: &[String],
        hits: &[usize],
        input: CorrelationInput,
        format: Format,
        out: &mut dyn Write,
        stats: &mut Stats,
    ) -> io::Result<()> {
        let Some(time) = input.time else {
            stats.untimed_inputs += 1;
            return Ok(());
        };
        if time < self.released {
            stats.late_inputs += 1;
            return Ok(());
        }
        self.pending.insert(
            (time, self.arrivals),
            Pending {
                source: at.0,
                line: at.1,
                hits: hits.to_vec(),
                fields: input.fields,
            },
        );
        self.arrivals += 1;
        self.newest = self.newest.max(time);
        let until = self.newest.saturating_sub(self.lateness);
        self.release(until, names, format, out, stats)
    }

    /// Run the waiting inputs up to `until` (inclusive) through their correlations.
    fn release(
        &mut self,
        until: i64,
        names: &[String],
        format: Format,
        out: &mut dyn Write,
        stats: &mut Stats,
    ) -> io::Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            let (time, _) = *entry.key();
            if time > until {
                break;
            }
            let p = entry.remove();
            self.released = time;
            for (c, f) in &p.fields {
                let corr = &self.correlations[*c];
                let matches = |n: usize| corr.rule_of[n].is_some_and(|r| p.hits.contains(&r));
                for a in self.runners[*c].push(time, f, &matches) {
                    if a.node == corr.node {
                        stats.alerts += 1;
                        stats.per_correlation[*c] += 1;
                        write_alert(out, format, corr, &a, &names[p.source], p.line)?;
                    }
                }
            }
            self.since_sweep += 1;
            if self.since_sweep >= 4096 {
                self.since_sweep = 0;
                for r in &mut self.runners {
                    r.sweep(time);
                }
            }
        }
        Ok(())
    }
}

/// An alert, with the input event that raised it (`file`, `line`).
fn write_alert(
    out: &mut dyn Write,
    format: Format,
    c: &ScanCorrelation,
    a: &crate::engine::correlate::Alert,
    file: &str,
    line: u64,
) -> io::Result<()> {
    let time = crate::syntax::time::format_ms(a.time);
    let group: serde_json::Map<String, Value> = a
        .group
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    match format {
        Format::Jsonl => {
            let j = |v: &dyn erased::Json| v.json();
            writeln!(
                out,
                "{{\"rule_id\":{},\"title\":{},\"level\":{},\"tags\":{},\"file\":{},\"line\":{line},\"correlation\":true,\"timestamp\":{},\"group\":{},\"value\":{}}}",
                j(&c.id),
                j(&c.title),
                j(&c.level),
                j(&c.tags),
                j(&file),
                j(&time),
                j(&group),
                j(&a.value),
            )
        }
        Format::Human => {
            let g: Vec<String> = a.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(
                out,
                "{:<40} {:<13} {:<8} {} [{}] {}",
                format!("{file}:{line} (correlation)"),
                time,
                c.level,
                c.title,
                c.id,
                g.join(" ")
            )
        }
    }
}

fn write_match(
    out: &mut dyn Write,
    format: Format,
    rule: &ScanRule,
    file: &str,
    line: u64,
    timestamp: Option<&str>,
    raw: &[u8],
) -> io::Result<()> {
    match format {
        Format::Jsonl => {
            // The event is written as it was read: it parsed as a JSON object, so it is valid
            // JSON (and UTF-8), and copying it avoids re-encoding.
            // (`scan_line` checked it is UTF-8, so its bytes are copied as they are.)
            let j = |v: &dyn erased::Json| v.json();
            write!(
                out,
                "{{\"rule_id\":{},\"title\":{},\"level\":{},\"tags\":{},\"file\":{},\"line\":{line},\"timestamp\":{},\"event\":",
                j(&rule.id),
                j(&rule.title),
                j(&rule.level),
                j(&rule.tags),
                j(&file),
                j(&timestamp),
            )?;
            out.write_all(raw.trim_ascii())?;
            out.write_all(b"}\n")
        }
        Format::Human => writeln!(
            out,
            "{:<40} {:<13} {:<8} {} [{}]",
            format!("{file}:{line}"),
            timestamp.unwrap_or("-"),
            rule.level,
            rule.title,
            rule.id
        ),
    }
}

mod erased {
    /// A value written as JSON.
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize + ?Sized> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).unwrap_or_else(|_| "null".to_string())
        }
    }
}

/// Rules listed by name in the summary; the others are counted.
pub const SUMMARY_RULES: usize = 20;

/// The end-of-scan summary: events, throughput, bad lines, and the [`SUMMARY_RULES`] rules
/// with the most matches (most first, then by id).
pub fn summary(
    scanner: &Scanner,
    correlations: &[ScanCorrelation],
    stats: &Stats,
    elapsed: std::time::Duration,
) -> String {
    let secs = elapsed.as_secs_f64().max(1e-9);
    let mut s = format!(
        "scanned {} events ({:.1} MB) with {} rules in {:.2} s: {:.0} events/s, {:.1} MB/s; {} bad lines; {} matches\n",
        stats.events,
        stats.bytes as f64 / 1e6,
        scanner.rules().iter().filter(|r| r.report).count(),
        secs,
        stats.events as f64 / secs,
        stats.bytes as f64 / 1e6 / secs,
        stats.bad_lines,
        stats.matches
    );
    let mut per: Vec<(u64, &ScanRule)> = stats
        .per_rule
        .iter()
        .zip(scanner.rules())
        .filter(|(n, _)| **n > 0)
        .map(|(n, r)| (*n, r))
        .collect();
    per.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    for (n, r) in per.iter().take(SUMMARY_RULES) {
        s.push_str(&format!("  {n:>8}  {}  {}\n", r.id, r.title));
    }
    if per.len() > SUMMARY_RULES {
        let rest: u64 = per[SUMMARY_RULES..].iter().map(|(n, _)| n).sum();
        s.push_str(&format!(
            "  {rest:>8}  matches of {} more rules\n",
            per.len() - SUMMARY_RULES
        ));
    }
    if !correlations.is_empty() {
        s.push_str(&format!(
            "{} correlations: {} alerts; {} inputs late (behind --lateness), {} without a timestamp\n",
            correlations.len(),
            stats.alerts,
            stats.late_inputs,
            stats.untimed_inputs
        ));
        let mut per: Vec<(u64, &ScanCorrelation)> = stats
            .per_correlation
            .iter()
            .zip(correlations)
            .filter(|(n, _)| **n > 0)
            .map(|(n, c)| (*n, c))
            .collect();
        per.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        for (n, c) in per.iter().take(SUMMARY_RULES) {
            s.push_str(&format!("  {n:>8}  {}  {}\n", c.id, c.title));
        }
    }
    if !stats.failed_inputs.is_empty() {
        s.push_str(&format!(
            "{} inputs could not be read to the end (their lines before the failure were scanned):\n",
            stats.failed_inputs.len()
        ));
        for f in &stats.failed_inputs {
            s.push_str(&format!("  {f}\n"));
        }
    }
    s
}
