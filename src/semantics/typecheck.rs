//! Type checking against the AI telemetry schema: field existence, modifier/type fit,
//! value parsing and enum membership. Applies only when the rule's logsource has a schema.

use crate::report::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean, suggest};
use crate::semantics::schema::{BaseType, FieldDef, FieldType, ProductSchema, Schema};
use crate::syntax::ast::{Detection, FieldItem, Logsource, SearchExpr, Value, ValueNode};
use crate::syntax::modifier::Modifier;
use crate::syntax::sigma_string::SigmaString;

/// The schema that applies to a rule, with its category.
pub struct Scope<'s> {
    pub schema: &'s ProductSchema,
    pub category: String,
}

impl<'s> Scope<'s> {
    /// Find the scope of a logsource. Reports an unknown category of a schema'd product.
    pub fn of(schema: &'s Schema, ls: &Logsource, diags: &mut Diagnostics) -> Option<Scope<'s>> {
        let product = ls.product.as_ref()?;
        let ps = schema.product(&product.value)?;
        let Some(cat) = &ls.category else {
            diags.push(
                Diagnostic::new(
                    Code::UnknownCategory,
                    product.span,
                    format!(
                        "product `{}` needs a `category` to select its schema",
                        product.value
                    ),
                )
                .with_help(format!(
                    "categories: {}",
                    ps.categories.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            );
            return None;
        };
        if !ps.categories.contains_key(&cat.value) {
            let sugg = suggest(&cat.value, ps.categories.keys().map(String::as_str), 2);
            let help = did_you_mean(&sugg).unwrap_or_else(|| {
                format!(
                    "categories: {}",
                    ps.categories.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            });
            diags.push(
                Diagnostic::new(
                    Code::UnknownCategory,
                    cat.span,
                    format!(
                        "the `{}` schema has no category `{}`",
                        ps.product, cat.value
                    ),
                )
                .with_help(help),
            );
            return None;
        }
        Some(Scope {
            schema: ps,
            category: cat.value.clone(),
        })
    }

    /// Resolve a field name (through aliases) to its definition.
    pub fn resolve(&self, name: &str) -> Option<&'s FieldDef> {
        self.schema.field(&self.category, name).or_else(|| {
            let a = self.schema.aliases.get(name)?;
            self.schema.field(&self.category, &a.to)
        })
    }

    pub fn type_of(&self, name: &str) -> Option<FieldType> {
        self.resolve(name).map(|d| d.ty)
    }
}

pub fn check_detection(det: &Detection, scope: &Scope<'_>, diags: &mut Diagnostics) {
    for s in &det.searches {
        // `ai.prompt.text: x` directly under `detection` is a search named like a field,
        // whose body is a keyword search over every field.
        if scope.resolve(&s.name.value).is_some() {
            diags.push(
                Diagnostic::new(
                    Code::InvalidSearch,
                    s.name.span,
                    format!("search identifier `{}` is named like a field: it searches every field, not `{}`", s.name.value, s.name.value),
                )
                .with_severity(crate::report::diagnostic::Severity::Warning)
                .with_help(format!(
                    "to match the field, put it inside a search identifier:\n    selection:\n        {}: ...",
                    s.name.value
                )),
            );
        }
        check_expr(&s.expr, scope, diags);
    }
}

fn check_expr(e: &SearchExpr, scope: &Scope<'_>, diags: &mut Diagnostics) {
    match e {
        SearchExpr::Map(items, _) => items.iter().for_each(|i| check_item(i, scope, diags)),
        SearchExpr::List(items, _) => items.iter().for_each(|i| check_expr(i, scope, diags)),
        SearchExpr::Keyword(_) | SearchExpr::Invalid(_) => {}
    }
}

fn check_item(item: &FieldItem, scope: &Scope<'_>, diags: &mut Diagnostics) {
    let Some(field) = &item.field else { return };
    let name = field.value.as_str();
    let def = match scope.schema.field(&scope.category, name) {
        Some(d) => d,
        None => {
            match scope.schema.aliases.get(name) {
                Some(alias) => {
                    let d = Diagnostic::new(
                        Code::DeprecatedField,
                        field.span,
                        format!("`{name}` is a deprecated name of `{}`", alias.to),
                    )
                    .with_help(format!(
                        "use `{}`{}",
                        alias.to,
                        if alias.doc.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", alias.doc)
                        }
                    ));
                    diags.push(d);
                    match scope.schema.field(&scope.category, &alias.to) {
                        Some(d) => d,
                        None => {
                            diags.error(Code::UnknownField, field.span, format!("`{}` (the new name of `{name}`) is not a field of category `{}`", alias.to, scope.category));
                            return;
                        }
                    }
                }
                None => {
                    let names = scope.schema.field_names(&scope.category);
                    let mut sugg = suggest(name, names.iter().copied(), 3);
                    if sugg.is_empty() {
                        // A field of another category is a common mistake: name that category.
                        let owners: Vec<&str> = scope
                            .schema
                            .categories
                            .iter()
                            .filter(|(_, c)| c.fields.contains_key(name))
                            .map(|(n, _)| n.as_str())
                            .collect();
                        if !owners.is_empty() {
                            diags.push(
                                Diagnostic::new(
                                    Code::UnknownField,
                                    field.span,
                                    format!(
                                        "field `{name}` does not exist in category `{}`",
                                        scope.category
                                    ),
                                )
                                .with_help(format!(
                                    "`{name}` is a field of {}: check the rule's `logsource.category`",
                                    owners.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                                )),
                            );
                            return;
                        }
                        sugg = suggest(
                            name,
                            scope
                                .schema
                                .categories
                                .values()
                                .flat_map(|c| c.fields.keys().map(String::as_str)),
                            0,
                        );
                    }
                    let mut d = Diagnostic::new(
                        Code::UnknownField,
                        field.span,
                        format!(
                            "field `{name}` does not exist in category `{}`",
                            scope.category
                        ),
                    );
                    if let Some(h) = did_you_mean(&sugg) {
                        d = d.with_help(h);
                    } else {
                        d = d.with_help(
                            "run `aisigma schema --category ".to_string()
                                + &scope.category
                                + "` to list the fields",
                        );
                    }
                    diags.push(d);
                    return;
                }
            }
        }
    };
    check_modifiers_fit(item, def, diags);
}

fn mismatch(diags: &mut Diagnostics, item: &FieldItem, m: Modifier, def: &FieldDef, help: &str) {
    let span = item
        .modifiers
        .iter()
        .find(|x| x.value == m)
        .map(|x| x.span)
        .unwrap_or(item.key_span);
    diags.push(
        Diagnostic::new(
            Code::ModifierTypeMismatch,
            span,
            format!(
                "modifier `{m}` does not apply to `{}`, which is of type {}",
                def.name, def.ty
            ),
        )
        .with_help(help.to_string()),
    );
}

/// Whether a modifier applies to a field of a type (AIS402 when it does not).
pub fn modifier_fits(m: Modifier, base: BaseType) -> bool {
    match m {
        Modifier::Exists | Modifier::Neq | Modifier::All | Modifier::Fieldref => true,
        _ if base == BaseType::Json => false,
        Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte => base.is_numeric(),
        Modifier::Cidr => base == BaseType::Ip,
        m if m.is_time_part() => base == BaseType::Timestamp,
        m if m.needs_string() => base == BaseType::String,
        _ => true,
    }
}

fn check_modifiers_fit(item: &FieldItem, def: &FieldDef, diags: &mut Diagnostics) {
    let base = def.ty.base;
    let mut ok = true;
    for m in item.modifiers.iter().map(|m| m.value) {
        if !modifier_fits(m, base) {
            ok = false;
            let help = match (m, base) {
                (_, BaseType::Json) => "json fields hold structured content: test them with `exists` or `null`, or match the derived text fields (e.g. `ai.prompt.text`, `ai.response.text`, `ai.tool.args.text`)".to_string(),
                (Modifier::Cidr, _) => "`cidr` needs an ip field".to_string(),
                (m, _) if m.is_compare() => "comparisons need an int or float field".to_string(),
                (m, _) if m.is_time_part() => "date-part modifiers need a timestamp field".to_string(),
                (_, BaseType::Ip) => "match ip fields with a plain address or `cidr`".to_string(),
                (_, b) if b.is_numeric() => "match numbers with a plain value or `gt`, `gte`, `lt`, `lte`".to_string(),
                _ => format!("`{m}` needs a string field"),
            };
            mismatch(diags, item, m, def, &help);
        }
    }
    if !ok {
        return;
    }
    let has = |m: Modifier| item.has(m);
    if has(Modifier::Exists)
        || has(Modifier::Fieldref)
        || has(Modifier::Cidr)
        || item.modifiers.iter().any(|m| m.value.is_time_part())
    {
        return; // values are checked by lowering for these
    }
    let compare = item.modifiers.iter().any(|m| m.value.is_compare());
    for v in &item.values {
        let number = match &v.value {
            Value::Int(_) | Value::Float(_) => true,
            Value::Str(s) => s.trim().parse::<f64>().is_ok(),
            _ => false,
        };
        // A comparison with something that is not a number is one error, from lowering.
        if compare && !number {
            continue;
        }
        check_value(item, v, def, diags);
    }
}

fn check_value(item: &FieldItem, v: &ValueNode, def: &FieldDef, diags: &mut Diagnostics) {
    if v.value == Value::Null {
        return;
    }
    let bad = |diags: &mut Diagnostics, what: &str| {
        diags.push(Diagnostic::new(
            Code::ValueTypeMismatch,
            v.span,
            format!(
                "`{}` is not a valid {what} for `{}` ({})",
                v.raw, def.name, def.ty
            ),
        ));
    };
    match def.ty.base {
        BaseType::Int => {
            let ok = match &v.value {
                Value::Int(_) => true,
                Value::Str(s) => s.trim().parse::<i64>().is_ok(),
                Value::Float(f) => {
                    item.modifiers.iter().any(|m| m.value.is_compare()) && f.is_finite()
                }
                _ => false,
            };
            if !ok {
                bad(diags, "integer");
            }
        }
        BaseType::Float => {
            let ok = match &v.value {
                Value::Int(_) => true,
                Value::Float(f) => f.is_finite(),
                Value::Str(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
                _ => false,
            };
            if !ok {
                bad(diags, "number");
            }
        }
        BaseType::Bool => {
            let ok = match &v.value {
                Value::Bool(_) => true,
                Value::Str(s) => s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false"),
                _ => false,
            };
            if !ok {
                bad(diags, "boolean");
            }
        }
        BaseType::Ip => {
            if v.text().parse::<std::net::IpAddr>().is_err() {
                diags.push(
                    Diagnostic::new(
                        Code::ValueTypeMismatch,
                        v.span,
                        format!(
                            "`{}` is not an IP address (`{}` is of type {})",
                            v.raw, def.name, def.ty
                        ),
                    )
                    .with_help("to match a range, use `|cidr` with e.g. `10.0.0.0/8`"),
                );
            }
        }
        BaseType::Timestamp => {
            if crate::syntax::time::parse_timestamp(&v.text()).is_none() {
                diags.push(
                    Diagnostic::new(Code::ValueTypeMismatch, v.span, format!("`{}` is not an RFC 3339 timestamp (`{}` is of type {})", v.raw, def.name, def.ty))
                        .with_help("write e.g. `2026-01-31T12:00:00Z`, or use a date-part modifier such as `|hour`"),
                );
            }
        }
        BaseType::Json => bad(diags, "value (json fields only take `null` or `exists`)"),
        BaseType::String => check_enum(item, v, def, diags),
    }
}

fn check_enum(item: &FieldItem, v: &ValueNode, def: &FieldDef, diags: &mut Diagnostics) {
    if def.enum_values.is_empty()
        || item.has(Modifier::Re)
        || item
            .modifiers
            .iter()
            .any(|m| m.value.is_encoding() || m.value == Modifier::Expand)
    {
        return;
    }
    let mut pattern = SigmaString::parse(&v.text(), false);
    if item.has(Modifier::Contains) {
        pattern.prepend_any();
        pattern.append_any();
    } else if item.has(Modifier::StartsWith) {
        pattern.append_any();
    } else if item.has(Modifier::EndsWith) {
        pattern.prepend_any();
    }
    let cased = item.has(Modifier::Cased);
    let case = (!cased).then_some(crate::regex::casefold::CaseMode::Ascii);
    let Ok(re) = regex::Regex::new(&pattern.to_regex(case)) else {
        return;
    };
    if def.enum_values.iter().any(|e| re.is_match(e)) {
        return;
    }
    let sugg = suggest(&v.text(), def.enum_values.iter().map(String::as_str), 2);
    let listed = def.enum_values.join(", ");
    let (code, kind) = if def.closed {
        (Code::ClosedEnumValue, "allowed")
    } else {
        (Code::OpenEnumValue, "known")
    };
    let mut d = Diagnostic::new(
        code,
        v.span,
        format!(
            "`{}` is not one of the {kind} values of `{}`",
            v.raw, def.name
        ),
    );
    d = d.with_help(match did_you_mean(&sugg) {
        Some(h) => format!("{h} ({kind} values: {listed})"),
        None => format!("{kind} values: {listed}"),
    });
    diags.push(d);
}
