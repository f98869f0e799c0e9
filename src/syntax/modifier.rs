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

    /// What the modifier does, in one sentence (completion and hover in `aisigma lsp`;
    /// docs/rule-format.md has the full table).
    pub fn doc(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "The value occurs anywhere in the field (`*value*`), ignoring case.",
            StartsWith => "The field starts with the value (`value*`), ignoring case.",
            EndsWith => "The field ends with the value (`*value`), ignoring case.",
            All => "Every value of the list must match (instead of any one).",
            Base64 => "Match the Base64 encoding of the value.",
            Base64Offset => {
                "Match the value Base64-encoded at any of the three byte offsets, as it appears inside a longer encoded text."
            }
            Utf16Le => "Encode the value as UTF-16LE (use before `base64`).",
            Utf16Be => "Encode the value as UTF-16BE (use before `base64`).",
            Utf16 => "Encode the value as a byte-order mark and UTF-16LE (use before `base64`).",
            Wide => "Alias of `utf16le`.",
            Windash => {
                "A `-` or `/` that starts a flag also matches `/`, `–`, `—` and `―` (Windows command lines)."
            }
            Re => {
                "The value is a regular expression (PCRE subset; case-sensitive unless `i`), searched anywhere in the field."
            }
            ReI => "Regex flag: ignore case (with `re`).",
            ReM => "Regex flag: `^` and `$` match at line breaks (with `re`).",
            ReS => "Regex flag: `.` matches line breaks (with `re`).",
            Cidr => "The field is an IP address inside the CIDR range (ip fields).",
            Lt => "The field is less than the number (int and float fields).",
            Lte => "The field is less than or equal to the number (int and float fields).",
            Gt => "The field is greater than the number (int and float fields).",
            Gte => "The field is greater than or equal to the number (int and float fields).",
            Exists => "`true`: the field is present and not null; `false`: it is absent or null.",
            Expand => {
                "The value holds `%placeholders%`, replaced by the lists of a placeholder file."
            }
            Fieldref => "The value names another field: both fields hold the same value.",
            Cased => "Compare with case (Sigma compares strings without case by default).",
            Neq => "The field is none of the values.",
            Minute => "The minute (0-59) of a timestamp field equals the value.",
            Hour => "The hour (0-23) of a UTC timestamp field equals the value.",
            Day => "The day of the month (1-31) of a timestamp field equals the value.",
            Week => "The ISO 8601 week (1-53) of a timestamp field equals the value.",
            Month => "The month (1-12) of a timestamp field equals the value.",
            Year => "The year of a timestamp field equals the value.",
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
