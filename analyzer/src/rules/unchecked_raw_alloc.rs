//! `unchecked-raw-alloc`: a raw allocator's pointer is used before it is checked for null.
use super::{RuleDoc, RuleId};
use crate::finding::Level;

/// The rule's documentation (shown by `oomcheck explain unchecked-raw-alloc`).
pub const DOC: RuleDoc = RuleDoc {
    id: RuleId::UncheckedRawAlloc,
    default_level: Some(Level::Error),
    summary: "a pointer from a raw allocator is used before a null check",
    explanation: r#"### What it does
Flags a pointer returned by a raw allocator (`alloc`, `alloc_zeroed`, `realloc`,
`GlobalAlloc::alloc`, `System.alloc(..)`, `libc::malloc`, `libc::calloc`…) that is used —
dereferenced, written with `ptr::write`, offset with `.add`, turned into a `Box` with
`Box::from_raw` or a slice with `from_raw_parts` — before it is compared with null
(`is_null()`, `NonNull::new`, `== ptr::null_mut()`).

### Why is this bad?
Raw allocators report failure by returning a null pointer. Writing through it is undefined
behaviour: usually a segmentation fault, sometimes silent memory corruption.

### Example
```rust
let p = alloc(layout) as *mut u64;
ptr::write(p, 0);
```

Use instead:
```rust
let p = alloc(layout) as *mut u64;
if p.is_null() {
    handle_alloc_error(layout);
}
ptr::write(p, 0);
```
"#,
};

/// The finding's message.
pub(crate) fn message(call: &str, how: &str) -> String {
    format!("pointer from `{call}` is used {how} before a null check")
}

/// The help line.
pub(crate) const HELP: &str =
    "check the pointer with `is_null()` or `NonNull::new` first and return a NoMemory error (or call `handle_alloc_error`) when it is null";

/// Methods on a raw pointer that use it (read, write, offset).
pub(crate) const USE_METHODS: [&str; 16] = [
    "add",
    "offset",
    "sub",
    "byte_add",
    "byte_offset",
    "write",
    "write_bytes",
    "write_unaligned",
    "write_volatile",
    "read",
    "read_unaligned",
    "read_volatile",
    "copy_from",
    "copy_from_nonoverlapping",
    "copy_to",
    "copy_to_nonoverlapping",
];

/// Functions that use a raw pointer argument (`ptr::write(p, x)`, `Box::from_raw(p)`).
pub(crate) const USE_FUNCTIONS: [&str; 15] = [
    "write",
    "write_bytes",
    "write_unaligned",
    "write_volatile",
    "read",
    "read_unaligned",
    "copy",
    "copy_nonoverlapping",
    "from_raw",
    "from_raw_parts",
    "from_raw_parts_mut",
    "new_unchecked",
    "drop_in_place",
    "swap",
    "replace",
];

/// The first thing that happens to a raw pointer after allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PtrEvent {
    /// Compared with null (`is_null()`, `NonNull::new(p)`, `p == ptr::null_mut()`, `as_mut()`).
    NullCheck,
    /// Used; the text says how.
    Use(String),
    /// Reassigned or handed to code the analysis cannot follow: stop looking.
    Escape,
}

/// Scans statements in source order for the first event on the pointer variable `name`.
pub(crate) struct PtrEvents {
    name: String,
    /// The first event found.
    pub event: Option<PtrEvent>,
    depth: usize,
}

impl PtrEvents {
    pub(crate) fn new(name: &str) -> Self {
        PtrEvents {
            name: name.to_string(),
            event: None,
            depth: 0,
        }
    }

    fn is_ptr(&self, e: &syn::Expr) -> bool {
        crate::analysis::syntax::ident_of(crate::analysis::syntax::peel_ptr(e))
            .is_some_and(|id| id == self.name)
    }

    fn is_null_value(e: &syn::Expr) -> bool {
        use crate::analysis::syntax::{last_segment, peel_ptr};
        match peel_ptr(e) {
            syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
                if matches!(last_segment(&p.path).as_str(), "null" | "null_mut")),
            syn::Expr::Lit(l) => matches!(&l.lit, syn::Lit::Int(i) if i.base10_digits() == "0"),
            _ => false,
        }
    }

    fn set(&mut self, event: PtrEvent) {
        if self.event.is_none() {
            self.event = Some(event);
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for PtrEvents {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        use crate::analysis::syntax::last_segment;
        use syn::Expr;
        if self.event.is_some() || self.depth > 128 {
            return;
        }
        match e {
            Expr::MethodCall(m) if self.is_ptr(&m.receiver) => {
                let name = m.method.to_string();
                if matches!(
                    name.as_str(),
                    "is_null" | "as_ref" | "as_mut" | "as_uninit_mut"
                ) {
                    return self.set(PtrEvent::NullCheck);
                }
                if USE_METHODS.contains(&name.as_str()) {
                    return self.set(PtrEvent::Use(format!("by `{name}`")));
                }
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) && self.is_ptr(&u.expr) => {
                return self.set(PtrEvent::Use("by a dereference".to_string()));
            }
            Expr::Binary(b)
                if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_))
                    && ((self.is_ptr(&b.left) && Self::is_null_value(&b.right))
                        || (self.is_ptr(&b.right) && Self::is_null_value(&b.left))) =>
            {
                return self.set(PtrEvent::NullCheck);
            }
            Expr::Assign(a) if self.is_ptr(&a.left) => return self.set(PtrEvent::Escape),
            Expr::Call(c) if c.args.iter().any(|a| self.is_ptr(a)) => {
                let last = match &*c.func {
                    Expr::Path(p) => last_segment(&p.path),
                    _ => String::new(),
                };
                let segs = match &*c.func {
                    Expr::Path(p) => crate::analysis::syntax::segments(&p.path),
                    _ => Vec::new(),
                };
                if last == "new" && segs.iter().any(|s| s == "NonNull") {
                    return self.set(PtrEvent::NullCheck);
                }
                if USE_FUNCTIONS.contains(&last.as_str()) {
                    return self.set(PtrEvent::Use(format!("by `{last}`")));
                }
                return self.set(PtrEvent::Escape);
            }
            Expr::MethodCall(m) if m.args.iter().any(|a| self.is_ptr(a)) => {
                return self.set(PtrEvent::Escape);
            }
            _ => {}
        }
        self.depth += 1;
        syn::visit::visit_expr(self, e);
        self.depth -= 1;
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}
