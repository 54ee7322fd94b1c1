//! One vocabulary for both halves: the injector's default NoMemory predicate and the analyzer
//! read the same `no_memory_names` of the rule packs.
use oomcheck_analyzer::packs::all_packs;

#[test]
fn injector_and_analyzer_see_the_same_no_memory_names() {
    let mut analyzer: Vec<String> = Vec::new();
    for pack in all_packs() {
        for name in &pack.no_memory_names {
            if !analyzer.contains(name) {
                analyzer.push(name.clone());
            }
        }
    }
    assert_eq!(all_packs().len(), 7, "every pack parses");
    assert_eq!(
        oomcheck_injector::pack_no_memory_names(),
        analyzer.as_slice()
    );
}

#[test]
fn every_packs_error_reads_as_no_memory_by_default() {
    use oomcheck_injector::{DefaultNoMemory, NoMemoryPredicate};
    for pack in all_packs() {
        for name in &pack.no_memory_names {
            let debug = format!("Wrapped({name} {{ layout: Layout {{ size: 8, align: 8 }} }})");
            assert!(
                NoMemoryPredicate::<()>::is_no_memory(&DefaultNoMemory, &(), &debug),
                "{} pack: {debug}",
                pack.name
            );
        }
    }
    // smallvec's and std's errors as their Debug prints them.
    for text in [
        "AllocErr { layout: Layout { size: 64, align: 1 (1 << 0) } }".to_string(),
        format!(
            "{:?}",
            std::io::Error::from(std::io::ErrorKind::OutOfMemory)
        ),
    ] {
        assert!(
            NoMemoryPredicate::<()>::is_no_memory(&DefaultNoMemory, &(), &text),
            "{text}"
        );
    }
}
