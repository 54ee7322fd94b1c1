//! `oomcheck hook install`: a plain git pre-commit hook for people without the pre-commit
//! framework. The hook lints the staged Rust files and refuses the commit on findings.
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, Subcommand};

use crate::Status;

/// Arguments of `oomcheck hook`.
#[derive(Args, Debug)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

/// What to do with the hook.
#[derive(Subcommand, Debug)]
pub enum HookAction {
    /// Write `.git/hooks/pre-commit` (honours `core.hooksPath`) that lints staged Rust files.
    Install {
        /// Replace an existing pre-commit hook.
        #[arg(long)]
        force: bool,
        /// The repository (default: the one containing the current directory).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
}

/// The hook script. `{exe}` is this binary's path at install time, used when `oomcheck` is
/// not on the PATH of the committing shell.
fn hook_script(exe: &str) -> String {
    format!(
        r#"#!/usr/bin/env bash
# oomcheck pre-commit hook, written by `oomcheck hook install`.
# Lints the Rust files staged for this commit; a finding refuses the commit.
# Skip once with `git commit --no-verify`.
set -euo pipefail
oomcheck=oomcheck
command -v oomcheck >/dev/null 2>&1 || oomcheck={exe}
files=()
while IFS= read -r -d '' f; do files+=("$f"); done \
  < <(git diff --cached --name-only --diff-filter=ACMR -z -- '*.rs')
[ ${{#files[@]}} -eq 0 ] && exit 0
exec "$oomcheck" lint --format short -- "${{files[@]}}"
"#,
        exe = shell_quote(exe)
    )
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Run `oomcheck hook …`.
pub fn execute(args: &HookArgs) -> Status {
    match &args.action {
        HookAction::Install { force, repo } => match install(repo.as_deref(), *force) {
            Ok(path) => {
                println!("installed pre-commit hook at {}", path.display());
                Status::Clean
            }
            Err(e) => {
                eprintln!("error: {e}");
                Status::Error
            }
        },
    }
}

/// Why the hook could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// `git` could not be started.
    #[error("cannot run git: {0}")]
    NoGit(#[source] std::io::Error),
    /// `git rev-parse` failed (its stderr, trimmed): not inside a repository.
    #[error("not a git repository: {0}")]
    NotARepository(String),
    /// A pre-commit hook is there already and `--force` was not given.
    #[error("{} already exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// The hooks folder could not be created.
    #[error("cannot create {}: {}", .0.display(), .1)]
    CreateFolder(PathBuf, #[source] std::io::Error),
    /// The hook could not be written.
    #[error("cannot write {}: {}", .0.display(), .1)]
    Write(PathBuf, #[source] std::io::Error),
    /// The hook could not be made executable.
    #[error("cannot make {} executable: {}", .0.display(), .1)]
    MakeExecutable(PathBuf, #[source] std::io::Error),
}

/// Install the hook; returns its path.
fn install(repo: Option<&Path>, force: bool) -> Result<PathBuf, HookError> {
    let mut git = Command::new("git");
    if let Some(dir) = repo {
        git.arg("-C").arg(dir);
    }
    let out = git
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .map_err(HookError::NoGit)?;
    if !out.status.success() {
        return Err(HookError::NotARepository(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let hooks = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let hook = hooks.join("pre-commit");
    if hook.exists() && !force {
        return Err(HookError::Exists(hook));
    }
    std::fs::create_dir_all(&hooks).map_err(|e| HookError::CreateFolder(hooks.clone(), e))?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "oomcheck".to_owned());
    std::fs::write(&hook, hook_script(&exe)).map_err(|e| HookError::Write(hook.clone(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| HookError::MakeExecutable(hook.clone(), e))?;
    }
    Ok(hook)
}
