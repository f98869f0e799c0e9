//! The detection IR: a boolean tree of typed predicates over fields.
//!
//! This is what the engine evaluates and what backends render. Every Sigma construct is
//! lowered to it with one meaning, documented in `docs/semantics.md`; modifiers that only
//! transform values (`contains`, `base64offset`, `windash`, `wide`, ...) are already applied.

use crate::syntax::sigma_string::SigmaString;
use crate::syntax::span::Span;
use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// At least `n` of the items (`N of pattern`).
    AtLeast(usize, Vec<Expr>),
    Pred(Pred),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Lt => "<",
            CmpOp::Lte => "<=",
            CmpOp::Gt => ">",
            CmpOp::Gte => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ReFlags {
    pub ignore_case: bool,
    pub multi_line: bool,
    pub dot_all: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    Exact,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// What a predicate tests about a field's value(s).
#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    /// Whole-value match of a wildcard pattern (`contains` etc. already added `*`).
    Str {
        pattern: SigmaString,
        cased: bool,
    },
    /// Unanchored regular expression.
    Regex {
        pattern: String,
        flags: ReFlags,
    },
    /// Numeric comparison; `raw` is the value as written.
    Num {
        op: CmpOp,
        value: f64,
        raw: String,
    },
    Bool(bool),
    /// The field is absent or JSON null.
    Null,
    /// The field is present with a non-null value (`true`), or not (`false`).
    Exists(bool),
    Cidr(ipnet::IpNet),
    /// Compare with the value of another field.
    FieldRef {
        other: String,
        position: Position,
        cased: bool,
    },
    /// A date part of a timestamp field equals `value` (UTC).
    TimePart {
        part: TimePart,
        value: i64,
    },
    /// A `%placeholder%` that no value was given for.
    Placeholder {
        name: String,
    },
}

/// One predicate. `field` is `None` for keyword searches (any value anywhere in the event).
#[derive(Clone, Debug, PartialEq)]
pub struct Pred {
    pub field: Option<String>,
    pub test: Test,
    pub span: Span,
}

impl Expr {
    pub fn and(mut items: Vec<Expr>) -> Expr {
        if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Expr::And(items)
        }
    }
    pub fn or(mut items: Vec<Expr>) -> Expr {
        if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Expr::Or(items)
        }
    }

    /// Visit every predicate.
    pub fn preds<'a>(&'a self, f: &mut impl FnMut(&'a Pred)) {
        match self {
            Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => v.iter().for_each(|e| e.preds(f)),
            Expr::Not(e) => e.preds(f),
            Expr::Pred(p) => f(p),
        }
    }
    /// Push every field the expression reads (both sides of a `fieldref`) onto `out`; false
    /// when it also reads every value (a keyword search).
    pub fn fields_read(&self, out: &mut Vec<String>) -> bool {
        let mut all = false;
        self.preds(&mut |p| match &p.field {
            None => all = true,
            Some(f) => {
                out.push(f.clone());
                if let Test::FieldRef { other, .. } = &p.test {
                    out.push(other.clone());
                }
            }
        });
        !all
    }
}

impl fmt::Display for Expr {
    /// A compact, unambiguous rendering used in snapshots and `--explain` output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, op: &str, v: &[Expr]| -> fmt::Result {
            write!(f, "(")?;
            for (i, e) in v.iter().enumerate() {
                if i > 0 {
                    write!(f, " {op} ")?;
                }
                write!(f, "{e}")?;
            }
            write!(f, ")")
        };
        match self {
            Expr::And(v) => list(f, "and", v),
            Expr::Or(v) => list(f, "or", v),
            Expr::AtLeast(n, v) => {
                write!(f, "atleast{n}")?;
                list(f, ",", v)
            }
            Expr::Not(e) => write!(f, "not {e}"),
            Expr::Pred(p) => {
                let field = p.field.as_deref().unwrap_or("<keyword>");
                match &p.test {
                    Test::Str { pattern, cased } => write!(
                        f,
                        "{field} {} {:?}",
                        if *cased { "=~cased" } else { "=~" },
                        pattern.to_sigma()
                    ),
                    Test::Regex { pattern, flags } => write!(
                        f,
                        "{field} re{}{}{} {pattern:?}",
                        if flags.ignore_case { "i" } else { "" },
                        if flags.multi_line { "m" } else { "" },
                        if flags.dot_all { "s" } else { "" }
                    ),
                    Test::Num { op, raw, .. } => write!(f, "{field} {} {raw}", op.symbol()),
                    Test::Bool(b) => write!(f, "{field} == {b}"),
                    Test::Null => write!(f, "{field} is null"),
                    Test::Exists(b) => write!(f, "{field} exists {b}"),
                    Test::Cidr(n) => write!(f, "{field} in {n}"),
                    Test::FieldRef {
                        other,
                        position,
                        cased,
                    } => write!(
                        f,
                        "{field} {position:?}{} field({other})",
                        if *cased { " cased" } else { "" }
                    ),
                    Test::TimePart { part, value } => write!(f, "{part:?}({field}) == {value}"),
                    Test::Placeholder { name } => write!(f, "{field} in %{name}%"),
                }
            }
        }
    }
}

