//! Source packs: real AI telemetry (Bedrock invocation logs, CloudTrail, Azure APIM, OTLP, ...)
//! described as data (`backends/sources/NAME.yaml`, embedded). In: a pack's name. Out: the
//! pack's landing on each target as a [`Mapping`](crate::backend::mapping::Mapping) for
//! `compile --source` ([`pack`]), and raw records as schema events for `scan --source`
//! ([`normalize`], with [`path`] and [`otlp`]). docs/sources.md has the format.

pub mod normalize;
pub mod otlp;
pub mod pack;
pub mod path;
pub mod runs;

use crate::backend::mapping::Mapping;
use crate::backend::target::Target;
use pack::Pack;

/// The built-in packs: name and YAML text, sorted by name (`aisigma` first, the default).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "aisigma",
        include_str!("../../backends/sources/aisigma.yaml"),
    ),
    (
        "aws-bedrock-invocation",
        include_str!("../../backends/sources/aws-bedrock-invocation.yaml"),
    ),
    (
        "aws-cloudtrail",
        include_str!("../../backends/sources/aws-cloudtrail.yaml"),
    ),
    (
        "azure-apim-llm",
        include_str!("../../backends/sources/azure-apim-llm.yaml"),
    ),
    (
        "azure-openai-diagnostics",
        include_str!("../../backends/sources/azure-openai-diagnostics.yaml"),
    ),
    (
        "gcp-vertex-audit",
        include_str!("../../backends/sources/gcp-vertex-audit.yaml"),
    ),
    (
        "litellm",
        include_str!("../../backends/sources/litellm.yaml"),
    ),
    ("ocsf", include_str!("../../backends/sources/ocsf.yaml")),
    (
        "openai-audit",
        include_str!("../../backends/sources/openai-audit.yaml"),
    ),
    (
        "otel-genai",
        include_str!("../../backends/sources/otel-genai.yaml"),
    ),
];

/// The default pack: data already in the schema's names, the targets' built-in mappings.
pub const DEFAULT: &str = "aisigma";

/// A built-in pack by name.
pub fn builtin(name: &str) -> Option<Pack> {
    let (_, text) = BUILTIN.iter().find(|(n, _)| *n == name)?;
    Some(Pack::parse(text).expect("built-in source packs are valid (tested)"))
}

/// Every built-in pack.
pub fn all() -> Vec<Pack> {
    BUILTIN.iter().filter_map(|(n, _)| builtin(n)).collect()
}

/// The mapping of a pack on a target: the pack's section for it, or for `aisigma`, the
/// target's built-in mapping; `None` when the source does not land on the target.
pub fn mapping(pack: &Pack, target: Target) -> Option<Mapping> {
    if pack.name == DEFAULT {
        return Some(target.builtin_mapping());
    }
    pack.targets.get(target.name()).cloned()
}

/// A did-you-mean for an unknown pack name (with the list of packs when nothing is close).
pub fn help_for(name: &str) -> String {
    use crate::report::diagnostic::{did_you_mean, suggest};
    let names = BUILTIN.iter().map(|(n, _)| *n);
    did_you_mean(&suggest(name, names.clone(), 2)).unwrap_or_else(|| {
        format!(
            "the source packs are: {}",
            names.collect::<Vec<_>>().join(", ")
        )
    })
}
