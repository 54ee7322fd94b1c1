//! A report's JSON record on disk: its file name, the marker of a sweep in progress, and the
//! atomic write.

use super::Report;
use std::io::Write as _;
use std::path::{Path, PathBuf};

impl Report {
    /// The record's file name: the test name with every non-alphanumeric character replaced by
    /// `_`, the process id, and the check's ordinal within the test when it is not the first.
    pub fn record_file_name(&self, ordinal: u32) -> String {
        let name: String = self
            .test
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if ordinal <= 1 {
            format!("{name}-{}.json", std::process::id())
        } else {
            format!("{name}-{}-{ordinal}.json", std::process::id())
        }
    }

    /// The marker a sweep leaves in the report directory while it runs: the record's file name
    /// with `.started` for `.json`, holding the test name. [`Report::write_record`]'s caller
    /// removes it once the record is written, so a marker without its record is a sweep that
    /// never finished (interrupted, or its process killed).
    pub fn started_marker(&self, dir: &Path, ordinal: u32) -> PathBuf {
        let name = self.record_file_name(ordinal);
        let stem = name.strip_suffix(".json").unwrap_or(&name);
        dir.join(format!("{stem}.started"))
    }

    /// Writes the JSON record into `dir` atomically (a temporary file in `dir`, then a rename).
    pub fn write_record(&self, dir: &Path, ordinal: u32) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(self.record_file_name(ordinal));
        // A temporary name of its own per write: two writers of one record name (two checks
        // of one test on different threads) never share a temporary file.
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let tmp = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("record"),
            WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let json = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&json)?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::report;
    use super::*;

    #[test]
    fn record_file_name_is_sanitized_and_written_atomically() {
        let r = report();
        let name = r.record_file_name(1);
        assert_eq!(name, format!("tests__parse_ok-{}.json", std::process::id()));
        assert!(r.record_file_name(2).ends_with("-2.json"));
        let dir = std::env::temp_dir().join(format!("oomcheck-report-test-{}", std::process::id()));
        let path = r.write_record(&dir, 1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["test"], "tests::parse ok");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_reader_never_sees_a_partial_record() {
        // Writers replace records (big ones: a long message) while a reader parses every
        // visible record; a non-atomic write would show a reader an empty or cut file.
        let dir = std::env::temp_dir().join(format!("oomcheck-atomic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut big = report();
        big.message = Some("x".repeat(100_000));
        let stop = std::sync::atomic::AtomicBool::new(false);
        let reads = std::thread::scope(|s| {
            for t in 0..2u32 {
                let (big, dir, stop) = (&big, &dir, &stop);
                s.spawn(move || {
                    for _ in 0..20 {
                        big.write_record(dir, 1 + t).unwrap();
                    }
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                });
            }
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || reads == 0 {
                for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                    let name = e.file_name().to_string_lossy().to_string();
                    if name.starts_with('.') {
                        continue;
                    }
                    // A record may be replaced between listing and opening, never cut.
                    let Ok(text) = std::fs::read_to_string(e.path()) else {
                        continue;
                    };
                    let back: Report = serde_json::from_str(&text)
                        .unwrap_or_else(|e| panic!("{name}: partial record ({e})"));
                    assert_eq!(back.message.as_deref().map(str::len), Some(100_000));
                    reads += 1;
                }
            }
            reads
        });
        assert!(reads > 0);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert_eq!(
            names.len(),
            2,
            "two records and no temporary file: {names:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
