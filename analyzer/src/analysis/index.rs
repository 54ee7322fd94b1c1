//! The cross-file index: struct field types and allocation wrappers (discovered to a fixed
//! point).

use std::collections::HashSet;

use syn::visit::{self, Visit};

use super::syntax::{is_test_code, result_error_type, type_name};
use super::visitor::{FileVisitor, Index, PropCall};
use super::vocab::Vocab;
use super::SourceFile;

/// A function that may be an allocation wrapper: it returns `Result<_, E>` with E an
/// allocation error type.
struct Candidate<'a> {
    name: String,
    /// `Some(owner)` for functions inside an `impl` or trait (`owner` is `None` in a trait).
    owner: Option<Option<String>>,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
    /// Returns `Alias<T>` (`AllocResult<T>`): a wrapper only if that alias turns out to be
    /// `Result<T, E>` with E an allocation error type (aliases may live in another file).
    alias: Option<String>,
}

/// `Name<T>` with a single generic argument and a name ending in `Result` (`AllocResult<T>`,
/// `Result<T>` of a crate alias): the alias name.
fn result_alias(ret: &syn::ReturnType) -> Option<String> {
    let syn::ReturnType::Type(_, ty) = ret else {
        return None;
    };
    let syn::Type::Path(p) = &**ty else {
        return None;
    };
    let last = p.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let name = last.ident.to_string();
    (name.ends_with("Result") && args.args.len() == 1).then_some(name)
}

struct Collector<'a, 'v> {
    vocab: &'v Vocab,
    include_tests: bool,
    /// `(struct, field, type)`.
    fields: Vec<(String, String, String)>,
    diverging: Vec<String>,
    aliases: Vec<String>,
    candidates: Vec<Candidate<'a>>,
    owners: Vec<Option<String>>,
    in_impl: usize,
}

impl<'a> Collector<'a, '_> {
    fn candidate(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, in_impl: bool) {
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            if matches!(**ty, syn::Type::Never(_)) {
                self.diverging.push(sig.ident.to_string());
            }
        }
        let alias = match result_error_type(&sig.output) {
            Some(err) if self.vocab.error_types.contains(&err) => None,
            Some(_) => return,
            None => match result_alias(&sig.output) {
                Some(alias) => Some(alias),
                None => return,
            },
        };
        let owner = in_impl.then(|| self.owners.last().cloned().flatten());
        self.candidates.push(Candidate {
            name: sig.ident.to_string(),
            owner,
            sig,
            block,
            alias,
        });
    }
}

impl<'a> Visit<'a> for Collector<'a, '_> {
    fn visit_item(&mut self, i: &'a syn::Item) {
        let attrs: &[syn::Attribute] = match i {
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Impl(m) => &m.attrs,
            syn::Item::Trait(m) => &m.attrs,
            syn::Item::Struct(m) => &m.attrs,
            _ => &[],
        };
        if !self.include_tests && is_test_code(attrs) {
            return;
        }
        visit::visit_item(self, i);
    }

    fn visit_item_type(&mut self, t: &'a syn::ItemType) {
        // `type AllocResult<T> = Result<T, TryReserveError>;`
        let ret = syn::ReturnType::Type(Default::default(), t.ty.clone());
        if result_error_type(&ret).is_some_and(|e| self.vocab.error_types.contains(&e)) {
            self.aliases.push(t.ident.to_string());
        }
    }

