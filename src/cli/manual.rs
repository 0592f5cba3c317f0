//! `diaspora completions SHELL` and `diaspora man`: shell completion scripts (clap_complete)
//! and roff manual pages (clap_mangen), both generated from the command-line definition itself.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;

use diaspora::output::write_files;

use super::{Cli, CliError};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// Shell to complete for.
    shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write one page per command (diaspora.1, diaspora-run.1, ...) into this folder instead of
    /// printing diaspora.1.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script; install e.g. with
/// `diaspora completions bash > ~/.local/share/bash-completion/completions/diaspora`.
pub fn completions(args: CompletionsArgs) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "diaspora", &mut script);
    print_bytes(&script)
}

pub fn man(args: ManArgs) -> Result<(), CliError> {
    let pages = pages().context("cannot render the manual pages")?;
    match args.dir {
        None => print_bytes(&pages[0].1),
        Some(dir) => {
            let files: Vec<(&str, Vec<u8>)> =
                pages.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
            write_files(&dir, &files)
                .with_context(|| format!("cannot write manual pages to {}", dir.display()))?;
            say!("wrote {} manual pages to {}", pages.len(), dir.display());
            Ok(())
        }
    }
}

/// Every page as (file name, roff), the top-level page first.
fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        let man = Man::new(cmd.clone());
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        out.push((man.get_filename(), roff));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, out)?;
        }
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out)?;
    Ok(out)
}

fn print_bytes(bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Failure(
            anyhow::anyhow!("cannot write to stdout: {e}"),
        )),
        _ => Ok(()),
    }
}
