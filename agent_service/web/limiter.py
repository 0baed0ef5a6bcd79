"""The sign-in limit: per client address and per account, with exponential back-off.

An attempt is *reserved* before its password is hashed, and counted as a failure until
it succeeds: forty concurrent guesses cannot all slip in between a check and a record.
Each key (``ip:<address>``, ``account:<name>``) has a few free attempts; after them each
further failure doubles the wait before the next one, up to a maximum. A real admin
behind the same proxy as a guesser waits seconds after a handful of bad guesses, not a
fixed lock-out; a sustained guesser is slowed to one try per maximum wait per account,
whatever addresses it uses. A success clears the account's failures."""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["LoginLimiter"]


@dataclass
class _Key:
    failures: int
    last: float


class LoginLimiter:
    def __init__(
        self,
        *,
        free_attempts: int = 5,
        base_delay_s: float = 1.0,
        max_delay_s: float = 900.0,
        forget_after_s: float = 3600.0,
        max_keys: int = 10_000,
    ) -> None:
        self.free_attempts = free_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.forget_after_s = max(forget_after_s, max_delay_s)
        self.max_keys = max_keys
        self._keys: dict[str, _Key] = {}

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures before the next attempt."""
        if failures < self.free_attempts:
            return 0.0
        exponent = min(failures - self.free_attempts, 62)
        return float(min(self.max_delay_s, self.base_delay_s * 2**exponent))

    def _state(self, key: str, now: float) -> _Key | None:
        state = self._keys.get(key)
        if state is not None and now - state.last >= self.forget_after_s:
            del self._keys[key]
            return None
        return state

    @staticmethod
    def _keys_of(address: str, account: str | None) -> list[str]:
        # Only real accounts get a key (a made-up name cannot sign in anyway), so
        # account keys are few and never evicted.
        return [f"ip:{address}"] + ([f"account:{account}"] if account is not None else [])

    def retry_after(self, address: str, account: str | None, now: float | None = None) -> float:
        """Seconds until ``address`` may try ``account`` again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        wait = 0.0
        for key in self._keys_of(address, account):
            state = self._state(key, now)
            if state is not None:
                wait = max(wait, state.last + self.delay(state.failures) - now)
        return wait

    def reserve(self, address: str, account: str | None, now: float | None = None) -> float:
        """Reserve an attempt: 0 when reserved (it counts as a failure of the address
        and the account until ``succeeded``), else the seconds to wait (nothing is
        counted then)."""
        now = time.monotonic() if now is None else now
        wait = self.retry_after(address, account, now)
        if wait > 0:
            return wait
        for key in self._keys_of(address, account):
            state = self._state(key, now)
            if state is None:
                self._make_room(now)
                self._keys[key] = _Key(1, now)
            else:
                state.failures += 1
                state.last = now
        return 0.0

    def succeeded(self, address: str, account: str) -> None:
        """The attempt was right: the account's failures are forgotten (it is in the
        right hands), but the address only loses this attempt's reservation, since a
        guesser may share it (a proxy, a NAT) and must not get fresh tries from it."""
        self._keys.pop(f"account:{account}", None)
        state = self._keys.get(f"ip:{address}")
        if state is not None:
            state.failures -= 1
            if state.failures <= 0:
                del self._keys[f"ip:{address}"]

    def _make_room(self, now: float) -> None:
        """Bounded memory: forget quiet keys, then the oldest ones."""
        if len(self._keys) < self.max_keys:
            return
        for key in [k for k, s in self._keys.items() if now - s.last >= self.forget_after_s]:
            del self._keys[key]
        addresses = sorted((s.last, k) for k, s in self._keys.items() if k.startswith("ip:"))
        for _, key in addresses[: len(self._keys) - self.max_keys + 1]:
            del self._keys[key]
