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
