using Hub.Workers.CallLog;
using Hub.Workers.Events;
using Hub.Workers.EventStream;
using Hub.Workers.ScreenPop;
using Hub.Workers.ScreenPop.CrmLookup;
using Hub.Workers.Webhooks;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Workers;

public static class HubWorkersRegistration
{
    /// <summary>
    /// The consumers that hold the hub's business rules. The Api hosts them in-process in the embedded
    /// default; <c>Hub.Workers</c> processes host them in production. Their services come from
    /// <see cref="AddHubWorkerServices"/>.
    /// </summary>
    public static IBusRegistrationConfigurator AddHubWorkers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<WebphoneEventsConsumer, WebphoneEventsConsumerDefinition>();
        bus.AddConsumer<ScreenPopConsumer, ScreenPopConsumerDefinition>();
        bus.AddWebhookConsumers();
        return bus;
    }

    /// <summary>
    /// What the consumers need besides the store (register that first): the CRM lookup of the screen-pop
    /// worker. Every host that may run the consumers calls this.
    /// </summary>
    public static IServiceCollection AddHubWorkerServices(this IServiceCollection services)
    {
        services.AddCrmLookupHttpClient();
        services.AddSingleton<CrmLookupClient>();
        services.AddSingleton<CrmLookupService>();
        services.AddHostedService<CallSweeper>();
        services.AddSingleton<CallLogWriter>();
        services.AddSingleton<EventStreamWriter>();
        services.AddSingleton<WebhookFanOutWriter>();
        services.AddWebhookServices();
        return services;
    }
}
