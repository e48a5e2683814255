def test_countries(http):
    r = http.get("/availablePhoneNumbers/countries", params={"api-version": "2025-06-01"})
    assert r.status_code == 200, r.text
    assert {c["countryCode"] for c in r.json()["countries"]} >= {"US", "CA", "GB", "FR", "IE"}
