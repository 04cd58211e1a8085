//! Rendered icons, made once per distinct source image and shared by every build that shows it.
//! An app's builds usually carry the same icon: decoding it, resizing it to every published size
//! and encoding the PNGs is done for the first and reused for the rest, in this run and, when the
//! store has a folder, in later runs too.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::ipa::IconSet;
use crate::ipa::icon::is_intact_png;
use crate::layout::ICON_SIZES;

/// Identifies an icon by what it is made from: the SHA-256 of the source image's bytes (or of a
/// placeholder's description), lowercase hex.
pub type IconKey = String;

/// The key of a source image's bytes.
pub fn key_of(bytes: &[u8]) -> IconKey {
    crate::text::sha256_hex([bytes])
}

type Slot = Arc<OnceLock<Result<Arc<IconSet>, String>>>;

/// Icons by key: in memory for this run, and as PNG files in `dir` across runs.
#[derive(Debug, Default)]
pub struct IconStore {
    /// `<key>-<px>.png` for every published size, when the store persists.
    dir: Option<PathBuf>,
    /// Whether icons rendered in this run are added to `dir`.
    writable: bool,
    slots: Mutex<HashMap<IconKey, Slot>>,
}

impl IconStore {
    /// A store for this run only.
    pub fn in_memory() -> IconStore {
        IconStore::default()
    }

    /// A store that keeps rendered icons in `dir` (made when first needed), or with
    /// `writable` false, only takes those already there.
    pub fn in_folder(dir: PathBuf, writable: bool) -> IconStore {
        IconStore {
            dir: Some(dir),
            writable,
            slots: Mutex::default(),
        }
    }

