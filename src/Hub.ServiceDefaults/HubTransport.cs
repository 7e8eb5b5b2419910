using Hub.Store;
using MassTransit;
using Microsoft.Extensions.Configuration;

namespace Hub.ServiceDefaults;

/// <summary>The bus transport both hosts use, chosen by <c>Hub__Bus</c>.</summary>
public static class HubTransport
{
    public const string InMemory = "inmemory";
    public const string RabbitMq = "rabbitmq";

    /// <summary>
    /// RabbitMQ's guidance is a prefetch of 100 or more; MassTransit's default (16) starves consumers
    /// that each wait a few milliseconds on the database.
    /// </summary>
    public const int PrefetchCount = 256;

    public const int ConcurrentMessageLimit = 64;

    public static HubSettings ReadSettings(IConfiguration configuration) =>
        configuration.GetSection(HubSettings.Section).Get<HubSettings>() ?? new HubSettings();

    public static bool IsRabbitMq(IConfiguration configuration) =>
        string.Equals(ReadSettings(configuration).Bus, RabbitMq, StringComparison.OrdinalIgnoreCase);

    public static void UsingHubTransport(this IBusRegistrationConfigurator bus, IConfiguration configuration)
    {
        var transport = ReadSettings(configuration).Bus.ToLowerInvariant();
        switch (transport)
        {
            case InMemory:
                bus.UsingInMemory((context, memory) => memory.ConfigureEndpoints(context));
                break;
            case RabbitMq:
                var url = configuration.GetConnectionString("RabbitMq");
                if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
                {
                    throw new InvalidOperationException("Hub__Bus=rabbitmq needs ConnectionStrings__RabbitMq, an amqp:// URL.");
                }

                if (string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres")))
                {
                    throw new InvalidOperationException(
                        "Hub__Bus=rabbitmq needs ConnectionStrings__Postgres: the Api and Workers processes share the store.");
                }

                bus.UsingRabbitMq((context, rabbit) =>
                {
                    // Publisher confirms: a Publish completes only once the broker has the (persistent) message.
                    rabbit.Host(uri, host => host.PublisherConfirmation = true);
                    rabbit.PrefetchCount = PrefetchCount;
                    rabbit.ConcurrentMessageLimit = ConcurrentMessageLimit;
                    rabbit.ConfigureEndpoints(context);
                });
                break;
            default:
                throw new InvalidOperationException($"Hub__Bus must be '{InMemory}' or '{RabbitMq}', not '{transport}'.");
        }
    }
}
