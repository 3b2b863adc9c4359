def test_x(wcpipe, moto, monkeypatch):
    from support.paths import SPEC_PATH

    monkeypatch.setenv("COLUMNS", "80")
    r = wcpipe("-c", str(SPEC_PATH), "status")
    print(r.out)
    print(r.err[-3000:])
