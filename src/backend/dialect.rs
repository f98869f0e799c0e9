//! The [`Dialect`] trait: how a target writes one predicate, a field, `and`/`or`/`not`, the
//! query around the condition, and correlations. Its defaults are the common case; a target
//! overrides only where its language differs.

use super::column::Column;
use super::correlation;
use super::refusal::Unsupported;
use crate::semantics::ir::{Pred, Test};

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
    fn predicate(&self, column: &Column, pred: &Pred, negated: bool)
    -> Result<String, Unsupported>;

    /// Why the target cannot run a keyword (field-less) search exactly: every target refuses
    /// them, each for its own reason.
    fn keyword_search_reason(&self) -> &'static str;

    /// [`Dialect::predicate`] for targets that need extra pipeline stages before the filter
    /// (KQL's `mv-apply` for arrays): a stage pushed to `stages` runs before the condition.
    fn staged_predicate(
        &self,
        column: &Column,
        pred: &Pred,
        negated: bool,
        _stages: &mut Vec<String>,
    ) -> Result<String, Unsupported> {
        self.predicate(column, pred, negated)
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
