"""Demo data for a fresh database (CONTRACT "Demo data") and seeded history for the fault controls.

Every account's password is the part of its email before `@` plus `-pass`.
"""

from __future__ import annotations

from server.passwords import hash_public_password
from server.data.store import Store
from server.timefmt import iso_utc

DEMO_USERS = (
    ("coach@example.com", "Casey", "Coach", "TRAINER"),
    ("alex@example.com", "Alex", "Runner", "TRAINEE"),
    ("sam@example.com", "Sam", "Lifter", "TRAINEE"),
    ("jo@example.com", "Jo", "Archived", "TRAINEE"),
)

# Alternating lines: even index the trainer, odd index the trainee.
CHAT_LINES = (
    "Morning! How did the recovery run feel yesterday?",
    "Legs were heavy for the first 2k, then it loosened up.",
    "That's normal after a hard session. Keep it conversational pace.",
    "Got it. Heart rate stayed around 140 the whole way.",
    "Perfect zone 2. Today is strength: squats 4x6 and Romanian deadlifts 3x8.",
    "What weight should I start the squats at?",
    "Use the 6-rep weight from last week, 60 kg, and add 2.5 kg if the last set moves fast.",
    "Done! The last set felt quick so I'll bump it next time.",
    "Great work. How's the left knee holding up?",
    "No pain at all today, the mobility drills are helping.",
    "Keep doing them before every run, 5 minutes is enough.",
    "Will do. Can I swap Thursday's intervals for a hill session?",
    "Yes: 8 x 60 s uphill hard, jog back down as recovery.",
    "Sounds brutal, I'm in.",
    "Remember to fuel: something with carbs about an hour before.",
    "Banana and toast usually works for me.",
    "Ideal. And log your sleep this week, I want to see the trend.",
    "Averaging about 7 hours so far.",
    "Try to get that closer to 8 before the race block starts.",
    "I'll aim for lights out by 10:30.",
    "How did the hills go?",
    "Harder than expected, I faded on the last two reps.",
    "That's fine, the first session is a baseline. We'll build from there.",
    "Should I add core work on rest days?",
    "Yes, 15 minutes: planks, dead bugs and side planks, 3 rounds.",
    "Easy enough to fit in after work.",
    "Saturday is your long run: 12k easy, no watch-checking for pace.",
    "Running by feel is hard for me but I'll try.",
    "Stretch calves and hip flexors after, and drink plenty.",
    "Thanks coach, see you next week!",
)
ALEX_LAST_WORDS = (
    "Just finished the tempo run!",
    "Splits were 5:10, 5:05 and 4:58 per km.",
    "Should I push the long run to 14k this weekend?",
)
SAM_LINES = (
    ("sam", "Hi coach, my lower back was tight after deadlifts on Monday."),
    ("coach", "Thanks for telling me. Drop the weight 10% and film a set so I can check your form."),
    ("sam", "Filmed it today, sending it over tonight. Bench felt strong though!"),
)
JO_LINES = (
    ("coach", "Congrats on finishing the program, Jo!"),
    ("jo", "Thank you for everything, it was a great 12 weeks."),
)

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def password_for(email: str) -> str:
    return email.split("@", 1)[0] + "-pass"


async def seed_demo(store: Store, now: float) -> None:
    """Fill an empty database with the demo accounts and conversations; `store` is inside
    the transaction (and lock) that found the database empty."""
    hashes = [hash_public_password(password_for(email)) for email, *_ in DEMO_USERS]  # ~1 ms each
    ids = {}
    for (email, first, last, role), password_hash in zip(DEMO_USERS, hashes):
        ids[email.split("@", 1)[0]] = await store.create_user(email, password_hash, first, last, role)
    await _seed_alex(store, ids["coach"], ids["alex"], now)
    await _seed_scripted(store, ids, ids["sam"], SAM_LINES, start=now - 5 * HOUR, last_unread=True, archived=False)
    await _seed_scripted(store, ids, ids["jo"], JO_LINES, start=now - 30 * DAY, last_unread=False, archived=True)


async def _seed_alex(store: Store, coach: int, alex: int, now: float) -> None:
    """120 messages in bursts of 20 a day over six days; the last 3, from Alex, unread."""
    count = 120
    times = [now - (5 - i // 20) * DAY - (19 - i % 20) * 4 * MINUTE - 10 * MINUTE for i in range(count)]
    conversation = await store.create_conversation(coach, alex, False, iso_utc(times[0] - HOUR))
    for i, at in enumerate(times):
        unread_tail = i >= count - len(ALEX_LAST_WORDS)
        if unread_tail:
            sender, text = alex, ALEX_LAST_WORDS[i - (count - len(ALEX_LAST_WORDS))]
        else:
            sender, text = (coach if i % 2 == 0 else alex), CHAT_LINES[i % len(CHAT_LINES)]
        await store.insert_message(conversation, sender, text, None, iso_utc(at),
                                   read_at=None if unread_tail else iso_utc(at + MINUTE))


async def _seed_scripted(store: Store, ids: dict[str, int], trainee: int, lines, *, start: float,
                         last_unread: bool, archived: bool) -> None:
    conversation = await store.create_conversation(ids["coach"], trainee, archived, iso_utc(start - HOUR))
    for i, (who, text) in enumerate(lines):
        at = start + i * 40 * MINUTE
        unread = last_unread and i == len(lines) - 1
        await store.insert_message(conversation, ids[who], text, None, iso_utc(at),
                                   read_at=None if unread else iso_utc(at + MINUTE))


async def seed_history(store: Store, conversation_id: int, trainer: int, trainee: int, count: int,
                       now: float) -> None:
    """`count` alternating messages (trainer first), all read, one a minute, ending a minute ago;
    `store` is inside a transaction."""
    for i in range(count):
        at = now - (count - i) * MINUTE
        sender = trainer if i % 2 == 0 else trainee
        await store.insert_message(conversation_id, sender, CHAT_LINES[i % len(CHAT_LINES)], None, iso_utc(at),
                                   read_at=iso_utc(at + 1))
