using System.Text.Json;
using Hub.Api.Ingest;
using Hub.Consumers.WebphoneEvents;
using Hub.Contracts;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Ingest;

/// <summary>
/// The embedded backlog takes one slot per endpoint that will consume an event, as the consuming endpoints declared
/// themselves, not from a table in the producer: a new consumer of a message takes (and gives back) its own slot.
/// </summary>
public sealed class BacklogSlotsTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public void An_incoming_call_takes_a_slot_for_the_call_log_and_one_for_the_screen_pop_any_other_event_one()
    {
        _ = _factory.Server;
        var backlog = _factory.Services.GetRequiredService<EventBacklog>();

        Assert.Equal(2, backlog.SlotsFor(typeof(IncomingCallReceived)));
        Assert.Equal(1, backlog.SlotsFor(typeof(CallHungUp)));
        Assert.Equal(1, backlog.SlotsFor(typeof(WebphoneEventReceived)));
    }

    [Fact]
    public void A_consumer_counts_what_it_consumes_batched_or_not()
    {
        Assert.Equal([typeof(IWebphoneEvent)], EventBacklog.ConsumedBy(typeof(WebphoneEventsConsumer)));
        Assert.Equal([typeof(IncomingCallReceived)], EventBacklog.ConsumedBy(typeof(Hub.Consumers.ScreenPop.ScreenPopConsumer)));
    }

    [Theory]
    [InlineData("registered", "{}")]
    [InlineData("unregistered", "{}")]
    [InlineData("registration_failed", """{"reason": "403"}""")]
    [InlineData("incoming_call", """{"call": {"uuid": "c1", "number": "0912345678"}}""")]
    [InlineData("outgoing_call", """{"call": {"uuid": "c1", "number": "0912345678"}}""")]
    [InlineData("call_answered", """{"call": {"uuid": "c1"}}""")]
    [InlineData("call_hangup", """{"call": {"uuid": "c1"}, "billsec": 4}""")]
    [InlineData("call_hold", """{"call": {"uuid": "c1"}}""")]
    [InlineData("call_unhold", """{"call": {"uuid": "c1"}}""")]
    [InlineData("call_mute", """{"call": {"uuid": "c1"}}""")]
    [InlineData("call_unmute", """{"call": {"uuid": "c1"}}""")]
    [InlineData("error", """{"message": "boom"}""")]
    [InlineData("x_vendor_event", "{}")]
    public void The_slots_are_counted_for_the_message_the_event_really_becomes(string type, string payload)
    {
        var json = $$"""{"event_id": "{{Guid.NewGuid()}}", "seq": 1, "occurred_at": "2026-12-08T10:00:00Z", "type": "{{type}}", "payload": {{payload}}}""";
        Assert.True(EnvelopeValidator.TryValidate(JsonDocument.Parse(json).RootElement, out var envelope, out var error), error);

        var message = WebphoneEventFactory.Create(envelope!, "t", "a", DateTimeOffset.UtcNow);

        Assert.Equal(message.GetType(), WebphoneEventFactory.MessageTypeFor(type));
    }
}
