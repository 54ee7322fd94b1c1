//! Field types as struct literals show them: `Table { rows: TryVec::with_capacity(n)?, .. }`
//! says `rows` holds a `TryVec` even where its declaration does not (a generic parameter
//! `rows: R`, an alias the analysis cannot see). Added to the declared field types, so that
//! `self.rows.push(x)` is judged on a `TryVec`.
use syn::visit::{self, Visit};

use super::bindings::infer_type;
use super::fields::FieldDecl;
use super::syntax::{is_test_code, item_attrs, last_segment, type_name, MAX_EXPR_DEPTH};

/// Collects `(struct, field, inferred type)` from the struct literals of a file.
struct Literals {
    include_tests: bool,
    depth: usize,
    /// The enclosing `impl` types (what `Self { .. }` builds), innermost last.
    owners: Vec<Option<String>>,
    out: Vec<FieldDecl>,
}

impl<'a> Visit<'a> for Literals {
    fn visit_item(&mut self, i: &'a syn::Item) {
        if !self.include_tests && is_test_code(item_attrs(i)) {
            return;
        }
        visit::visit_item(self, i);
    }

    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        self.owners.push(type_name(&i.self_ty));
        visit::visit_item_impl(self, i);
        self.owners.pop();
    }

    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        // A nested free function does not see the enclosing `impl`'s `Self`.
        self.owners.push(None);
        visit::visit_item_fn(self, f);
        self.owners.pop();
    }

    fn visit_expr(&mut self, e: &'a syn::Expr) {
        if self.depth >= MAX_EXPR_DEPTH {
            return;
        }
        self.depth += 1;
        visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_expr_struct(&mut self, s: &'a syn::ExprStruct) {
        let name = match last_segment(&s.path) {
            n if n == "Self" => self.owners.last().cloned().flatten(),
            n => Some(n),
        };
        if let Some(name) = name {
            for fv in &s.fields {
                if let (syn::Member::Named(field), Some(ty)) = (&fv.member, infer_type(&fv.expr)) {
                    let ty = match ty.as_str() {
                        "Self" => self.owners.last().cloned().flatten(),
                        _ => Some(ty),
                    };
                    if let Some(ty) = ty {
                        self.out.push((name.clone(), field.to_string(), ty));
                    }
                }
            }
        }
        visit::visit_expr_struct(self, s);
    }
}

/// The field types the struct literals of `file` show (`(struct, field, type)`), test code
/// included only with `include_tests`.
pub(crate) fn literal_field_types(file: &syn::File, include_tests: bool) -> Vec<FieldDecl> {
    let mut l = Literals {
        include_tests,
        depth: 0,
        owners: Vec::new(),
        out: Vec::new(),
    };
    l.visit_file(file);
    l.out
}
