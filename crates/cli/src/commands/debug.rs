//! `rbuild debug …`: aids for looking inside the parser.
//!
//! `rbuild debug parse [--format buildkit|json] FILE` prints the parsed
//! Dockerfile: `buildkit` is BuildKit's parser test dump (one
//! s-expression per instruction), `json` the typed AST with spans.

use std::path::PathBuf;

use super::check::DockerfileInput;

#[derive(clap::Subcommand)]
pub enum DebugCommand {
    /// Print the AST of a Dockerfile
    Parse {
        /// Output format
        #[arg(long, value_enum, default_value_t = DumpFormat::Buildkit)]
        format: DumpFormat,
        /// The Dockerfile
        file: PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DumpFormat {
    /// BuildKit's test dump format
    Buildkit,
    /// The typed AST as JSON
    Json,
}

pub fn run(cmd: DebugCommand) -> anyhow::Result<i32> {
    match cmd {
        DebugCommand::Parse { format, file } => {
            let input = DockerfileInput::load(Some(&file), &file)?;
            let dockerfile =
                match rbuild_parser::parse_dockerfile(&input.text, Some(&input.display_name)) {
                    Ok(dockerfile) => dockerfile,
                    Err(error) => {
                        eprint!("{}", error.render(&input.text));
                        return Ok(1);
                    }
                };
            match format {
                DumpFormat::Buildkit => print!("{}", rbuild_parser::buildkit_dump(&dockerfile)),
                DumpFormat::Json => println!("{}", serde_json::to_string_pretty(&dockerfile)?),
            }
            Ok(0)
        }
    }
}
