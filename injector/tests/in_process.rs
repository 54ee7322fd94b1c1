//! Sweeps run in-process (on threads without a libtest name there is no crash isolation), so
//! every outcome that does not kill the process can be checked here directly, fast.

use oomcheck_injector::{Check, FailingAllocator, Mode, Outcome, Report, Status};
use std::collections::TryReserveError;

#[global_allocator]
static ALLOC: FailingAllocator = FailingAllocator::system();

/// Runs `f` on an unnamed thread, as the sweep then stays in this process.
fn unnamed<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().expect("check thread"))
}

fn words(n: usize) -> Result<Vec<String>, TryReserveError> {
    let mut out = Vec::new();
    out.try_reserve_exact(n)?;
    for i in 0..n {
        let mut s = String::new();
        s.try_reserve_exact(8)?;
        s.push(char::from(b'a' + (i % 26) as u8));
        out.push(s);
    }
    Ok(out)
}

fn counts(r: &Report) -> Vec<(Outcome, u64)> {
    r.outcomes.iter().map(|(k, v)| (*k, *v)).collect()
}

#[test]
fn correct_body_is_all_no_memory() {
    let r = unnamed(|| Check::new().always().run(|| words(3)));
    assert_eq!(r.status, Status::Swept, "{}", r.summary());
    assert_eq!(r.nalloc, 4);
    assert_eq!(r.sequence, "....");
    assert_eq!(counts(&r), vec![(Outcome::NoMemory, 4)]);
    assert!(r.passed());
    assert!(r.message.as_deref().unwrap_or("").contains("in-process"));
}

#[test]
fn tolerated_is_a_finding_only_when_strict() {
    // A cache-like allocation whose failure is ignored without changing the result.
    let body = || -> Result<u32, TryReserveError> {
        let mut scratch: Vec<u8> = Vec::new();
        let _ = scratch.try_reserve(64);
        Ok(7)
    };
    let r = unnamed(|| Check::new().always().run(body));
    assert_eq!(counts(&r), vec![(Outcome::Tolerated, 1)]);
    assert!(r.passed());
    let r = unnamed(|| Check::new().always().strict(true).run(body));
    assert_eq!(r.sequence, "t");
    assert_eq!(r.findings.len(), 1);
    assert!(!r.passed());
    assert!(r.findings[0].repro.contains("OOMCHECK_STRICT=1"));
}

#[test]
fn panics_carry_message_and_location() {
    let r = unnamed(|| {
        Check::new()
            .always()
            .run(|| -> Result<usize, TryReserveError> {
                let mut v: Vec<u64> = Vec::new();
                v.try_reserve(10).expect("reserve ten");
                Ok(v.capacity().min(1))
            })
    });
    assert_eq!(r.sequence, "P");
    let f = &r.findings[0];
    assert_eq!(f.outcome, Outcome::Panic);
    assert!(f.message.contains("reserve ten"), "{}", f.message);
    assert!(f.message.contains("in_process.rs:"), "{}", f.message);
    let site = f.site.as_ref().expect("site");
    assert!(
        site.file
            .as_deref()
            .unwrap_or("")
            .ends_with("in_process.rs"),
        "{site:?}"
    );
    assert!(r.summary().contains("FAILED (1/1)"));
}

#[test]
fn persistent_mode_fails_every_later_allocation() {
    // Recovers from one failure by retrying once: fine when transient, not when persistent.
    let body = || -> Result<usize, TryReserveError> {
        let mut v: Vec<u8> = Vec::new();
        if v.try_reserve(16).is_err() {
            v.try_reserve(16)?;
        }
        Ok(v.capacity().min(16))
    };
    let t = unnamed(|| Check::new().always().run(body));
    assert_eq!(t.sequence, "t", "{}", t.summary());
    let p = unnamed(|| Check::new().always().mode(Mode::Persistent).run(body));
    assert_eq!(p.mode, Mode::Persistent);
    assert_eq!(p.sequence, ".");
}

#[test]
fn alloc_range_limits_the_sweep() {
    let r = unnamed(|| Check::new().always().alloc_range(2..=3).run(|| words(4)));
    assert_eq!(r.nalloc, 5);
    assert_eq!(r.range, Some([2, 3]));
    assert_eq!(r.sequence, "..");
    let r = unnamed(|| Check::new().always().alloc_range(9..).run(|| words(1)));
    assert_eq!(r.range, None);
    assert_eq!(r.swept(), 0);
    assert!(r
        .message
        .as_deref()
        .unwrap_or("")
        .contains("nothing to sweep"));
}

#[derive(Debug)]
enum MyError {
    Exhausted,
    Other,
}

#[test]
fn custom_predicate_decides_wrong_error() {
    let body = || -> Result<Vec<u8>, MyError> {
        let mut a: Vec<u8> = Vec::new();
        a.try_reserve(4).map_err(|_| MyError::Exhausted)?;
        let mut b: Vec<u8> = Vec::new();
        b.try_reserve(4).map_err(|_| MyError::Other)?;
        a.extend_from_slice(&[1, 2]);
        Ok(a)
    };
    // The default predicate knows neither name.
    let d = unnamed(|| Check::new().always().run(body));
    assert_eq!(d.sequence, "WW");
    let c = unnamed(|| {
        Check::new()
            .always()
            .no_memory(|e: &MyError| matches!(e, MyError::Exhausted))
            .run(body)
    });
    assert_eq!(c.sequence, ".W");
    assert_eq!(c.findings[0].alloc, 2);
    assert!(c.findings[0].message.contains("Other"));
}

