//! Where webhooks may go: the receiver URL (http or https only, no user info) and the addresses
//! it must never resolve to unless the operator allowed it (SSRF guard): loopback, private
//! (RFC 1918, fc00::/7), link-local, CGNAT (100.64/10), unspecified, multicast and other
//! reserved ranges, also inside IPv4-mapped IPv6.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The operator's webhook settings (`[webhooks]` in `konsent.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookPolicy {
    /// Allow receivers on private, loopback and link-local addresses (and plain http).
    pub allow_private: bool,
    /// Allow plain `http://` receivers on public addresses.
    pub allow_http: bool,
    /// Attempts before a delivery is parked.
    pub max_attempts: u32,
    /// Timeout of one delivery request, seconds.
    pub timeout_seconds: u64,
}

impl Default for HookPolicy {
    fn default() -> Self {
        Self { allow_private: false, allow_http: false, max_attempts: 8, timeout_seconds: 10 }
    }
}

/// A receiver URL, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUrl {
    /// `https` or `http`.
    pub https: bool,
    /// Host name or IP literal (without brackets).
    pub host: String,
    /// Port (default 443 / 80).
    pub port: u16,
}

impl HookUrl {
    /// Parses `http(s)://host[:port][/path][?query]`; refuses other schemes, user info, fragments.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > 2000 {
            return Err("is longer than 2000 characters".into());
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("contains spaces or control characters".into());
        }
        let (https, rest) = if let Some(r) = raw.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = raw.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("must start with https:// (or http://)".into());
        };
        if raw.contains('#') {
            return Err("must not contain a fragment (#)".into());
        }
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        if authority.contains('@') {
            return Err("must not contain user name or password".into());
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("has an unclosed [")?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (authority.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err("has no host".into());
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or("has a bad port")?,
            None if https => 443,
            None => 80,
        };
        if !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_')) {
            return Err("has a bad host name".into());
        }
        Ok(Self { https, host: host.to_ascii_lowercase(), port })
    }

    /// The host as an IP address, when it is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl HookPolicy {
    /// Whether the URL's scheme and (for IP literals) address are allowed; name hosts are
    /// checked again on every resolution ([`HookPolicy::check_ip`]).
    pub fn check_url(&self, url: &HookUrl) -> Result<(), String> {
        if !url.https && !self.allow_http && !self.allow_private {
            return Err("must use https:// (plain http needs webhooks.allow_http)".into());
        }
        if url.host == "localhost" || url.host.ends_with(".localhost") {
            self.check_ip(IpAddr::V4(Ipv4Addr::LOCALHOST))?;
        }
        match url.ip() {
            Some(ip) => self.check_ip(ip),
            None => Ok(()),
        }
    }

    /// Whether a resolved address may be contacted.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        match forbidden(ip) {
            Some(why) if !self.allow_private => {
                Err(format!("resolves to a {why} address ({ip}); only public addresses are allowed"))
            }
            _ => Ok(()),
        }
    }
}

/// Why an address is not public, if it is not.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_v4(v4);
            }
            forbidden_v6(v6)
        }
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    Some(if ip.is_unspecified() || a == 0 {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if ip.is_private() {
        "private"
    } else if ip.is_link_local() {
        "link-local"
    } else if a == 100 && (64..128).contains(&b) {
        "shared (CGNAT)"
    } else if ip.is_multicast() {
        "multicast"
    } else if ip.is_broadcast() || a >= 240 || (a == 192 && b == 0 && ip.octets()[2] == 0) {
        "reserved"
    } else {
        return None;
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if first & 0xfe00 == 0xfc00 {
        "private (unique local)"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if ip.is_multicast() {
        "multicast"
    } else if first == 0x64 && ip.segments()[1] == 0xff9b {
        // NAT64 may reach anything behind it.
        "NAT64"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_refused_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(forbidden(ip.parse().unwrap()).is_some(), "{ip}");
        }
        for ip in ["8.8.8.8", "100.128.0.1", "172.32.0.1", "193.99.144.80", "2a00:1450:4001::1"] {
            assert_eq!(forbidden(ip.parse().unwrap()), None, "{ip}");
        }
    }

    #[test]
    fn urls_parse_and_the_policy_decides() {
        let strict = HookPolicy::default();
        let u = HookUrl::parse("https://hooks.example.de/konsent?x=1").unwrap();
        assert_eq!((u.https, u.host.as_str(), u.port), (true, "hooks.example.de", 443));
        assert!(strict.check_url(&u).is_ok());
        let u = HookUrl::parse("http://[::1]:8080/h").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 8080));
        assert!(strict.check_url(&u).is_err());
        assert!(strict.check_url(&HookUrl::parse("https://10.0.0.5/").unwrap()).is_err());
        assert!(strict.check_url(&HookUrl::parse("https://localhost/").unwrap()).is_err());
        assert!(strict.check_url(&HookUrl::parse("http://hooks.example.de/").unwrap()).is_err());
        let open = HookPolicy { allow_private: true, ..Default::default() };
        assert!(open.check_url(&HookUrl::parse("http://127.0.0.1:9/").unwrap()).is_ok());
        for bad in ["ftp://x.de/", "https://user:pw@x.de/", "https:///", "https://x.de:0/", "https://x.de/#f", "x.de"] {
            assert!(HookUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
