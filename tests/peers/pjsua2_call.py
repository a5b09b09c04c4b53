"""A softphone caller for Dialtone's tests, on pjsua2 (PyPI pjsua2-python).

    pjsua2_call.py URI WAV SECONDS RECORD_WAV [DTMF] [DTMF_AT]

Calls URI from 127.0.0.1 offering PCMU only, streams WAV (8 kHz 16-bit mono) into the call,
records what it hears into RECORD_WAV, sends DTMF (RFC 4733) DTMF_AT seconds after connect,
and hangs up SECONDS after connect unless the far end hangs up first. Prints one line per call
state ("STATE CONFIRMED 200"), and before hanging up what pjmedia's RTCP session read from the
far end ("RTCP CNAME <cname>", empty when no report came), and exits 0 when the call was
confirmed, 1 otherwise. With REGISTER="REGISTRAR USER PASSWORD" in the environment it calls
as that user: it registers sip:USER@REGISTRAR first (digest auth; "REGISTERED <status>").
"""
import os
import sys
import time

import pjsua2 as pj

import pjsua2_endpoint

uri, wav, seconds, record = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
dtmf = sys.argv[5] if len(sys.argv) > 5 else ""
dtmf_at = float(sys.argv[6]) if len(sys.argv) > 6 else 1.0

ep, _ = pjsua2_endpoint.start()

registration = os.environ.get("REGISTER", "").split()
registered = {"code": None}


class Account(pj.Account):
    def onRegState(self, prm):
        if registered["code"] != prm.code:
            registered["code"] = prm.code
            print("REGISTERED", prm.code, flush=True)


if len(registration) == 3:
    registrar, user, password = registration
    account_cfg = pjsua2_endpoint.account_config(f"sip:{user}@{registrar}", registrar, user, password)
else:
    account_cfg = pjsua2_endpoint.account_config("sip:pjsua@127.0.0.1")
account = Account()
account.create(account_cfg)
if len(registration) == 3:
    until = time.monotonic() + 10
    while registered["code"] is None and time.monotonic() < until:
        ep.libHandleEvents(10)
    if registered["code"] != 200:
        print("registration failed", flush=True)
        sys.exit(1)

player = pj.AudioMediaPlayer()
player.createPlayer(wav, pj.PJMEDIA_FILE_NO_LOOP)
recorder = pj.AudioMediaRecorder()
recorder.createRecorder(record)

state = {"confirmed_at": None, "disconnected": False, "confirmed": False, "audio": None}


call = pjsua2_endpoint.MediaCall(account, state, player, recorder)
call.makeCall(uri, pj.CallOpParam(True))
deadline = time.monotonic() + seconds + 15
sent_dtmf = False
hung_up = False
while not state["disconnected"] and time.monotonic() < deadline:
    ep.libHandleEvents(10)
    at = state["confirmed_at"]
    if at is None:
        continue
    elapsed = time.monotonic() - at
    if dtmf and not sent_dtmf and elapsed >= dtmf_at:
        sent_dtmf = True
        call.dialDtmf(dtmf)
        print("DTMF", dtmf, flush=True)
    if not hung_up and elapsed >= seconds:
        hung_up = True
        if state["audio"] is not None:
            try:
                stat = call.getStreamStat(state["audio"])
                print("RTCP CNAME", stat.rtcp.peerSdes.cname, flush=True)
            except Exception as error:  # noqa: BLE001 - report whatever pjsua2 raised
                print("RTCP stats unavailable:", error, flush=True)
        call.hangup(pj.CallOpParam())
for _ in range(50):
    ep.libHandleEvents(10)
del call
recorder = None
player = None
ep.libDestroy()
sys.exit(0 if state["confirmed"] else 1)
