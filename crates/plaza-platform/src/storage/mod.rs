//! The object storage port, over the `object_store` crate: a local
//! directory by default, an S3-compatible bucket when configured. Keys are
//! chosen by plaza (`files/<id>/<variant>`), never by a client.

use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::Config;

#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct StorageError(String);

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        Self(e.to_string())
    }
}

#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// `local:<dir>` or `s3:<bucket>`, for logs and readiness.
    pub describe: String,
}

impl Storage {
    pub fn from_config(config: &Config) -> Result<Self, StorageError> {
        let s = &config.storage;
        match &s.s3_bucket {
            None => {
                let dir = config.data_dir.join("files");
                std::fs::create_dir_all(&dir)
                    .map_err(|e| StorageError(format!("cannot create {}: {e}", dir.display())))?;
                Ok(Self {
                    store: Arc::new(LocalFileSystem::new_with_prefix(&dir)?),
                    describe: format!("local:{}", dir.display()),
                })
            }
            Some(bucket) => {
                crate::tls::install();
                let mut builder = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_region(&s.s3_region);
                if let Some(endpoint) = &s.s3_endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                if let Some(key) = &s.s3_access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s.s3_secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    describe: format!("s3:{bucket}"),
                })
            }
        }
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store
            .put(&Path::from(key), PutPayload::from_bytes(bytes))
            .await?;
        Ok(())
    }

    /// The object, or `None` when there is none under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes `key`; removing what is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the store answers: one listing request (readiness). Only
    /// worth asking of a remote bucket.
    pub fn is_remote(&self) -> bool {
        self.describe.starts_with("s3:")
    }

    pub async fn ping(&self) -> Result<(), StorageError> {
        self.store
            .list_with_delimiter(Some(&Path::from("files")))
            .await?;
        Ok(())
    }

    /// Every key under `prefix` (tests and housekeeping).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        use futures_util::TryStreamExt;
        let prefix = Path::from(prefix);
        let listed: Vec<_> = self.store.list(Some(&prefix)).try_collect().await?;
        Ok(listed.into_iter().map(|m| m.location.to_string()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_store_puts_gets_lists_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let storage = Storage::from_config(&config).unwrap();
        storage
            .put("files/a/original", Bytes::from_static(b"hello"))
            .await
            .unwrap();
        assert_eq!(
            storage.get("files/a/original").await.unwrap().unwrap(),
            "hello"
        );
        assert_eq!(storage.get("files/b/original").await.unwrap(), None);
        assert_eq!(storage.list("files/a").await.unwrap(), ["files/a/original"]);
        storage.delete("files/a/original").await.unwrap();
        storage.delete("files/a/original").await.unwrap();
        assert_eq!(storage.get("files/a/original").await.unwrap(), None);
        assert!(dir.path().join("files").is_dir());
    }
}
