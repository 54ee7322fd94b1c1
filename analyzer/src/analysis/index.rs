//! The cross-file index: what each file contributes ([`FileSummary`]: struct field types,
//! aliases of allocation `Result`s, diverging functions, wrapper candidates), and the merge of
//! the summaries into the field types and the allocation wrappers, discovered to a fixed point
//! (wrappers of wrappers count).

use std::collections::HashSet;
use std::path::Path;

use syn::visit::{self, Visit};

use super::counterparts::{is_fallible_method, is_fallible_trait, CounterpartDecl, DeclKind};
use super::discovery::{propagated, PropCall};
use super::fields::{FieldDecl, FieldTypes};
use super::input::SourceFile;
use super::literal_fields::literal_field_types;
use super::syntax::{is_test_code, item_attrs, last_segment, result_error_type, type_name};
use super::vocab::Vocab;
use crate::packs::ActivePacks;

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
    /// Returns `Result<_, E>` with `E` not a pack's error type: a wrapper only if `E` turns
    /// out to be one of the crate's allocation error types.
    error: Option<String>,
    /// Returns an enum of its own file with a NoMemory-like variant.
    own_error: bool,
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
    fields: Vec<FieldDecl>,
    diverging: Vec<String>,
    aliases: Vec<String>,
    candidates: Vec<Candidate<'a>>,
    owners: Vec<Option<String>>,
    /// Whether each enclosing `impl` is inherent (not `impl Trait for …`), innermost last.
    inherent: Vec<bool>,
    /// `(method, impl type, arguments)` of inherent methods named like a pack's receiver
    /// method.
    own_methods: Vec<(String, String, usize)>,
    /// `(original, alias)` of `use … as …` renames of allocation error or NoMemory names.
    renames: Vec<(String, String)>,
    /// `(alias, error type)` of `Result` aliases whose error type is not a pack's.
    alias_errors: Vec<(String, String)>,
    /// The crate's own allocation error types: targets of `From<TryReserveError>`-like
    /// conversions.
    alloc_errors: Vec<String>,
    /// Enums of this file with a NoMemory-like variant: a function of this file returning
    /// one is judged like one returning an allocation error type. (Only within the file: a
    /// file declaring such an enum and nothing else has no summary needle.)
    no_memory_enums: Vec<String>,
    /// `(alias, type)` of `type Alias<..> = Type<..>;` (last segments, when they differ).
    type_aliases: Vec<(String, String)>,
    /// `(method, impl type)` of methods with a body and a `self` receiver.
    method_defs: Vec<(String, Option<String>)>,
    /// Required trait methods with a `self` receiver that return no `Result`.
    plain_method_decls: Vec<String>,
    /// Fallible counterparts declared (`impl TryClone for T`, `T::try_insert`).
    counterparts: Vec<CounterpartDecl>,
    /// The file, as the run names it (for the counterparts' places).
    path: &'a Path,
    in_impl: usize,
}

/// `X` of `impl From<X> for …` (last segment).
pub(crate) fn from_source(i: &syn::ItemImpl) -> Option<String> {
    let (_, trait_path, _) = i.trait_.as_ref()?;
    let last = trait_path.segments.last()?;
    if last.ident != "From" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => type_name(t),
        _ => None,
    })
}

impl<'a> Collector<'a, '_> {
    fn candidate(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, in_impl: bool) {
        if let syn::ReturnType::Type(_, ty) = &sig.output {
            if matches!(**ty, syn::Type::Never(_)) {
                self.diverging.push(sig.ident.to_string());
            }
        }
        let (alias, error) = match result_error_type(&sig.output) {
            Some(err) if self.vocab.error_types.contains(&err) => (None, None),
            // The crate's own error type: an allocation error type if it turns out to have a
            // NoMemory-like variant or a `From<TryReserveError>` (maybe in another file).
            Some(err) => (None, Some(err)),
            None => match result_alias(&sig.output) {
                Some(alias) => (Some(alias), None),
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
            error,
            own_error: false,
        });
    }
}

