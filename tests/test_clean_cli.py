"""End-to-end test of `golem clean` (lmlib/clean's FineWeb chain through data.Pipeline)."""

import json
import os
import subprocess

GOLEM = os.environ.get("GOLEM_BIN", "bin/golem")


A = """Newton bought a glass prism at the Stourbridge fair in the summer of that year.
He darkened his chamber and made a small hole in the window shutters to let in the light of the sun.
The beam of light fell on the prism and was refracted toward the opposite wall of the room.
He expected to see a round image, but the image on the wall was oblong and coloured at both ends.
This puzzled him, and he spent the following months trying one experiment after another.
He placed a second prism in the path of a single colour and saw that the colour did not change.
From this he concluded that white light is a mixture of rays that are refracted by different amounts.
He wrote to the Royal Society about the discovery, and the letter was read at one of their meetings."""

B = """Tom Sawyer was sent to whitewash the long fence in front of the house on a bright Saturday morning.
He looked at the fence with a deep melancholy, and all gladness left him as he dipped his brush.
When Ben Rogers came by eating an apple, Tom pretended that the work was a rare and special pleasure.
Ben watched every stroke with growing interest and at last begged to be allowed to whitewash a little.
Tom gave up the brush with reluctance in his face but alacrity in his heart, and took the apple.
By the middle of the afternoon the fence had three coats of whitewash and Tom was rich in treasures.
He had discovered a great law of human action without knowing it, and he went to report to his aunt.
She could hardly believe her eyes when she saw the fence, and she gave him a choice apple as a reward."""


def test_clean_cli(tmp_path):
    docs = [
        {"id": "a", "text": A + "\nWrite to isaac@trinity.example.org about these letters."},
        {"id": "a-copy", "text": A + "\nWrite to isaac@trinity.example.org about these letters."},
        {"id": "b", "text": B},
        {"id": "short", "text": "Too short to keep."},
        {"id": "fr", "text": "Le chat dort sur le canapé pendant que la pluie tombe doucement sur la ville. " * 10},
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(d) + "\n" for d in docs))
    out = tmp_path / "out"
    r = subprocess.run([GOLEM, "clean", "-q", "-format", "jsonl", "-o", str(out), str(inp)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    kept = [json.loads(l) for f in sorted(out.glob("*.jsonl")) for l in open(f)]
    ids = [d["id"] for d in kept]
    assert ids == ["a", "b"], (ids, r.stderr)
    assert "email@example.com" in kept[0]["text"] and "isaac@" not in kept[0]["text"]
    assert kept[0]["metadata"]["language"] == "en"
    for reason in ("minhash_duplicate", "language"):
        assert reason in r.stderr, r.stderr


def test_clean_cli_bad_input(tmp_path):
    inp = tmp_path / "bad.jsonl"
    inp.write_text('{"id": "x", "text": "fine"}\n{"id": broken\n')
    r = subprocess.run([GOLEM, "clean", "-q", str(inp)], capture_output=True, text=True)
    assert r.returncode != 0
    assert "bad.jsonl" in r.stderr, r.stderr
    r = subprocess.run([GOLEM, "clean", "-q", "-skip-bad", str(inp)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
