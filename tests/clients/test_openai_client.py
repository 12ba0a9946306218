"""The official openai client against golem serve's /v1 API, unmodified."""

import openai


def test_openai_client_streams_a_completion(served):
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=served.key)
    ids = [m.id for m in client.models.list()]
    assert ids == ["opticks"]

    whole = client.completions.create(model="opticks", prompt="The Light of the Sun", max_tokens=24, temperature=0, seed=3)
    choice = whole.choices[0]
    assert choice.finish_reason in ("length", "stop")
    assert whole.usage.completion_tokens > 0
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens

    pieces, finish = [], None
    stream = client.completions.create(model="opticks", prompt="The Light of the Sun", max_tokens=24, temperature=0, seed=3, stream=True)
    for chunk in stream:
        for c in chunk.choices:
            pieces.append(c.text)
            finish = c.finish_reason or finish
    assert len(pieces) > 2, pieces
    assert "".join(pieces) == choice.text
    assert finish == choice.finish_reason

    # The same text from the built-in generate (lmlib/eval.Generate) at temperature 0.
    gen = served.post("/functions/generate", {"model": "opticks", "prompt": "The Light of the Sun", "max_tokens": 24})
    assert gen["text"] == choice.text

    # Sampled: reproducible for a seed, n choices, logprobs.
    a = client.completions.create(model="opticks", prompt=["Colours", "Rays"], max_tokens=8, temperature=0.9, seed=11, n=2, logprobs=2)
    b = client.completions.create(model="opticks", prompt=["Colours", "Rays"], max_tokens=8, temperature=0.9, seed=11, n=2, logprobs=2)
    assert [c.text for c in a.choices] == [c.text for c in b.choices]
    assert sorted(c.index for c in a.choices) == [0, 1, 2, 3]
    for c in a.choices:
        lp = c.logprobs
        assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) > 0
        assert all(x <= 0 for x in lp.token_logprobs)
        assert all(len(t) <= 2 for t in lp.top_logprobs)


def test_openai_client_errors(served):
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=served.key)
    try:
        client.completions.create(model="no-such-model", prompt="x", max_tokens=2)
        raise AssertionError("no error for a missing model")
    except openai.NotFoundError as e:
        assert "no-such-model" in str(e)
    try:
        client.completions.create(model="opticks", prompt="x", max_tokens=2, n=1000)
        raise AssertionError("no error for n=1000")
    except openai.BadRequestError as e:
        assert e.body["param"] == "n"
    bad = openai.OpenAI(base_url=served.url + "/v1", api_key="wrong-key-0123456789")
    try:
        bad.models.list()
        raise AssertionError("no error for a wrong key")
    except openai.AuthenticationError:
        pass
