using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Hub.Store;
using Hub.Consumers;
using Hub.Consumers.ScreenPop.CrmLookup;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Hub.Tests.ScreenPop;

/// <summary>
/// <see cref="CrmLookupService"/> as the workers get it from <c>AddHubConsumerServices</c>, against a real
/// HTTP server: request format, signing, caching, sharing, limits and the circuit breaker.
/// </summary>
public sealed class CrmLookupServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly ShiftableTimeProvider _clock = new();
    private ServiceProvider _services = null!;
    private FakeCrm _crm = null!;

    private CrmLookupService Lookup => _services.GetRequiredService<CrmLookupService>();

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_clock)
            // The fake CRM listens on loopback, which only an operator's setting lets the outbound policy reach.
            .Configure<HubSettings>(settings => settings.Outbound.AllowHttpLoopback = true)
            .AddHubConsumerServices()
            .BuildServiceProvider();
        _crm = await FakeCrm.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _crm.DisposeAsync();
    }

    private CrmLookupTarget Target(string? url = null, int timeoutMs = 1500, string? secret = null) =>
        CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = url ?? _crm.Url, TimeoutMs = timeoutMs })! with { Secret = secret };

    private static CrmLookupRequest Caller(string e164 = "+84912345678", string raw = "0912 345 678") =>
        new("tenant-1", e164, raw, "agent-7", "call-1");

    [Fact]
    public async Task Request_carries_the_call_and_a_standard_webhooks_signature_that_verifies()
    {
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        _crm.Respond = FakeCrm.Json(new { matches = new[] { new { external_id = "c-9", display_name = "Tran Van B" } } });

        var result = await Lookup.LookupAsync(Target(secret: secret), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Found, result.Status);
        var request = Assert.Single(_crm.Requests);
        Assert.Equal("/lookup", request.Path);
        Assert.Contains("number=%2B84912345678", request.RawQuery, StringComparison.Ordinal);
        Assert.Equal("+84912345678", request.Query["number"]);
        Assert.Equal("0912 345 678", request.Query["raw"]);
        Assert.Equal("agent-7", request.Query["agent_id"]);
        Assert.Equal("call-1", request.Query["call_id"]);
        Assert.Equal("application/json", request.Headers["Accept"]);
        var id = request.Headers["webhook-id"];
        var timestamp = long.Parse(request.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(timestamp, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 60);
        Assert.Equal(ExpectedSignature(secret, id, timestamp), request.Headers["webhook-signature"]);
    }

    /// <summary>The Standard Webhooks check a CRM would write: HMAC-SHA256 over "id.timestamp.body" with the decoded secret.</summary>
    internal static string ExpectedSignature(string secret, string id, long timestamp)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var mac = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(FormattableString.Invariant($"{id}.{timestamp}.")));
        return "v1," + Convert.ToBase64String(mac);
    }

    [Fact]
    public async Task Without_a_secret_the_request_is_not_signed()
    {
        await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        var request = Assert.Single(_crm.Requests);
        Assert.DoesNotContain("webhook-signature", request.Headers.Keys);
        Assert.DoesNotContain("webhook-id", request.Headers.Keys);
    }

    [Fact]
    public async Task Configured_url_keeps_its_own_query()
    {
        await Lookup.LookupAsync(Target(url: _crm.Url + "?key=abc%20d"), Caller(), Wait, CancellationToken.None);

        var request = Assert.Single(_crm.Requests);
        Assert.Equal("abc d", request.Query["key"]);
        Assert.Equal("+84912345678", request.Query["number"]);
    }

    [Fact]
    public async Task Hit_is_answered_from_the_cache_the_second_time()
    {
        _crm.Respond = FakeCrm.Json(new[] { new { external_id = "c-9", display_name = "Tran Van B" } });

        var first = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);
        var second = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.False(first.FromCache);
        Assert.True(second.FromCache);
        Assert.Equal("c-9", Assert.Single(second.Matches).ExternalId);
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task Zero_cache_time_asks_every_time()
    {
        var target = Target() with { MissCacheTime = TimeSpan.Zero };

        await Lookup.LookupAsync(target, Caller(), Wait, CancellationToken.None);
        await Lookup.LookupAsync(target, Caller(), Wait, CancellationToken.None);

        Assert.Equal(2, _crm.RequestCount);
    }

    [Fact]
    public async Task Failure_is_not_cached()
    {
        _crm.Respond = FakeCrm.Status(503);

        var first = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);
        var second = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, first.Status);
        Assert.Equal(CrmLookupStatus.Failed, second.Status);
        Assert.Equal(2, _crm.RequestCount);
    }

    [Fact]
    public async Task Lookups_of_one_number_at_the_same_time_share_one_request()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _crm.Respond = async context =>
        {
            await release.Task;
            await FakeCrm.Json(new { matches = new[] { new { external_id = "c-9", display_name = "Tran Van B" } } })(context);
        };

        var lookups = Enumerable.Range(0, 3).Select(_ => Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None)).ToList();
        await _crm.Arrivals.ReadAsync().AsTask().WaitAsync(Wait);
        release.SetResult();
        var results = await Task.WhenAll(lookups).WaitAsync(Wait);

        Assert.All(results, result => Assert.Equal(CrmLookupStatus.Found, result.Status));
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task Slow_crm_is_a_failure_at_the_accounts_timeout()
    {
        _crm.Respond = FakeCrm.Hang();
        var stopwatch = Stopwatch.StartNew();

        var result = await Lookup.LookupAsync(Target(timeoutMs: 300), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, result.Status);
        Assert.InRange(stopwatch.ElapsedMilliseconds, 250, 1000);
    }

    [Fact]
    public async Task Caller_stops_waiting_at_its_own_deadline_and_the_late_answer_is_cached()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _crm.Respond = async context =>
        {
            await release.Task;
            await FakeCrm.Json(new[] { new { external_id = "c-9", display_name = "Tran Van B" } })(context);
        };

        var early = await Lookup.LookupAsync(Target(), Caller(), TimeSpan.FromMilliseconds(50), CancellationToken.None);
        release.SetResult();
        var joined = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.TimedOut, early.Status);
        Assert.Equal(CrmLookupStatus.Found, joined.Status);
        Assert.Equal(1, _crm.RequestCount);
    }

    [Fact]
    public async Task Answer_larger_than_256_KiB_is_a_failure()
    {
        // Written in pieces without a Content-Length, so only counting the bytes can stop it.
        _crm.Respond = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("[");
            var entry = "{\"external_id\":\"c\",\"display_name\":\"" + new string('x', 1000) + "\"},";
            for (var i = 0; i < 300; i++)
            {
                await context.Response.WriteAsync(entry);
            }

            await context.Response.WriteAsync("{\"external_id\":\"last\",\"display_name\":\"x\"}]");
        };

        var result = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, result.Status);
    }

    [Fact]
    public async Task Answer_that_is_not_json_is_a_failure()
    {
        _crm.Respond = FakeCrm.Text("<html>Oops</html>");

        var result = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, result.Status);
    }

    [Fact]
    public async Task Redirect_is_not_followed()
    {
        _crm.Respond = context =>
        {
            if (context.Request.Path == "/lookup")
            {
                context.Response.Redirect("/elsewhere");
            }

            return Task.CompletedTask;
        };

        var result = await Lookup.LookupAsync(Target(), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, result.Status);
        Assert.Equal("/lookup", Assert.Single(_crm.Requests).Path);
    }

    [Theory]
    [InlineData("http://crm.example/lookup")]
    [InlineData("ftp://crm.example/lookup")]
    [InlineData("http://127.0.0.1.nip.io/lookup")]
    public async Task Url_hub_does_not_call_is_refused_without_a_request(string url)
    {
        var result = await Lookup.LookupAsync(Target(url: url), Caller(), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Refused, result.Status);
        Assert.Equal(0, _crm.RequestCount);
    }

    [Fact]
    public async Task Breaker_opens_after_five_failures_and_then_makes_no_request()
    {
        _crm.Respond = FakeCrm.Status(500);
        for (var i = 0; i < CrmLookupService.BreakerMinimumThroughput; i++)
        {
            var failed = await Lookup.LookupAsync(Target(), Caller($"+8491234560{i}"), Wait, CancellationToken.None);
            Assert.Equal(CrmLookupStatus.Failed, failed.Status);
        }

        var open = await Lookup.LookupAsync(Target(), Caller("+84912345699"), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.CircuitOpen, open.Status);
        Assert.Equal(5, _crm.RequestCount);
    }

    [Fact]
    public async Task Open_breaker_tries_again_after_30_s_and_closes_when_the_crm_answers()
    {
        // The open-circuits gauge of this service provider's meters (other tests' providers have their own).
        var meters = _services.GetRequiredService<IMeterFactory>();
        var openCircuits = new List<long>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listening) =>
            {
                if (instrument.Name == "hub.crm_lookup.open_circuits" && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    listening.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            lock (openCircuits)
            {
                openCircuits.Add(value);
            }
        });
        listener.Start();
        _ = Lookup;
        _crm.Respond = FakeCrm.Status(500);
        for (var i = 0; i < CrmLookupService.BreakerMinimumThroughput; i++)
        {
            await Lookup.LookupAsync(Target(), Caller($"+8491234560{i}"), Wait, CancellationToken.None);
        }

        _crm.Respond = FakeCrm.Json(new[] { new { external_id = "c-9", display_name = "Tran Van B" } });
        _clock.Shift(CrmLookupService.BreakerBreakDuration + TimeSpan.FromSeconds(1));
        var trial = await Lookup.LookupAsync(Target(), Caller("+84912345690"), Wait, CancellationToken.None);
        var after = await Lookup.LookupAsync(Target(), Caller("+84912345691"), Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Found, trial.Status);
        Assert.Equal(CrmLookupStatus.Found, after.Status);
        Assert.Equal(7, _crm.RequestCount);
        // Opened once, closed once: the gauge went up and came back to 0.
        Assert.Equal([1L, -1L], openCircuits);
    }

    [Fact]
    public async Task Breaker_is_per_account()
    {
        _crm.Respond = FakeCrm.Status(500);
        for (var i = 0; i < CrmLookupService.BreakerMinimumThroughput; i++)
        {
            await Lookup.LookupAsync(Target(), Caller($"+8491234560{i}"), Wait, CancellationToken.None);
        }

        var other = await Lookup.LookupAsync(Target(), Caller() with { TenantId = "tenant-2" }, Wait, CancellationToken.None);

        Assert.Equal(CrmLookupStatus.Failed, other.Status);
        Assert.Equal(6, _crm.RequestCount);
    }

    /// <summary>Wall-clock time that a test can move forward; timers stay real.</summary>
    private sealed class ShiftableTimeProvider : TimeProvider
    {
        private long _offsetTicks;

        public void Shift(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));
    }
}
