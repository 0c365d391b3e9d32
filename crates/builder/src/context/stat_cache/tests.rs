use super::*;

/// A file entry with made-up, long-past stat data (so it is never racy).
fn entry(host: &Path, size: u64) -> ContextEntry {
    ContextEntry {
        path: host.file_name().unwrap().to_string_lossy().into_owned(),
        host_path: host.to_path_buf(),
        kind: EntryKind::File,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        size,
        mtime_ns: 1_000_000_000,
        ctime_ns: 1_000_000_000,
        ino: 7,
        dev: 1,
    }
}

/// Files `names` created in `dir`, as entries.
fn files(dir: &Path, names: &[&str]) -> Vec<ContextEntry> {
    names
        .iter()
        .map(|n| {
            let p = dir.join(n);
            std::fs::write(&p, n).unwrap();
            entry(&p, 1)
        })
        .collect()
}

/// What the cache knows of `entries`, as one answer per entry.
fn lookup(cache: &StatCache, entries: &[impl Borrow<ContextEntry>]) -> Vec<Option<[u8; 32]>> {
    let mut digests = vec![[0u8; 32]; entries.len()];
    let found = cache.lookup(entries, &mut digests);
    found
        .into_iter()
        .zip(digests)
        .map(|(found, digest)| found.then_some(digest))
        .collect()
}

fn digests(n: usize) -> Vec<(usize, [u8; 32])> {
    (0..n).map(|i| (i, [i as u8 + 1; 32])).collect()
}

#[test]
fn round_trips_and_checks_every_stat_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    let entries = files(dir.path(), &["a", "b", "c"]);
    let mut cache = StatCache::load(&file);
    assert_eq!(lookup(&cache, &entries), [None, None, None]);
    cache.remember(&entries, &digests(3)).unwrap();
    let cache = StatCache::load(&file);
    assert_eq!(cache.len(), 3);
    assert_eq!(
        lookup(&cache, &entries),
        [Some([1; 32]), Some([2; 32]), Some([3; 32])]
    );
    let changes: [fn(&mut ContextEntry); 5] = [
        |e| e.size = 2,
        |e| e.mtime_ns += 1,
        |e| e.ctime_ns += 1,
        |e| e.ino = 8,
        |e| e.dev = 2,
    ];
    for change in changes {
        let mut changed = entries.clone();
        change(&mut changed[1]);
        assert_eq!(
            lookup(&cache, &changed),
            [Some([1; 32]), None, Some([3; 32])]
        );
    }
    let mut dir_entry = entries[0].clone();
    dir_entry.kind = EntryKind::Dir;
    assert_eq!(lookup(&cache, &[dir_entry]), [None]);
}

#[test]
fn lookups_in_any_order_and_through_references() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    let entries = files(dir.path(), &["a", "b", "c", "d"]);
    let mut cache = StatCache::load(&file);
    cache.remember(&entries, &digests(4)).unwrap();
    let reversed: Vec<&ContextEntry> = entries.iter().rev().collect();
    assert_eq!(
        lookup(&cache, &reversed),
        [Some([4; 32]), Some([3; 32]), Some([2; 32]), Some([1; 32])]
    );
}

#[test]
fn a_merge_keeps_other_files_and_drops_stale_and_deleted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    let entries = files(dir.path(), &["a", "b", "c", "gone"]);
    let mut cache = StatCache::load(&file);
    cache.remember(&entries, &digests(4)).unwrap();
    std::fs::remove_file(dir.path().join("gone")).unwrap();
    // A later walk sees "a" changed (not re-hashed: e.g. too recent), and a new file "d".
    let mut later = vec![entries[0].clone()];
    later[0].size = 5;
    later.extend(files(dir.path(), &["d"]));
    cache.remember(&later, &[(1, [9; 32])]).unwrap();
    assert_eq!(
        cache.len(),
        3,
        "b and c kept, d added, a stale, gone deleted"
    );
    let mut all = entries.clone();
    all.push(later[1].clone());
    assert_eq!(
        lookup(&cache, &all),
        [None, Some([2; 32]), Some([3; 32]), None, Some([9; 32])]
    );
    // A fresh digest replaces the old one of the same file.
    cache.remember(&entries[1..2], &[(0, [7; 32])]).unwrap();
    assert_eq!(lookup(&cache, &entries[1..2]), [Some([7; 32])]);
    assert_eq!(cache.len(), 3);
}

