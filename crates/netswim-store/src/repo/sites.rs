//! Sites (location groups) and the distribution servers (relays) that serve them.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{expect_one_row, get_time};
use crate::{Store, StoreError, Timestamp};

/// A location group of devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A distribution server to insert.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewDistributionServer {
    pub name: String,
    /// Base URL devices pull images from.
    pub url: String,
    /// Sites this server serves.
    pub site_ids: Vec<i64>,
}

/// A stored distribution server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionServer {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// Sorted.
    pub site_ids: Vec<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

fn site_from_row(row: &AnyRow) -> Result<Site, StoreError> {
    Ok(Site {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

fn server_from_row(row: &AnyRow) -> Result<DistributionServer, StoreError> {
    Ok(DistributionServer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        url: row.try_get("url")?,
        site_ids: Vec::new(),
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

impl Store {
    /// Inserts a site; a taken name is a `Conflict`.
    pub async fn insert_site(&self, name: &str, description: &str) -> Result<Site, StoreError> {
        let now = Timestamp::now().as_millis();
        let row = sqlx::query(
            "INSERT INTO sites (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3)
             RETURNING id, name, description, created_at, updated_at",
        )
        .bind(name)
        .bind(description)
        .bind(now)
        .fetch_one(self.pool())
        .await
        .map_err(|error| StoreError::from_database(error, "site", name))?;
        site_from_row(&row)
    }

    /// One site by id.
    pub async fn get_site(&self, id: i64) -> Result<Site, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, description, created_at, updated_at FROM sites WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "site",
            key: id.to_string(),
        })?;
        site_from_row(&row)
    }

    /// One site by name.
    pub async fn find_site_by_name(&self, name: &str) -> Result<Option<Site>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, description, created_at, updated_at FROM sites WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(site_from_row).transpose()
    }

    /// Every site, by name.
    pub async fn list_sites(&self) -> Result<Vec<Site>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, description, created_at, updated_at FROM sites ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(site_from_row).collect()
    }

    /// Deletes a site; its devices keep existing without a site.
    pub async fn delete_site(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM sites WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "site", id)
    }

    /// Inserts a distribution server and the sites it serves.
    pub async fn insert_distribution_server(
        &self,
        server: &NewDistributionServer,
    ) -> Result<DistributionServer, StoreError> {
        let now = Timestamp::now().as_millis();
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO distribution_servers (name, url, created_at, updated_at) VALUES ($1, $2, $3, $3)
             RETURNING id, name, url, created_at, updated_at",
        )
        .bind(&server.name)
        .bind(&server.url)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| StoreError::from_database(error, "distribution server", &server.name))?;
        let mut stored = server_from_row(&row)?;
        let mut site_ids = server.site_ids.clone();
        site_ids.sort_unstable();
        site_ids.dedup();
        for site_id in &site_ids {
            sqlx::query(
                "INSERT INTO distribution_server_sites (server_id, site_id) VALUES ($1, $2)",
            )
            .bind(stored.id)
            .bind(site_id)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        stored.site_ids = site_ids;
        Ok(stored)
    }

    /// One distribution server by id.
    pub async fn get_distribution_server(&self, id: i64) -> Result<DistributionServer, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, url, created_at, updated_at FROM distribution_servers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound {
            what: "distribution server",
            key: id.to_string(),
        })?;
        let mut server = server_from_row(&row)?;
        server.site_ids = self.distribution_server_site_ids(id).await?;
        Ok(server)
    }

    /// Every distribution server, by name.
    pub async fn list_distribution_servers(&self) -> Result<Vec<DistributionServer>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, url, created_at, updated_at FROM distribution_servers ORDER BY name",
        )
        .fetch_all(self.pool())
        .await?;
        let mut servers = rows
            .iter()
            .map(server_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        for server in &mut servers {
            server.site_ids = self.distribution_server_site_ids(server.id).await?;
        }
        Ok(servers)
    }

    /// Distribution servers that serve a site.
    pub async fn distribution_servers_for_site(
        &self,
        site_id: i64,
    ) -> Result<Vec<DistributionServer>, StoreError> {
        let servers = self.list_distribution_servers().await?;
        Ok(servers
            .into_iter()
            .filter(|server| server.site_ids.contains(&site_id))
            .collect())
    }

    /// Changes a distribution server's name, URL and sites.
    pub async fn update_distribution_server(
        &self,
        server: &DistributionServer,
    ) -> Result<DistributionServer, StoreError> {
        let mut transaction = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE distribution_servers SET name = $2, url = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(server.id)
        .bind(&server.name)
        .bind(&server.url)
        .bind(Timestamp::now().as_millis())
        .execute(&mut *transaction)
        .await
        .map_err(|error| StoreError::from_database(error, "distribution server", &server.name))?;
        expect_one_row(result.rows_affected(), "distribution server", server.id)?;
        sqlx::query("DELETE FROM distribution_server_sites WHERE server_id = $1")
            .bind(server.id)
            .execute(&mut *transaction)
            .await?;
        let mut site_ids = server.site_ids.clone();
        site_ids.sort_unstable();
        site_ids.dedup();
        for site_id in &site_ids {
            sqlx::query(
                "INSERT INTO distribution_server_sites (server_id, site_id) VALUES ($1, $2)",
            )
            .bind(server.id)
            .bind(site_id)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        self.get_distribution_server(server.id).await
    }

    /// Deletes a distribution server.
    pub async fn delete_distribution_server(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM distribution_servers WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "distribution server", id)
    }

    async fn distribution_server_site_ids(&self, server_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT site_id FROM distribution_server_sites WHERE server_id = $1 ORDER BY site_id",
        )
        .bind(server_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| row.try_get::<i64, _>("site_id").map_err(StoreError::from))
            .collect()
    }
}
