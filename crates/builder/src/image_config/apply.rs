//! Applying one instruction to a stage's image config.

use std::collections::BTreeMap;
use std::time::Duration;

use rbuild_oci::model::{ContainerConfig, Healthcheck as OciHealthcheck, ImageConfig};
use rbuild_parser::ast::{CommandForm, Healthcheck, InstructionKind};
use serde_json::Value;

use super::expose::{ExposeError, parse_expose};
use super::go_format::{go_quoted_list, go_slice};

/// The default shell of `RUN`, `CMD` and `ENTRYPOINT` in shell form on Linux.
pub const DEFAULT_SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// A stage's image config while its instructions are applied.
#[derive(Debug, Clone)]
pub struct StageConfig {
    pub image: ImageConfig,
    /// `CMD` was set in this stage: a later `ENTRYPOINT` keeps it (otherwise it resets the
    /// base image's `CMD`, as Docker does).
    pub cmd_set: bool,
}

/// The history entry an instruction adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigChange {
    pub created_by: String,
    /// Metadata-only steps add no layer.
    pub empty_layer: bool,
}

impl StageConfig {
    /// Starts from a base image's config (or an empty one for `FROM scratch`).
    pub fn new(image: ImageConfig) -> StageConfig {
        StageConfig {
            image,
            cmd_set: false,
        }
    }

    /// The container config, created if the base had none.
    pub fn container(&mut self) -> &mut ContainerConfig {
        self.image
            .config
            .get_or_insert_with(ContainerConfig::default)
    }

    /// The shell for shell-form commands: `SHELL` if set, else `/bin/sh -c`.
    pub fn shell(&self) -> Vec<String> {
        self.image
            .config
            .as_ref()
            .and_then(|c| c.shell.clone())
            .unwrap_or_else(|| DEFAULT_SHELL.iter().map(|s| s.to_string()).collect())
    }

