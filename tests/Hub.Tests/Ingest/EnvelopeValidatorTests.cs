using System.Text.Json;
using Hub.Api.Ingest;

namespace Hub.Tests.Ingest;

public sealed class EnvelopeValidatorTests
{
    private const string Id = "\"event_id\":\"6f1c2d1e-8a4b-4c1d-9e2f-0a1b2c3d4e5f\",\"seq\":1,\"occurred_at\":\"2026-11-21T10:00:00Z\"";

    [Theory]
    [InlineData("{" + Id + ",\"type\":\"registered\"}")]
    [InlineData("{" + Id + ",\"type\":\"registered\",\"payload\":null}")]
    [InlineData("{" + Id + ",\"type\":\"incoming_call\",\"payload\":{\"call\":{\"uuid\":\"u1\",\"number\":\"0912345678\"}}}")]
    [InlineData("{" + Id + ",\"type\":\"incoming_call\",\"payload\":{\"call\":{\"uuid\":\"u1\",\"number\":912345678}}}")]
    [InlineData("{" + Id + ",\"type\":\"call_hangup\",\"payload\":{\"call\":{\"uuid\":\"u1\"},\"billsec\":0}}")]
    [InlineData("{" + Id + ",\"type\":\"some_future_event\",\"payload\":[1,2,3]}")]
    [InlineData("{" + Id + ",\"type\":\"error\",\"payload\":{\"message\":\"SIP 503\"}}")]
    public void Valid_envelopes_pass(string json)
    {
        Assert.True(EnvelopeValidator.TryValidate(Parse(json), out var envelope, out var error), error);
        Assert.NotNull(envelope);
    }

    [Theory]
    [InlineData("[]", "invalid_event: the envelope must be a JSON object")]
    [InlineData("{\"seq\":1,\"occurred_at\":\"2026-11-21T10:00:00Z\",\"type\":\"registered\"}", "invalid_event: event_id must be a UUID string")]
    [InlineData("{\"event_id\":\"not-a-uuid\",\"seq\":1,\"occurred_at\":\"2026-11-21T10:00:00Z\",\"type\":\"registered\"}", "invalid_event: event_id must be a UUID string")]
    [InlineData("{\"event_id\":\"6f1c2d1e-8a4b-4c1d-9e2f-0a1b2c3d4e5f\",\"seq\":-1,\"occurred_at\":\"2026-11-21T10:00:00Z\",\"type\":\"registered\"}", "invalid_event: seq must be a non-negative integer")]
    [InlineData("{\"event_id\":\"6f1c2d1e-8a4b-4c1d-9e2f-0a1b2c3d4e5f\",\"seq\":1,\"occurred_at\":\"yesterday\",\"type\":\"registered\"}", "invalid_event: occurred_at must be an RFC 3339 time")]
    [InlineData("{" + Id + ",\"type\":\"Registered<script>\"}", "invalid_event: type must be 1 to 64 of a-z 0-9 _ . -")]
    [InlineData("{" + Id + ",\"type\":\"incoming_call\",\"payload\":{\"call\":{\"number\":\"0912\"}}}", "invalid_event: incoming_call needs payload.call.uuid (a string of at most 128 characters)")]
    [InlineData("{" + Id + ",\"type\":\"incoming_call\",\"payload\":{\"call\":{\"uuid\":\"u1\"}}}", "invalid_event: incoming_call needs payload.call.number")]
    [InlineData("{" + Id + ",\"type\":\"incoming_call\",\"payload\":{\"call\":{\"uuid\":\"u1\",\"number\":\"   \"}}}", "invalid_event: incoming_call needs payload.call.number")]
    [InlineData("{" + Id + ",\"type\":\"outgoing_call\",\"payload\":{\"call\":{\"uuid\":\"u1\",\"number\":\"\"}}}", "invalid_event: outgoing_call needs payload.call.number")]
    [InlineData("{" + Id + ",\"type\":\"call_answered\",\"payload\":{}}", "invalid_event: call_answered needs payload.call.uuid (a string of at most 128 characters)")]
    [InlineData("{" + Id + ",\"type\":\"call_hangup\",\"payload\":{\"call\":{\"uuid\":\"u1\"},\"billsec\":-3}}", "invalid_event: call_hangup needs payload.billsec, an integer >= 0")]
    [InlineData("{" + Id + ",\"type\":\"call_hangup\",\"payload\":{\"call\":{\"uuid\":\"u1\"},\"billsec\":\"42\"}}", "invalid_event: call_hangup needs payload.billsec, an integer >= 0")]
    public void Invalid_envelopes_are_refused_with_what_is_wrong(string json, string expected)
    {
        Assert.False(EnvelopeValidator.TryValidate(Parse(json), out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Envelope_over_32_KiB_is_refused()
    {
        var json = "{" + Id + ",\"type\":\"registered\",\"payload\":{\"pad\":\"" + new string('x', 33 * 1024) + "\"}}";

        Assert.False(EnvelopeValidator.TryValidate(Parse(json), out _, out var error));
        Assert.Equal("invalid_event: the envelope is larger than 32 KiB", error);
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
