"""The pjsua2 set-up Dialtone's softphone peers share (pjsua2_call.py, pjsua2_callee.py)."""
import time

import pjsua2 as pj


def start():
    """A started pjsua2 endpoint: quiet logs, events handled on the caller's thread, one UDP
    transport on 127.0.0.1 (a free port), no sound device, PCMU only. Returns (endpoint, port)."""
    ep = pj.Endpoint()
    ep.libCreate()
    cfg = pj.EpConfig()
    cfg.logConfig.level = 1
    cfg.logConfig.consoleLevel = 1
    cfg.uaConfig.threadCnt = 0
    cfg.uaConfig.mainThreadOnly = True
    ep.libInit(cfg)
    transport_cfg = pj.TransportConfig()
    transport_cfg.port = 0
    transport_cfg.boundAddress = "127.0.0.1"
    transport_cfg.publicAddress = "127.0.0.1"
    transport = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport_cfg)
    ep.audDevManager().setNullDev()
    for codec in ep.codecEnum2():
        ep.codecSetPriority(codec.codecId, 0)
    ep.codecSetPriority("PCMU/8000", 255)
    ep.libStart()
    return ep, ep.transportGetInfo(transport).localName.split(":")[-1]


def account_config(id_uri, registrar=None, user=None, password=None):
    """An account on 127.0.0.1 media; with a registrar it registers there with digest auth."""
    account_cfg = pj.AccountConfig()
    account_cfg.idUri = id_uri
    account_cfg.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account_cfg.mediaConfig.transportConfig.publicAddress = "127.0.0.1"
    if registrar:
        account_cfg.regConfig.registrarUri = f"sip:{registrar}"
        account_cfg.regConfig.timeoutSec = 60
        account_cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    return account_cfg


class MediaCall(pj.Call):
    """A call that prints its states ("STATE CONFIRMED 200"), keeps them in `state`
    (confirmed, confirmed_at, disconnected, audio: the media index) and, once its audio is up,
    plays `player` into it and records it with `recorder`."""

    def __init__(self, account, state, player, recorder, call_id=pj.PJSUA_INVALID_ID):
        pj.Call.__init__(self, account, call_id)
        self.state, self.player, self.recorder = state, player, recorder

    def onCallState(self, prm):
        info = self.getInfo()
        print("STATE", info.stateText, info.lastStatusCode, flush=True)
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.state["confirmed"] = True
            self.state["confirmed_at"] = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.state["disconnected"] = True

    def onCallMediaState(self, prm):
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.state["audio"] = index
                audio = self.getAudioMedia(index)
                self.player.startTransmit(audio)
                audio.startTransmit(self.recorder)
