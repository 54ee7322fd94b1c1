// A struct whose field is a receiver-typed pack type, used by receiver_fields_cross_file.rs.
use fallible_collections::TryVec;

pub struct Table {
    pub rows: TryVec<u32>,
    pub names: Vec<String>,
}