#[test]
fn leaks_on_the_error_path_are_found() {
    let body = || -> Result<usize, TryReserveError> {
        let first: Box<[u8; 32]> = Box::new([0; 32]);
        let mut v: Vec<u8> = Vec::new();
        if let Err(e) = v.try_reserve(8) {
            std::mem::forget(first);
            return Err(e);
        }
        Ok(first.len() + v.capacity().min(1))
    };
    // Index 1 is the infallible Box (it would abort this process): count, then sweep only the
    // reservation.
    let r = unnamed(|| Check::new().always().alloc_range(3..).run(body));
    let r2 = unnamed(|| Check::new().always().alloc_range(2..=2).run(body));
    assert_eq!(r.nalloc, 2);
    assert_eq!(r2.sequence, "L", "{}", r2.summary());
    assert!(r2.findings[0].message.contains("32 bytes"));
}

#[test]
fn other_threads_allocations_are_not_counted() {
    let body = || -> Result<usize, TryReserveError> {
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve(8)?;
        let n = std::thread::scope(|s| s.spawn(|| vec![1u8; 100].len()).join().unwrap_or(0));
        Ok(n + v.capacity().min(1))
    };
    // Spawning allocates on this thread too (infallibly: never failed here, only counted), but the
    // spawned thread's 100-byte vector is not counted.
    let r = unnamed(|| Check::new().always().alloc_range(1..=1).run(body));
    assert_eq!(r.sequence, ".");
    let only = unnamed(|| {
        Check::new()
            .always()
            .alloc_range(1000..)
            .run(|| -> Result<usize, TryReserveError> {
                let n = std::thread::scope(|s| s.spawn(|| 100usize).join().unwrap_or(0));
                Ok(n)
            })
    });
    assert_eq!(
        r.nalloc,
        only.nalloc + 1,
        "{} / {}",
        r.summary(),
        only.summary()
    );
}

#[test]
fn concurrent_checks_do_not_disturb_each_other() {
    let reports: Vec<Report> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..=4)
            .map(|n| s.spawn(move || Check::new().always().run(move || words(n * 10))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for (i, r) in reports.iter().enumerate() {
        let n = (i as u64 + 1) * 10 + 1;
        assert_eq!(r.nalloc, n);
        assert_eq!(r.count(Outcome::NoMemory), n, "{}", r.summary());
    }
}

#[test]
fn without_oomcheck_the_body_runs_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    if std::env::var_os("OOMCHECK").is_some() {
        return;
    }
    let r = Check::new().run(|| {
        RUNS.fetch_add(1, Ordering::Relaxed);
        words(2)
    });
    assert_eq!(RUNS.load(Ordering::Relaxed), 1);
    assert_eq!(r.status, Status::Disabled);
    assert_eq!(r.nalloc, 3);
    assert!(r.passed());
}

#[test]
fn dedup_fails_the_first_allocation_of_each_site_only() {
    // One reservation of the list, then one per word from the same line: two sites.
    let r = unnamed(|| Check::new().always().dedup_sites(16).run(|| words(5)));
    assert_eq!(r.status, Status::Swept, "{}", r.summary());
    assert_eq!(r.nalloc, 6);
    assert_eq!(r.sequence, "..");
    let d = r.dedup.as_ref().expect("dedup info");
    assert_eq!((d.sites, d.covered, d.depth), (2, 4, 16));
    let firsts: Vec<(u64, u64)> = d.site_list.iter().map(|s| (s.alloc, s.count)).collect();
    assert_eq!(firsts, vec![(1, 1), (2, 5)]);
    assert!(
        d.site_list
            .iter()
            .all(|s| s.function.as_deref() == Some("in_process::words")),
        "{:?}",
        d.site_list
    );
    assert!(
        r.summary().contains("sites=2 (+4 covered)"),
        "{}",
        r.summary()
    );
}

#[test]
fn dedup_keeps_a_finding_at_a_site() {
    // The third word's reservation is the first allocation of its site that panics.
    let body = || -> Result<usize, TryReserveError> {
        let list = words(2)?;
        let mut s = String::new();
        s.try_reserve(4).expect("room");
        Ok(list.len() + s.len())
    };
    let r = unnamed(|| Check::new().always().dedup_sites(16).run(body));
    assert_eq!(r.sequence, "..P", "{}", r.summary());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].alloc, 4);
    assert_eq!(r.findings[0].outcome, Outcome::Panic);
}

#[test]
fn samples_are_reproducible_from_their_seed() {
    let run = |seed| {
        unnamed(move || {
            Check::new()
                .always()
                .sample(4, Some(seed))
                .run(|| words(20))
        })
    };
    let a = run(9);
    let b = run(9);
    let s = a.sample.as_ref().expect("sample info");
    assert_eq!(s.seed, 9);
    assert_eq!(s.indices.len(), 4);
    assert!(s.indices.windows(2).all(|w| w[0] < w[1]));
    assert!(s.indices.iter().all(|&i| (1..=21).contains(&i)));
    assert_eq!(Some(s), b.sample.as_ref());
    assert_eq!(a.sequence, "....");
    assert_eq!(a.swept(), 4);
    assert!(a.summary().contains("sample=4 seed=9"), "{}", a.summary());
    let c = run(10);
    assert_ne!(c.sample.as_ref().map(|s| &s.indices), Some(&s.indices));
}
