"""Dialtone's speech recognizer: CMU PocketSphinx (Debian's python3-pocketsphinx and
pocketsphinx-en-us), run by the runtime as a child process, one per ASR unit.

    python3 -c SOURCE MODEL_DIR [HINTS_JSON]

stdin:  the caller's audio, 16-bit little-endian mono PCM at 8 kHz, as it comes.
stdout: one JSON object per line:
    {"event": "ready"}                          the decoder is loaded
    {"event": "captureStarted"}                 speech began
    {"event": "interim", "text": "..."}         the guess so far changed
    {"event": "speechCaptured"}                 speech ended
    {"event": "result", "text": "...", "confidence": 0.93}
    {"event": "error", "error": "..."}
With HINTS_JSON (a JSON list of phrases), only those phrases are recognized (a JSGF grammar);
otherwise the model's general English language model is used. Ends at the end of stdin.
"""

import warnings

warnings.simplefilter("ignore", DeprecationWarning)
import audioop  # noqa: E402  (deprecated in 3.11, still in Debian 12's 3.11)
import json
import os
import sys

CHUNK = 1600  # bytes: 100 ms at 8 kHz


def say(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def grammar(hints):
    words = []
    for phrase in hints:
        clean = " ".join(w for w in "".join(c if c.isalnum() or c in " '" else " " for c in phrase.lower()).split())
        if clean:
            words.append(clean)
    alternatives = " | ".join(sorted(set(words)))
    return "#JSGF V1.0;\ngrammar hints;\npublic <utterance> = ( " + alternatives + " )+ ;\n"


def main():
    try:
        from pocketsphinx.pocketsphinx import Decoder
    except ImportError as e:
        say(event="error", error=f"PocketSphinx is not installed ({e}): apt-get install python3-pocketsphinx pocketsphinx-en-us")
        return
    model = sys.argv[1]
    hints = json.loads(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else []
    config = Decoder.default_config()
    config.set_string("-hmm", os.path.join(model, "en-us"))
    config.set_string("-dict", os.path.join(model, "cmudict-en-us.dict"))
    config.set_string("-logfn", os.devnull)
    if hints:
        # Under a grammar the default insertion penalty lets short words ("two", "eight")
        # slip in between the ones said; a much lower one keeps to what was said.
        config.set_float("-wip", 1e-4)
    else:
        config.set_string("-lm", os.path.join(model, "en-us.lm.bin"))
    try:
        decoder = Decoder(config)
        if hints:
            decoder.set_jsgf_string("hints", grammar(hints))
            decoder.set_search("hints")
    except Exception as e:  # the library's own words
        say(event="error", error=f"the recognizer did not start: {e}")
        return
    logmath = decoder.get_logmath()
    decoder.start_utt()
    say(event="ready")
    in_speech = False
    guess = ""
    state = None
    stdin = sys.stdin.buffer
    while True:
        chunk = stdin.read(CHUNK)
        if not chunk:
            break
        wide, state = audioop.ratecv(chunk, 2, 1, 8000, 16000, state)
        decoder.process_raw(wide, False, False)
        now = decoder.get_in_speech()
        if now and not in_speech:
            say(event="captureStarted")
        if now:
            hyp = decoder.hyp()
            text = hyp.hypstr if hyp else ""
            if text and text != guess:
                guess = text
                say(event="interim", text=text)
        if in_speech and not now:
            decoder.end_utt()
            say(event="speechCaptured")
            hyp = decoder.hyp()
            if hyp and hyp.hypstr:
                say(event="result", text=hyp.hypstr, confidence=round(min(1.0, logmath.exp(hyp.prob)), 3))
            guess = ""
            decoder.start_utt()
        in_speech = now
    decoder.end_utt()
    if in_speech:
        say(event="speechCaptured")
        hyp = decoder.hyp()
        if hyp and hyp.hypstr:
            say(event="result", text=hyp.hypstr, confidence=round(min(1.0, logmath.exp(hyp.prob)), 3))


main()
