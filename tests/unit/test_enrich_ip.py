"""IP parsing and CIDR containment edge cases (IPv4, IPv6, nesting, mapped, zones, bad input)."""

from __future__ import annotations

import ipaddress

import numpy as np
import pyarrow as pa

from secpipe.transforms.enrich._ip import format_ips, index_networks, parse, parse_network, parse_networks


def _hits(nets: list[str], ips: list[str | None]) -> list[set[str]]:
    idx = index_networks(parse_networks(pa.array(nets, pa.string())))
    q, r = idx.lookup(parse(pa.array(ips, pa.string())))
    out: list[set[str]] = [set() for _ in ips]
    for qi, ri in zip(q.tolist(), r.tolist(), strict=True):
        out[qi].add(nets[ri])
    return out


def _truth(nets: list[str], ips: list[str | None]) -> list[set[str]]:
    parsed = [ipaddress.ip_network(n, strict=False) for n in nets]
    out = []
    for ip in ips:
        try:
            a = ipaddress.ip_address(ip or "")
        except ValueError:
            out.append(set())
            continue
        out.append({n for n, p in zip(nets, parsed, strict=True) if a.version == p.version and a in p})
    return out


def test_parse_v4_v6_and_garbage() -> None:
    p = parse(pa.array(["1.2.3.4", "255.255.255.255", "256.1.1.1", "1.2.3", "::1", "2001:db8::1", "fe80::1%eth0",
                        "::ffff:10.0.0.1", "example.com", None, "", "1.2.3.4.5", "[2001:db8::2]"], pa.string()))
    assert p.version.tolist() == [4, 4, 0, 0, 6, 6, 6, 4, 0, 0, 0, 0, 6]
    assert int(p.v4[0]) == 0x01020304
    assert int(p.v4[7]) == 0x0A000001  # IPv4-mapped IPv6 folds to IPv4
    assert format_ips(p, np.array([0, 5, 6])) == ["1.2.3.4", "2001:db8::1", "fe80::1"]


def test_parse_network_clears_host_bits() -> None:
    assert parse_network("10.1.2.3/8") == (4, 0x0A000000, 8)
    assert parse_network("2001:db8::1/32") == (6, 0x20010DB8 << 96, 32)
    assert parse_network("::ffff:1.2.3.4/120") == (4, 0x01020300, 24)
    assert parse_network("1.2.3.4/33") is None
    assert parse_network("nonsense") is None
    n = parse_networks(pa.array(["10.1.2.3/8", "1.2.3.4/33", "2001:db8::1/32", "x/8", "1.2.3.4/-1", "::/0"]))
    assert n.ok.tolist() == [True, False, True, False, False, True]
    assert int(n.parsed.v4[0]) == 0x0A000000
    assert int(n.parsed.hi[2]) == 0x20010DB800000000 and int(n.parsed.lo[2]) == 0


def test_nested_and_duplicate_networks_all_match() -> None:
    nets = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.1.2.3", "192.168.0.0/16"]
    ips = ["10.1.2.3", "10.1.2.4", "10.2.0.1", "192.168.255.255", "11.0.0.0", "9.255.255.255"]
    assert _hits(nets, ips) == _truth(nets, ips)
    assert _hits(nets, ips)[0] == {"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32", "10.1.2.3"}


def test_ipv6_boundaries_across_the_64_bit_split() -> None:
    nets = ["2001:db8::/32", "2001:db8:0:1::/64", "2001:db8:0:1:8000::/65", "2001:db8:0:1::1/128", "::/0",
            "2001:db8:0:1:0:0:0:0/127", "fe80::/10"]
    ips = ["2001:db8::", "2001:db8:0:1::1", "2001:db8:0:1:8000::1", "2001:db8:0:1:7fff:ffff:ffff:ffff",
           "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::", "fe80::abcd%eth0", "fec0::1", "1.2.3.4"]
    assert _hits(nets, ips)[:6] == _truth(nets, ips)[:6]
    assert _hits(nets, ips)[6] == {"fe80::/10", "::/0"}
    assert _hits(nets, ips)[7] == {"::/0"}
    assert _hits(nets, ips)[8] == set()  # an IPv4 address is never inside an IPv6 network


def test_random_networks_agree_with_ipaddress() -> None:
    rng = np.random.default_rng(7)
    nets = []
    for _ in range(400):
        if rng.random() < 0.5:
            a = ipaddress.IPv4Address(int(rng.integers(0, 2**32)))
            nets.append(str(ipaddress.ip_network(f"{a}/{int(rng.integers(8, 33))}", strict=False)))
        else:
            a = ipaddress.IPv6Address(int(rng.integers(0, 2**63)) << 65 | int(rng.integers(0, 2**63)))
            nets.append(str(ipaddress.ip_network(f"{a}/{int(rng.integers(16, 129))}", strict=False)))
    ips = []
    for n in nets[:200]:
        net = ipaddress.ip_network(n)
        ips.append(str(net.network_address + int(rng.integers(0, min(net.num_addresses, 2**62)))))
    ips += [str(ipaddress.IPv4Address(int(rng.integers(0, 2**32)))) for _ in range(200)]
    assert _hits(nets, ips) == _truth(nets, ips)
