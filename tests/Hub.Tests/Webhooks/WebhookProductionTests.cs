using System.Net;
using Hub.Tests.Fixtures;
using Hub.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;
using static Hub.Tests.Webhooks.WebhookTestKit;

namespace Hub.Tests.Webhooks;

/// <summary>Webhooks in the production topology: an Api node and worker processes on a real RabbitMQ and PostgreSQL.</summary>
[Collection(ProductionCollection.Name)]
public sealed class WebhookProductionTests(PostgresFixture postgres, RabbitMqFixture rabbitMq)
{
    // A retry far enough away that the first worker is gone before it is due.
    private static readonly string[] WorkerSettings = ["--Hub:Webhooks:AllowHttpLoopback=true", "--Hub:Webhooks:RetrySchedule:0=00:00:02"];

    [Fact]
    public async Task A_retry_scheduled_by_a_worker_that_stopped_is_made_by_the_next_one_with_the_same_webhook_id()
    {
        var database = await postgres.CreateDatabaseAsync();
        var broker = await rabbitMq.CreateVirtualHostAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (_, index) => index == 0 ? 503 : 200;
        var first = await StartWorkerAsync(database, broker);
        using var api = new HubApiFactory(new HubTopology(database, broker, "api-a",
            new Dictionary<string, string> { ["Hub:Webhooks:AllowHttpLoopback"] = "true" }));
        var (_, crm) = await CreateTenantAsync(api, "Acme");
        var webhookId = await CreateWebhookAsync(crm, receiver);
        await using var agent = await ConnectAgentAsync(api, crm, "agent-7");
        var attempts = new WebhookAttempts();
        first.Services.GetRequiredService<IBus>().ConnectConsumeObserver(attempts);

        var eventId = await PublishAsync(agent, Envelope("incoming_call", Call("call-1", "0912345678")));
        var failed = await receiver.NextAsync();
        Assert.Equal(503, failed.AnsweredWith);
        await attempts.RecordedAsync(failed.WebhookId, 1);
        await first.DisposeAsync();

        await using var second = await StartWorkerAsync(database, broker);
        var delivered = await receiver.NextAsync();

        Assert.Equal(failed.WebhookId, delivered.WebhookId);
        Assert.Equal(eventId, delivered.EventId);
        Assert.True(delivered.SignatureValid);
        Assert.Equal(200, delivered.AnsweredWith);
        var log = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries"), HttpStatusCode.OK);
        Assert.Equal(eventId, log["items"]![0]!["event_id"]!.GetValue<string>());
    }

    private static Task<WorkerProcess> StartWorkerAsync(string database, string broker) =>
        OutsideThisFlow(() => WorkerProcess.StartAsync(database, broker, WorkerSettings));
}
