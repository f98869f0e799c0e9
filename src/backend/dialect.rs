//! The [`Dialect`] trait: how a target writes one predicate, a field, `and`/`or`/`not`, the
//! query around the condition, and correlations. Its defaults are the common case; a target
//! overrides only where its language differs.

use super::column::Column;
use super::correlation;
use super::refusal::Unsupported;
use super::text::StrTest;
use crate::semantics::ir::{Expr, Pred, Test};

/// Where a predicate is rendered: under how many `not`s, and by which case contract.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cx {
    /// Under an odd number of `not`s, for targets whose missing-field logic needs care.
    pub negated: bool,
    /// `--unicode-exact`: case-insensitive tests by Unicode simple case folding, written out;
    /// else by the default contract (ASCII), with the target's own case-insensitive operators.
    pub unicode_exact: bool,
}

impl Cx {
    /// The pattern the target renders for a rule's `re` value under this contract
    /// ([`crate::regex::translate::engine_source_ascii`] by default).
    pub fn regex_source(self, pattern: &str, flags: crate::semantics::ir::ReFlags) -> String {
        if self.unicode_exact {
            crate::semantics::ir::regex_source(pattern, flags)
        } else {
            crate::semantics::ir::regex_source_ascii(pattern, flags)
        }
    }

    /// Whether a regex may write a pair of ASCII letters `[Kk]` with the target's own `(?i)`,
    /// which may also fold the listed code points (not under `--unicode-exact`).
    pub fn loose_case(self) -> bool {
        !self.unicode_exact
    }
}

/// The tests no target compiles, refused the same way for all before a dialect sees them:
/// keyword searches, unresolved placeholders, and the field references and date parts no
/// backend implements.
pub(crate) fn common_refusal(d: &dyn Dialect, p: &Pred) -> Option<Unsupported> {
    let target = d.name();
    if p.field.is_none() {
        return Some(Unsupported::new(
            "keyword (field-less) searches",
            d.keyword_search_reason(),
            p.span,
        ));
    }
    let (construct, reason) = match &p.test {
        Test::Placeholder { name } => (
            format!("placeholder `%{name}%`"),
            "placeholders need values before compilation".to_string(),
        ),
        Test::FieldRef { .. } => (
            "field references (`fieldref`)".to_string(),
            format!("comparing two fields is not implemented for {target}"),
        ),
        Test::TimePart { .. } => (
            "date-part modifiers (`hour`, `day`, ...)".to_string(),
            format!("date parts are not implemented for {target}"),
        ),
        _ => return None,
    };
    Some(Unsupported::new(construct, reason, p.span))
}

/// How a target writes queries. Only [`Dialect::predicate`] has no default.
pub trait Dialect: Sync {
    fn name(&self) -> &'static str;

    /// One predicate over an already-mapped field name. `negated` is true when the predicate
    /// sits under an odd number of `not`s, for targets whose missing-field logic needs care.
    fn predicate(&self, column: &Column, pred: &Pred, cx: Cx) -> Result<String, Unsupported>;

    /// String tests by the default case contract (ASCII letters fold unless `t.cased`): any
    /// of `t.patterns` matches. The result must stand as an operand of `and`/`or` (grouped if
    /// it is compound). `stages` as for [`Dialect::staged_predicate`].
    fn strings(
        &self,
        column: &Column,
        t: &StrTest,
        cx: Cx,
        stages: &mut Vec<String>,
    ) -> Result<String, Unsupported>;

    /// Why the target cannot run a keyword (field-less) search exactly: every target refuses
    /// them, each for its own reason.
    fn keyword_search_reason(&self) -> &'static str;

    /// [`Dialect::predicate`] for targets that need extra pipeline stages before the filter
    /// (KQL's `mv-apply` for arrays): a stage pushed to `stages` runs before the condition.
    fn staged_predicate(
        &self,
        column: &Column,
        pred: &Pred,
        cx: Cx,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        self.predicate(column, pred, cx)
    }

    fn and_op(&self) -> &'static str {
        "and"
    }

    fn or_op(&self) -> &'static str {
        "or"
    }

    /// Negation of a rendered operand (always parenthesised, so no precedence question arises
    /// between `not` and a comparison).
    fn not(&self, inner: &str) -> String {
        format!("not ({inner})")
    }

    fn group(&self, inner: &str) -> String {
        format!("({inner})")
    }

    /// Wrap the rendered condition into a complete query; `stages` are those of
    /// [`Dialect::staged_predicate`].
    fn query(
        &self,
        condition: &str,
        _logsource: &std::collections::BTreeMap<String, String>,
        _stages: &[String],
    ) -> String {
        condition.to_string()
    }

    /// Longest flat `and`/`or` chain the target's parser handles; longer chains are written as
    /// parenthesised chunks (a parser that nests binary operators otherwise hits its depth
    /// limit). `None`: no limit.
    fn max_chain(&self) -> Option<usize> {
        None
    }

    /// Most alternatives an `N of` may expand to before it is refused.
    fn max_at_least_expansion(&self) -> usize {
        256
    }

    /// The dialect that renders input `i` of a correlation over several rules, when the
    /// target gives each input its own (YARA-L's event variables `$e1`, `$e2`, ...); `None`:
    /// this dialect.
    fn for_input(&self, _i: usize) -> Option<&'static dyn Dialect> {
        None
    }

    /// Why a control character cannot appear raw in the target's query (it has no escape for
    /// it there), or `None` if the target escapes every control character. A rule whose query
    /// would hold one is refused.
    fn raw_control_reason(&self, _c: char) -> Option<&'static str> {
        None
    }

    /// For a two-stage target ([`Dialect::search_stage`]): a term of the first stage that
    /// every event matching `e` (a conjunct left to the second stage) also matches, such as
    /// the literals a regex needs, so that the first stage still narrows the events; `None`
    /// if there is none. `map` names the fields.
    fn implied_term(
        &self,
        _e: &Expr,
        _map: &dyn Fn(&str, crate::syntax::span::Span) -> Result<Column, Unsupported>,
    ) -> Option<String> {
        None
    }

    /// The dialect of a first filtering stage, for targets whose queries filter in two
    /// stages (Splunk's base search before `| where`): the top-level conjuncts it can express
    /// are rendered by it into one stage, which [`Dialect::query`] receives first in
    /// `stages`; `None` for one-stage targets.
    fn search_stage(&self) -> Option<&'static dyn Dialect> {
        None
    }

    /// Most rules one correlation can read.
    fn max_inputs(&self) -> usize {
        usize::MAX
    }

    /// A correlation over compiled inputs ([`correlation`]); by default the target has none.
    fn correlation(
        &self,
        c: &correlation::Correlation,
    ) -> Result<correlation::Rendered, Unsupported> {
        Err(c.refuse(
            "correlation rules",
            format!("the {} target has no aggregations over events", self.name()),
        ))
    }
}