#[test]
fn racy_files_are_not_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = files(dir.path(), &["a"]);
    entries[0].ctime_ns = now_ns();
    for mut cache in [
        StatCache::in_memory(),
        StatCache::load(&dir.path().join("cache")),
    ] {
        cache.remember(&entries, &digests(1)).unwrap();
        assert!(cache.is_empty());
    }
    assert!(!dir.path().join("cache").exists(), "nothing new, no file");
}

#[test]
fn the_memory_cache_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let entries = files(dir.path(), &["b", "a"]);
    let mut cache = StatCache::in_memory();
    cache.remember(&entries, &digests(2)).unwrap();
    assert_eq!(lookup(&cache, &entries), [Some([1; 32]), Some([2; 32])]);
    let mut changed = entries.clone();
    changed[0].ino = 99;
    assert_eq!(lookup(&cache, &changed), [None, Some([2; 32])]);
}

/// Every damaged or foreign file: nothing is vouched for, and the next merge replaces it
/// with a good one.
#[test]
fn damaged_truncated_and_old_format_files_are_empty_then_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    let entries = files(dir.path(), &["a", "b"]);
    let mut good_cache = StatCache::load(&file);
    good_cache.remember(&entries, &digests(2)).unwrap();
    let good = std::fs::read(&file).unwrap();

    let mut out_of_order = good.clone();
    // Swap the two records' one-byte paths ("a" and "b" under the same directory).
    let a = HEADER_LEN as usize;
    let path_len = dir.path().join("a").as_os_str().len();
    let record_len = (good.len() - HEADER_LEN as usize) / 2;
    out_of_order[a + 4 + path_len - 1] = b'b';
    out_of_order[a + record_len + 4 + path_len - 1] = b'a';

    let mut bad_length = good.clone();
    bad_length[HEADER_LEN as usize..HEADER_LEN as usize + 4]
        .copy_from_slice(&u32::MAX.to_le_bytes());

    let mut old_version = good.clone();
    old_version[..8].copy_from_slice(b"RBSTAT01");

    let mut wrong_count = good.clone();
    wrong_count[8..16].copy_from_slice(&5u64.to_le_bytes());
    wrong_count[16..24].copy_from_slice(&(good.len() as u64 + 10).to_le_bytes());
    wrong_count.extend([0u8; 10]);

    let damaged: [(&str, Vec<u8>); 7] = [
        ("empty", Vec::new()),
        ("garbage", b"nonsense".to_vec()),
        ("truncated", good[..good.len() - 5].to_vec()),
        ("out of order", out_of_order),
        ("bad path length", bad_length),
        ("old version", old_version),
        ("more records than bytes", wrong_count),
    ];
    for (what, bytes) in damaged {
        std::fs::write(&file, &bytes).unwrap();
        let mut cache = StatCache::load(&file);
        assert_eq!(lookup(&cache, &entries), [None, None], "{what}");
        cache.remember(&entries, &digests(2)).unwrap();
        assert_eq!(
            lookup(&StatCache::load(&file), &entries),
            [Some([1; 32]), Some([2; 32])],
            "{what}: rebuilt"
        );
        assert_eq!(std::fs::read(&file).unwrap(), good, "{what}: rebuilt");
    }
}

#[test]
fn a_path_too_long_for_the_format_is_not_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    let mut entries = files(dir.path(), &["a"]);
    let mut long = entries[0].clone();
    long.host_path = dir.path().join("x".repeat(MAX_PATH_LEN));
    entries.push(long);
    let mut cache = StatCache::load(&file);
    cache.remember(&entries, &digests(2)).unwrap();
    assert_eq!(lookup(&cache, &entries), [Some([1; 32]), None]);
    assert_eq!(cache.len(), 1);
}
