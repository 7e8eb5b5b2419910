using System.Collections.Concurrent;
using Hub.Contracts;
using Hub.SampleConsumer;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static Hub.Tests.Support.HubScenario;
using static Hub.Tests.Webhooks.WebhookTestKit;

namespace Hub.Tests.Webhooks;

/// <summary>docs/bus.md: an integrator's own MassTransit process, on its own queue, consumes what the hub publishes.</summary>
[Collection(ProductionCollection.Name)]
public sealed class SampleConsumerTests(PostgresFixture postgres, RabbitMqFixture rabbitMq)
{
    [Fact]
    public async Task The_sample_consumer_gets_the_hubs_incoming_call_and_hangup_from_its_own_queue()
    {
        var database = await postgres.CreateDatabaseAsync();
        var broker = await rabbitMq.CreateVirtualHostAsync();
        var seen = new ConsumedMessages();
        using var sample = await StartSampleAsync(broker, seen);
        using var api = new HubApiFactory(new HubTopology(database, broker, "api-a"));
        var (_, crm) = await CreateTenantAsync(api, "Acme");
        await using var agent = await ConnectAgentAsync(api, crm, "agent-7");

        var incoming = Guid.Parse(await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678"), seq: 1)));
        var hangup = Guid.Parse(await PublishAsync(agent, Envelope("call_hangup", new { call = new { uuid = "call-1" }, billsec = 42 }, seq: 2)));

        var ringing = (IncomingCallReceived)await seen.WaitAsync(incoming);
        var ended = (CallHungUp)await seen.WaitAsync(hangup);
        Assert.Equal("0912345678", ringing.Number);
        Assert.Equal("call-1", ringing.CallId);
        Assert.Equal(42, ended.Billsec);
    }

    private static async Task<IHost> StartSampleAsync(string broker, ConsumedMessages seen)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSampleConsumer(new Uri(broker), "acme-crm-calls-test");
        var host = builder.Build();
        host.Services.GetRequiredService<IBus>().ConnectConsumeObserver(seen);
        return await OutsideThisFlow(async () =>
        {
            await host.StartAsync();
            return host;
        });
    }

    private sealed class ConsumedMessages : IConsumeObserver
    {
        private readonly ConcurrentDictionary<Guid, TaskCompletionSource<IWebphoneEvent>> _seen = new();

        public Task<IWebphoneEvent> WaitAsync(Guid eventId) => Signal(eventId).Task.WaitAsync(TimeSpan.FromSeconds(30));

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            if (context.Message is IWebphoneEvent message)
            {
                Signal(message.EventId).TrySetResult(message);
            }

            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;

        private TaskCompletionSource<IWebphoneEvent> Signal(Guid eventId) =>
            _seen.GetOrAdd(eventId, _ => new TaskCompletionSource<IWebphoneEvent>(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
