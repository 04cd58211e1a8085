//! Where `relsite deploy` publishes: the `deploy` settings of `relsite.yaml`, checked, and the
//! object store they name. Credentials come only from the environment, as each cloud's own
//! tools read them (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `GOOGLE_APPLICATION_CREDENTIALS`,
//! `AZURE_STORAGE_ACCOUNT_NAME`/`AZURE_STORAGE_ACCOUNT_KEY`, …).

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as StorePath;
use url::Url;

use crate::config::DeploySettings;

/// A checked deploy target.
#[derive(Debug, Clone)]
pub struct Target {
    /// As written: `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix` or
    /// `file:///folder`.
    pub url: Url,
    kind: Kind,
    /// The bucket (or container); empty for a folder.
    bucket: String,
    /// The key prefix below which the site goes, without leading or trailing `/`.
    pub prefix: String,
    endpoint: Option<Url>,
    region: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    S3,
    Gcs,
    Azure,
    Folder,
}

/// A problem with a setting, by its key below `deploy`.
pub type SettingError = (&'static str, String);

impl Target {
    /// Checks the `deploy` settings.
    pub fn parse(settings: &DeploySettings) -> Result<Target, SettingError> {
        let raw = settings.url.trim();
        let url = Url::parse(raw).map_err(|e| {
            (
                "url",
                format!(
                    "`deploy.url` `{raw}` is not a URL ({e}); write s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or file:///folder"
                ),
            )
        })?;
        let kind = match url.scheme() {
            "s3" => Kind::S3,
            "gs" => Kind::Gcs,
            "az" | "azure" => Kind::Azure,
            "file" => Kind::Folder,
            other => {
                return Err((
                    "url",
                    format!(
                        "`deploy.url` `{raw}`: relsite deploys to s3://, gs://, az:// and file:// URLs, not {other}://"
                    ),
                ));
            }
        };
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err((
                "url",
                format!(
                    "`deploy.url` `{raw}` must not carry a user, query or fragment: credentials come from the environment"
                ),
            ));
        }
        let (bucket, prefix) = if kind == Kind::Folder {
            if url.host_str().is_some_and(|h| !h.is_empty()) {
                return Err((
                    "url",
                    format!("`deploy.url` `{raw}` must be a local folder, file:///path"),
                ));
            }
            (String::new(), String::new())
        } else {
            let bucket = url.host_str().unwrap_or_default().to_string();
            if bucket.is_empty() {
                return Err(("url", format!("`deploy.url` `{raw}` names no bucket")));
            }
            let prefix = url.path().trim_matches('/').to_string();
            if prefix.split('/').any(|s| s == "." || s == "..") || prefix.contains("//") {
                return Err((
                    "url",
                    format!("`deploy.url` `{raw}`: the prefix must be plain folder names"),
                ));
            }
            (bucket, prefix)
        };
        let endpoint = match &settings.endpoint {
            None => None,
            Some(_) if kind != Kind::S3 => {
                return Err((
                    "endpoint",
                    "`deploy.endpoint` is for S3-compatible stores (s3:// URLs)".to_string(),
                ));
            }
            Some(text) => Some(parse_endpoint(text.trim())?),
        };
        if settings.region.is_some() && kind != Kind::S3 {
            return Err((
                "region",
                "`deploy.region` is for S3 and S3-compatible stores (s3:// URLs)".to_string(),
            ));
        }
        Ok(Target {
            url,
            kind,
            bucket,
            prefix,
            endpoint,
            region: settings.region.clone(),
        })
    }

    /// Whether an object's ETag is the MD5 of its bytes when it went up in one request, as S3
    /// and the stores that speak its API make it.
    pub fn etags_are_md5(&self) -> bool {
        self.kind == Kind::S3
    }

    /// Whether objects carry a content type and caching (a local folder has no such thing).
    pub fn has_headers(&self) -> bool {
        self.kind != Kind::Folder
    }

    /// The store and the prefix of the site in it. Nothing is contacted yet.
    pub fn open(&self) -> Result<(Arc<dyn ObjectStore>, StorePath), String> {
        let fail = |e: object_store::Error| format!("{}: {e}", self.url);
        let store: Arc<dyn ObjectStore> = match self.kind {
            Kind::S3 => {
                let mut builder = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&self.bucket)
                    .with_retry(retry());
                if let Some(region) = &self.region {
                    builder = builder.with_region(region);
                }
                if let Some(endpoint) = &self.endpoint {
                    builder = builder
                        .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                        .with_allow_http(endpoint.scheme() == "http")
                        .with_virtual_hosted_style_request(false);
                    if self.region.is_none() {
                        // S3-compatible stores take any region in the signature; most name theirs.
                        builder = builder.with_region(
                            std::env::var("AWS_REGION")
                                .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
                                .unwrap_or_else(|_| "us-east-1".to_string()),
                        );
                    }
                }
                Arc::new(builder.build().map_err(fail)?)
            }
            Kind::Gcs => Arc::new(
                object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_bucket_name(&self.bucket)
                    .with_retry(retry())
                    .build()
                    .map_err(fail)?,
            ),
            Kind::Azure => Arc::new(
                object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_container_name(&self.bucket)
                    .with_retry(retry())
                    .build()
                    .map_err(fail)?,
            ),
            Kind::Folder => {
                let dir = self
                    .url
                    .to_file_path()
                    .map_err(|()| format!("{}: not a local folder", self.url))?;
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", self.url))?;
                Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&dir)
                        .map_err(fail)?
                        .with_automatic_cleanup(true),
                )
            }
        };
        Ok((store, StorePath::from(self.prefix.as_str())))
    }
}

