"""Issue 22.7: the login and the tab's title fit both roles (a trainer's dashboard, a
trainee's messages), and the sending marks are drawn, not emoji."""
from pathlib import Path

from core.chat_marks import BASE_TITLE, TRAINER_TITLE, base_title, tab_title

ROOT = Path(__file__).resolve().parents[2]


def test_a_trainer_sees_the_dashboard_and_everyone_else_the_messages():
    assert base_title("TRAINER") == TRAINER_TITLE == "Messages · Trainer dashboard"
    assert base_title("TRAINEE") == BASE_TITLE == "Messages · Coachline"
    assert base_title(None) == base_title("") == base_title(5) == BASE_TITLE
    assert tab_title(2, base_title("TRAINEE")) == "(2) Messages · Coachline"


def test_the_login_speaks_to_both_roles():
    html = (ROOT / "index.html").read_text()
    assert "Sign in to your messages." in html
    assert "trainees" not in html.split('class="login-sub"')[1].split("</p>")[0]


def test_the_pending_marks_carry_no_emoji():
    source = (ROOT / "py" / "web" / "pending_sends.py").read_text()
    assert not [ch for ch in source if ord(ch) >= 0x1F000]
