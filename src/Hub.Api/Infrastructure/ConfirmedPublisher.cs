using Hub.Store;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Hub.Api.Infrastructure;

/// <summary>The bus did not take a message in time; the caller should keep it and retry.</summary>
public sealed class BusUnavailableException(Exception inner)
    : Exception("The message bus did not confirm the message in time.", inner);

/// <summary>
/// Publishes and waits for the bus to have the message (a broker confirm on RabbitMQ), but never
/// longer than <see cref="HubSettings.PublishTimeout"/>: while the broker is down MassTransit would
/// wait for it indefinitely, and the hub must answer with a retryable error instead.
/// </summary>
public sealed class ConfirmedPublisher(IBus publisher, IOptions<HubSettings> settings)
{
    public async Task PublishAsync(object message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Value.PublishTimeout);
        try
        {
            await publisher.Publish(message, message.GetType(), timeout.Token);
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BusUnavailableException(exception);
        }
    }
}
