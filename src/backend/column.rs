//! A field as a target names it: the mapped name, and the schema's type for it.

use crate::semantics::schema::FieldType;

/// A field as the target names it, with its schema type when the schema knows the field.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: Option<FieldType>,
}
