using Hub.Consumers.CallLog;
using Hub.Consumers.Telemetry;
using Hub.Consumers.WebphoneEvents;
using Hub.Consumers.EventStream;
using Hub.Consumers.ScreenPop;
using Hub.Consumers.ScreenPop.CrmLookup;
using Hub.Consumers.Webhooks;
using Hub.ServiceDefaults;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Consumers;

public static class HubConsumersRegistration
{
    /// <summary>
    /// The Hub.Workers process: the consumers and their services on the production bus, competing with the other
    /// worker processes on the same queues. (In the embedded default the Api hosts the consumers instead.)
    /// </summary>
    public static WebApplicationBuilder AddHubWorkers(this WebApplicationBuilder builder)
    {
        if (!HubTransport.IsRabbitMq(builder.Configuration))
        {
            throw new InvalidOperationException(
                "Hub.Workers runs the consumers of the production topology: set Hub__Bus=rabbitmq. In the embedded default the Api hosts them.");
        }

        builder.Services.AddHubConsumerServices();
        builder.Services.AddMassTransit(bus =>
        {
            bus.AddHubConsumers();
            bus.UsingHubTransport(builder.Configuration);
        });
        return builder;
    }

    /// <summary>
    /// The consumers that hold the hub's business rules. The Api hosts them in-process in the embedded
    /// default; <c>Hub.Workers</c> processes host them in production. Their services come from
    /// <see cref="AddHubConsumerServices"/>.
    /// </summary>
    public static IBusRegistrationConfigurator AddHubConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<WebphoneEventsConsumer, WebphoneEventsConsumerDefinition>();
        bus.AddConsumer<ScreenPopConsumer, ScreenPopConsumerDefinition>();
        bus.AddHubWebhookConsumers();
        return bus;
    }

    /// <summary>
    /// What the consumers need besides the store (register that first): the CRM lookup of the screen-pop
    /// worker. Every host that may run the consumers calls this.
    /// </summary>
    public static IServiceCollection AddHubConsumerServices(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<ConsumerMetrics>();
        services.AddHubCrmLookup();
        services.AddHostedService<CallSweeper>();
        services.AddSingleton<CallLogWriter>();
        services.AddSingleton<EventStreamWriter>();
        services.AddSingleton<WebhookFanOutWriter>();
        services.AddHubWebhookServices();
        return services;
    }
}
