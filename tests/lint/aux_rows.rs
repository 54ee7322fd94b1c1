// A type alias of a receiver-typed pack type, used by receiver_aliases_cross_file.rs.
use fallible_collections::TryVec;

pub type Rows<T> = TryVec<T>;