impl<'a> Visit<'a> for Collector<'a, '_> {
    fn visit_item(&mut self, i: &'a syn::Item) {
        if !self.include_tests && is_test_code(item_attrs(i)) {
            return;
        }
        visit::visit_item(self, i);
    }

    fn visit_item_type(&mut self, t: &'a syn::ItemType) {
        // `type Alias<T> = TryVec<T>;`: receivers and paths of the alias are the type's.
        let alias = t.ident.to_string();
        if let Some(target) = type_name(&t.ty).filter(|target| *target != alias) {
            self.type_aliases.push((alias, target));
        }
        // `type AllocResult<T> = Result<T, TryReserveError>;`, and
        // `type Result<T, E = Error> = std::result::Result<T, E>;` (the parameter's default).
        let ret = syn::ReturnType::Type(Default::default(), t.ty.clone());
        let Some(mut err) = result_error_type(&ret) else {
            return;
        };
        for param in t.generics.type_params() {
            if param.ident == err {
                if let Some(default) = param.default.as_ref().and_then(type_name) {
                    err = default;
                }
            }
        }
        if self.vocab.error_types.contains(&err) {
            self.aliases.push(t.ident.to_string());
        } else {
            self.alias_errors.push((t.ident.to_string(), err));
        }
    }

    fn visit_item_enum(&mut self, e: &'a syn::ItemEnum) {
        if e.variants
            .iter()
            .any(|v| self.vocab.is_no_memory(&v.ident.to_string()))
        {
            self.no_memory_enums.push(e.ident.to_string());
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
        // `impl From<TryReserveError> for Error`: `?` on an allocation makes an `Error`.
        if let (Some(source), Some(target)) = (from_source(i), type_name(&i.self_ty)) {
            if self.vocab.error_types.contains(&source) {
                self.alloc_errors.push(target);
            }
        }
        if let (Some((_, tr, _)), Some(ty)) = (&i.trait_, type_name(&i.self_ty)) {
            let tr = last_segment(tr);
            if is_fallible_trait(&tr) {
                self.counterparts.push(CounterpartDecl {
                    kind: DeclKind::Trait(tr),
                    ty,
                    path: self.path.to_path_buf(),
                    line: i.impl_token.span.start().line,
                });
            }
        }
        self.owners.push(type_name(&i.self_ty));
        self.inherent.push(i.trait_.is_none());
        self.in_impl += 1;
        visit::visit_item_impl(self, i);
        self.in_impl -= 1;
        self.inherent.pop();
        self.owners.pop();
    }

    fn visit_use_rename(&mut self, r: &'a syn::UseRename) {
        let original = r.ident.to_string();
        if self.vocab.error_types.contains(&original) || self.vocab.is_no_memory(&original) {
            self.renames.push((original, r.rename.to_string()));
        }
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
        let name = f.sig.ident.to_string();
        if let (true, Some(Some(ty))) = (is_fallible_method(&name), self.owners.last()) {
            self.counterparts.push(CounterpartDecl {
                kind: DeclKind::Method(name.clone()),
                ty: ty.clone(),
                path: self.path.to_path_buf(),
                line: f.sig.ident.span().start().line,
            });
        }
        let is_method = f.sig.receiver().is_some();
        if is_method {
            let owner = self.owners.last().cloned().flatten();
            self.method_defs.push((name.clone(), owner));
        }
        if let (Some(Some(owner)), Some(true), true) =
            (self.owners.last(), self.inherent.last(), is_method)
        {
            // A method returning an allocation error type says by its signature that it is
            // fallible allocation; only the others are told apart from the pack's.
            let alloc_error = result_error_type(&f.sig.output)
                .is_some_and(|e| self.vocab.error_types.contains(&e));
            if self.vocab.is_receiver_method(&name) && !alloc_error {
                let nargs = f.sig.inputs.len() - 1;
                self.own_methods.push((name, owner.clone(), nargs));
            }
        }
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        if f.sig.receiver().is_some() {
            match &f.default {
                Some(_) => self.method_defs.push((f.sig.ident.to_string(), None)),
                None if result_error_type(&f.sig.output).is_none()
                    && result_alias(&f.sig.output).is_none() =>
                {
                    self.plain_method_decls.push(f.sig.ident.to_string())
                }
                None => {}
            }
        }
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
#[derive(Clone, Debug, PartialEq, Eq)]
struct CandidateSummary {
    name: String,
    owner: Option<Option<String>>,
    /// Propagates a pack allocation (known without other files).
    direct: bool,
    /// Other propagated calls, wrappers if they resolve to allocations.
    calls: Vec<PropCall>,
    /// The return type is this alias (see `Candidate::alias`).
    alias: Option<String>,
    /// The error type, when it is not a pack's (see `Candidate::error`).
    error: Option<String>,
}

/// What one file contributes to the cross-file index: its struct field types and its
/// wrapper candidates. Plain data (`Send + Sync`), so files can be summarized in parallel and
/// their syntax trees dropped. The default is the summary of a file that matters to no other.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The struct field declarations.
    fields: Vec<FieldDecl>,
    /// Functions that never return.
    diverging: Vec<String>,
    /// Type aliases of `Result<T, E>` with E an allocation error type.
    aliases: Vec<String>,
    candidates: Vec<CandidateSummary>,
    /// `(method, impl type, arguments)`: inherent methods named like a pack's receiver method.
    own_methods: Vec<(String, String, usize)>,
    /// `(original, alias)`: `use … as …` renames of allocation error or NoMemory names.
    renames: Vec<(String, String)>,
    /// `(alias, error type)`: `Result` aliases whose error type is not a pack's.
    alias_errors: Vec<(String, String)>,
    /// The crate's own allocation error types found in the file.
    alloc_errors: Vec<String>,
    /// `(alias, type)`: type aliases.
    type_aliases: Vec<(String, String)>,
    /// `(method, impl type)`: methods with a body and a `self` receiver.
    method_defs: Vec<(String, Option<String>)>,
    /// Required trait methods with a `self` receiver that return no `Result`.
    plain_method_decls: Vec<String>,
    /// Fallible counterparts of `Clone`, `Extend`… declared in the file.
    counterparts: Vec<CounterpartDecl>,
}

/// Summarize one file with the base vocabulary (packs and configuration, no wrappers yet).
/// `packs` gives the summary needles ([`ActivePacks::summary_needles`], asked only when some
/// facts count only in a file with one, and only when not `matched`: the caller knows the file
/// has one).
pub(crate) fn summarize(
    file: &SourceFile,
    vocab: &Vocab,
    packs: &ActivePacks,
    include_tests: bool,
    matched: bool,
) -> FileSummary {
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
        inherent: Vec::new(),
        own_methods: Vec::new(),
        renames: Vec::new(),
        alias_errors: Vec::new(),
        alloc_errors: Vec::new(),
        no_memory_enums: Vec::new(),
        type_aliases: Vec::new(),
        method_defs: Vec::new(),
        plain_method_decls: Vec::new(),
        counterparts: Vec::new(),
        path: &file.path,
        in_impl: 0,
    };
    c.visit_file(&file.syntax);
    for cand in &mut c.candidates {
        if cand
            .error
            .as_ref()
            .is_some_and(|e| c.no_memory_enums.contains(e))
        {
            cand.error = None;
            cand.own_error = true;
        }
    }
    // Candidates that only the crate's own error types make wrappers, and the method
    // definitions and type aliases, count only in a file the driver summarizes (one with a
    // summary needle), so that skipping the others changes nothing.
    let mut needle: Option<bool> = matched.then_some(true);
    let mut has_needle = || {
        *needle.get_or_insert_with(|| {
            packs
                .summary_needles()
                .iter()
                .any(|n| file.text.contains(n.as_str()))
        })
    };
    if c.candidates
        .iter()
        .any(|c| c.error.is_some() || c.own_error)
        && !has_needle()
    {
        c.candidates.retain(|c| c.error.is_none() && !c.own_error);
    }
    let names_methods = !c.method_defs.is_empty()
        || !c.plain_method_decls.is_empty()
        || !c.type_aliases.is_empty()
        || !c.counterparts.is_empty();
    if names_methods && !has_needle() {
        c.method_defs.clear();
        c.plain_method_decls.clear();
        c.type_aliases.clear();
        c.counterparts.clear();
    }
    // Struct literals add field types only where a receiver type could be built: the file
    // names one (no walk at all unless a pack with receiver types is active). A literal
    // building it through an alias declared in another file is not seen.
    let builds_receivers = vocab
        .receivers
        .iter()
        .flat_map(|g| g.types.iter())
        .any(|t| file.text.contains(t.as_str()));
    if builds_receivers {
        c.fields
            .extend(literal_field_types(&file.syntax, include_tests));
    }
    let fields = FieldTypes::from_decls(std::iter::once(&c.fields[..]));
    let candidates = c
        .candidates
        .iter()
        .map(|cand| {
            let self_ty = cand.owner.clone().flatten();
            let found = propagated(vocab, &fields, cand.sig, cand.block, self_ty);
            CandidateSummary {
                name: cand.name.clone(),
                owner: cand.owner.clone(),
                direct: found.allocation,
                calls: found.calls,
                alias: cand.alias.clone(),
                error: cand.error.clone(),
            }
        })
        .collect();
    FileSummary {
        fields: c.fields,
        diverging: c.diverging,
        aliases: c.aliases,
        candidates,
        own_methods: c.own_methods,
        renames: c.renames,
        alias_errors: c.alias_errors,
        alloc_errors: c.alloc_errors,
        type_aliases: c.type_aliases,
        method_defs: c.method_defs,
        plain_method_decls: c.plain_method_decls,
        counterparts: c.counterparts,
    }
}

/// Merge the summaries: the field types, and the wrappers (to a fixed point) into `vocab`.
pub(crate) fn resolve<'a>(
    vocab: &mut Vocab,
    summaries: impl IntoIterator<Item = &'a FileSummary>,
) -> FieldTypes {
    let summaries: Vec<&FileSummary> = summaries.into_iter().collect();
    let index = FieldTypes::from_decls(summaries.iter().map(|s| &s.fields[..]));
    let fields = &index.by_name;
    vocab.crate_alloc_errors.extend(
        summaries
            .iter()
            .flat_map(|s| s.alloc_errors.iter().cloned()),
    );
    let alloc_error_names: HashSet<String> = vocab
        .error_types
        .union(&vocab.crate_alloc_errors)
        .cloned()
        .collect();
    let is_alloc_error = |e: &String| alloc_error_names.contains(e);
    let aliases: HashSet<&String> = summaries
        .iter()
        .flat_map(|s| {
            s.aliases.iter().chain(
                s.alias_errors
                    .iter()
                    .filter(|(_, e)| is_alloc_error(e))
                    .map(|(a, _)| a),
            )
        })
        .collect();
    let mut candidates: Vec<&CandidateSummary> = Vec::new();
    for s in &summaries {
        candidates.extend(s.candidates.iter().filter(|c| {
            c.alias.as_ref().is_none_or(|a| aliases.contains(a))
                && c.error.as_ref().is_none_or(is_alloc_error)
        }));
        vocab.diverging.extend(s.diverging.iter().cloned());
        for (method, owner, nargs) in &s.own_methods {
            vocab
                .own_methods
                .entry(method.clone())
                .or_default()
                .insert((owner.clone(), *nargs));
        }
        for (alias, target) in &s.type_aliases {
            vocab
                .type_aliases
                .entry(alias.clone())
                .or_default()
                .insert(target.clone());
        }
        for (method, owner) in &s.method_defs {
            vocab
                .method_defs
                .entry(method.clone())
                .or_default()
                .insert(owner.clone());
        }
        vocab
            .plain_method_decls
            .extend(s.plain_method_decls.iter().cloned());
        for d in &s.counterparts {
            vocab.counterparts.add(d);
        }
        for (original, alias) in &s.renames {
            if vocab.error_types.contains(original) {
                vocab.error_types.insert(alias.clone());
            }
            vocab.no_memory.insert(alias.to_lowercase());
        }
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
