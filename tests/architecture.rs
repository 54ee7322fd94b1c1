//! Checks of the architecture that ARCHITECTURE.md promises: no module cycles in any crate, and
//! no source file whose non-test code is longer than a reader can hold in mind.
//!
//! A module graph is built from the paths each module's non-test code names (`use` trees and
//! paths in expressions and types, starting with `crate`, `super` or `self`). An edge between two
//! modules is judged among siblings, as rust-analyzer's architecture checks do: a reference from
//! `analysis::visitor` to `rules::x` is an edge `analysis → rules` under the crate root. A child
//! using its parent's items is not a cycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The library crates of the workspace: (name, source root, root file).
const CRATES: &[(&str, &str, &str)] = &[
    ("oomcheck", "src", "lib.rs"),
    ("oomcheck-analyzer", "analyzer/src", "lib.rs"),
    ("oomcheck-injector", "injector/src", "lib.rs"),
    ("oomcheck-preload", "preload/src", "lib.rs"),
];

/// Most lines of non-test code in one source file.
const MAX_LINES: usize = 720;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `root` with its module path (`[]` for the crate root).
fn modules(root: &Path, root_file: &str) -> Vec<(Vec<String>, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                // `src/bin` holds separate binary crates.
                if path != root.join("bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().map_or(true, |e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(root).expect("under root");
            if rel == Path::new("main.rs") {
                continue;
            }
            let mut segments: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if rel == Path::new(root_file) {
                segments.clear();
            } else if segments.last().is_some_and(|s| s == "mod") {
                segments.pop();
            }
            out.push((segments, path));
        }
    }
    out.sort();
    out
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

/// Collects the module paths that non-test code refers to, resolved against `here`.
struct Refs<'a> {
    here: &'a [String],
    known: &'a BTreeSet<Vec<String>>,
    found: BTreeSet<Vec<String>>,
}

impl Refs<'_> {
    /// Resolve a path's leading segments to the longest known module it names.
    fn add(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => self.here.to_vec(),
            "super" => {
                let mut b = self.here.to_vec();
                b.pop();
                b
            }
            _ => return,
        };
        let mut rest = &segments[1..];
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
        let mut best = base.clone();
        for seg in rest {
            base.push(seg.clone());
            if self.known.contains(&base) {
                best = base.clone();
            } else {
                break;
            }
        }
        self.found.insert(best);
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.add(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for Refs<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test_only(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(&segments);
        syn::visit::visit_path(self, path);
    }

    /// Intra-doc links (`[`crate::walk::io_message`]`, `[x](super::y)`) are references too:
    /// rustdoc resolves them, and a reader follows them.
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        if let syn::Meta::NameValue(nv) = &attr.meta {
            if let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(doc),
                ..
            }) = &nv.value
            {
                if nv.path.is_ident("doc") {
                    for path in doc_paths(&doc.value()) {
                        self.add(&path);
                    }
                }
            }
        }
    }
}

/// The `crate::…`, `super::…` and `self::…` paths written in a doc comment, as segments.
fn doc_paths(doc: &str) -> Vec<Vec<String>> {
    let is_path_char = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let mut out = Vec::new();
    let mut rest = doc;
    while let Some(at) = ["crate::", "super::", "self::"]
        .iter()
        .filter_map(|p| rest.find(p))
        .min()
    {
        // Only a whole word starts a path (`foo_crate::x` does not).
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .map_or(true, |c| !is_path_char(c));
        let tail = &rest[at..];
        let len = tail.find(|c: char| !is_path_char(c)).unwrap_or(tail.len());
        if starts_word {
            let path: Vec<String> = tail[..len]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            out.push(path);
        }
        rest = &tail[len.max(1)..];
    }
    out
}

/// Sibling edges: for a reference from module `a` to module `b`, the edge between their children
/// of their deepest common ancestor, keyed by that ancestor.
type SiblingGraph = BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>>;

fn sibling_graph(crate_dir: &str, root_file: &str) -> SiblingGraph {
    let root = repo().join(crate_dir);
    let mods = modules(&root, root_file);
    let known: BTreeSet<Vec<String>> = mods.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = SiblingGraph::new();
    for (here, path) in &mods {
        let text = std::fs::read_to_string(path).expect("read source");
        let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut refs = Refs {
            here,
            known: &known,
            found: BTreeSet::new(),
        };
        refs.visit_file(&file);
        for target in refs.found {
            let common = here.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < here.len() && common < target.len() {
                graph
                    .entry(here[..common].to_vec())
                    .or_default()
                    .entry(here[common].clone())
                    .or_default()
                    .insert(target[common].clone());
            }
        }
    }
    graph
}

/// The strongly connected components of `graph` with more than one module: each is a cycle
/// (Tarjan's algorithm).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Tarjan<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    impl<'g> Tarjan<'g> {
        fn visit(&mut self, node: &'g str) {
            let i = self.index.len();
            self.index.insert(node, i);
            self.low.insert(node, i);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self
                    .stack
                    .iter()
                    .position(|n| *n == node)
                    .expect("on stack");
                let mut component: Vec<String> = self.stack.drain(at..).map(String::from).collect();
                if component.len() > 1 {
                    component.sort();
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !t.index.contains_key(node.as_str()) {
            t.visit(node);
        }
    }
    t.found
}

#[test]
fn doc_links_are_read_as_paths() {
    assert_eq!(
        doc_paths("see [`crate::walk::io_message`] and [b](super::b::C), not my_crate::x"),
        vec![vec!["crate", "walk", "io_message"], vec!["super", "b", "C"],]
    );
}

#[test]
fn no_crate_has_a_module_cycle() {
    let mut found = Vec::new();
    for (name, dir, root_file) in CRATES {
        for (parent, graph) in sibling_graph(dir, root_file) {
            for cycle in cycles(&graph) {
                let under = if parent.is_empty() {
                    "the crate root".to_string()
                } else {
                    parent.join("::")
                };
                found.push(format!("{name}, under {under}: {}", cycle.join(", ")));
            }
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    graph.insert("d".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    graph.get_mut("c").expect("c").clear();
    assert!(cycles(&graph).is_empty());
}

/// Lines of a file before its `#[cfg(test)]` test module.
fn non_test_lines(text: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let test_mod = lines
        .windows(2)
        .position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod tests"));
    test_mod.unwrap_or(lines.len())
}

#[test]
fn no_source_file_is_too_long() {
    let mut long = Vec::new();
    for (_, dir, root_file) in CRATES {
        for (_, path) in modules(&repo().join(dir), root_file) {
            let text = std::fs::read_to_string(&path).expect("read source");
            let n = non_test_lines(&text);
            if n > MAX_LINES {
                long.push(format!("{}: {n} lines", path.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines of non-test code:\n{}",
        long.join("\n")
    );
}
