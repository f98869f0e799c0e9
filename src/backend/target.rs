//! The targets: their names, artifact formats, built-in mappings and dialects.

use super::artifact;
use super::dialect::Dialect;
use super::mapping::Mapping;
use super::{eql, esql, kql, lucene, spl, yaral};

/// A query language aisigma compiles to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// Elastic Event Query Language
    Eql,
    /// Elasticsearch query string (Lucene syntax)
    Lucene,
    /// Elasticsearch ES|QL
    Esql,
    /// Microsoft Sentinel KQL
    Kql,
    /// Splunk SPL
    Spl,
    /// Google SecOps (Chronicle) YARA-L 2.0
    Yaral,
}

impl Target {
    /// Every target, in the order of the command line's help.
    pub const ALL: [Target; 6] = [
        Target::Spl,
        Target::Kql,
        Target::Eql,
        Target::Lucene,
        Target::Esql,
        Target::Yaral,
    ];

    /// The target of a name (`spl`, `kql`, ...).
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Eql => "eql",
            Target::Lucene => "lucene",
            Target::Esql => "esql",
            Target::Kql => "kql",
            Target::Spl => "spl",
            Target::Yaral => "yaral",
        }
    }

    /// The artifact formats of the target.
    pub fn formats(self) -> &'static [artifact::Format] {
        use artifact::Format;
        const KIBANA: &[Format] = &[Format {
            name: "kibana-ndjson",
            template: "kibana-ndjson.j2",
            builtin: include_str!("../../backends/elastic/kibana-ndjson.j2"),
            pack: Some("rules.ndjson"),
            extension: "ndjson",
        }];
        const SENTINEL: &[Format] = &[
            Format {
                name: "sentinel-rule",
                template: "sentinel-rule.j2",
                builtin: include_str!("../../backends/kql/sentinel-rule.j2"),
                pack: None,
                extension: "yaml",
            },
            Format {
                name: "sentinel-arm",
                template: "sentinel-arm.j2",
                builtin: include_str!("../../backends/kql/sentinel-arm.j2"),
                pack: None,
                extension: "json",
            },
        ];
        const SPLUNK: &[Format] = &[
            Format {
                name: "savedsearches",
                template: "savedsearches.j2",
                builtin: include_str!("../../backends/spl/savedsearches.j2"),
                pack: Some("savedsearches.conf"),
                extension: "conf",
            },
            Format {
                name: "splunk-app",
                template: "savedsearches.j2",
                builtin: include_str!("../../backends/spl/savedsearches.j2"),
                pack: Some("default/savedsearches.conf"),
                extension: "conf",
            },
        ];
        const CHRONICLE: &[Format] = &[Format {
            name: "chronicle",
            template: "chronicle.j2",
            builtin: include_str!("../../backends/yaral/chronicle.j2"),
            pack: None,
            extension: "yaral",
        }];
        match self {
            Target::Eql | Target::Lucene | Target::Esql => KIBANA,
            Target::Kql => SENTINEL,
            Target::Spl => SPLUNK,
            Target::Yaral => CHRONICLE,
        }
    }

    pub fn format(self, name: &str) -> Option<&'static artifact::Format> {
        self.formats().iter().find(|f| f.name == name)
    }

    /// The built-in mapping file of the target.
    pub fn builtin_mapping(self) -> Mapping {
        let (path, text) = match self {
            Target::Eql => (
                "backends/eql/mapping.yaml",
                include_str!("../../backends/eql/mapping.yaml"),
            ),
            Target::Lucene => (
                "backends/lucene/mapping.yaml",
                include_str!("../../backends/lucene/mapping.yaml"),
            ),
            Target::Esql => (
                "backends/esql/mapping.yaml",
                include_str!("../../backends/esql/mapping.yaml"),
            ),
            Target::Kql => (
                "backends/kql/mapping.yaml",
                include_str!("../../backends/kql/mapping.yaml"),
            ),
            Target::Spl => (
                "backends/spl/mapping.yaml",
                include_str!("../../backends/spl/mapping.yaml"),
            ),
            Target::Yaral => (
                "backends/yaral/mapping.yaml",
                include_str!("../../backends/yaral/mapping.yaml"),
            ),
        };
        Mapping::parse(path, text).expect("built-in mappings are valid (tested)")
    }

    pub fn dialect(self) -> &'static dyn Dialect {
        match self {
            Target::Eql => &eql::Eql,
            Target::Lucene => &lucene::Lucene,
            Target::Esql => &esql::Esql,
            Target::Kql => &kql::Kql,
            Target::Spl => &spl::Spl,
            Target::Yaral => &yaral::SINGLE,
        }
    }

    /// File extension of a query written with `-o`: the target's name.
    pub fn extension(self) -> &'static str {
        self.name()
    }
}
