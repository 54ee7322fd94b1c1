//! Every decision that depends on the terminal is made here, once, from explicit inputs
//! (`is_terminal`, `is_ci`, the `--color` flag, `NO_COLOR` and `OOMCHECK_NARRATE`), so tests can
//! pin each case.
//!
//! Diagnostics are drawn as rustc and clippy draw them: graphically (`× message`, ` ╭─[file:line:col]`,
//! source lines with a caret) on a terminal, the same layout in ASCII without colour into a pipe or
//! CI log (`,-[file:line:col]`, `^`). The screen-reader narration ("Begin snippet for …") is
//! there for those who ask for it: `OOMCHECK_NARRATE=1`.
use std::io::IsTerminal;

use clap::{Args, ValueEnum};

/// Options shared by all subcommands.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// When to use colour and the graphical diagnostic layout.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

/// The `--color` flag.
#[derive(ValueEnum, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always colour, even into a pipe.
    Always,
    /// Never colour.
    Never,
}

/// What the environment looks like, as far as output is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminal {
    /// Whether the output stream is a terminal.
    pub is_terminal: bool,
    /// Whether we run under CI (`CI` is set to something other than `false`/`0`).
    pub is_ci: bool,
    /// Whether `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
    pub no_color: bool,
    /// Whether [`NARRATE`] asks for narrated diagnostics (for screen readers).
    pub narrate: bool,
}

/// The variable that asks for narrated diagnostics instead of drawn ones (`OOMCHECK_NARRATE=1`).
pub const NARRATE: &str = "OOMCHECK_NARRATE";

impl Terminal {
    /// Read the real environment, for stderr (where diagnostics and progress go).
    pub fn detect() -> Terminal {
        let non_empty = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        let is_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        Terminal {
            is_terminal: std::io::stderr().is_terminal(),
            is_ci,
            no_color: non_empty("NO_COLOR"),
            narrate: std::env::var(NARRATE).is_ok_and(|v| !v.is_empty() && v != "0"),
        }
    }
}

/// The output decisions every subcommand follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ui {
    /// Emit ANSI colours.
    pub color: bool,
    /// Draw diagnostics graphically (boxes, arrows); otherwise narrate them in plain text.
    pub graphical: bool,
    /// Draw with ASCII characters (`-->`-like frames and `^` carets), for pipes and logs.
    pub ascii: bool,
    /// Show a live progress bar.
    pub progress: bool,
}

impl Ui {
    /// Decide from the real environment.
    pub fn from_env(args: &GlobalArgs) -> Ui {
        Ui::decide(args.color, Terminal::detect())
    }

    /// The one place the decisions are made.
    pub fn decide(choice: ColorChoice, term: Terminal) -> Ui {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => term.is_terminal && !term.no_color,
        };
        Ui {
            color,
            // Drawn everywhere, as rustc and clippy draw in CI logs; narrated on request.
            graphical: !term.narrate,
            ascii: !color && !term.is_terminal,
            // A bar that redraws itself only makes sense to a person watching a terminal.
            progress: term.is_terminal && !term.is_ci,
        }
    }

    /// Render one diagnostic to a string with this UI's handler.
    pub fn render(&self, diag: &dyn miette::Diagnostic) -> String {
        use miette::{GraphicalReportHandler, GraphicalTheme, NarratableReportHandler};
        let mut out = String::new();
        let res = if self.graphical {
            let theme = if self.color {
                GraphicalTheme::unicode()
            } else if self.ascii {
                GraphicalTheme::none()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            GraphicalReportHandler::new_themed(theme).render_report(&mut out, diag)
        } else {
            NarratableReportHandler::new().render_report(&mut out, diag)
        };
        if res.is_err() {
            out = format!("{diag}\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(is_terminal: bool, is_ci: bool, no_color: bool) -> Terminal {
        Terminal {
            is_terminal,
            is_ci,
            no_color,
            narrate: false,
        }
    }

    #[test]
    fn auto_on_a_terminal_is_coloured_graphical_with_progress() {
        let ui = Ui::decide(ColorChoice::Auto, term(true, false, false));
        assert_eq!(
            ui,
            Ui {
                color: true,
                graphical: true,
                ascii: false,
                progress: true
            }
        );
    }

    #[test]
    fn auto_into_a_pipe_is_drawn_in_ascii_without_colour_or_progress() {
        let ui = Ui::decide(ColorChoice::Auto, term(false, false, false));
        assert_eq!(
            ui,
            Ui {
                color: false,
                graphical: true,
                ascii: true,
                progress: false
            }
        );
    }

    #[test]
    fn narration_only_on_request() {
        let asked = Terminal {
            narrate: true,
            ..term(false, true, true)
        };
        assert!(!Ui::decide(ColorChoice::Auto, asked).graphical);
    }

    #[test]
    fn no_color_on_a_terminal_keeps_layout_but_drops_colour() {
        let ui = Ui::decide(ColorChoice::Auto, term(true, false, true));
        assert!(!ui.color);
        assert!(ui.graphical);
    }

    #[test]
    fn ci_terminal_has_no_progress_bar() {
        let ui = Ui::decide(ColorChoice::Auto, term(true, true, false));
        assert!(!ui.progress);
        assert!(ui.color);
    }

    #[test]
    fn always_colours_a_pipe_and_never_overrides_a_terminal() {
        let piped = Ui::decide(ColorChoice::Always, term(false, true, true));
        assert!(piped.color && piped.graphical && !piped.progress);
        let never = Ui::decide(ColorChoice::Never, term(true, false, false));
        assert!(!never.color && never.graphical && !never.ascii && never.progress);
    }
}
