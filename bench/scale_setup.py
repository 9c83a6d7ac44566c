"""The scale bench's people and conversations, written into the database before any server
starts, with a session (and so an access token) for each person.

Theory of operation. A real login costs a scrypt hash (0.18 s) at the server; 110 of them
would cost the bench ~20 s of a shared core and are not what it measures. So the roster is
made the way the server would make it, through its own `open_context` and `Store`, on the
database the servers then open: users (all sharing ONE password hash, computed once),
conversations, and one session per person (`Sessions.open`, as a login does). The signing
key is kept in the database, so every worker started afterwards accepts these tokens.

`Roster.conversations[i]` is (conversation id, trainer's access token, trainee's access
token): every socket and every send of the bench acts as one of a conversation's two
participants, as a page would.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.app import close_context, open_context  # noqa: E402
from server.passwords import hash_password  # noqa: E402
from server.timefmt import iso_utc  # noqa: E402

TOKEN_TTL = 3600.0  # one token per person for the whole run (the servers get --access-ttl too)


@dataclass(frozen=True)
class Conversation:
    id: int
    trainer_token: str
    trainee_token: str


@dataclass(frozen=True)
class Roster:
    conversations: list[Conversation]


def build_roster(database: str, *, trainers: int, trainees_per_trainer: int) -> Roster:
    """`trainers` x `trainees_per_trainer` conversations (each trainee has one, with its
    trainer), in `database` (a SQLite path or a postgresql:// URL; created when new)."""
    return asyncio.run(_build(database, trainers, trainees_per_trainer))


async def _build(database: str, trainers: int, trainees_per_trainer: int) -> Roster:
    ctx = await open_context(database, access_ttl=TOKEN_TTL, demo=True)
    try:
        password_hash = hash_password("bench-pass")  # once: nobody logs in with it
        now = ctx.clock()
        pairs: list[tuple[int, int, int]] = []  # (conversation, trainer, trainee)
        async with ctx.store.transaction() as store:
            for t in range(trainers):
                trainer_id = await store.create_user(f"trainer{t}@bench.example", password_hash, "Bench",
                                                     f"Trainer {t}", "TRAINER")
                for k in range(trainees_per_trainer):
                    trainee_id = await store.create_user(f"trainee{t}-{k}@bench.example", password_hash, "Bench",
                                                         f"Trainee {t}-{k}", "TRAINEE")
                    cid = await store.create_conversation(trainer_id, trainee_id, False, iso_utc(now))
                    pairs.append((cid, trainer_id, trainee_id))
        tokens: dict[int, str] = {}
        for _, trainer_id, trainee_id in pairs:
            for user_id in (trainer_id, trainee_id):
                if user_id not in tokens:
                    tokens[user_id] = (await ctx.sessions.open(user_id))["access"]
        return Roster([Conversation(cid, tokens[tr], tokens[te]) for cid, tr, te in pairs])
    finally:
        await close_context(ctx)
