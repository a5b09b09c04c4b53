"""A softphone callee for Dialtone's tests, on pjsua2 (PyPI pjsua2-python).

    pjsua2_callee.py WAV RECORD_WAV MAX_SECONDS [REGISTRAR USER PASSWORD [ANSWER_MS]]

Listens for SIP on 127.0.0.1 (a free UDP port, printed as "LISTENING <port>"), answers the
first call with 200 (PCMU only), streams WAV (8 kHz 16-bit mono) into it, records what it
hears into RECORD_WAV, and exits when the far end hangs up, or after MAX_SECONDS. With
REGISTRAR (host:port), USER and PASSWORD it first registers sip:USER@REGISTRAR there (digest
auth) and prints "REGISTERED <status>". It rings (180) and answers ANSWER_MS later (default
0; -1: it only rings, until the caller cancels). With DTMF="keys" in the environment it
presses them (RFC 4733) a second after the call is confirmed. With CONTACT="sip:..." it
registers and answers with that Contact instead of its own address (a device behind NAT, whose
Contact cannot be reached: only the address its requests come from can). Prints one line per call state
("STATE CONFIRMED 200"); exits 0 when a call was confirmed, 1 otherwise.
"""
import os
import sys
import time

import pjsua2 as pj

import pjsua2_endpoint

wav, record, max_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
registrar = sys.argv[4] if len(sys.argv) > 6 else None
user, password = (sys.argv[5], sys.argv[6]) if registrar else (None, None)
answer_ms = int(sys.argv[7]) if len(sys.argv) > 7 else 0

ep, port = pjsua2_endpoint.start()

player = pj.AudioMediaPlayer()
player.createPlayer(wav, pj.PJMEDIA_FILE_NO_LOOP)
recorder = pj.AudioMediaRecorder()
recorder.createRecorder(record)

keys = os.environ.get("DTMF", "")
state = {"confirmed_at": None, "call": None, "confirmed": False, "disconnected": False, "registered": None, "answer_at": None, "audio": None}


class Account(pj.Account):
    def onRegState(self, prm):
        if state["registered"] is None or prm.code != state["registered"]:
            state["registered"] = prm.code
            print("REGISTERED", prm.code, flush=True)

    def onIncomingCall(self, prm):
        call = pjsua2_endpoint.MediaCall(self, state, player, recorder, prm.callId)
        state["call"] = call
        if state["confirmed"] or state["disconnected"]:
            call.answer(pj.CallOpParam(486))
            return
        ringing = pj.CallOpParam()
        ringing.statusCode = 180
        call.answer(ringing)
        if answer_ms >= 0:
            state["answer_at"] = time.monotonic() + answer_ms / 1000


if registrar:
    account_cfg = pjsua2_endpoint.account_config(f"sip:{user}@{registrar}", registrar, user, password)
else:
    account_cfg = pjsua2_endpoint.account_config(f"sip:callee@127.0.0.1:{port}")
if os.environ.get("CONTACT"):
    account_cfg.sipConfig.contactForced = os.environ["CONTACT"]
    account_cfg.natConfig.contactRewriteUse = 0
account = Account()
account.create(account_cfg)
print("LISTENING", port, flush=True)

deadline = time.monotonic() + max_seconds
while not state["disconnected"] and time.monotonic() < deadline:
    ep.libHandleEvents(10)
    at = state["confirmed_at"]
    if keys and at is not None and time.monotonic() >= at + 1:
        state["call"].dialDtmf(keys)
        print("DTMF", keys, flush=True)
        keys = ""
    if state["answer_at"] is not None and time.monotonic() >= state["answer_at"]:
        state["answer_at"] = None
        answer = pj.CallOpParam()
        answer.statusCode = 200
        state["call"].answer(answer)
if state["call"] is not None and not state["disconnected"]:
    state["call"].hangup(pj.CallOpParam())
for _ in range(50):
    ep.libHandleEvents(10)
state["call"] = None
recorder = None
player = None
ep.libDestroy()
sys.exit(0 if state["confirmed"] else 1)
