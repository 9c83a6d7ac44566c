"""The optional notification sound: a short beep made with WebAudio, no file to fetch.

    sound = NotifySound()
    sound.arm()     # from a click or key press (a user gesture): the browser lets audio start
    sound.play()    # a quiet 150 ms tone; nothing at all when audio was not allowed

Browsers start audio only after a gesture on the page. An AudioContext made outside one
is "suspended" and its resume() is refused, with a console warning; so the context is made
only by `arm()` (the sound toggle's click, or the first click or key press after a reload
with the sound on), and `play()` stays silent while there is none or it is not running.
"""

import js

from web.web_dom import present

TONE_HZ = 880
TONE_S = 0.15
VOLUME = 0.06


class NotifySound:
    def __init__(self):
        self._context = None

    def arm(self):
        if self._context is not None:
            return
        make = getattr(js.window, "AudioContext", None) or getattr(js.window, "webkitAudioContext", None)
        if not present(make):
            return
        try:
            self._context = make.new()
        except Exception:  # no audio device, or refused: the sound stays off
            self._context = None

    @property
    def armed(self):
        return self._context is not None

    def play(self):
        context = self._context
        if context is None or context.state != "running":
            return
        try:
            oscillator = context.createOscillator()
            gain = context.createGain()
            start = context.currentTime
            oscillator.frequency.value = TONE_HZ
            gain.gain.setValueAtTime(VOLUME, start)
            gain.gain.exponentialRampToValueAtTime(0.0001, start + TONE_S)
            oscillator.connect(gain)
            gain.connect(context.destination)
            oscillator.start(start)
            oscillator.stop(start + TONE_S)
        except Exception:  # a sound is a nicety: never an error in the page
            pass

    def close(self):
        if self._context is not None:
            try:
                self._context.close()
            except Exception:
                pass
            self._context = None
