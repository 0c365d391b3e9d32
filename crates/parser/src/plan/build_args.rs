//! Build-argument inputs (`--build-arg K=V`) and the arguments BuildKit
//! predefines.

use std::collections::BTreeMap;

use super::platform::Platform;

/// Proxy arguments: accepted from `--build-arg` without an `ARG` declaration
/// and handed to `RUN` as environment, but kept out of the image history.
pub const PROXY_ARGS: [&str; 10] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// Whether `name` is one of the predefined proxy arguments.
pub fn is_proxy_arg(name: &str) -> bool {
    PROXY_ARGS.contains(&name)
}

/// The values given with `--build-arg`, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildArgs {
    values: BTreeMap<String, String>,
}

/// A `--build-arg` that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid build argument {0:?}: expected NAME=VALUE or NAME (to take NAME from the environment)"
)]
pub struct BuildArgError(pub String);

impl BuildArgs {
    /// No build arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse command-line items like `docker build` does: `K=V` sets K to V
    /// (V may be empty); a bare `K` takes K's value from `lookup_env` and is
    /// dropped when the environment has no K.
    pub fn from_cli<I, S>(
        items: I,
        lookup_env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, BuildArgError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut args = BuildArgs::new();
        for item in items {
            let item = item.as_ref();
            match item.split_once('=') {
                Some((key, value)) => {
                    if key.is_empty() || key.trim() != key {
                        return Err(BuildArgError(item.to_string()));
                    }
                    args.set(key, value);
                }
                None => {
                    if item.is_empty() || item.trim() != item {
                        return Err(BuildArgError(item.to_string()));
                    }
                    if let Some(value) = lookup_env(item) {
                        args.set(item, value);
                    }
                }
            }
        }
        Ok(args)
    }

    /// Set (or replace) one value.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.values.insert(key.into(), value.into());
    }

    /// The value given for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Whether no values were given.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// All values, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The proxy values among them, which `RUN` receives without a declaration.
    pub fn proxy_env(&self) -> BTreeMap<String, String> {
        self.iter()
            .filter(|(k, _)| is_proxy_arg(k))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The global arguments BuildKit defines before the first line is read: the
/// build and target platforms (overridable with `--build-arg`) and
/// `TARGETSTAGE`. They are usable in `FROM` without a declaration; inside a
/// stage they need `ARG NAME` (without a value) to be visible.
pub fn predefined_args(
    build: &Platform,
    target: &Platform,
    target_stage: &str,
    overrides: &BuildArgs,
) -> Vec<(String, String)> {
    let pairs = [
        ("BUILDPLATFORM", build.to_string()),
        ("BUILDOS", build.os.clone()),
        ("BUILDARCH", build.architecture.clone()),
        ("BUILDVARIANT", build.variant.clone()),
        ("TARGETPLATFORM", target.to_string()),
        ("TARGETOS", target.os.clone()),
        ("TARGETARCH", target.architecture.clone()),
        ("TARGETVARIANT", target.variant.clone()),
        ("TARGETSTAGE", target_stage.to_string()),
    ];
    pairs
        .into_iter()
        .map(|(k, v)| {
            let v = overrides.get(k).map_or(v, str::to_string);
            (k.to_string(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_items_follow_docker() {
        let env = |k: &str| (k == "FROM_ENV").then(|| "env-value".to_string());
        let args = BuildArgs::from_cli(["A=1", "B=", "C=x=y", "FROM_ENV", "MISSING"], env).unwrap();
        assert_eq!(args.get("A"), Some("1"));
        assert_eq!(args.get("B"), Some(""));
        assert_eq!(args.get("C"), Some("x=y"));
        assert_eq!(args.get("FROM_ENV"), Some("env-value"));
        assert_eq!(args.get("MISSING"), None);
        assert!(BuildArgs::from_cli(["=1"], env).is_err());
        assert!(BuildArgs::from_cli([""], env).is_err());
    }

    #[test]
    fn predefined_platform_args_can_be_overridden() {
        let amd = Platform::parse("linux/amd64").unwrap();
        let arm = Platform::parse("linux/arm/v7").unwrap();
        let mut overrides = BuildArgs::new();
        overrides.set("BUILDOS", "custom");
        let args: BTreeMap<_, _> = predefined_args(&amd, &arm, "final", &overrides)
            .into_iter()
            .collect();
        assert_eq!(args["TARGETPLATFORM"], "linux/arm/v7");
        assert_eq!(args["TARGETVARIANT"], "v7");
        assert_eq!(args["BUILDPLATFORM"], "linux/amd64");
        assert_eq!(args["BUILDOS"], "custom");
        assert_eq!(args["TARGETSTAGE"], "final");
    }

    #[test]
    fn proxies_are_recognised() {
        let args =
            BuildArgs::from_cli(["http_proxy=http://127.0.0.1:3128", "OTHER=1"], |_| None).unwrap();
        assert_eq!(args.proxy_env().len(), 1);
        assert!(is_proxy_arg("NO_PROXY") && !is_proxy_arg("No_Proxy"));
    }
}
