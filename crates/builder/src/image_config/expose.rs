//! `EXPOSE` values: `80`, `80/tcp`, `53/UDP`, ranges `8000-8002/tcp`, as Docker's nat
//! package reads them.

/// An `EXPOSE` value Docker would reject.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExposeError {
    #[error("invalid containerPort: {0} (expected a port like 80, 80/tcp or 8000-8010/udp)")]
    InvalidPort(String),
    #[error("invalid proto: {0} (valid protocols: tcp, udp, sctp)")]
    InvalidProto(String),
}

/// Expands one `EXPOSE` word into `port/proto` keys.
pub fn parse_expose(word: &str) -> Result<Vec<String>, ExposeError> {
    // `host:container` mappings are accepted by the parser; only the container side counts.
    let word = word.rsplit_once(':').map(|(_, c)| c).unwrap_or(word);
    let (ports, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(ExposeError::InvalidProto(proto));
    }
    let bad = || ExposeError::InvalidPort(word.to_string());
    let parse = |p: &str| p.parse::<u16>().map_err(|_| bad());
    let (start, end) = match ports.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let p = parse(ports)?;
            (p, p)
        }
    };
    if end < start {
        return Err(bad());
    }
    Ok((start..=end).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_forms() {
        assert_eq!(parse_expose("80").unwrap(), ["80/tcp"]);
        assert_eq!(parse_expose("53/UDP").unwrap(), ["53/udp"]);
        assert_eq!(
            parse_expose("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert_eq!(parse_expose("8080:80").unwrap(), ["80/tcp"]);
        assert!(parse_expose("http").is_err());
        assert!(parse_expose("80/icmp").is_err());
        assert!(parse_expose("90-80").is_err());
    }
}
