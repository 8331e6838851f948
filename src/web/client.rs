//! The client's address: the connection's peer, or behind a trusted reverse proxy the address the
//! proxy names in `web.trusted_proxy_header` — never a header from anyone else.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::WebState;
use crate::config::Web;

/// The client's address, when the server knows it (not in tests that call the router directly).
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<WebState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientAddr(peer.map(|peer| client_address(&state.app.config.web, peer, &parts.headers))))
    }
}

/// The client's address for a request from `peer`.
///
/// Only when `peer` is one of `web.trusted_proxies` is `web.trusted_proxy_header` read: its
/// addresses (all instances of the header, comma-separated, as `X-Forwarded-For` is) are walked
/// from the right, skipping trusted proxies, and the first other one is the client — the entries
/// further left were written by the client itself and prove nothing. A header that names no
/// readable address leaves `peer`.
pub fn client_address(web: &Web, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if web.trusted_proxy_header.is_empty() {
        return peer;
    }
    let trusted = web.trusted_proxy_addrs();
    if !trusted.contains(&peer) {
        return peer;
    }
    let named: Vec<IpAddr> = headers
        .get_all(web.trusted_proxy_header.as_str())
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(parse_address)
        .collect();
    named.iter().rev().find(|a| !trusted.contains(a)).or(named.first()).copied().unwrap_or(peer)
}

/// An address as proxies write it: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]:443`, `1.2.3.4:80`.
fn parse_address(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim();
    raw.parse::<IpAddr>().ok().or_else(|| raw.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn web(header: &str, proxies: &str) -> Web {
        let env = vec![
            ("JIANYAN_WEB__TRUSTED_PROXY_HEADER".to_string(), header.to_string()),
            ("JIANYAN_WEB__TRUSTED_PROXIES".to_string(), proxies.to_string()),
        ];
        Config::from_layers(None, env).unwrap().web
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy_and_only_its_own_entry() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        let w = web("X-Forwarded-For", "10.0.0.1");
        // The client wrote 1.1.1.1 itself; the proxy appended the address it saw.
        let h = headers(&["1.1.1.1, 203.0.113.7"]);
        assert_eq!(client_address(&w, proxy, &h), "203.0.113.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_address(&w, stranger, &h), stranger, "a direct client cannot name itself");
        assert_eq!(client_address(&w, proxy, &headers(&["garbage"])), proxy);
        assert_eq!(
            client_address(&w, proxy, &headers(&["1.1.1.1", "[2001:db8::1]:443"])),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let none = web("", "");
        assert_eq!(client_address(&none, proxy, &h), proxy, "no header configured: the peer");
    }
}
