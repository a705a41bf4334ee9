"""schemathesis hooks for the conformance run (SCHEMATHESIS_HOOKS=hooks, PYTHONPATH=scripts/openapi).

A claim may long-poll for up to 60 s (`wait_seconds`), as the document says and the server does;
in a fuzzing run that only makes requests time out. Valid waits above 1 s are cut to 1 s just
before the request is sent (every phase), so every claim answers quickly; out-of-range values
pass unchanged so their 400 is still checked.
"""
import schemathesis


@schemathesis.hook
def before_call(context, case, kwargs):
    body = case.body
    if isinstance(body, dict):
        wait = body.get("wait_seconds")
        # 28 and 28.0 alike: JSON has one number type, and the server takes 28.0 as 28.
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and 1 < wait <= 60:
            body["wait_seconds"] = 1
