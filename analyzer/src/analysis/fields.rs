//! Declared types of struct fields across the files of a run: how `self.buf.push(x)` learns
//! that `buf` is a `TryVec` declared in another file (or built by a struct literal there).
use std::collections::{HashMap, HashSet};

/// One field declaration: `(struct, field, type)` names (types as their last path segment).
pub(crate) type FieldDecl = (String, String, String);

/// The field types of some files.
#[derive(Debug, Default)]
pub(crate) struct FieldTypes {
    /// Field name → declared type names (over all structs).
    pub by_name: HashMap<String, HashSet<String>>,
    /// Struct name → field name → type names (the declared one, and those struct literals
    /// show).
    pub by_struct: HashMap<String, HashMap<String, HashSet<String>>>,
}

impl FieldTypes {
    /// Index the declarations of some files.
    pub(crate) fn from_decls<'a>(lists: impl Iterator<Item = &'a [FieldDecl]>) -> FieldTypes {
        let mut index = FieldTypes::default();
        for list in lists {
            for (st, field, ty) in list {
                index
                    .by_name
                    .entry(field.clone())
                    .or_default()
                    .insert(ty.clone());
                index
                    .by_struct
                    .entry(st.clone())
                    .or_default()
                    .entry(field.clone())
                    .or_default()
                    .insert(ty.clone());
            }
        }
        index
    }
}
