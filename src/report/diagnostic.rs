//! Diagnostics: a stable code, a severity, a position, a message and an optional fix.
//!
//! Codes are stable: once published, a code keeps its meaning. The registry below is
//! the single source of truth; `docs/diagnostics.md` documents every entry.

use crate::syntax::span::Span;
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $name:literal, $sev:ident, $summary:literal; )*) => {
        /// Every diagnostic the tool can emit.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            /// The stable identifier, e.g. `AIS401`.
            pub fn as_str(self) -> &'static str { match self { $( Code::$variant => $code, )* } }
            /// A short kebab-case name, e.g. `unknown-field`.
            pub fn name(self) -> &'static str { match self { $( Code::$variant => $name, )* } }
            pub fn default_severity(self) -> Severity { match self { $( Code::$variant => Severity::$sev, )* } }
            /// One-line description used in SARIF rule metadata and the docs.
            pub fn summary(self) -> &'static str { match self { $( Code::$variant => $summary, )* } }
        }
    };
}

codes! {
    // 0xx: reading and YAML
    IoError = "AIS001", "io-error", Error, "The file could not be read.";
    NotUtf8 = "AIS002", "invalid-utf8", Error, "The file is not valid UTF-8.";
    BinaryFile = "AIS003", "binary-file", Error, "The file looks binary (it contains NUL bytes).";
    YamlSyntax = "AIS004", "yaml-syntax", Error, "The YAML is malformed.";
    FileTooLarge = "AIS005", "file-too-large", Error, "The file exceeds the maximum rule file size.";
    NestingTooDeep = "AIS006", "nesting-too-deep", Error, "The YAML nests deeper than the supported limit.";
    AliasExpansion = "AIS007", "alias-expansion-limit", Error, "YAML aliases expand to more nodes than allowed (anchor bomb).";
    EmptyFile = "AIS008", "empty-file", Error, "The file holds no YAML document.";
    DuplicateKey = "AIS009", "duplicate-key", Error, "A YAML mapping repeats a key; the later value would silently replace the earlier one.";
    NotAMapping = "AIS010", "document-not-mapping", Error, "A rule document must be a YAML mapping.";
    NotARule = "AIS011", "not-a-rule", Warning, "A YAML document has none of the keys of a Sigma rule, correlation or filter; it is skipped.";
    // 1xx: rule structure and metadata
    MissingField = "AIS101", "missing-required-field", Error, "A required field is missing.";
    WrongType = "AIS102", "wrong-field-type", Error, "A field has the wrong YAML type.";
    UnknownKey = "AIS103", "unknown-key", Warning, "An unknown key; it is ignored.";
    InvalidId = "AIS104", "invalid-id", Error, "The rule id is not a UUID.";
    InvalidStatus = "AIS105", "invalid-status", Error, "The status is not one of the allowed values.";
    InvalidLevel = "AIS106", "invalid-level", Error, "The level is not one of the allowed values.";
    InvalidDate = "AIS107", "invalid-date", Error, "A date is not a valid YYYY-MM-DD date.";
    DuplicateId = "AIS108", "duplicate-id", Error, "Two rules share the same id.";
    LegacyCollection = "AIS109", "legacy-collection", Error, "Legacy `action: global/reset/repeat` collections are not supported.";
    InvalidValue = "AIS110", "invalid-metadata-value", Error, "A metadata value is out of its allowed range.";
    DuplicateName = "AIS111", "duplicate-name", Error, "Two rules share the same `name`.";
    InvalidDeploy = "AIS112", "invalid-deploy", Error, "The `deploy` settings (schedule, suppression, targets) are malformed.";
    // 2xx: detection and modifiers
    UnknownModifier = "AIS201", "unknown-modifier", Error, "A value modifier is not known.";
    ModifierConflict = "AIS202", "invalid-modifier-combination", Error, "Modifiers are combined in a way that has no meaning.";
    InvalidModifierValue = "AIS203", "invalid-modifier-value", Error, "A value does not fit its modifier.";
    InvalidRegex = "AIS204", "invalid-regex", Error, "A regular expression does not compile.";
    InvalidCidr = "AIS205", "invalid-cidr", Error, "A CIDR range is malformed.";
    AllOnSingleValue = "AIS206", "all-on-single-value", Warning, "`all` on a single value has no effect.";
    EmptySearch = "AIS207", "empty-search", Error, "A search identifier has no content.";
    InvalidSearch = "AIS208", "invalid-search", Error, "A search identifier's body is not a map, a list of maps or a keyword list.";
    NullInList = "AIS209", "null-in-list", Warning, "`null` mixed into a value list; write a separate selection.";
    // 3xx: condition
    ConditionSyntax = "AIS301", "condition-syntax", Error, "The condition does not parse.";
    UndefinedSearch = "AIS302", "undefined-search", Error, "The condition names a search identifier that does not exist.";
    UnusedSearch = "AIS303", "unused-search", Warning, "A search identifier is not used by the condition.";
    PatternMatchesNothing = "AIS304", "pattern-matches-nothing", Error, "An `of` pattern matches no search identifier.";
    PipeAggregation = "AIS305", "pipe-aggregation", Error, "Legacy pipe aggregations are not supported; use a correlation rule.";
    // 4xx: schema and types
    UnknownField = "AIS401", "unknown-field", Error, "The field does not exist in the schema for this logsource.";
    ModifierTypeMismatch = "AIS402", "modifier-type-mismatch", Error, "The modifier does not fit the field's type.";
    ValueTypeMismatch = "AIS403", "value-type-mismatch", Error, "The value does not parse as the field's type.";
    ClosedEnumValue = "AIS404", "value-outside-closed-enum", Error, "The value is not one of the field's allowed values.";
    OpenEnumValue = "AIS405", "value-outside-open-enum", Warning, "The value is not one of the field's known values.";
    DeprecatedField = "AIS406", "deprecated-field", Warning, "The field is a deprecated alias.";
    RegexPortability = "AIS407", "regex-not-portable", Warning, "The regex uses constructs that some targets cannot express.";
    UnknownCategory = "AIS408", "unknown-category", Error, "The logsource category is not described by the schema.";
    SchemaFile = "AIS409", "invalid-schema", Error, "A schema file is malformed.";
    // 5xx: tags and catalogs
    UnknownAtlas = "AIS501", "unknown-atlas-id", Error, "The ATLAS tag names no technique or tactic in ATLAS 5.6.0.";
    UnknownOwasp = "AIS502", "unknown-owasp-id", Error, "The OWASP tag names no entry of the OWASP lists.";
    MalformedTag = "AIS503", "malformed-tag", Warning, "The tag does not follow the Sigma tag format `namespace.value`.";
    MissingAiMapping = "AIS504", "missing-ai-mapping", Warning, "An AI rule has no ATLAS or no OWASP tag.";
    // 6xx: correlations and filters
    NotYetSupported = "AIS601", "not-yet-supported", Warning, "The construct is checked but cannot be evaluated or compiled yet.";
    InvalidCorrelation = "AIS602", "invalid-correlation", Error, "The correlation is malformed.";
    UnknownRuleReference = "AIS603", "unknown-rule-reference", Error, "A correlation or filter references a rule that was not loaded.";
    InvalidFilter = "AIS604", "invalid-filter", Error, "The meta filter is malformed.";
    // 7xx: rule tests
    InvalidTests = "AIS701", "invalid-tests", Error, "The `tests` section is malformed.";
    TestFailed = "AIS702", "test-failed", Error, "A rule test did not give the expected verdict.";
    NoTests = "AIS703", "no-tests", Note, "The rule has no tests.";
    UnresolvedPlaceholder = "AIS704", "unresolved-placeholder", Error, "The rule uses a placeholder that has no value, so it cannot be evaluated.";
    UnknownTestField = "AIS705", "unknown-test-field", Warning, "A test event has a field that the schema does not define for the rule's category, so the test may not test what it means to.";
    // 8xx: compilation to query languages
    UnsupportedConstruct = "AIS801", "unsupported-construct", Error, "The rule uses a construct the target cannot express exactly; no query is emitted.";
    UnmappedField = "AIS802", "unmapped-field", Error, "The field has no name in the target's mapping file.";
    CorrelationApproximation = "AIS803", "correlation-differs-on-target", Warning, "The target evaluates the correlation differently from the engine (fixed time buckets instead of sliding windows, or a coarser ordering); the warning says how its alerts differ.";
    NotInSource = "AIS804", "not-in-source", Error, "The rule reads a field, or has a category, that the chosen source pack does not carry; no query is written for that source.";
    NotMeantForTarget = "AIS806", "not-meant-for-target", Note, "The rule's `deploy.not-for` names the target, so no query is written for it; this is not a failure.";
    DecidedBySource = "AIS805", "decided-by-source", Warning, "The chosen source pack does not carry a field the rule tests on that target: the query leaves those tests out, decided as on events without the field.";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding, attached to a place in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub span: Span,
    /// A suggested fix or next step, shown as `help:`.
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

/// A collector of diagnostics used by every pipeline stage.
#[derive(Default, Debug)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn error(&mut self, code: Code, span: Span, message: impl Into<String>) {
        self.push(Diagnostic::new(code, span, message));
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
}

/// Closest candidates to `name` among `candidates`, best first (for "did you mean").
pub fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let lname = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| {
            let lc = c.to_lowercase();
            let mut s = strsim::jaro_winkler(&lname, &lc);
            // Same last segment ("prompt_tokens" vs "input_tokens") or substring: strong hint.
            if lc.ends_with(&lname) || lname.ends_with(&lc) {
                s += 0.1;
            }
            (s, c)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    // Only candidates about as close as the best one: a near-certain fix stands alone.
    let best = scored.first().map(|s| s.0).unwrap_or(0.0);
    scored
        .into_iter()
        .take_while(|(s, _)| best - s <= 0.03)
        .take(max)
        .map(|(_, c)| c)
        .collect()
}

/// Format suggestions as "did you mean `a`, `b`?".
pub fn did_you_mean(s: &[&str]) -> Option<String> {
    match s {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!(
            "did you mean one of {}?",
            many.iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