/// Requests that meet throttling, a server error or no answer are tried again after 0.1, 0.2,
/// 0.4… seconds (at most 15 between two), six times, within two minutes: a store that is down
/// fails the deploy in about 13 seconds instead of holding CI for minutes.
fn retry() -> object_store::RetryConfig {
    object_store::RetryConfig {
        max_retries: 6,
        retry_timeout: std::time::Duration::from_secs(120),
        ..Default::default()
    }
}

/// An S3 endpoint: https, or http for a loopback address only (a store on this machine, as in
/// tests), since credentials and every file would otherwise cross the network in the clear.
fn parse_endpoint(text: &str) -> Result<Url, SettingError> {
    let url = Url::parse(text).map_err(|e| {
        (
            "endpoint",
            format!("`deploy.endpoint` `{text}` is not a URL ({e})"),
        )
    })?;
    let loopback = crate::config::is_loopback(&url);
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err((
            "endpoint",
            format!(
                "`deploy.endpoint` `{text}` must be https:// (http:// only for a store on this machine, such as http://127.0.0.1:3900)"
            ),
        )),
        other => Err((
            "endpoint",
            format!("`deploy.endpoint` `{text}` must be an https:// URL, not {other}://"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str, endpoint: Option<&str>) -> Result<Target, SettingError> {
        Target::parse(&DeploySettings {
            url: url.to_string(),
            endpoint: endpoint.map(str::to_string),
            region: None,
        })
    }

    #[test]
    fn targets_name_a_bucket_and_a_prefix() {
        let t = target("s3://bucket/some/prefix/", None).unwrap();
        assert_eq!(
            (t.bucket.as_str(), t.prefix.as_str()),
            ("bucket", "some/prefix")
        );
        let t = target("gs://b", None).unwrap();
        assert_eq!((t.bucket.as_str(), t.prefix.as_str()), ("b", ""));
        assert!(target("file:///tmp/site", None).is_ok());
        assert!(target("az://container/p", None).is_ok());
    }

    #[test]
    fn bad_targets_are_refused_with_their_setting() {
        for (url, endpoint, key) in [
            ("https://example.com/", None, "url"),
            ("s3:///prefix", None, "url"),
            ("s3://bucket/a//b", None, "url"),
            ("s3://user@bucket/", None, "url"),
            ("file://host/path", None, "url"),
            ("s3://b/", Some("http://s3.example.com"), "endpoint"),
            ("s3://b/", Some("ftp://127.0.0.1"), "endpoint"),
            ("gs://b/", Some("https://s3.example.com"), "endpoint"),
        ] {
            let (got, why) = target(url, endpoint).unwrap_err();
            assert_eq!(got, key, "{url} {endpoint:?}: {why}");
        }
        assert!(target("s3://b/", Some("http://127.0.0.1:3900")).is_ok());
        // Dot segments are resolved as in any URL, never left to climb out of the prefix.
        assert_eq!(target("s3://b/a/../c", None).unwrap().prefix, "c");
        assert!(target("s3://b/", Some("https://acc.r2.cloudflarestorage.com")).is_ok());
    }
}