    fn visit_item_struct(&mut self, s: &'a syn::ItemStruct) {
        for field in &s.fields {
            if let (Some(name), Some(ty)) = (&field.ident, type_name(&field.ty)) {
                self.fields
                    .push((s.ident.to_string(), name.to_string(), ty));
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.candidate(&f.sig, &f.block, false);
        let saved = self.in_impl;
        self.in_impl = 0;
        visit::visit_item_fn(self, f);
        self.in_impl = saved;
    }

    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        self.owners.push(type_name(&i.self_ty));
        self.in_impl += 1;
        visit::visit_item_impl(self, i);
        self.in_impl -= 1;
        self.owners.pop();
    }

    fn visit_item_trait(&mut self, i: &'a syn::ItemTrait) {
        self.owners.push(None);
        self.in_impl += 1;
        visit::visit_item_trait(self, i);
        self.in_impl -= 1;
        self.owners.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        if !self.include_tests && is_test_code(&f.attrs) {
            return;
        }
        self.candidate(&f.sig, &f.block, true);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        match &f.default {
            Some(block) => self.candidate(&f.sig, block, true),
            None => {
                if matches!(&f.sig.output, syn::ReturnType::Type(_, t) if matches!(**t, syn::Type::Never(_)))
                {
                    self.diverging.push(f.sig.ident.to_string());
                }
            }
        }
        visit::visit_trait_item_fn(self, f);
    }

    // Expressions hold no items worth indexing except nested fns, which statements reach.
    fn visit_expr(&mut self, _: &'a syn::Expr) {}
}

/// One candidate's discovery facts.
#[derive(Clone, Debug)]
struct CandidateSummary {
    name: String,
    owner: Option<Option<String>>,
    /// Propagates a pack allocation (known without other files).
    direct: bool,
    /// Other propagated calls, wrappers if they resolve to allocations.
    calls: Vec<PropCall>,
    /// The return type is this alias (see `Candidate::alias`).
    alias: Option<String>,
}

/// What one file contributes to the cross-file index: its struct field types and its
/// wrapper candidates. Plain data (`Send + Sync`), so files can be summarized in parallel and
/// their syntax trees dropped.
#[derive(Clone, Debug, Default)]
pub struct FileSummary {
    /// `(struct, field, type)`.
    fields: Vec<(String, String, String)>,
    /// Functions that never return.
    diverging: Vec<String>,
    /// Type aliases of `Result<T, E>` with E an allocation error type.
    aliases: Vec<String>,
    candidates: Vec<CandidateSummary>,
}

impl FileSummary {
    /// Nothing in this file matters to other files.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
            && self.candidates.is_empty()
            && self.diverging.is_empty()
            && self.aliases.is_empty()
    }
}

/// Summarize one file with the base vocabulary (packs and configuration, no wrappers yet).
pub(crate) fn summarize(file: &SourceFile, vocab: &Vocab, include_tests: bool) -> FileSummary {
    if file.is_test_file && !include_tests {
        return FileSummary::default();
    }
    let mut c = Collector {
        vocab,
        include_tests,
        fields: Vec::new(),
        diverging: Vec::new(),
        aliases: Vec::new(),
        candidates: Vec::new(),
        owners: Vec::new(),
        in_impl: 0,
    };
    c.visit_file(&file.syntax);
    let index = index_of(std::iter::once(&c.fields[..]));
    let candidates = c
        .candidates
        .iter()
        .map(|cand| {
            let self_ty = cand.owner.clone().flatten();
            let mut v = FileVisitor::discovery(vocab, &index, cand.sig, self_ty);
            v.visit_block(cand.block);
            v.note_tail(cand.block);
            CandidateSummary {
                name: cand.name.clone(),
                owner: cand.owner.clone(),
                direct: v.propagates,
                calls: v.prop_calls,
                alias: cand.alias.clone(),
            }
        })
        .collect();
    FileSummary {
        fields: c.fields,
        diverging: c.diverging,
        aliases: c.aliases,
        candidates,
    }
}

/// Merge the summaries: the field index, and the wrappers (to a fixed point) into `vocab`.
pub(crate) fn resolve<'a>(
    vocab: &mut Vocab,
    summaries: impl IntoIterator<Item = &'a FileSummary>,
) -> Index {
    let summaries: Vec<&FileSummary> = summaries.into_iter().collect();
    let index = index_of(summaries.iter().map(|s| &s.fields[..]));
    let fields = &index.fields;
    let aliases: HashSet<&String> = summaries.iter().flat_map(|s| s.aliases.iter()).collect();
    let mut candidates: Vec<&CandidateSummary> = Vec::new();
    for s in &summaries {
        candidates.extend(
            s.candidates
                .iter()
                .filter(|c| c.alias.as_ref().is_none_or(|a| aliases.contains(a))),
        );
        vocab.diverging.extend(s.diverging.iter().cloned());
    }
    let mut found = vec![false; candidates.len()];
    loop {
        let mut changed = false;
        for (cand, done) in candidates.iter().zip(found.iter_mut()) {
            if *done {
                continue;
            }
            let is_wrapper = cand.direct
                || cand.calls.iter().any(|call| match call {
                    PropCall::Path { segs, self_ty } => {
                        vocab.path_is_alloc(segs, self_ty.as_deref())
                    }
                    PropCall::Method {
                        name,
                        nargs,
                        types,
                        field,
                    } => vocab.method_is_alloc(name, *nargs, &mut || {
                        let mut t = types.clone();
                        if let Some(set) = field.as_ref().and_then(|f| fields.get(f)) {
                            t.extend(set.iter().cloned());
                        }
                        t
                    }),
                });
            if !is_wrapper {
                continue;
            }
            *done = true;
            changed = true;
            match &cand.owner {
                None => {
                    vocab.wrappers.functions.insert(cand.name.clone());
                }
                Some(owner) => {
                    vocab
                        .wrappers
                        .methods
                        .entry(cand.name.clone())
                        .or_default()
                        .insert(owner.clone());
                }
            }
        }
        if !changed {
            break;
        }
    }
    index
}

/// The field index of some files' `(struct, field, type)` lists.
fn index_of<'a>(lists: impl Iterator<Item = &'a [(String, String, String)]>) -> Index {
    let mut index = Index::default();
    for list in lists {
        for (st, field, ty) in list {
            index
                .fields
                .entry(field.clone())
                .or_default()
                .insert(ty.clone());
            index
                .struct_fields
                .entry(st.clone())
                .or_default()
                .insert(field.clone(), ty.clone());
        }
    }
    index
}
