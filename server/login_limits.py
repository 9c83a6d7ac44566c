"""Which failure counters a login attempt counts under, and which hashing lane it takes.

Theory of operation (issue 23 item 3; OWASP's "device cookies" for the lockout):

- A client that presents a valid device token for the account it logs into (one our
  server set after an earlier successful login of that account, see `server.device_tokens`)
  is a *known device*. It counts only under its own device counter (and one for all that
  account's devices), and its hash runs in the device lane of the hashing pool, which
  attempts from elsewhere cannot fill (one account holds at most a few of its slots). So the real
  user still logs in while the account is locked for everyone else, and while a flood of
  wrong logins fills the open lane.
- Any other attempt (unknown e-mail, known e-mail from a new browser, a known device that
  used up its own failures) counts under three counters at once: the account (whatever
  the address), the client's address group (an IPv4 address, or an IPv6 /64, which one
  subscriber usually holds whole), and the whole server (the global cap on wrong-login
  hashing work, shared by every worker). Its hash runs in the open lane.
- An unknown e-mail is treated exactly like a known one from a new device: same counters,
  same lane, same hash cost. Which lane an attempt takes depends only on a token the client
  holds, so neither the answer nor its timing tells which e-mails have an account.

Plain functions of the request's facts: no clock, no I/O.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from server.rate_limit import FailureCount

if TYPE_CHECKING:
    from server.context import Limits

IPV6_GROUP_PREFIX = 64  # one subscriber's network: counting single addresses would give each 2^64 tries


def address_group(host: str | None) -> str:
    """The address a client is counted by: an IPv4 address as is, an IPv6 address as its /64
    (an IPv4-mapped IPv6 address as the IPv4 one); anything else (a test client's name) as given."""
    text = (host or "").strip().strip("[]")
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_GROUP_PREFIX), strict=False))
    return str(address)


def untrusted_counts(email: str, address: str, limits: Limits) -> tuple[FailureCount, ...]:
    """Counters of an attempt from anywhere but a known device of that account."""
    return (
        FailureCount("account " + email.strip().lower(), limits.login_account_failures, limits.login_account_window),
        FailureCount("address " + address, limits.login_address_failures, limits.login_address_window),
        FailureCount("global", limits.login_global_failures, limits.login_global_window),
    )


def device_counts(device_id: str, user_id: int, limits: Limits) -> tuple[FailureCount, ...]:
    """Counters of an attempt from a known device: its own failures, and those of all the
    account's known devices together (someone who knows the password can make many devices;
    past that count they are all unknown again, and only that account is affected)."""
    return (FailureCount("device " + device_id, limits.login_device_failures, limits.login_device_window),
            FailureCount(f"devices of {int(user_id)}", limits.login_devices_failures, limits.login_device_window))
