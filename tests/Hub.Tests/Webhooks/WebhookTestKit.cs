using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Webhooks;

/// <summary>What the webhook tests share: settings for fast retries, creating a webhook, publishing an event.</summary>
public static class WebhookTestKit
{
    /// <summary>Loopback receivers allowed, and a retry schedule of 4 × 50 ms (5 attempts).</summary>
    public static Dictionary<string, string> FastRetries(Dictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["Hub:Webhooks:AllowHttpLoopback"] = "true",
            ["Hub:Webhooks:RetrySchedule:0"] = "00:00:00.050",
            ["Hub:Webhooks:RetrySchedule:1"] = "00:00:00.050",
            ["Hub:Webhooks:RetrySchedule:2"] = "00:00:00.050",
            ["Hub:Webhooks:RetrySchedule:3"] = "00:00:00.050",
        };
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Starts the hub and connects an observer of recorded attempts to its bus.</summary>
    public static WebhookAttempts ObserveAttempts(this HubApiFactory factory)
    {
        var attempts = new WebhookAttempts();
        factory.Services.GetRequiredService<IBus>().ConnectConsumeObserver(attempts);
        return attempts;
    }

    /// <summary>Creates a webhook to the receiver and hands it the secret; returns the webhook id.</summary>
    public static async Task<string> CreateWebhookAsync(HttpClient crm, WebhookReceiver receiver, params string[] events)
    {
        var created = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webhooks",
            new { url = receiver.Url, events = events.Length == 0 ? ["*"] : events }), HttpStatusCode.Created);
        receiver.Secret = created["secret"]!.GetValue<string>();
        return created["id"]!.GetValue<string>();
    }

    /// <summary>Publishes one event as the relay does; returns its event id once the hub acked it.</summary>
    public static async Task<string> PublishAsync(AgentConnection agent, object envelope)
    {
        var ack = await agent.InvokeAsync("Publish", envelope);
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        return ack.GetProperty("event_id").GetString()!;
    }

    /// <summary>
    /// Starts a bus host outside the test's execution context: MassTransit keeps its log context in an
    /// async-local, and a bus built in a flow that saw another (since disposed) host's bus would reuse it.
    /// </summary>
    public static Task<T> OutsideThisFlow<T>(Func<Task<T>> start)
    {
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(start);
        }
    }
}
