//! Image rows (identity = SHA-256), their supported platforms and
//! requirements, and the blob rows that record which bytes the blob store holds.

use std::collections::BTreeMap;

use netswim_domain::Os;
use netswim_domain::image::{ImageFormat, ImageType};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::{expect_one_row, get_time};
use crate::model::{
    enum_from_text, enum_to_text, from_db_json, from_db_size, to_db_json, to_db_size,
};
use crate::{Store, StoreError, Timestamp};

/// Outcome of checking an image's detached signature.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    /// No signature has been checked yet.
    #[default]
    NotChecked,
    /// No signature was supplied for this image.
    Unsigned,
    /// A trusted key verified the signature.
    Verified,
    /// The signature did not verify.
    Invalid,
}

/// An image to insert.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewImage {
    /// Lowercase hex SHA-256 of the bytes: the image's identity.
    pub sha256: String,
    pub file_name: String,
    /// Image family (platform family such as `c3750`, `cat9k`).
    pub family: Option<String>,
    pub os: Option<Os>,
    pub image_type: ImageType,
    /// Version in the vendor's display form.
    pub version: Option<String>,
    pub feature_set: Option<String>,
    pub format: ImageFormat,
    pub size_bytes: u64,
    pub md5: String,
    pub sha512: String,
    pub min_ram_bytes: Option<u64>,
    pub min_flash_bytes: Option<u64>,
    pub signature_status: SignatureStatus,
    /// Anything else the inspection found (archive `info` contents, ...).
    pub metadata: serde_json::Value,
    /// Platforms the image supports (`c3750`, `C9300-48P`, ...).
    pub platforms: Vec<String>,
    /// Named requirements (`min_boot_loader`, ...) as JSON values.
    pub requirements: BTreeMap<String, serde_json::Value>,
}

/// A stored image.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: i64,
    pub sha256: String,
    pub file_name: String,
    pub family: Option<String>,
    pub os: Option<Os>,
    pub image_type: ImageType,
    pub version: Option<String>,
    pub feature_set: Option<String>,
    pub format: ImageFormat,
    pub size_bytes: u64,
    pub md5: String,
    pub sha512: String,
    pub min_ram_bytes: Option<u64>,
    pub min_flash_bytes: Option<u64>,
    pub signature_status: SignatureStatus,
    pub metadata: serde_json::Value,
    /// Sorted.
    pub platforms: Vec<String>,
    pub requirements: BTreeMap<String, serde_json::Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A blob the blob store holds, as recorded in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRecord {
    pub sha256: String,
    pub size_bytes: u64,
    pub created_at: Timestamp,
}

const IMAGE_COLUMNS: &str = "id, sha256, file_name, family, os, image_type, version, feature_set, format, \
    size_bytes, md5, sha512, min_ram_bytes, min_flash_bytes, signature_status, metadata_json, created_at, updated_at";

fn optional_size(what: &'static str, value: Option<u64>) -> Result<Option<i64>, StoreError> {
    value.map(|size| to_db_size(what, size)).transpose()
}

fn image_from_row(row: &AnyRow) -> Result<Image, StoreError> {
    let os = row
        .try_get::<Option<String>, _>("os")?
        .map(|text| {
            text.parse::<Os>().map_err(|error| StoreError::Corrupt {
                what: "image os",
                reason: error.to_string(),
            })
        })
        .transpose()?;
    Ok(Image {
        id: row.try_get("id")?,
        sha256: row.try_get("sha256")?,
        file_name: row.try_get("file_name")?,
        family: row.try_get("family")?,
        os,
        image_type: enum_from_text("image type", &row.try_get::<String, _>("image_type")?)?,
        version: row.try_get("version")?,
        feature_set: row.try_get("feature_set")?,
        format: enum_from_text("image format", &row.try_get::<String, _>("format")?)?,
        size_bytes: from_db_size("image size", row.try_get("size_bytes")?)?,
        md5: row.try_get("md5")?,
        sha512: row.try_get("sha512")?,
        min_ram_bytes: row
            .try_get::<Option<i64>, _>("min_ram_bytes")?
            .map(|value| from_db_size("minimum RAM", value))
            .transpose()?,
        min_flash_bytes: row
            .try_get::<Option<i64>, _>("min_flash_bytes")?
            .map(|value| from_db_size("minimum flash", value))
            .transpose()?,
        signature_status: enum_from_text(
            "signature status",
            &row.try_get::<String, _>("signature_status")?,
        )?,
        metadata: from_db_json(
            "image metadata",
            &row.try_get::<String, _>("metadata_json")?,
        )?,
        platforms: Vec::new(),
        requirements: BTreeMap::new(),
        created_at: get_time(row, "created_at")?,
        updated_at: get_time(row, "updated_at")?,
    })
}

