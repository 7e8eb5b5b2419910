using Hub.Consumers.WebphoneEvents;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.Support;

public static class HarnessExtensions
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Waits until the call log consumed this event <paramref name="delivery"/> times (a signal, not a sleep).</summary>
    public static Task CallLogConsumedAsync(this HubApiFactory factory, Guid eventId, int delivery = 1) =>
        factory.Services.GetRequiredService<ConsumedEvents>().WaitAsync(WebphoneEventsConsumerDefinition.Queue, eventId, Timeout, delivery);

    /// <summary>Waits until the consumer on <paramref name="endpoint"/> finished with this event.</summary>
    public static Task ConsumedAsync(this HubApiFactory factory, string endpoint, Guid eventId) =>
        factory.Services.GetRequiredService<ConsumedEvents>().WaitAsync(endpoint, eventId, Timeout);
}
