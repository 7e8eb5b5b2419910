using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Consumers.Webhooks;

internal static class WebhooksRegistration
{
    /// <summary>The attempts (fan-out is part of the events consumer), and the dispatcher that schedules them: wherever the consumers run.</summary>
    public static IBusRegistrationConfigurator AddHubWebhookConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<WebhookDeliveryConsumer, WebhookDeliveryConsumerDefinition>();
        bus.AddHostedService<WebhookDispatcher>();
        bus.AddSingleton<WebhookLogPruning>();
        bus.AddHostedService(provider => provider.GetRequiredService<WebhookLogPruning>());
        return bus;
    }

    /// <summary>
    /// What both the consumers and the Api's webhook endpoints need. The secrets are encrypted with the hub's Data
    /// Protection, which the host registers first (<c>AddHubDataProtection</c>).
    /// </summary>
    public static IServiceCollection AddHubWebhookServices(this IServiceCollection services)
    {
        services.AddWebhookHttpClient();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<WebhookSubscriptionCache>();
        services.AddSingleton<WebhookDispatchSignal>();
        return services;
    }
}