    /// The environment as `(name, value)` pairs, in order.
    pub fn env(&self) -> Vec<(String, String)> {
        self.image
            .config
            .as_ref()
            .and_then(|c| c.env.as_ref())
            .map(|env| {
                env.iter()
                    .map(|kv| match kv.split_once('=') {
                        Some((k, v)) => (k.to_string(), v.to_string()),
                        None => (kv.clone(), String::new()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sets one environment variable, replacing an earlier value in place.
    pub fn set_env(&mut self, name: &str, value: &str) {
        let env = self.container().env.get_or_insert_with(Vec::new);
        let entry = format!("{name}={value}");
        match env
            .iter_mut()
            .find(|kv| kv.split_once('=').map(|(k, _)| k).unwrap_or(kv) == name)
        {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }

    /// The working directory (`/` when unset).
    pub fn workdir(&self) -> String {
        self.image
            .config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".to_string())
    }

    /// Turns a command form into the argv the image records or runs.
    pub fn argv(&self, form: &CommandForm) -> Vec<String> {
        match form {
            CommandForm::Exec(args) => args.clone(),
            CommandForm::Shell(cmd) => {
                let mut argv = self.shell();
                argv.push(cmd.clone());
                argv
            }
        }
    }
}

/// Resolves a `WORKDIR` argument against the current working directory.
pub fn join_workdir(current: &str, arg: &str) -> String {
    let joined = if arg.starts_with('/') {
        arg.to_string()
    } else {
        format!("/{current}/{arg}")
    };
    crate::context::clean_path(&joined)
}

/// Applies a metadata instruction (already expanded) and returns its history entry.
/// `RUN`, `COPY`, `ADD` and `FROM` change the filesystem and are the executor's job: for
/// them this returns `Ok(None)`; so does `ONBUILD`, which BuildKit keeps out of the
/// history. `WORKDIR` updates the config here; the executor also
/// creates the directory.
pub fn apply_instruction(
    stage: &mut StageConfig,
    kind: &InstructionKind,
) -> Result<Option<ConfigChange>, ExposeError> {
    let meta = |created_by: String| {
        Ok(Some(ConfigChange {
            created_by,
            empty_layer: true,
        }))
    };
    match kind {
        InstructionKind::From(_)
        | InstructionKind::Run(_)
        | InstructionKind::Copy(_)
        | InstructionKind::Add(_) => Ok(None),
        InstructionKind::Cmd(form) => {
            let argv = stage.argv(form);
            stage.container().cmd = Some(argv.clone());
            stage.cmd_set = true;
            meta(format!("CMD {}", go_quoted_list(&argv)))
        }
        InstructionKind::Entrypoint(form) => {
            let argv = stage.argv(form);
            let cmd_set = stage.cmd_set;
            let c = stage.container();
            c.entrypoint = Some(argv.clone());
            if !cmd_set {
                c.cmd = None;
            }
            meta(format!("ENTRYPOINT {}", go_quoted_list(&argv)))
        }
        InstructionKind::Env(pairs) => {
            let mut msg = String::from("ENV");
            for kv in pairs {
                stage.set_env(&kv.name, &kv.value);
                msg.push_str(&format!(" {}={}", kv.name, kv.value));
            }
            meta(msg)
        }
        InstructionKind::Label(pairs) => {
            let mut msg = String::from("LABEL");
            let labels = stage.container().labels.get_or_insert_with(BTreeMap::new);
            for kv in pairs {
                labels.insert(kv.name.clone(), kv.value.clone());
                msg.push_str(&format!(" {}={}", kv.name, kv.value));
            }
            meta(msg)
        }
        InstructionKind::Maintainer(name) => {
            stage.image.author = Some(name.clone());
            meta(format!("MAINTAINER {name}"))
        }
        InstructionKind::Expose(words) => {
            let mut added = Vec::new();
            for word in words {
                added.extend(parse_expose(word)?);
            }
            let ports = stage
                .container()
                .exposed_ports
                .get_or_insert_with(BTreeMap::new);
            for port in &added {
                ports.insert(port.clone(), Value::Object(Default::default()));
            }
            // Go prints a map with sorted keys: `map[443/tcp:{} 80/tcp:{}]`.
            added.sort();
            added.dedup();
            let shown: Vec<String> = added.iter().map(|p| format!("{p}:{{}}")).collect();
            meta(format!("EXPOSE map[{}]", shown.join(" ")))
        }
        InstructionKind::Volume(paths) => {
            let volumes = stage.container().volumes.get_or_insert_with(BTreeMap::new);
            for p in paths {
                volumes.insert(p.clone(), Value::Object(Default::default()));
            }
            meta(format!("VOLUME {}", go_slice(paths)))
        }
        InstructionKind::User(user) => {
            stage.container().user = Some(user.clone());
            meta(format!("USER {user}"))
        }
        InstructionKind::Workdir(arg) => {
            let wd = join_workdir(&stage.workdir(), arg);
            stage.container().working_dir = Some(wd.clone());
            Ok(Some(ConfigChange {
                created_by: format!("WORKDIR {wd}"),
                empty_layer: false,
            }))
        }
        InstructionKind::Arg(decls) => {
            let shown: Vec<String> = decls
                .iter()
                .map(|d| match &d.default {
                    Some(v) => format!("{}={v}", d.name),
                    None => d.name.clone(),
                })
                .collect();
            meta(format!("ARG {}", shown.join(" ")))
        }
        InstructionKind::Onbuild(inner) => {
            let text = inner.original.trim().to_string();
            stage
                .container()
                .on_build
                .get_or_insert_with(Vec::new)
                .push(text);
            // BuildKit records a trigger in the config only: ONBUILD adds no history entry.
            Ok(None)
        }
        InstructionKind::Stopsignal(sig) => {
            stage.container().stop_signal = Some(sig.clone());
            meta(format!("STOPSIGNAL {sig}"))
        }
        InstructionKind::Shell(argv) => {
            stage.container().shell = Some(argv.clone());
            meta(format!("SHELL {}", go_slice(argv)))
        }
        InstructionKind::Healthcheck(hc) => {
            let check = healthcheck_config(hc);
            let msg = format!("HEALTHCHECK {}", go_healthcheck(&check));
            stage.container().healthcheck = Some(check);
            meta(msg)
        }
    }
}

fn nanos(d: Option<Duration>) -> Option<i64> {
    d.filter(|d| !d.is_zero())
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
}

fn healthcheck_config(hc: &Healthcheck) -> OciHealthcheck {
    match hc {
        Healthcheck::None => OciHealthcheck {
            test: Some(vec!["NONE".to_string()]),
            ..Default::default()
        },
        Healthcheck::Cmd(cmd) => {
            let test = match &cmd.command {
                CommandForm::Exec(args) => std::iter::once("CMD".to_string())
                    .chain(args.iter().cloned())
                    .collect(),
                CommandForm::Shell(line) => vec!["CMD-SHELL".to_string(), line.clone()],
            };
            OciHealthcheck {
                test: Some(test),
                interval: nanos(cmd.interval),
                timeout: nanos(cmd.timeout),
                start_period: nanos(cmd.start_period),
                start_interval: nanos(cmd.start_interval),
                retries: cmd.retries.filter(|r| *r > 0).map(i64::from),
            }
        }
    }
}

/// Go's `%q` of `*HealthConfig`: `&{["CMD-SHELL" "x"] "30s" "0s" "0s" "0s" '\x03'}`.
fn go_healthcheck(hc: &OciHealthcheck) -> String {
    let d = |ns: Option<i64>| format!("\"{}\"", go_duration(ns.unwrap_or(0)));
    format!(
        "&{{{} {} {} {} {} {}}}",
        go_quoted_list(hc.test.as_deref().unwrap_or(&[])),
        d(hc.interval),
        d(hc.timeout),
        d(hc.start_period),
        d(hc.start_interval),
        go_char(hc.retries.unwrap_or(0))
    )
}

/// Go's `%q` of an int: a quoted character literal.
fn go_char(n: i64) -> String {
    match u32::try_from(n).ok().and_then(char::from_u32) {
        Some(c) if (' '..='~').contains(&c) && c != '\'' && c != '\\' => format!("'{c}'"),
        Some(c) if (c as u32) < 0x80 => format!("'\\x{:02x}'", c as u32),
        Some(c) => format!("'\\u{:04x}'", c as u32),
        None => format!("%!q(int={n})"),
    }
}

/// Go's `time.Duration.String()`: `0s`, `1.5s`, `2m30s`, `1h0m0s`, `500ms`.
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let body = if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        format!("{}{unit}", fraction(u, div))
    } else {
        let h = u / 3_600_000_000_000;
        let m = (u / 60_000_000_000) % 60;
        let s = fraction(u % 60_000_000_000, 1_000_000_000);
        match (h, m) {
            (0, 0) => format!("{s}s"),
            (0, m) => format!("{m}m{s}s"),
            (h, m) => format!("{h}h{m}m{s}s"),
        }
    };
    if neg { format!("-{body}") } else { body }
}

/// `value / div` with the fraction's trailing zeros removed.
fn fraction(value: u64, div: u64) -> String {
    let whole = value / div;
    let rest = value % div;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = div.to_string().len() - 1;
    let frac = format!("{rest:0digits$}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rbuild_parser::ast::{ArgDecl, HealthcheckCmd, KeyValue};

    fn kv(name: &str, value: &str) -> KeyValue {
        KeyValue {
            name: name.into(),
            value: value.into(),
            legacy_format: false,
        }
    }

    fn apply(stage: &mut StageConfig, kind: InstructionKind) -> String {
        apply_instruction(stage, &kind).unwrap().unwrap().created_by
    }

    #[test]
    fn onbuild_sets_a_trigger_and_adds_no_history() {
        let dockerfile =
            rbuild_parser::parse_dockerfile("FROM x\nONBUILD RUN echo hi\n", None).unwrap();
        let mut stage = StageConfig::new(ImageConfig::default());
        let change = apply_instruction(&mut stage, &dockerfile.instructions[1].kind).unwrap();
        assert_eq!(change, None);
        assert_eq!(
            stage.image.config.unwrap().on_build,
            Some(vec!["RUN echo hi".to_string()])
        );
    }

    #[test]
    fn cmd_entrypoint_interplay() {
        let base = ImageConfig {
            config: Some(ContainerConfig {
                cmd: Some(vec!["sh".into()]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut stage = StageConfig::new(base.clone());
        let msg = apply(
            &mut stage,
            InstructionKind::Entrypoint(CommandForm::Exec(vec!["/app".into()])),
        );
        assert_eq!(msg, r#"ENTRYPOINT ["/app"]"#);
        assert_eq!(
            stage.image.config.as_ref().unwrap().cmd,
            None,
            "ENTRYPOINT resets the base CMD"
        );

        let mut stage = StageConfig::new(base);
        apply(
            &mut stage,
            InstructionKind::Cmd(CommandForm::Shell("echo hi".into())),
        );
        apply(
            &mut stage,
            InstructionKind::Entrypoint(CommandForm::Exec(vec!["/app".into()])),
        );
        let c = stage.image.config.as_ref().unwrap();
        assert_eq!(
            c.cmd.as_deref().unwrap(),
            ["/bin/sh", "-c", "echo hi"],
            "a CMD of this stage stays"
        );
    }

    #[test]
    fn shell_changes_shell_form() {
        let mut stage = StageConfig::new(ImageConfig::default());
        let msg = apply(
            &mut stage,
            InstructionKind::Shell(vec![
                "/bin/bash".into(),
                "-o".into(),
                "pipefail".into(),
                "-c".into(),
            ]),
        );
        assert_eq!(msg, "SHELL [/bin/bash -o pipefail -c]");
        let msg = apply(
            &mut stage,
            InstructionKind::Cmd(CommandForm::Shell("ls | wc".into())),
        );
        assert_eq!(msg, r#"CMD ["/bin/bash" "-o" "pipefail" "-c" "ls | wc"]"#);
    }

    #[test]
    fn env_replaces_in_place_and_labels_merge() {
        let mut stage = StageConfig::new(ImageConfig::default());
        apply(
            &mut stage,
            InstructionKind::Env(vec![kv("PATH", "/bin"), kv("A", "1")]),
        );
        let msg = apply(
            &mut stage,
            InstructionKind::Env(vec![kv("PATH", "/usr/bin:/bin")]),
        );
        assert_eq!(msg, "ENV PATH=/usr/bin:/bin");
        assert_eq!(
            stage.image.config.as_ref().unwrap().env.as_deref().unwrap(),
            ["PATH=/usr/bin:/bin", "A=1"]
        );
        let msg = apply(
            &mut stage,
            InstructionKind::Label(vec![kv("a", "x y"), kv("b", "2")]),
        );
        assert_eq!(msg, "LABEL a=x y b=2");
        assert_eq!(
            stage
                .image
                .config
                .as_ref()
                .unwrap()
                .labels
                .as_ref()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn workdir_is_relative_to_the_previous_one() {
        let mut stage = StageConfig::new(ImageConfig::default());
        apply(&mut stage, InstructionKind::Workdir("/a".into()));
        let msg = apply(&mut stage, InstructionKind::Workdir("b/../c".into()));
        assert_eq!(msg, "WORKDIR /a/c");
        assert_eq!(stage.workdir(), "/a/c");
        assert_eq!(join_workdir("/", "x"), "/x");
    }

    #[test]
    fn expose_volume_user_stopsignal_arg_maintainer() {
        let mut stage = StageConfig::new(ImageConfig::default());
        let msg = apply(
            &mut stage,
            InstructionKind::Expose(vec!["80".into(), "443/TCP".into()]),
        );
        assert_eq!(msg, "EXPOSE map[443/tcp:{} 80/tcp:{}]");
        assert!(apply_instruction(&mut stage, &InstructionKind::Expose(vec!["x".into()])).is_err());
        assert_eq!(
            apply(&mut stage, InstructionKind::Volume(vec!["/data".into()])),
            "VOLUME [/data]"
        );
        assert_eq!(
            apply(&mut stage, InstructionKind::User("app:app".into())),
            "USER app:app"
        );
        assert_eq!(
            apply(&mut stage, InstructionKind::Stopsignal("SIGINT".into())),
            "STOPSIGNAL SIGINT"
        );
        let arg = InstructionKind::Arg(vec![
            ArgDecl {
                name: "A".into(),
                default: Some("1".into()),
            },
            ArgDecl {
                name: "B".into(),
                default: None,
            },
        ]);
        assert_eq!(apply(&mut stage, arg), "ARG A=1 B");
        assert_eq!(
            apply(&mut stage, InstructionKind::Maintainer("me".into())),
            "MAINTAINER me"
        );
        assert_eq!(stage.image.author.as_deref(), Some("me"));
        let c = stage.image.config.as_ref().unwrap();
        assert_eq!(c.exposed_ports.as_ref().unwrap().len(), 2);
        assert_eq!(c.user.as_deref(), Some("app:app"));
    }

    #[test]
    fn healthcheck_shapes() {
        let mut stage = StageConfig::new(ImageConfig::default());
        let hc = Healthcheck::Cmd(HealthcheckCmd {
            command: CommandForm::Shell("curl -f http://localhost/".into()),
            interval: Some(Duration::from_secs(300)),
            timeout: Some(Duration::from_secs(3)),
            start_period: None,
            start_interval: None,
            retries: Some(3),
        });
        let msg = apply(&mut stage, InstructionKind::Healthcheck(hc));
        assert_eq!(
            msg,
            r#"HEALTHCHECK &{["CMD-SHELL" "curl -f http://localhost/"] "5m0s" "3s" "0s" "0s" '\x03'}"#
        );
        let c = stage
            .image
            .config
            .as_ref()
            .unwrap()
            .healthcheck
            .clone()
            .unwrap();
        assert_eq!(c.interval, Some(300_000_000_000));
        apply(&mut stage, InstructionKind::Healthcheck(Healthcheck::None));
        let c = stage
            .image
            .config
            .as_ref()
            .unwrap()
            .healthcheck
            .clone()
            .unwrap();
        assert_eq!(c.test.unwrap(), ["NONE"]);
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(500_000_000), "500ms");
        assert_eq!(go_duration(1_500), "1.5µs");
    }
}