/// Checks that text is a lowercase hex SHA-256.
pub(crate) fn validate_sha256(text: &str) -> Result<(), StoreError> {
    if text.len() == 64
        && text
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
    {
        Ok(())
    } else {
        Err(StoreError::InvalidInput {
            what: "sha256",
            reason: format!("{text:?} is not 64 lowercase hex digits"),
        })
    }
}

impl Store {
    /// Inserts an image; the same SHA-256 twice is a `Conflict`.
    pub async fn insert_image(&self, image: &NewImage) -> Result<Image, StoreError> {
        validate_sha256(&image.sha256)?;
        let now = Timestamp::now().as_millis();
        let mut transaction = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "INSERT INTO images (sha256, file_name, family, os, image_type, version, feature_set, format,
                size_bytes, md5, sha512, min_ram_bytes, min_flash_bytes, signature_status, metadata_json,
                created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
             RETURNING {IMAGE_COLUMNS}"
        ))
        .bind(&image.sha256)
        .bind(&image.file_name)
        .bind(&image.family)
        .bind(image.os.map(|os| os.as_str()))
        .bind(enum_to_text("image type", &image.image_type)?)
        .bind(&image.version)
        .bind(&image.feature_set)
        .bind(enum_to_text("image format", &image.format)?)
        .bind(to_db_size("image size", image.size_bytes)?)
        .bind(&image.md5)
        .bind(&image.sha512)
        .bind(optional_size("minimum RAM", image.min_ram_bytes)?)
        .bind(optional_size("minimum flash", image.min_flash_bytes)?)
        .bind(enum_to_text("signature status", &image.signature_status)?)
        .bind(to_db_json("image metadata", &image.metadata)?)
        .bind(now)
        .fetch_one(&mut *transaction)
        .await
        .map_err(|error| StoreError::from_database(error, "image", &image.sha256))?;
        let mut stored = image_from_row(&row)?;
        write_platforms_and_requirements(
            &mut transaction,
            stored.id,
            &image.platforms,
            &image.requirements,
        )
        .await?;
        transaction.commit().await?;
        stored.platforms = sorted_unique(&image.platforms);
        stored.requirements = image.requirements.clone();
        Ok(stored)
    }

    /// One image by id.
    pub async fn get_image(&self, id: i64) -> Result<Image, StoreError> {
        let row = sqlx::query(&format!("SELECT {IMAGE_COLUMNS} FROM images WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "image",
                key: id.to_string(),
            })?;
        self.complete_image(image_from_row(&row)?).await
    }

    /// The image with these bytes, if any (the de-duplication check).
    pub async fn find_image_by_sha256(&self, sha256: &str) -> Result<Option<Image>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {IMAGE_COLUMNS} FROM images WHERE sha256 = $1"
        ))
        .bind(sha256)
        .fetch_optional(self.pool())
        .await?;
        match row {
            Some(row) => Ok(Some(self.complete_image(image_from_row(&row)?).await?)),
            None => Ok(None),
        }
    }

    /// Every image, oldest first.
    pub async fn list_images(&self) -> Result<Vec<Image>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {IMAGE_COLUMNS} FROM images ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        let mut images = rows
            .iter()
            .map(image_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let platform_rows = sqlx::query(
            "SELECT image_id, platform FROM image_platforms ORDER BY image_id, platform",
        )
        .fetch_all(self.pool())
        .await?;
        let requirement_rows =
            sqlx::query("SELECT image_id, name, value_json FROM image_requirements")
                .fetch_all(self.pool())
                .await?;
        let mut by_id: BTreeMap<i64, &mut Image> =
            images.iter_mut().map(|image| (image.id, image)).collect();
        for row in platform_rows {
            let image_id: i64 = row.try_get("image_id")?;
            if let Some(image) = by_id.get_mut(&image_id) {
                image.platforms.push(row.try_get("platform")?);
            }
        }
        for row in requirement_rows {
            let image_id: i64 = row.try_get("image_id")?;
            if let Some(image) = by_id.get_mut(&image_id) {
                image.requirements.insert(
                    row.try_get("name")?,
                    from_db_json(
                        "image requirement",
                        &row.try_get::<String, _>("value_json")?,
                    )?,
                );
            }
        }
        Ok(images)
    }

    /// Writes every editable field of an image (metadata, minimum RAM/flash,
    /// signature status, platforms, requirements); identity and checksums stay.
    pub async fn update_image(&self, image: &Image) -> Result<Image, StoreError> {
        let mut transaction = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE images SET file_name = $2, family = $3, os = $4, image_type = $5, version = $6,
                feature_set = $7, format = $8, min_ram_bytes = $9, min_flash_bytes = $10,
                signature_status = $11, metadata_json = $12, updated_at = $13
             WHERE id = $1",
        )
        .bind(image.id)
        .bind(&image.file_name)
        .bind(&image.family)
        .bind(image.os.map(|os| os.as_str()))
        .bind(enum_to_text("image type", &image.image_type)?)
        .bind(&image.version)
        .bind(&image.feature_set)
        .bind(enum_to_text("image format", &image.format)?)
        .bind(optional_size("minimum RAM", image.min_ram_bytes)?)
        .bind(optional_size("minimum flash", image.min_flash_bytes)?)
        .bind(enum_to_text("signature status", &image.signature_status)?)
        .bind(to_db_json("image metadata", &image.metadata)?)
        .bind(Timestamp::now().as_millis())
        .execute(&mut *transaction)
        .await?;
        expect_one_row(result.rows_affected(), "image", image.id)?;
        for table in ["image_platforms", "image_requirements"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE image_id = $1"))
                .bind(image.id)
                .execute(&mut *transaction)
                .await?;
        }
        write_platforms_and_requirements(
            &mut transaction,
            image.id,
            &image.platforms,
            &image.requirements,
        )
        .await?;
        transaction.commit().await?;
        self.get_image(image.id).await
    }

    /// Deletes an image row (its platforms and requirements go with it). The
    /// caller decides whether the blob is still needed.
    pub async fn delete_image(&self, id: i64) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM images WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "image", id)
    }

    /// Records that the blob store holds these bytes (idempotent).
    pub async fn record_blob(
        &self,
        sha256: &str,
        size_bytes: u64,
    ) -> Result<BlobRecord, StoreError> {
        validate_sha256(sha256)?;
        sqlx::query(
            "INSERT INTO blobs (sha256, size_bytes, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(sha256)
        .bind(to_db_size("blob size", size_bytes)?)
        .bind(Timestamp::now().as_millis())
        .execute(self.pool())
        .await?;
        self.get_blob_record(sha256).await
    }

    /// The blob row for these bytes.
    pub async fn get_blob_record(&self, sha256: &str) -> Result<BlobRecord, StoreError> {
        let row = sqlx::query("SELECT sha256, size_bytes, created_at FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "blob",
                key: sha256.to_owned(),
            })?;
        blob_from_row(&row)
    }

    /// Every blob row, by hash.
    pub async fn list_blob_records(&self) -> Result<Vec<BlobRecord>, StoreError> {
        let rows = sqlx::query("SELECT sha256, size_bytes, created_at FROM blobs ORDER BY sha256")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(blob_from_row).collect()
    }

    /// Blob rows that no image refers to (candidates for garbage collection).
    pub async fn list_unreferenced_blobs(&self) -> Result<Vec<BlobRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT b.sha256, b.size_bytes, b.created_at FROM blobs b
             WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.sha256 = b.sha256)
             ORDER BY b.sha256",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(blob_from_row).collect()
    }

    /// Forgets a blob row.
    pub async fn delete_blob_record(&self, sha256: &str) -> Result<(), StoreError> {
        let result = sqlx::query("DELETE FROM blobs WHERE sha256 = $1")
            .bind(sha256)
            .execute(self.pool())
            .await?;
        expect_one_row(result.rows_affected(), "blob", sha256)
    }

    async fn complete_image(&self, mut image: Image) -> Result<Image, StoreError> {
        let platform_rows = sqlx::query(
            "SELECT platform FROM image_platforms WHERE image_id = $1 ORDER BY platform",
        )
        .bind(image.id)
        .fetch_all(self.pool())
        .await?;
        image.platforms = platform_rows
            .iter()
            .map(|row| row.try_get::<String, _>("platform"))
            .collect::<Result<_, _>>()?;
        let requirement_rows =
            sqlx::query("SELECT name, value_json FROM image_requirements WHERE image_id = $1")
                .bind(image.id)
                .fetch_all(self.pool())
                .await?;
        for row in requirement_rows {
            image.requirements.insert(
                row.try_get("name")?,
                from_db_json(
                    "image requirement",
                    &row.try_get::<String, _>("value_json")?,
                )?,
            );
        }
        Ok(image)
    }
}

fn blob_from_row(row: &AnyRow) -> Result<BlobRecord, StoreError> {
    Ok(BlobRecord {
        sha256: row.try_get("sha256")?,
        size_bytes: from_db_size("blob size", row.try_get("size_bytes")?)?,
        created_at: get_time(row, "created_at")?,
    })
}

fn sorted_unique(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values.dedup();
    values
}

async fn write_platforms_and_requirements(
    transaction: &mut Transaction<'_, Any>,
    image_id: i64,
    platforms: &[String],
    requirements: &BTreeMap<String, serde_json::Value>,
) -> Result<(), StoreError> {
    for platform in sorted_unique(platforms) {
        sqlx::query("INSERT INTO image_platforms (image_id, platform) VALUES ($1, $2)")
            .bind(image_id)
            .bind(platform)
            .execute(&mut **transaction)
            .await?;
    }
    for (name, value) in requirements {
        sqlx::query(
            "INSERT INTO image_requirements (image_id, name, value_json) VALUES ($1, $2, $3)",
        )
        .bind(image_id)
        .bind(name)
        .bind(to_db_json("image requirement", value)?)
        .execute(&mut **transaction)
        .await?;
    }
    Ok(())
}
