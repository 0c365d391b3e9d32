//! The image config blob, with Docker's fields (Healthcheck, OnBuild, Shell, ArgsEscaped,
//! StopSignal) typed. Fields neither spec names are kept in `extra`, so a config read and
//! written back keeps everything it had.

use std::collections::BTreeMap;

use rbuild_snapshotter::Digest;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The image config (`application/vnd.oci.image.config.v1+json` or Docker's
/// `application/vnd.docker.container.image.v1+json`; same JSON shape).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    /// Creation time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// CPU architecture (`amd64`).
    #[serde(default)]
    pub architecture: String,
    /// Operating system (`linux`).
    #[serde(default)]
    pub os: String,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// CPU variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// How to run a container from the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// The layers' uncompressed digests.
    #[serde(default)]
    pub rootfs: RootFs,
    /// One entry per Dockerfile step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    /// Fields we do not model (Docker's `container_config`, `docker_version`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `config` object: process defaults for containers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// `USER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `EXPOSE`: keys like `80/tcp`, values `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// `ENV` as `KEY=value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<Vec<String>>,
    /// `ENTRYPOINT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// `VOLUME`: keys are paths, values `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volumes: Option<BTreeMap<String, Value>>,
    /// `WORKDIR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `LABEL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `STOPSIGNAL`, passed through as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    /// Docker: the command line is already escaped (Windows `CMD` in shell form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args_escaped: Option<bool>,
    /// Docker: `HEALTHCHECK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// Docker: `ONBUILD` triggers, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_build: Option<Vec<String>>,
    /// Docker: `SHELL`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
    /// Other Docker fields (`Hostname`, `AttachStdin`, `Image`, ...), kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Docker's `HEALTHCHECK`; durations are nanoseconds, as Docker stores them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Vec<String>>,
    /// Time between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    /// Time a check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Grace period after start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_period: Option<i64>,
    /// Time between checks during the start period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_interval: Option<i64>,
    /// Failures before unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
}

/// The layer list as uncompressed digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// sha256 of each uncompressed layer tar, base first.
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            kind: "layers".to_string(),
            diff_ids: Vec::new(),
        }
    }
}

/// One history entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    /// When the step ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction, e.g. `RUN /bin/sh -c make`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step made no layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_layer: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A config as Docker 20.10 writes it, with fields we model and fields we do not.
    const DOCKER_CONFIG: &str = r##"{"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"app","AttachStdin":false,"ExposedPorts":{"80/tcp":{}},"Env":["PATH=/usr/bin"],"Cmd":["sh"],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"ArgsEscaped":true,"Image":"sha256:abc","Volumes":{"/data":{}},"WorkingDir":"/app","Entrypoint":null,"OnBuild":["RUN echo hi"],"Labels":{"a":"b"},"StopSignal":"SIGQUIT","Shell":["/bin/bash","-c"]},"container":"3f1c","container_config":{"Cmd":["/bin/sh","-c","#(nop) CMD [\"sh\"]"]},"created":"2024-01-01T00:00:00Z","docker_version":"20.10.24","history":[{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:x in / "},{"created_by":"CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}"##;

    #[test]
    fn docker_config_round_trips_all_fields() {
        let config: ImageConfig = serde_json::from_str(DOCKER_CONFIG).unwrap();
        let c = config.config.as_ref().unwrap();
        assert_eq!(c.user.as_deref(), Some("app"));
        assert_eq!(c.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(c.args_escaped, Some(true));
        assert_eq!(c.shell.as_ref().unwrap()[0], "/bin/bash");
        assert_eq!(c.on_build.as_ref().unwrap()[0], "RUN echo hi");
        let hc = c.healthcheck.as_ref().unwrap();
        assert_eq!(hc.interval, Some(30_000_000_000));
        assert_eq!(hc.retries, Some(3));
        assert_eq!(config.history[1].empty_layer, Some(true));
        assert_eq!(config.rootfs.diff_ids.len(), 1);
        assert_eq!(config.extra["docker_version"], "20.10.24");
        assert_eq!(c.extra["Hostname"], "");

        let original: Value = serde_json::from_str(DOCKER_CONFIG).unwrap();
        let mut written = serde_json::to_value(&config).unwrap();
        // The one lossy spot: an explicit null reads as "absent".
        let mut expected = original.clone();
        expected["config"]
            .as_object_mut()
            .unwrap()
            .remove("Entrypoint");
        assert_eq!(written, expected);
        written["config"]["Entrypoint"] = Value::Null;
        assert_eq!(written, original);
    }

    #[test]
    fn minimal_oci_config_reads() {
        let config: ImageConfig = serde_json::from_str(
            r#"{"architecture":"arm64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        )
        .unwrap();
        assert_eq!(config.architecture, "arm64");
        assert!(config.config.is_none());
    }
}
