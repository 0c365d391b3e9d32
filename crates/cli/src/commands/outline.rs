//! `rbuild outline [-f FILE] [--target T] [--build-arg K=V] [--format text|json] [CONTEXT]`:
//! the stages a target needs, their dependencies, the arguments they use
//! (default and value in effect) and the targets of the file.

use std::fmt::Write as _;
use std::path::PathBuf;

use rbuild_parser::plan::{self, ArgSource, Outline, PlanOptions};

use super::check::{DockerfileInput, parse_build_args};

#[derive(clap::Args)]
pub struct OutlineArgs {
    /// The Dockerfile (default: CONTEXT/Dockerfile)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The stage to outline (default: the last one)
    #[arg(long)]
    pub target: Option<String>,
    /// Set a build-time variable (NAME=VALUE, or NAME to take it from the environment)
    #[arg(long = "build-arg", value_name = "NAME[=VALUE]")]
    pub build_args: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = OutlineFormat::Text)]
    pub format: OutlineFormat,
    /// The build context directory
    #[arg(default_value = ".")]
    pub context: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutlineFormat {
    /// A readable summary
    Text,
    /// The outline as JSON
    Json,
}

pub fn run(args: OutlineArgs) -> anyhow::Result<i32> {
    let input = DockerfileInput::load(args.file.as_deref(), &args.context)?;
    let dockerfile = match rbuild_parser::parse_dockerfile(&input.text, Some(&input.display_name)) {
        Ok(dockerfile) => dockerfile,
        Err(error) => {
            eprint!("{}", error.render(&input.text));
            return Ok(1);
        }
    };
    let options = PlanOptions {
        target: args.target.clone(),
        build_args: parse_build_args(&args.build_args)?,
        ..PlanOptions::default()
    };
    let graph = match plan::plan(&dockerfile, &options) {
        Ok(graph) => graph,
        Err(error) => {
            eprintln!("error: {error}");
            if let Some(span) = error.span() {
                eprint!(
                    "{}",
                    rbuild_parser::checks::render_snippet(&input.display_name, &input.text, span)
                );
            }
            return Ok(1);
        }
    };
    let mut outline = plan::outline(&graph);
    plan::describe(&mut outline, &input.text);
    match args.format {
        OutlineFormat::Json => println!("{}", serde_json::to_string_pretty(&outline)?),
        OutlineFormat::Text => print!("{}", render_text(&outline)),
    }
    Ok(0)
}

fn render_text(outline: &Outline) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "TARGET: {} (stage {})",
        outline.target, outline.target_index
    );

    let _ = writeln!(out, "\nSTAGES:");
    for stage in &outline.stages {
        let platform = stage
            .platform
            .as_ref()
            .map(|p| format!(" --platform={p}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {}: FROM{platform} {} (line {})",
            stage.index, stage.name, stage.base, stage.line
        );
        for need in &stage.needs {
            let _ = writeln!(out, "      needs {need}");
        }
    }

    let _ = writeln!(out, "\nBUILD ARGS:");
    if outline.args.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for arg in &outline.args {
        let value = arg
            .value
            .as_deref()
            .map_or_else(|| "(unset)".to_string(), |v| format!("{v:?}"));
        let default = arg
            .default
            .as_deref()
            .map_or_else(|| "none".to_string(), |d| format!("{d:?}"));
        let source = match arg.source {
            ArgSource::Default => "default",
            ArgSource::BuildArg => "--build-arg",
            ArgSource::Global => "global",
            ArgSource::Unset => "unset",
        };
        let _ = writeln!(
            out,
            "  {} = {value}  (default {default}, from {source}; used in {})",
            arg.name,
            arg.scope.join(", ")
        );
        if let Some(description) = &arg.description {
            let _ = writeln!(out, "      {description}");
        }
    }

    for (title, mounts) in [("SECRETS", &outline.secrets), ("SSH", &outline.ssh)] {
        if mounts.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}:");
        for mount in mounts {
            let required = if mount.required {
                "required"
            } else {
                "optional"
            };
            let _ = writeln!(out, "  {} ({required}, line {})", mount.id, mount.line);
        }
    }

    let _ = writeln!(out, "\nTARGETS:");
    for target in &outline.targets {
        let name = target
            .name
            .clone()
            .unwrap_or_else(|| format!("stage-{}", target.index));
        let default = if target.is_default { ", default" } else { "" };
        let description = outline
            .target_descriptions
            .get(&target.index)
            .map(|d| format!(" - {d}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {name} (stage {}{default}): FROM {}{description}",
            target.index, target.base
        );
    }
    if !outline.unused_build_args.is_empty() {
        let _ = writeln!(
            out,
            "\nWARNING: build arguments not declared by any ARG: {}",
            outline.unused_build_args.join(", ")
        );
    }
    out
}
