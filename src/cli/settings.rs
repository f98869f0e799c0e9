//! `aisigma.toml`: a project's defaults, found upward from the working directory. A
//! command-line flag always wins over the file, and the file over the built-in default. Paths
//! in the file are relative to the file's folder (README, "Project config"). The commands ask
//! this module for each setting; `aisigma config show` prints them with their origin.

use aisigma::backend::target::Target;
use clap::ValueEnum;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use toml::Spanned;

/// The file name searched for.
pub const FILE_NAME: &str = "aisigma.toml";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    rules: Option<Spanned<Vec<String>>>,
    schema: Option<Spanned<Vec<String>>>,
    max_file_size: Option<Spanned<u64>>,
    targets: Option<Spanned<Vec<String>>>,
    source: Option<Spanned<String>>,
    mappings: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    templates: Option<Spanned<String>>,
    allow_refusals: Option<Spanned<bool>>,
}

/// Where a value comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Default,
    /// The config file, and the line of the key.
    File(String, usize),
    CommandLine,
}

impl Origin {
    pub fn describe(&self) -> String {
        match self {
            Origin::Default => "default".into(),
            Origin::File(f, line) => format!("{f}:{line}"),
            Origin::CommandLine => "command line".into(),
        }
    }
}

/// A value of the config file with its line.
#[derive(Clone, Debug)]
pub struct Valued<T> {
    pub value: T,
    pub line: usize,
}

/// The project config: the file's values, paths resolved against its folder.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file, as shown (relative to the working directory when it was found upward).
    pub file: Option<String>,
    pub rules: Option<Valued<Vec<PathBuf>>>,
    pub schema: Option<Valued<Vec<PathBuf>>>,
    pub max_file_size: Option<Valued<u64>>,
    pub targets: Option<Valued<Vec<Target>>>,
    pub source: Option<Valued<String>>,
    /// Per target name, a mapping file.
    pub mappings: BTreeMap<String, Valued<PathBuf>>,
    pub templates: Option<Valued<PathBuf>>,
    pub allow_refusals: Option<Valued<bool>>,
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// Load the config once, before any command runs: `explicit` (from `--config`), else the
/// first `aisigma.toml` in the working directory or above it; none with `disabled`
/// (`--no-config`).
pub fn init(explicit: Option<&Path>, disabled: bool) -> Result<(), String> {
    let config = if disabled {
        Config::default()
    } else if let Some(p) = explicit {
        parse_file(p)?
    } else {
        match discover() {
            Some(p) => parse_file(&p)?,
            None => Config::default(),
        }
    };
    let _ = CONFIG.set(config);
    Ok(())
}

/// The config (empty when [`init`] was not called, as in library use).
pub fn get() -> &'static Config {
    CONFIG.get_or_init(Config::default)
}

/// The nearest `aisigma.toml`, as a path relative to the working directory (`aisigma.toml`,
/// `../aisigma.toml`, ...): nothing absolute reaches the output.
fn discover() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let mut rel = PathBuf::new();
    for dir in cwd.ancestors() {
        if dir.join(FILE_NAME).is_file() {
            return Some(rel.join(FILE_NAME));
        }
        rel.push("..");
    }
    None
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Parse a config file; paths in it are taken relative to its folder.
pub fn parse_file(path: &Path) -> Result<Config, String> {
    let shown = aisigma::syntax::load::display_path(path);
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    parse(&text, &shown, path.parent().unwrap_or(Path::new("")))
}

