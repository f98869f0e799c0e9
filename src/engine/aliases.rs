//! Deprecated field names (the schema's `aliases`, e.g. `gen_ai.system` for
//! `gen_ai.provider.name`), resolved both ways when the engine reads an event: a rule on the
//! current name reads the deprecated one where the event lacks the current one, and the other
//! way round. The table is the built-in schema's, or the one `use_schema` installs (with the
//! `--schema` files' aliases).

use crate::semantics::schema::Schema;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

type Table = HashMap<String, Vec<String>>;

static TABLE: RwLock<Option<Arc<Table>>> = RwLock::new(None);

fn table_of(schema: &Schema) -> Table {
    let mut t: Table = HashMap::new();
    for p in schema.products.values() {
        for (alias, a) in &p.aliases {
            t.entry(a.to.clone()).or_default().push(alias.clone());
            t.entry(alias.clone()).or_default().push(a.to.clone());
        }
    }
    for v in t.values_mut() {
        v.sort();
        v.dedup();
    }
    t
}

/// Resolve aliases by `schema` from now on (matchers built afterwards).
pub fn use_schema(schema: &Schema) {
    let t = Arc::new(table_of(schema));
    *TABLE.write().unwrap_or_else(|e| e.into_inner()) = Some(t);
}

/// The other names of a field, in a fixed order (empty for most fields).
pub fn alternates(name: &str) -> Vec<String> {
    let current = TABLE.read().unwrap_or_else(|e| e.into_inner()).clone();
    let table = match current {
        Some(t) => t,
        None => {
            let t = Arc::new(table_of(&Schema::builtin()));
            let mut w = TABLE.write().unwrap_or_else(|e| e.into_inner());
            w.get_or_insert(t).clone()
        }
    };
    table.get(name).cloned().unwrap_or_default()
}
