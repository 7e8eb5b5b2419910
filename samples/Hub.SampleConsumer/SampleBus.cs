using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.SampleConsumer;

public static class SampleBus
{
    /// <summary>Your own queue: never one of the hub's (<c>hub-*</c>), or you would take messages from its workers.</summary>
    public const string DefaultQueue = "acme-crm-calls";

    /// <summary>
    /// One durable queue of this integrator's, bound (through MassTransit's exchanges) to the message
    /// types its consumers take. The hub publishes each event to the exchange named after its type,
    /// e.g. <c>Hub.Contracts:CallHungUp</c>; MassTransit creates the exchanges and bindings on start.
    /// </summary>
    public static IServiceCollection AddSampleConsumer(this IServiceCollection services, Uri rabbitMq, string queue)
    {
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<IncomingCallConsumer>();
            bus.AddConsumer<CallHungUpConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(rabbitMq);
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    // Retry a failing message a few times, then it goes to <queue>_error, never lost.
                    endpoint.UseMessageRetry(retry => retry.Intervals(100, 1000, 5000));
                    endpoint.ConfigureConsumer<IncomingCallConsumer>(context);
                    endpoint.ConfigureConsumer<CallHungUpConsumer>(context);
                });
            });
        });
        return services;
    }
}