/// Parse config text; `dir` is the folder its paths are relative to.
pub fn parse(text: &str, shown: &str, dir: &Path) -> Result<Config, String> {
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| format!(":{}", line_of(text, s.start)))
            .unwrap_or_default();
        format!("{shown}{at}: {}", e.message().trim_end())
    })?;
    let line = |s: std::ops::Range<usize>| line_of(text, s.start);
    let path = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() || dir.as_os_str().is_empty() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let paths = |v: Spanned<Vec<String>>| Valued {
        line: line(v.span()),
        value: v.get_ref().iter().map(|p| path(p)).collect(),
    };
    if let Some(r) = &raw.rules
        && r.get_ref().is_empty()
    {
        return Err(format!(
            "{shown}:{}: `rules` is empty: name the rule folders, or leave the key out (the working directory)",
            line(r.span())
        ));
    }
    let mut targets = None;
    if let Some(t) = raw.targets {
        let mut list = Vec::new();
        for name in t.get_ref() {
            let target = Target::from_str(name, true).map_err(|_| {
                let all: Vec<String> = Target::value_variants()
                    .iter()
                    .filter_map(|t| t.to_possible_value().map(|v| v.get_name().to_string()))
                    .collect();
                format!(
                    "{shown}:{}: unknown target `{name}` in `targets`; the targets are {}",
                    line(t.span()),
                    all.join(", ")
                )
            })?;
            if list.contains(&target) {
                return Err(format!(
                    "{shown}:{}: `targets` names `{}` twice",
                    line(t.span()),
                    target.name()
                ));
            }
            list.push(target);
        }
        if list.is_empty() {
            return Err(format!("{shown}:{}: `targets` is empty", line(t.span())));
        }
        targets = Some(Valued {
            line: line(t.span()),
            value: list,
        });
    }
    let mut mappings = BTreeMap::new();
    if let Some(m) = raw.mappings {
        for (name, file) in m.into_inner() {
            if Target::from_str(&name, true).is_err() {
                return Err(format!(
                    "{shown}:{}: `mappings` names `{name}`, which is not a target",
                    line(file.span())
                ));
            }
            if mappings.contains_key(&name.to_lowercase()) {
                return Err(format!(
                    "{shown}:{}: `mappings` names target `{}` twice",
                    line(file.span()),
                    name.to_lowercase()
                ));
            }
            mappings.insert(
                name.to_lowercase(),
                Valued {
                    line: line(file.span()),
                    value: path(file.get_ref()),
                },
            );
        }
    }
    Ok(Config {
        file: Some(shown.to_string()),
        rules: raw.rules.map(paths),
        schema: raw.schema.map(paths),
        max_file_size: raw.max_file_size.map(|v| Valued {
            line: line(v.span()),
            value: *v.get_ref(),
        }),
        targets,
        source: match raw.source {
            None => None,
            Some(v) => Some(Valued {
                line: line(v.span()),
                value: source(v.get_ref(), &path)
                    .map_err(|e| format!("{shown}:{}: {e}", line(v.span())))?,
            }),
        },
        mappings,
        templates: raw.templates.map(|v| Valued {
            line: line(v.span()),
            value: path(v.get_ref()),
        }),
        allow_refusals: raw.allow_refusals.map(|v| Valued {
            line: line(v.span()),
            value: *v.get_ref(),
        }),
    })
}

/// A `source`: a built-in pack's name, or a pack file (relative to the config's folder).
fn source(name: &str, path: &dyn Fn(&str) -> PathBuf) -> Result<String, String> {
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        return Ok(aisigma::syntax::load::display_path(&path(name)));
    }
    match aisigma::source::builtin(name) {
        Some(_) => Ok(name.to_string()),
        None => Err(format!(
            "unknown source `{name}`: {}",
            aisigma::source::help_for(name)
        )),
    }
}

impl Config {
    pub fn origin<T>(&self, v: &Option<Valued<T>>) -> Origin {
        match (v, &self.file) {
            (Some(v), Some(f)) => Origin::File(f.clone(), v.line),
            _ => Origin::Default,
        }
    }

    /// Rule paths: the command line's, else the file's `rules`, else `fallback`.
    pub fn rule_paths(&self, given: &[PathBuf], fallback: &str) -> Vec<PathBuf> {
        self.rule_paths_with_origin(given, fallback).0
    }

    pub fn rule_paths_with_origin(
        &self,
        given: &[PathBuf],
        fallback: &str,
    ) -> (Vec<PathBuf>, Origin) {
        if !given.is_empty() {
            return (given.to_vec(), Origin::CommandLine);
        }
        match &self.rules {
            Some(r) => (r.value.clone(), self.origin(&self.rules)),
            None => (vec![PathBuf::from(fallback)], Origin::Default),
        }
    }

    /// Schema files: the command line's, else the file's.
    pub fn schema_files(&self, given: &[PathBuf]) -> Vec<PathBuf> {
        if !given.is_empty() {
            return given.to_vec();
        }
        self.schema
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_default()
    }

    pub fn max_file_size(&self, given: Option<u64>) -> u64 {
        given
            .or(self.max_file_size.as_ref().map(|v| v.value))
            .unwrap_or(aisigma::syntax::load::DEFAULT_MAX_FILE_SIZE)
    }

    /// The targets to compile for: the command line's one, else the file's list.
    pub fn targets(&self, given: Option<Target>) -> Vec<Target> {
        match given {
            Some(t) => vec![t],
            None => self
                .targets
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
        }
    }

    pub fn source(&self, given: Option<&str>) -> String {
        given
            .map(str::to_string)
            .or(self.source.as_ref().map(|s| s.value.clone()))
            .unwrap_or_else(|| aisigma::source::DEFAULT.to_string())
    }

    /// The mapping file for a target: the command line's, else the file's for that target.
    pub fn mapping(&self, given: Option<&Path>, target: Target) -> Option<PathBuf> {
        given
            .map(Path::to_path_buf)
            .or_else(|| self.mappings.get(target.name()).map(|m| m.value.clone()))
    }

    pub fn templates(&self, given: Option<&Path>) -> Option<PathBuf> {
        given
            .map(Path::to_path_buf)
            .or_else(|| self.templates.as_ref().map(|t| t.value.clone()))
    }

    /// The refusal policy: `--allow-refusals` or `--no-allow-refusals`, else the file's.
    pub fn allow_refusals(&self, allow: bool, deny: bool) -> bool {
        if allow || deny {
            return allow;
        }
        self.allow_refusals.as_ref().is_some_and(|v| v.value)
    }
}
