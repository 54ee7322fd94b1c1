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
            Err(msg) => {
                eprintln!("error: {msg}");
                Status::Error
            }
        },
    }
}

/// Install the hook; returns its path.
fn install(repo: Option<&Path>, force: bool) -> Result<PathBuf, String> {
    let mut git = Command::new("git");
    if let Some(dir) = repo {
        git.arg("-C").arg(dir);
    }
    let out = git
        .args(["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "not a git repository: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let hooks = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let hook = hooks.join("pre-commit");
    if hook.exists() && !force {
        return Err(format!(
            "{} already exists; pass --force to replace it",
            hook.display()
        ));
    }
    std::fs::create_dir_all(&hooks)
        .map_err(|e| format!("cannot create {}: {e}", hooks.display()))?;
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "oomcheck".to_owned());
    std::fs::write(&hook, hook_script(&exe))
        .map_err(|e| format!("cannot write {}: {e}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", hook.display()))?;
    }
    Ok(hook)
}
