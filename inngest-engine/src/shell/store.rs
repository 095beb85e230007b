//! The store: the core's state in SQLite (`--persist`), written one change set per
//! transaction. The core produces the change sets ([`Core::take_changes`]); the engine writes
//! each before it releases the calls and the answers the inputs caused (`engine.rs`), so what
//! was acknowledged survives a `kill -9`.
//!
//! One table holds every row, `state(space, key, value)`; the file says what it is with
//! SQLite's `application_id` and which version of the rows it holds with `user_version`
//! ([`STATE_VERSION`]). A file of another application, of a newer version or that SQLite
//! cannot read is refused at start-up with a message saying so; an older version is migrated
//! (there is none yet).
//!
//! WAL mode with `synchronous=NORMAL`: a commit is in the log when the write returns, so a
//! killed process loses nothing it acknowledged; a power cut may lose the last commits (the
//! log is synced at checkpoints), which a local engine accepts for its speed.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OpenFlags};

use crate::core::{ChangeSet, Snapshot, STATE_VERSION};

/// The file in the store's directory (beside the dev server's `main.db` when they share
/// `.inngest`, never the same file).
pub(crate) const FILE_NAME: &str = "inngest-engine.db";

/// `PRAGMA application_id` of the engine's files: "INNG".
const APPLICATION_ID: i32 = 0x494E_4E47;

/// Migrations from each older version to the next: `(from, statements)`. Empty: version 1 is
/// the first.
const MIGRATIONS: &[(u32, &str)] = &[];

/// The engine's database.
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (or creates) the database in `dir` (created if missing), checks it, and reads
    /// everything it holds.
    pub(crate) fn open(dir: &Path) -> Result<(Store, Snapshot), String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
        let path = dir.join(FILE_NAME);
        let cannot = |e: rusqlite::Error| {
            format!(
                "{} cannot be read as the engine's database: {e} (move it away to start afresh)",
                path.display()
            )
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(cannot)?;
        let pragma = |name: &str| -> Result<i64, String> {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .map_err(cannot)
        };
        let application = pragma("application_id")?;
        let version = pragma("user_version")?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(cannot)?;
        let mut store = Store {
            conn,
            path: path.clone(),
        };
        if tables == 0 && application == 0 {
            store.create().map_err(cannot)?;
        } else if application != i64::from(APPLICATION_ID) {
            return Err(format!(
                "{} is not a database of inngest-engine (another program wrote it): choose another --sqlite-dir or move the file away",
                path.display()
            ));
        } else if version > i64::from(STATE_VERSION) {
            return Err(format!(
                "{} was written by a newer version of inngest-engine (its data is version {version}; this engine reads up to version {STATE_VERSION}): run that version, or move the file away to start afresh",
                path.display()
            ));
        } else if version < i64::from(STATE_VERSION) {
            store.migrate(version).map_err(|e| {
                format!(
                    "{} holds data of version {version}, which this engine cannot migrate: {e}",
                    path.display()
                )
            })?;
        }
        let check: String = store
            .conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(cannot)?;
        if check != "ok" {
            return Err(format!(
                "{} is damaged ({check}): move it away to start afresh",
                path.display()
            ));
        }
        store
            .conn
            .execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            .map_err(cannot)?;
        let snapshot = store.load().map_err(cannot)?;
        Ok((store, snapshot))
    }

    fn create(&mut self) -> rusqlite::Result<()> {
        // Created before WAL mode is on, so the header (the version) is in the file itself.
        self.conn.execute_batch(&format!(
            "BEGIN;
             CREATE TABLE state (
                 space TEXT NOT NULL,
                 key TEXT NOT NULL,
                 value BLOB NOT NULL,
                 PRIMARY KEY (space, key)
             ) WITHOUT ROWID;
             PRAGMA application_id = {APPLICATION_ID};
             PRAGMA user_version = {STATE_VERSION};
             COMMIT;"
        ))
    }

    fn migrate(&mut self, from: i64) -> Result<(), String> {
        let mut version = u32::try_from(from).map_err(|_| "a negative version".to_owned())?;
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        while version < STATE_VERSION {
            let (_, statements) = MIGRATIONS
                .iter()
                .find(|(v, _)| *v == version)
                .ok_or_else(|| format!("no migration from version {version}"))?;
            tx.execute_batch(statements).map_err(|e| e.to_string())?;
            version += 1;
        }
        tx.execute_batch(&format!("PRAGMA user_version = {STATE_VERSION}"))
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())
    }

    fn load(&self) -> rusqlite::Result<Snapshot> {
        let mut snapshot = Snapshot::default();
        let mut select = self.conn.prepare("SELECT space, key, value FROM state")?;
        let rows = select.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for row in rows {
            let (space, key, value) = row?;
            snapshot.spaces.entry(space).or_default().insert(key, value);
        }
        Ok(snapshot)
    }

    /// Writes a change set in one transaction.
    pub(crate) fn write(&mut self, changes: &ChangeSet) -> Result<(), String> {
        if changes.is_empty() {
            return Ok(());
        }
        let fail = |e: rusqlite::Error| format!("cannot write to {}: {e}", self.path.display());
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO state (space, key, value) VALUES (?1, ?2, ?3)",
                )
                .map_err(fail)?;
            let mut delete = tx
                .prepare_cached("DELETE FROM state WHERE space = ?1 AND key = ?2")
                .map_err(fail)?;
            for row in &changes.rows {
                match &row.value {
                    Some(value) => put.execute(params![row.space, row.key, value]),
                    None => delete.execute(params![row.space, row.key]),
                }
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// Folds the log into the file (at a clean stop).
    pub(crate) fn checkpoint(&self) {
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Core, CoreConfig};

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "inngest-engine-store-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_store_is_empty_and_keeps_what_is_written() {
        let dir = dir("new");
        let (mut store, snapshot) = Store::open(&dir).unwrap();
        assert!(snapshot.is_empty());
        let mut core = Core::restore(CoreConfig::default(), snapshot, 7, std::time::UNIX_EPOCH)
            .unwrap()
            .core;
        core.send(
            vec![serde_json::json!({"name": "demo/hello", "data": {}})],
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        )
        .unwrap();
        store.write(&core.take_changes()).unwrap();
        drop(store);
        let (_, again) = Store::open(&dir).unwrap();
        assert_eq!(again, core.snapshot());
        assert_eq!(again.count("events"), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_newer_version_an_older_one_another_programs_file_and_garbage_are_refused() {
        let dir = dir("versions");
        drop(Store::open(&dir).unwrap());
        let path = dir.join(FILE_NAME);
        let set = |pragma: &str| {
            Connection::open(&path)
                .unwrap()
                .execute_batch(&format!("PRAGMA {pragma}"))
                .unwrap();
        };
        let error = |dir: &Path| Store::open(dir).unwrap_err();

        set("user_version = 99");
        let e = error(&dir);
        assert!(
            e.contains("was written by a newer version of inngest-engine (its data is version 99; this engine reads up to version 1)"),
            "{e}"
        );

        set("user_version = 0");
        let e = error(&dir);
        assert!(e.contains("holds data of version 0, which this engine cannot migrate: no migration from version 0"), "{e}");

        set("application_id = 0");
        let e = error(&dir);
        assert!(e.contains("is not a database of inngest-engine"), "{e}");

        std::fs::remove_file(&path).unwrap();
        let _ = std::fs::remove_file(dir.join(format!("{FILE_NAME}-wal")));
        let _ = std::fs::remove_file(dir.join(format!("{FILE_NAME}-shm")));
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        let e = error(&dir);
        assert!(
            e.contains("cannot be read as the engine's database: file is not a database"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
