//! Platforms (`os/arch[/variant]`) as they appear in `FROM --platform` and in
//! the predefined `BUILDPLATFORM`/`TARGETPLATFORM` arguments.
//!
//! Normalisation follows containerd's rules (e.g. `x86_64` → `amd64`,
//! `aarch64` → `arm64`, `arm` defaults to variant `v7`) so that
//! `linux/x86_64` and `linux/amd64` name the same platform.

use std::fmt;

/// A normalised platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Platform {
    /// Operating system, e.g. `linux`.
    pub os: String,
    /// CPU architecture in OCI spelling, e.g. `amd64`, `arm64`.
    pub architecture: String,
    /// CPU variant, e.g. `v7` for `arm`; empty when none applies.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub variant: String,
}

/// Why a platform string could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {text:?}: {reason} (expected os/arch[/variant], e.g. linux/amd64)")]
pub struct PlatformError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Platform {
    /// The platform this process runs on, which BuildKit uses for both
    /// `BUILDPLATFORM` and, unless `--platform` says otherwise, `TARGETPLATFORM`.
    pub fn host() -> Self {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", ""),
            "x86" => ("386", ""),
            "aarch64" => ("arm64", ""),
            "arm" => ("arm", "v7"),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", ""),
            "powerpc64" => ("ppc64", ""),
            "riscv64" => ("riscv64", ""),
            "s390x" => ("s390x", ""),
            "loongarch64" => ("loong64", ""),
            "mips64" => ("mips64", ""),
            other => (other, ""),
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: variant.to_string(),
        }
    }

    /// Parse and normalise `os[/arch[/variant]]`; a lone known architecture
    /// (`arm64`) means Linux on it, as in containerd.
    pub fn parse(text: &str) -> Result<Self, PlatformError> {
        let error = |reason| PlatformError {
            text: text.to_string(),
            reason,
        };
        let parts: Vec<&str> = text.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(error("empty component"));
        }
        let valid = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        };
        if !parts.iter().all(|p| valid(p)) {
            return Err(error("unexpected character"));
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        let (os, arch, variant) = match lower.as_slice() {
            [single] => {
                if is_known_os(single) {
                    (single.clone(), Platform::host().architecture, String::new())
                } else if is_known_arch(single) {
                    ("linux".to_string(), single.clone(), String::new())
                } else {
                    return Err(error("unknown operating system or architecture"));
                }
            }
            [os, arch] => (os.clone(), arch.clone(), String::new()),
            [os, arch, variant] => (os.clone(), arch.clone(), variant.clone()),
            _ => return Err(error("too many components")),
        };
        let os = if os == "macos" {
            "darwin".to_string()
        } else {
            os
        };
        let (architecture, variant) = normalize_arch(&arch, &variant);
        Ok(Platform {
            os,
            architecture,
            variant,
        })
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if !self.variant.is_empty() {
            write!(f, "/{}", self.variant)?;
        }
        Ok(())
    }
}

fn is_known_os(s: &str) -> bool {
    matches!(
        s,
        "linux"
            | "windows"
            | "darwin"
            | "macos"
            | "freebsd"
            | "netbsd"
            | "openbsd"
            | "solaris"
            | "illumos"
            | "aix"
    )
}

fn is_known_arch(s: &str) -> bool {
    matches!(
        s,
        "amd64"
            | "x86_64"
            | "x86-64"
            | "386"
            | "i386"
            | "arm"
            | "arm64"
            | "aarch64"
            | "armhf"
            | "armel"
            | "ppc64le"
            | "ppc64"
            | "s390x"
            | "riscv64"
            | "mips64"
            | "mips64le"
            | "loong64"
    )
}

fn normalize_arch(arch: &str, variant: &str) -> (String, String) {
    let (arch, variant) = match arch {
        "i386" => ("386", variant),
        "x86_64" | "x86-64" | "amd64" => ("amd64", if variant == "v1" { "" } else { variant }),
        "aarch64" | "arm64" => (
            "arm64",
            if matches!(variant, "8" | "v8" | "v8.0") {
                ""
            } else {
                variant
            },
        ),
        "armhf" => ("arm", "v7"),
        "armel" => ("arm", "v6"),
        "arm" => (
            "arm",
            match variant {
                "" | "7" => "v7",
                "5" | "6" | "8" => return ("arm".to_string(), format!("v{variant}")),
                v => v,
            },
        ),
        other => (other, variant),
    };
    (arch.to_string(), variant.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Platform::parse(s)
            .map(|p| p.to_string())
            .unwrap_or_else(|e| format!("ERR {e}"))
    }

    #[test]
    fn normalises_aliases() {
        assert_eq!(norm("linux/amd64"), "linux/amd64");
        assert_eq!(norm("linux/x86_64"), "linux/amd64");
        assert_eq!(norm("Linux/AArch64"), "linux/arm64");
        assert_eq!(norm("linux/arm64/v8"), "linux/arm64");
        assert_eq!(norm("linux/arm"), "linux/arm/v7");
        assert_eq!(norm("linux/arm/6"), "linux/arm/v6");
        assert_eq!(norm("arm64"), "linux/arm64");
    }

    #[test]
    fn rejects_nonsense() {
        assert!(Platform::parse("").is_err());
        assert!(Platform::parse("linux/").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        assert!(Platform::parse("nonsense").is_err());
        assert!(Platform::parse("linux/am d64").is_err());
    }

    #[test]
    fn host_is_well_formed() {
        let host = Platform::host();
        assert!(!host.os.is_empty() && !host.architecture.is_empty());
        assert_eq!(Platform::parse(&host.to_string()).ok(), Some(host));
    }
}
