//! Sigma value modifiers (spec 2.1 appendix), parsed from `field|mod|mod` keys.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Wide,
    Windash,
    Re,
    /// Regex flag `i`.
    ReI,
    /// Regex flag `m`.
    ReM,
    /// Regex flag `s`.
    ReS,
    Cidr,
    Lt,
    Lte,
    Gt,
    Gte,
    Exists,
    Expand,
    Fieldref,
    Cased,
    Neq,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    pub const ALL_NAMES: &'static [&'static str] = &[
        "contains",
        "startswith",
        "endswith",
        "all",
        "base64",
        "base64offset",
        "utf16le",
        "utf16be",
        "utf16",
        "wide",
        "windash",
        "re",
        "i",
        "m",
        "s",
        "cidr",
        "lt",
        "lte",
        "gt",
        "gte",
        "exists",
        "expand",
        "fieldref",
        "cased",
        "neq",
        "minute",
        "hour",
        "day",
        "week",
        "month",
        "year",
    ];

    pub fn parse(s: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match s {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "wide" => Wide,
            "windash" => Windash,
            "re" => Re,
            "i" | "ignorecase" => ReI,
            "m" | "multiline" => ReM,
            "s" | "dotall" => ReS,
            "cidr" => Cidr,
            "lt" => Lt,
            "lte" => Lte,
            "gt" => Gt,
            "gte" => Gte,
            "exists" => Exists,
            "expand" => Expand,
            "fieldref" => Fieldref,
            "cased" => Cased,
            "neq" => Neq,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16Le => "utf16le",
            Utf16Be => "utf16be",
            Utf16 => "utf16",
            Wide => "wide",
            Windash => "windash",
            Re => "re",
            ReI => "i",
            ReM => "m",
            ReS => "s",
            Cidr => "cidr",
            Lt => "lt",
            Lte => "lte",
            Gt => "gt",
            Gte => "gte",
            Exists => "exists",
            Expand => "expand",
            Fieldref => "fieldref",
            Cased => "cased",
            Neq => "neq",
            Minute => "minute",
            Hour => "hour",
            Day => "day",
            Week => "week",
            Month => "month",
            Year => "year",
        }
    }

    pub fn is_compare(self) -> bool {
        matches!(
            self,
            Modifier::Lt | Modifier::Lte | Modifier::Gt | Modifier::Gte
        )
    }

    pub fn is_time_part(self) -> bool {
        use Modifier::*;
        matches!(self, Minute | Hour | Day | Week | Month | Year)
    }

    pub fn is_re_flag(self) -> bool {
        matches!(self, Modifier::ReI | Modifier::ReM | Modifier::ReS)
    }

    pub fn is_encoding(self) -> bool {
        use Modifier::*;
        matches!(
            self,
            Base64 | Base64Offset | Utf16Le | Utf16Be | Utf16 | Wide
        )
    }

    pub fn is_string_position(self) -> bool {
        matches!(
            self,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
        )
    }

    /// Modifiers that only make sense on string values.
    pub fn needs_string(self) -> bool {
        self.is_string_position()
            || self.is_encoding()
            || matches!(
                self,
                Modifier::Windash | Modifier::Re | Modifier::Expand | Modifier::Cased
            )
            || self.is_re_flag()
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
