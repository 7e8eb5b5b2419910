using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Hub.Tests.Webhooks;

/// <summary>One webhook request as the receiver saw it, and what it answered (0: nothing, the hub gave up first).</summary>
public sealed record ReceivedWebhook(string WebhookId, string Timestamp, string Signature, string RawBody, bool SignatureValid, int AnsweredWith)
{
    public JsonNode Body => JsonNode.Parse(RawBody)!;

    public string Type => Body["type"]!.GetValue<string>();

    public string EventId => Body["id"]!.GetValue<string>();
}

/// <summary>
/// A CRM's webhook endpoint: a real HTTP server on 127.0.0.1 that checks every request the way a
/// Standard Webhooks receiver does, with its own code (not the hub's), and answers with <see cref="Respond"/>.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedWebhook> _arrivals = Channel.CreateUnbounded<ReceivedWebhook>();
    private readonly Channel<ReceivedWebhook> _held = Channel.CreateUnbounded<ReceivedWebhook>();

    private WebhookReceiver(WebApplication app) => _app = app;

    /// <summary>The secret the hub returned at creation; set it before events are sent.</summary>
    public string Secret { get; set; } = "";

    /// <summary>The status to answer a request with (given the request, and how many came before it).</summary>
    public Func<ReceivedWebhook, int, int> Respond { get; set; } = (_, _) => 200;

    /// <summary>
    /// Whether to hold a request unanswered until the hub gives up on it (given the request, and how many
    /// came before it); it then arrives with <see cref="ReceivedWebhook.AnsweredWith"/> 0.
    /// </summary>
    public Func<ReceivedWebhook, int, bool> Stall { get; set; } = (_, _) => false;

    /// <summary>When set, every request waits for a permit of it before it is answered (a slow receiver the test paces).</summary>
    public SemaphoreSlim? Gate { get; set; }

    /// <summary>This receiver's open requests.</summary>
    public InFlightGauge InFlight { get; } = new();

    /// <summary>A gauge shared with other receivers, to count their open requests together.</summary>
    public InFlightGauge? AlsoCountIn { get; set; }

    public string Url => new Uri(new Uri(_app.Urls.Single()), "/hooks").ToString();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        var count = 0;
        app.MapPost("/hooks", async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var id = context.Request.Headers["webhook-id"].ToString();
            var timestamp = context.Request.Headers["webhook-timestamp"].ToString();
            var signature = context.Request.Headers["webhook-signature"].ToString();
            var valid = Verify(receiver.Secret, id, timestamp, body, signature);
            var unanswered = new ReceivedWebhook(id, timestamp, signature, body, valid, 0);
            var index = Interlocked.Increment(ref count) - 1;
            var shared = receiver.AlsoCountIn;
            receiver.InFlight.Enter();
            shared?.Enter();
            try
            {
                await receiver.AnswerAsync(context, unanswered, index);
            }
            finally
            {
                receiver.InFlight.Leave();
                shared?.Leave();
            }
        });
        await app.StartAsync();
        return receiver;
    }

    private async Task AnswerAsync(HttpContext context, ReceivedWebhook unanswered, int index)
    {
        if (Stall(unanswered, index))
        {
            _held.Writer.TryWrite(unanswered);
            // Released by the hub closing the connection (or by the receiver stopping), never by an answer.
            var abandoned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using (context.RequestAborted.Register(() => abandoned.TrySetResult()))
            {
                await abandoned.Task;
            }

            _arrivals.Writer.TryWrite(unanswered);
            return;
        }

        if (Gate is { } gate)
        {
            _held.Writer.TryWrite(unanswered);
            await gate.WaitAsync(context.RequestAborted);
        }

        var status = Respond(unanswered, index);
        context.Response.StatusCode = status;
        if (status != 204)
        {
            await context.Response.WriteAsync(status >= 300 ? $"receiver says {status}" : "ok");
        }

        _arrivals.Writer.TryWrite(unanswered with { AnsweredWith = status });
    }

    /// <summary>
    /// The next request to be held (by <see cref="Stall"/> or <see cref="Gate"/>), as soon as it arrives and
    /// before it is answered; fails the test after <paramref name="timeout"/>.
    /// </summary>
    public async Task<ReceivedWebhook> NextHeldAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            return await _held.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"The webhook receiver got no request to hold within {timeout.TotalSeconds} s.");
            throw;
        }
    }

    /// <summary>The next request, in arrival order; fails the test after <paramref name="timeout"/>.</summary>
    public Task<ReceivedWebhook> NextAsync() => NextAsync(null);

    private async Task<ReceivedWebhook> NextAsync(IReadOnlyList<ReceivedWebhook>? before)
    {
        using var cancellation = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            return await _arrivals.Reader.ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            var seen = before is null ? "" : " Received before: " + string.Join(", ", before.Select(r => $"{r.Type} {r.WebhookId} -> {r.AnsweredWith}"));
            Assert.Fail("The webhook receiver got no request in time." + seen);
            throw;
        }
    }

    public async Task<List<ReceivedWebhook>> NextAsync(int count)
    {
        var received = new List<ReceivedWebhook>();
        for (var i = 0; i < count; i++)
        {
            received.Add(await NextAsync(received));
        }

        return received;
    }

    /// <summary>Whether a request is already waiting to be read (nothing waits for one to arrive).</summary>
    public bool HasMore => _arrivals.Reader.TryPeek(out _);

    /// <summary>
    /// The Standard Webhooks check (standardwebhooks.com): the key is the base64 after <c>whsec_</c>; the
    /// signed content is <c>id.timestamp.body</c>; the header holds space-separated <c>v1,&lt;base64&gt;</c>
    /// signatures; a timestamp more than five minutes away is refused against replays.
    /// </summary>
    public static bool Verify(string secret, string id, string timestamp, string body, string signatureHeader)
    {
        if (!secret.StartsWith("whsec_", StringComparison.Ordinal) || !long.TryParse(timestamp, out var seconds)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300)
        {
            return false;
        }

        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var expected = Encoding.ASCII.GetBytes(Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{body}"))));
        return signatureHeader.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(candidate =>
            candidate.StartsWith("v1,", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(candidate[3..]), expected));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>How many requests are open at once, and the most there were.</summary>
public sealed class InFlightGauge
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _current;

    public int Max { get; private set; }

    public void Enter()
    {
        lock (_lock)
        {
            _current++;
            Max = Math.Max(Max, _current);
            foreach (var waiter in _waiters.Where(waiter => _current >= waiter.Count).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Reached.TrySetResult();
            }
        }
    }

    public void Leave()
    {
        lock (_lock)
        {
            _current--;
        }
    }

    /// <summary>Returns once <paramref name="count"/> requests are open at the same time; fails the test after <paramref name="timeout"/>.</summary>
    public async Task ReachedAsync(int count, TimeSpan timeout)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_current >= count)
            {
                return;
            }

            _waiters.Add((count, reached));
        }

        try
        {
            await reached.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{count} requests were never open at the same time within {timeout.TotalSeconds} s (the most: {Max}).");
        }
    }
}
