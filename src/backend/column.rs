//! A field as a target names it: the mapped name, the schema's type for it, and the name of
//! its case-insensitive twin where the mapping declares one.

use crate::semantics::schema::FieldType;

/// A field as the target names it, with its schema type when the schema knows the field.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Column {
    pub name: String,
    pub ty: Option<FieldType>,
    /// A field holding the same value lower-cased (an Elasticsearch keyword sub-field with a
    /// lowercase normalizer, such as ECS `.caseless`), from the mapping's `caseless`.
    pub caseless: Option<String>,
}

/// A `cidr` test on a column that is not an Elasticsearch `ip` field (a source that keeps the
/// address as keyword text): Lucene and EQL compare such a field as a string, so the test is
/// refused there.
pub fn cidr_needs_ip(
    col: &Column,
    span: crate::syntax::span::Span,
    target: &str,
) -> Option<super::refusal::Unsupported> {
    let ty = col.ty?;
    (ty.base != crate::semantics::schema::BaseType::Ip).then(|| {
        super::refusal::Unsupported::new(
            format!("`cidr` on `{}` (not an `ip` field in the source)", col.name),
            format!(
                "{target} compares a keyword field holding an address as text, not as an \
                 address range (ES|QL converts it with TO_IP)"
            ),
            span,
        )
    })
}
