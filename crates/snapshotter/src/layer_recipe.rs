//! Layer blobs kept as a recipe instead of bytes: `<root>/blobs/recipes/<hex>`.
//!
//! A layer a build commits is already in the store unpacked (`layers/<diffID>/`), and its
//! uncompressed tar is a pure function of that directory and the tar options. Writing the
//! tar as a blob too doubled the disk writes of a cold `COPY` (and fsynced half a
//! gigabyte for a large context) for a file that most builds never read: only exports and
//! pushes do. So a commit records the recipe (the tar's size and options), and the content
//! store writes the blob from the unpacked layer the first time someone opens it, checking
//! that it hashes to the recorded digest (BuildKit's lazy blobs follow the same idea).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{IoContext, StoreError};
use crate::fsutil::fsync_dir;
use crate::layer_tar::LayerTarOptions;
use crate::tempname::unique_name;

/// The on-disk format version; a record of another version is treated as absent.
const FORMAT: u32 = 1;

/// How to produce an uncompressed layer blob from its unpacked layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LayerRecipe {
    format: u32,
    /// Bytes of the tar (what the blob's descriptor announces).
    pub size: u64,
    /// The tar options the layer was committed with.
    pub source_date_epoch: Option<i64>,
}

impl LayerRecipe {
    pub fn new(size: u64, options: &LayerTarOptions) -> Self {
        LayerRecipe {
            format: FORMAT,
            size,
            source_date_epoch: options.source_date_epoch,
        }
    }

    pub fn tar_options(&self) -> LayerTarOptions {
        LayerTarOptions {
            source_date_epoch: self.source_date_epoch,
        }
    }
}

/// Where recipes live.
pub(crate) fn recipes_dir(root: &Path) -> PathBuf {
    root.join("blobs").join("recipes")
}

pub(crate) fn recipe_path(root: &Path, d: &Digest) -> PathBuf {
    recipes_dir(root).join(d.hex())
}

/// Reads the recipe of `d`; None when there is none, or it is unreadable or of another
/// format (then the blob is simply absent, and a rebuild records it again).
pub(crate) fn read_recipe(root: &Path, d: &Digest) -> Option<LayerRecipe> {
    let bytes = std::fs::read(recipe_path(root, d)).ok()?;
    let recipe: LayerRecipe = serde_json::from_slice(&bytes).ok()?;
    (recipe.format == FORMAT).then_some(recipe)
}

/// Records the recipe atomically (temporary file, fsync, rename).
pub(crate) fn write_recipe(
    root: &Path,
    tmp: &Path,
    d: &Digest,
    recipe: &LayerRecipe,
) -> Result<(), StoreError> {
    let dir = recipes_dir(root);
    std::fs::create_dir_all(&dir).ctx("create directory", &dir)?;
    let temp = tmp.join(unique_name("recipe"));
    let bytes = serde_json::to_vec(recipe)
        .map_err(|e| StoreError::io("encode layer recipe", &temp, std::io::Error::other(e)))?;
    let result = (|| {
        let mut file = std::fs::File::create(&temp).ctx("create", &temp)?;
        file.write_all(&bytes).ctx("write", &temp)?;
        file.sync_all().ctx("fsync", &temp)?;
        let target = recipe_path(root, d);
        std::fs::rename(&temp, &target).ctx("rename layer recipe into place", &target)?;
        fsync_dir(&dir).ctx("fsync", &dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipe_round_trips_and_a_damaged_or_foreign_one_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let d = Digest::of_bytes(b"layer");
        assert_eq!(read_recipe(root, &d), None);
        let options = LayerTarOptions {
            source_date_epoch: Some(42),
        };
        let recipe = LayerRecipe::new(1536, &options);
        write_recipe(root, &tmp, &d, &recipe).unwrap();
        let back = read_recipe(root, &d).unwrap();
        assert_eq!((back.size, back.tar_options()), (1536, options));
        assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);

        std::fs::write(recipe_path(root, &d), b"{\"format\":1,\"si").unwrap();
        assert_eq!(read_recipe(root, &d), None);
        std::fs::write(
            recipe_path(root, &d),
            br#"{"format":99,"size":1,"source_date_epoch":null}"#,
        )
        .unwrap();
        assert_eq!(read_recipe(root, &d), None);
    }
}
