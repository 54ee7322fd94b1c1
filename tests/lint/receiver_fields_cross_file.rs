//@ aux: aux_table.rs
// The field's type is declared in another file.
impl Table {
    fn add(&mut self, x: u32) {
        self.rows.push(x).unwrap(); //~ panic-on-alloc-failure
        self.names.push(String::new());
    }
}