    fn slot(&self, key: &str) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(slots.entry(key.to_string()).or_default())
    }

    /// The icon set of `key`: from memory, else from the folder, else made by `render` (once,
    /// however many threads ask at the same time) and kept.
    pub fn get_or_render<E: std::fmt::Display>(
        &self,
        key: &str,
        render: impl FnOnce() -> Result<IconSet, E>,
    ) -> Result<Arc<IconSet>, String> {
        self.slot(key)
            .get_or_init(|| {
                if let Some(set) = self.load(key) {
                    return Ok(Arc::new(set));
                }
                let set = render().map_err(|e| e.to_string())?;
                Ok(Arc::new(self.save(key, set)))
            })
            .clone()
    }

    /// The icon set of `key` if it was rendered in this run or is intact in the folder.
    pub fn get(&self, key: &str) -> Option<Arc<IconSet>> {
        let slot = self.slot(key);
        if let Some(done) = slot.get() {
            return done.as_ref().ok().cloned();
        }
        let set = self.load(key)?;
        slot.get_or_init(|| Ok(Arc::new(set)))
            .as_ref()
            .ok()
            .cloned()
    }

    /// Removes from the folder every icon this run did not use, and partial files left by runs
    /// that were stopped: the folder holds what the catalog shows, not its history.
    pub fn prune(&self) {
        let Some(dir) = self.dir.as_ref().filter(|_| self.writable) else {
            return;
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let used = name
                .rsplit_once('-')
                .is_some_and(|(key, _)| slots.contains_key(key));
            if !used {
                // Best effort: what stays is only pruned again next time.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn file(&self, key: &str, px: u32) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{key}-{px}.png")))
    }

    /// Every size from the folder, each an intact PNG; a missing or damaged one means none.
    /// A run that keeps the folder (and holds its lock, so no other run prunes it) reads them
    /// again when written; a run that only reads it holds the bytes.
    fn load(&self, key: &str) -> Option<IconSet> {
        let pngs = ICON_SIZES
            .iter()
            .map(|&px| {
                let file = self.file(key, px)?;
                let bytes = crate::fs::read_regular(&file).ok()?;
                is_intact_png(&bytes, px).then_some((px, bytes, file))
            })
            .collect::<Option<Vec<_>>>()?;
        if !self.writable {
            return Some(IconSet::from_pngs(
                pngs.into_iter().map(|(px, bytes, _)| (px, bytes)).collect(),
            ));
        }
        Some(IconSet::kept(
            pngs.into_iter()
                .map(|(px, bytes, file)| (px, crate::text::sha256([bytes.as_slice()]), file))
                .collect(),
        ))
    }

    /// Keeps a rendered set in the folder, returning it as kept there when all of it was.
    /// Each file is written beside its place and renamed, so a reader never sees half of one;
    /// a failure only costs rendering again next time.
    fn save(&self, key: &str, set: IconSet) -> IconSet {
        let Some(dir) = self.dir.as_ref().filter(|_| self.writable) else {
            return set;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return set;
        }
        let mut files = Vec::new();
        for png in set.pngs() {
            let (Some(bytes), Some(file)) = (png.held(), self.file(key, png.px())) else {
                break;
            };
            if crate::fs::write_replacing(&file, bytes).is_err() {
                break;
            }
            files.push((png.px(), *png.sha256(), file));
        }
        if files.len() == set.pngs().count() {
            IconSet::kept(files)
        } else {
            set
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipa::cgbi::Rgba;

    fn image() -> IconSet {
        IconSet::from_image(&Rgba {
            width: 2,
            height: 2,
            pixels: vec![200; 16],
        })
        .unwrap()
    }

    /// Each size with its bytes, however the set holds them.
    fn contents(set: &IconSet) -> Vec<(u32, Vec<u8>)> {
        set.pngs()
            .map(|png| (png.px(), png.bytes().unwrap().to_vec()))
            .collect()
    }

    #[test]
    fn renders_each_key_once() {
        let store = IconStore::in_memory();
        let mut renders = 0;
        for _ in 0..3 {
            let set = store
                .get_or_render("k", || {
                    renders += 1;
                    Ok::<_, String>(image())
                })
                .unwrap();
            assert_eq!(*set, image());
        }
        assert_eq!(renders, 1);
        assert!(store.get("other").is_none());
    }

    #[test]
    fn a_failed_render_is_an_error_for_every_asker() {
        let store = IconStore::in_memory();
        let first = store.get_or_render("k", || Err::<IconSet, _>("broken"));
        assert_eq!(first.unwrap_err(), "broken");
        let second = store.get_or_render("k", || Ok::<_, String>(image()));
        assert_eq!(second.unwrap_err(), "broken");
        assert!(store.get("k").is_none());
    }

    #[test]
    fn a_folder_keeps_icons_across_runs_and_refuses_damaged_ones() {
        let dir = tempfile::tempdir().unwrap();
        let first = IconStore::in_folder(dir.path().join("icons"), true);
        first
            .get_or_render("k", || Ok::<_, String>(image()))
            .unwrap();
        let second = IconStore::in_folder(dir.path().join("icons"), true);
        let kept = second.get("k").unwrap();
        assert!(
            kept.pngs().all(|png| png.held().is_none()),
            "read when written"
        );
        assert_eq!(contents(&kept), contents(&image()));
        let file = dir.path().join("icons/k-512.png");
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 5]).unwrap();
        let third = IconStore::in_folder(dir.path().join("icons"), true);
        assert!(third.get("k").is_none(), "a truncated PNG is not trusted");
        let mut renders = 0;
        third
            .get_or_render("k", || {
                renders += 1;
                Ok::<_, String>(image())
            })
            .unwrap();
        assert_eq!(renders, 1);
        assert_eq!(std::fs::read(&file).unwrap(), bytes, "rewritten whole");
    }

    #[test]
    fn a_kept_icon_that_changes_after_it_was_checked_is_an_error_when_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = IconStore::in_folder(dir.path().join("icons"), true);
        let set = store
            .get_or_render("k", || Ok::<_, String>(image()))
            .unwrap();
        assert_eq!(contents(&set), contents(&image()));
        let file = dir.path().join("icons/k-57.png");
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&file, &bytes).unwrap();
        let why = set.png(57).unwrap().bytes().unwrap_err();
        assert!(why.contains("k-57.png") && why.contains("changed"), "{why}");
    }

    #[test]
    fn pruning_keeps_only_the_icons_of_this_run() {
        let dir = tempfile::tempdir().unwrap();
        let icons = dir.path().join("icons");
        let old = IconStore::in_folder(icons.clone(), true);
        old.get_or_render("old", || Ok::<_, String>(image()))
            .unwrap();
        old.get_or_render("kept", || Ok::<_, String>(image()))
            .unwrap();
        std::fs::write(icons.join(".kept-512.png.999"), b"partial").unwrap();
        let new = IconStore::in_folder(icons.clone(), true);
        assert!(new.get("kept").is_some());
        new.prune();
        let mut left: Vec<String> = std::fs::read_dir(&icons)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["kept-512.png", "kept-57.png"]);
        IconStore::in_folder(icons.clone(), false).prune();
        assert_eq!(
            std::fs::read_dir(&icons).unwrap().count(),
            2,
            "read-only prunes nothing"
        );
    }
}
