//! `rbuild check [-f FILE] [CONTEXT]`: run the build checks and print each
//! warning with its rule, location and source lines, like
//! `docker build --check`.
//!
//! Exit status: 0 when the file is fine or has only warnings; 1 when it
//! cannot be parsed or planned, or when it has warnings and its
//! `# check=error=true` directive turns them into errors.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rbuild_parser::checks::{self, render_snippet, render_warning};
use rbuild_parser::plan::{BuildArgs, PlanOptions};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The Dockerfile (default: CONTEXT/Dockerfile)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set a build-time variable (NAME=VALUE, or NAME to take it from the environment)
    #[arg(long = "build-arg", value_name = "NAME[=VALUE]")]
    pub build_args: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// The build context directory
    #[arg(default_value = ".")]
    pub context: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum CheckFormat {
    /// Warnings with source snippets
    Text,
    /// The report as JSON
    Json,
}

pub fn run(args: CheckArgs) -> anyhow::Result<i32> {
    let input = DockerfileInput::load(args.file.as_deref(), &args.context)?;
    let dockerfile = match rbuild_parser::parse_dockerfile(&input.text, Some(&input.display_name)) {
        Ok(dockerfile) => dockerfile,
        Err(error) => {
            if let CheckFormat::Json = args.format {
                let json = serde_json::json!({
                    "file": input.display_name,
                    "warnings": [],
                    "error": error.to_string(),
                    "error_span": error.span,
                });
                println!("{}", serde_json::to_string_pretty(&json)?);
            } else {
                eprint!("{}", error.render(&input.text));
                eprintln!("Check complete: the Dockerfile could not be parsed.");
            }
            return Ok(1);
        }
    };
    let options = PlanOptions {
        build_args: parse_build_args(&args.build_args)?,
        ..PlanOptions::default()
    };
    let report = match checks::check(&dockerfile, &options) {
        Ok(report) => report,
        Err(error) => {
            eprintln!(
                "error: {}: invalid # check= directive: {error}",
                input.display_name
            );
            return Ok(1);
        }
    };

    if let CheckFormat::Json = args.format {
        let json = serde_json::json!({
            "file": input.display_name,
            "warnings": report.warnings,
            "error": report.plan_error.as_ref().map(|e| e.to_string()),
            "error_span": report.plan_error.as_ref().and_then(|e| e.span()),
            "config": report.config,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(i32::from(report.fails()));
    }

    for warning in &report.warnings {
        println!(
            "{}",
            render_warning(warning, &input.display_name, &input.text)
        );
    }
    if let Some(error) = &report.plan_error {
        eprintln!("ERROR: {error}");
        if let Some(span) = error.span() {
            eprint!("{}", render_snippet(&input.display_name, &input.text, span));
        }
    }
    println!(
        "{}",
        summary(
            report.warnings.len(),
            report.plan_error.is_some(),
            report.config.error_on_warning
        )
    );
    Ok(i32::from(report.fails()))
}

/// The closing line: how many warnings, and whether they fail the build.
fn summary(warnings: usize, has_error: bool, error_on_warning: bool) -> String {
    let noun = if warnings == 1 { "warning" } else { "warnings" };
    match (warnings, has_error) {
        (0, false) => "Check complete, no warnings found.".to_string(),
        (0, true) => {
            "Check complete, no warnings found, but the Dockerfile has an error.".to_string()
        }
        (n, true) => format!("Check complete, {n} {noun} found, and the Dockerfile has an error."),
        (n, false) if error_on_warning => {
            format!(
                "Check complete, {n} {noun} found; failing because the check directive sets error=true."
            )
        }
        (n, false) => format!("Check complete, {n} {noun} found!"),
    }
}

/// A Dockerfile read from disk, with the name used in messages.
pub(crate) struct DockerfileInput {
    pub display_name: String,
    pub text: String,
}

impl DockerfileInput {
    /// `-f FILE` if given, else `CONTEXT/Dockerfile` (as `docker build`).
    pub(crate) fn load(file: Option<&Path>, context: &Path) -> anyhow::Result<Self> {
        let path = match file {
            Some(file) => file.to_path_buf(),
            None => context.join("Dockerfile"),
        };
        let bytes = std::fs::read(&path).with_context(|| {
            format!(
                "cannot read the Dockerfile {} (use -f FILE to choose another)",
                path.display()
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not valid UTF-8 (bad byte at offset {}); save it as UTF-8",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        Ok(DockerfileInput {
            display_name: path.display().to_string(),
            text,
        })
    }
}

/// `--build-arg` items, with bare names taken from the environment.
pub(crate) fn parse_build_args(items: &[String]) -> anyhow::Result<BuildArgs> {
    Ok(BuildArgs::from_cli(items, |name| std::env::var(name).ok())?)
}

#[cfg(test)]
mod tests {
    use super::summary;

    #[test]
    fn summary_lines() {
        assert_eq!(
            summary(0, false, false),
            "Check complete, no warnings found."
        );
        assert_eq!(summary(1, false, false), "Check complete, 1 warning found!");
        assert_eq!(
            summary(2, false, false),
            "Check complete, 2 warnings found!"
        );
        assert!(summary(2, false, true).contains("error=true"));
        assert!(summary(0, true, false).contains("error"));
    }
}
