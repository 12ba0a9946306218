"""Regenerate wire_vectors.json: messages signed by jupyter_client's Session (the peer).

Run: .venv/bin/python kernel/testdata/gen_wire.py > kernel/testdata/wire_vectors.json
"""
import json
import sys

from jupyter_client.session import Session

vectors = []
for key in (b"c0ffee-golem-key", b""):
    s = Session(key=key, signature_scheme="hmac-sha256", username="tester", session="5e55-10n")
    for msg_type, content, parent in [
        ("kernel_info_request", {}, {}),
        ("execute_request", {"code": 'fmt.Println("héllo, 世界")', "silent": False, "store_history": True,
                             "user_expressions": {}, "allow_stdin": True, "stop_on_error": True}, {}),
        ("input_reply", {"value": "42"}, {"msg_id": "abc", "msg_type": "input_request"}),
    ]:
        msg = s.msg(msg_type, content=content, parent=parent)
        frames = s.serialize(msg, ident=[b"client-identity"])
        vectors.append({
            "key": key.decode(),
            "msg_type": msg_type,
            "frames": [f.decode("utf-8") if isinstance(f, bytes) else f for f in frames],
        })
json.dump(vectors, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
