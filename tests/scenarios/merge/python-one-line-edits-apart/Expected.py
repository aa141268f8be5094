def test_missing_mimetype(app):
    with pytest.raises(ValueError) as info:
        send_file(io.BytesIO(b"data"))
    assert "Unable to guess the type" in str(info.value)
    assert "no name given" in str(info.value)


def test_other():
    return 1
