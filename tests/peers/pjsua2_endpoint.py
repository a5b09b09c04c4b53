"""The pjsua2 set-up Dialtone's softphone peers share (pjsua2_call.py, pjsua2_callee.py)."""
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
