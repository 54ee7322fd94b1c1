//! Fallible counterparts of the traits whose methods cannot report an error: `TryClone` beside
//! `Clone`, a `try_insert` beside `Extend`, `try_from_iter` beside `FromIterator`. When the
//! scanned code already offers one for a type, `alloc-panic-without-error-channel` names it
//! instead of asking for one to be written.
//!
//! Each file's summary lists what it declares ([`CounterpartDecl`], from `index`); the run
//! merges them into [`Counterparts`].
use std::collections::HashMap;
use std::path::PathBuf;

/// A trait without an error channel, the fallible traits that stand beside it (with their
/// method), and the fallible methods a type can offer instead.
struct Counterpart {
    infallible: &'static str,
    traits: &'static [(&'static str, &'static str)],
    methods: &'static [&'static str],
}

/// The known counterparts, most specific first.
const TABLE: [Counterpart; 5] = [
    Counterpart {
        infallible: "Clone",
        traits: &[("TryClone", "try_clone")],
        methods: &["try_clone"],
    },
    Counterpart {
        infallible: "Extend",
        traits: &[("TryExtend", "try_extend")],
        methods: &[
            "try_extend",
            "try_extend_from_slice",
            "try_insert",
            "try_push",
        ],
    },
    Counterpart {
        infallible: "FromIterator",
        traits: &[("TryFromIterator", "try_from_iter")],
        methods: &["try_from_iter", "try_collect"],
    },
    Counterpart {
        infallible: "Default",
        traits: &[],
        methods: &["try_default", "try_new"],
    },
    Counterpart {
        infallible: "ToOwned",
        traits: &[("TryToOwned", "try_to_owned")],
        methods: &["try_to_owned"],
    },
];

/// Is `name` a fallible trait of the table (worth recording where it is implemented)?
pub(crate) fn is_fallible_trait(name: &str) -> bool {
    TABLE
        .iter()
        .any(|c| c.traits.iter().any(|(t, _)| *t == name))
}

/// Is `name` a fallible method of the table (worth recording where it is defined)?
pub(crate) fn is_fallible_method(name: &str) -> bool {
    TABLE.iter().any(|c| c.methods.contains(&name))
}

/// One declaration of a fallible counterpart in a file: `impl TryClone for T` (`Trait`) or
/// `impl T { fn try_insert(..) }` (`Method`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CounterpartDecl {
    /// Implemented trait or defined function.
    pub kind: DeclKind,
    /// The type it is for (last path segment).
    pub ty: String,
    /// The file declaring it, as the run names files.
    pub path: PathBuf,
    /// The line of the `impl` or of the function's name.
    pub line: usize,
}

/// What a [`CounterpartDecl`] declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DeclKind {
    /// `impl Trait for T`.
    Trait(String),
    /// A function of an `impl T` block.
    Method(String),
}

/// The counterparts declared in the scanned code, by (type, trait or function name).
#[derive(Debug, Default)]
pub(crate) struct Counterparts {
    /// (type, trait or function name) → where it is declared (a trait and a function never
    /// share a name).
    declared: HashMap<(String, String), (PathBuf, usize)>,
}

impl Counterparts {
    /// Record a declaration (the first by place when several declare the same).
    pub(crate) fn add(&mut self, d: &CounterpartDecl) {
        let name = match &d.kind {
            DeclKind::Trait(n) | DeclKind::Method(n) => n.clone(),
        };
        let place = (d.path.clone(), d.line);
        self.declared
            .entry((d.ty.clone(), name))
            .and_modify(|p| {
                if place < *p {
                    *p = place.clone();
                }
            })
            .or_insert(place);
    }

    /// The fallible counterpart the scanned code offers for `ty` beside its implementation of
    /// `infallible` (`Clone`), as advice: "use `TryClone::try_clone`, implemented at
    /// src/map.rs:139".
    pub(crate) fn advice(&self, infallible: &str, ty: &str) -> Option<String> {
        let entry = TABLE.iter().find(|c| c.infallible == infallible)?;
        let at = |name: &str| self.declared.get(&(ty.to_string(), name.to_string()));
        let place = |(path, line): &(PathBuf, usize)| format!("{}:{line}", path.display());
        for (tr, method) in entry.traits {
            if let Some(p) = at(tr) {
                return Some(format!("use `{tr}::{method}`, implemented at {}", place(p)));
            }
        }
        entry
            .methods
            .iter()
            .find_map(|m| at(m).map(|p| format!("use `{ty}::{m}`, defined at {}", place(p))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(kind: DeclKind, ty: &str, path: &str, line: usize) -> CounterpartDecl {
        CounterpartDecl {
            kind,
            ty: ty.into(),
            path: path.into(),
            line,
        }
    }

    #[test]
    fn advice_names_the_declared_counterpart() {
        let mut c = Counterparts::default();
        c.add(&decl(
            DeclKind::Trait("TryClone".into()),
            "Map",
            "src/map.rs",
            139,
        ));
        c.add(&decl(
            DeclKind::Trait("TryClone".into()),
            "Map",
            "src/a.rs",
            7,
        ));
        c.add(&decl(
            DeclKind::Method("try_insert".into()),
            "Map",
            "src/map.rs",
            754,
        ));
        assert_eq!(
            c.advice("Clone", "Map").as_deref(),
            Some("use `TryClone::try_clone`, implemented at src/a.rs:7")
        );
        assert_eq!(
            c.advice("Extend", "Map").as_deref(),
            Some("use `Map::try_insert`, defined at src/map.rs:754")
        );
        assert_eq!(c.advice("Clone", "Set"), None);
        assert_eq!(c.advice("FromIterator", "Map"), None);
        assert_eq!(c.advice("Drop", "Map"), None);
    }
}
