//! Test databases for the store suite: a SQLite file in a temporary folder,
//! or a fresh PostgreSQL schema that is dropped afterwards.

#![allow(dead_code)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use netswim_store::Store;
use sqlx::Connection;

/// PostgreSQL server the suite runs against (trust auth); override with
/// `NETSWIM_TEST_POSTGRES_URL`.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

static SCHEMA_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An open store and what is needed to reopen it and clean it up.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    /// URL that reopens the same database (and schema).
    pub url: String,
    _sqlite_folder: Option<tempfile::TempDir>,
    postgres_schema: Option<(String, String)>,
    /// Further empty PostgreSQL schemas handed out by `fresh_url`.
    extra_schemas: Mutex<Vec<String>>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("temporary folder");
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("netswim.db").display()
        );
        let store = Store::open(&url).await.expect("open SQLite store");
        TestDb {
            store,
            url,
            _sqlite_folder: Some(folder),
            postgres_schema: None,
            extra_schemas: Mutex::new(Vec::new()),
        }
    }

    pub async fn postgres() -> Self {
        let server_url = std::env::var("NETSWIM_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let schema = create_schema(&server_url).await;
        let url = schema_url(&server_url, &schema);
        let store = Store::open(&url).await.expect("open PostgreSQL store");
        TestDb {
            store,
            url,
            _sqlite_folder: None,
            postgres_schema: Some((server_url, schema)),
            extra_schemas: Mutex::new(Vec::new()),
        }
    }

    /// A URL of another, empty database of the same backend (not migrated).
    pub async fn fresh_url(&self) -> String {
        match (&self._sqlite_folder, &self.postgres_schema) {
            (Some(folder), _) => {
                let name = format!(
                    "fresh-{}.db",
                    SCHEMA_COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                format!("sqlite://{}?mode=rwc", folder.path().join(name).display())
            }
            (None, Some((server_url, _))) => {
                let schema = create_schema(server_url).await;
                self.extra_schemas.lock().unwrap().push(schema.clone());
                schema_url(server_url, &schema)
            }
            (None, None) => panic!("test database already finished"),
        }
    }

    /// Closes the store and drops the PostgreSQL schemas.
    pub async fn finish(mut self) {
        self.store.close().await;
        if let Some((server_url, schema)) = self.postgres_schema.take() {
            drop_schema(&server_url, &schema).await;
            let extra_schemas = std::mem::take(&mut *self.extra_schemas.lock().unwrap());
            for extra in extra_schemas {
                drop_schema(&server_url, &extra).await;
            }
        }
    }
}

fn schema_url(server_url: &str, schema: &str) -> String {
    let separator = if server_url.contains('?') { '&' } else { '?' };
    format!("{server_url}{separator}options[search_path]={schema}")
}

async fn create_schema(server_url: &str) -> String {
    {
        let mut admin = sqlx::PgConnection::connect(server_url).await.unwrap_or_else(|error| {
            panic!(
                "PostgreSQL is not reachable at {server_url}: {error}\n\
                 hint: the store suite must run on PostgreSQL too; start it (trust auth, database `test`) \
                 or set NETSWIM_TEST_POSTGRES_URL"
            )
        });
        let schema = format!(
            "netswim_test_{}_{}_{}",
            std::process::id(),
            SCHEMA_COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("create test schema");
        admin.close().await.ok();
        schema
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A failed test never reaches `finish`: drop its schema from a
        // separate thread with its own runtime (we may be inside one).
        if let Some((server_url, schema)) = self.postgres_schema.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(runtime) = runtime {
                    runtime.block_on(drop_schema(&server_url, &schema));
                }
            })
            .join();
        }
    }
}

async fn drop_schema(server_url: &str, schema: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(server_url).await {
        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut admin)
            .await;
        admin.close().await.ok();
    }
}

/// Runs each named test body (`async fn(&TestDb)`) once on SQLite and once
/// on PostgreSQL, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let database = $crate::common::TestDb::sqlite().await;
                    super::$name(&database).await;
                    database.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let database = $crate::common::TestDb::postgres().await;
                    super::$name(&database).await;
                    database.finish().await;
                }
            )*
        }
    };
}