/// The Rust-regex form of a Sigma regex with flags.
pub fn regex_source(pattern: &str, flags: ReFlags) -> String {
    crate::regex::translate::engine_source(pattern, &regex_flags(flags))
}

/// [`regex_source`] under the default case contract: case-insensitivity folds ASCII letters
/// only ([`crate::regex::translate::engine_source_ascii`]).
pub fn regex_source_ascii(pattern: &str, flags: ReFlags) -> String {
    crate::regex::translate::engine_source_ascii(pattern, &regex_flags(flags))
}

fn regex_flags(flags: ReFlags) -> String {
    let mut f = String::new();
    if flags.ignore_case {
        f.push('i');
    }
    if flags.multi_line {
        f.push('m');
    }
    if flags.dot_all {
        f.push('s');
    }
    f
}

/// An address as the engine compares it: an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the
/// IPv4 address, as Elasticsearch's `ip` fields store it.
pub fn canonical_ip(ip: std::net::IpAddr) -> std::net::IpAddr {
    ip.to_canonical()
}

/// A CIDR range as the engine reads it: a range inside `::ffff:0:0/96` is the IPv4 range it
/// maps.
pub fn canonical_net(net: ipnet::IpNet) -> ipnet::IpNet {
    if let ipnet::IpNet::V6(n) = net
        && n.prefix_len() >= 96
        && let std::net::IpAddr::V4(v4) = std::net::IpAddr::V6(n.network()).to_canonical()
        && let Ok(v) = ipnet::Ipv4Net::new(v4, n.prefix_len() - 96)
    {
        return ipnet::IpNet::V4(v.trunc());
    }
    net.trunc()
}

/// Does the range `net` hold the address `ip` (canonical, [`canonical_ip`])? An IPv6 range
/// also holds the IPv4 addresses whose mapped form it holds (`::/0` holds every address).
pub fn cidr_holds(net: &ipnet::IpNet, ip: std::net::IpAddr) -> bool {
    let ip = canonical_ip(ip);
    net.contains(&ip)
        || matches!((net, ip), (ipnet::IpNet::V6(_), std::net::IpAddr::V4(v4)) if net.contains(&std::net::IpAddr::V6(v4.to_ipv6_mapped())))
}

/// The ranges a target that compares address *text* by family must test, together, to hold
/// what [`cidr_holds`] holds: an IPv4 range also as its mapped IPv6 range (an address written
/// `::ffff:10.0.0.1`); an IPv6 range that covers the mapped space also as the IPv4 range it
/// covers.
pub fn cidr_forms(net: &ipnet::IpNet) -> Vec<ipnet::IpNet> {
    use ipnet::{IpNet, Ipv4Net, Ipv6Net};
    match net {
        IpNet::V4(n) => {
            let mapped = Ipv6Net::new(n.network().to_ipv6_mapped(), n.prefix_len() + 96)
                .map(|m| IpNet::V6(m.trunc()));
            std::iter::once(*net).chain(mapped).collect()
        }
        IpNet::V6(n) => {
            let space = Ipv6Net::new(std::net::Ipv4Addr::UNSPECIFIED.to_ipv6_mapped(), 96)
                .expect("a valid prefix");
            if n.contains(&space) {
                vec![*net, IpNet::V4(Ipv4Net::default())]
            } else {
                vec![*net]
            }
        }
    }
}
