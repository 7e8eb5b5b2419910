using System.Diagnostics;
using System.Net;
using Hub.Tests.Fixtures;
using Hub.Consumers;
using Xunit.Abstractions;
using static Hub.Tests.Faults.RecoveryFigures;

namespace Hub.Tests.Faults;

/// <summary>PostgreSQL killed (SIGKILL, a crash) and started again while agents publish calls.</summary>
[Collection(ProductionCollection.Name)]
public sealed class PostgresCrashTests(RabbitMqFixture rabbitMq, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private PostgresServer _server = null!;

    // A server of its own: killing the shared one would break the other tests. Crash-safe, as production runs it.
    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync(crashSafe: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Every_acked_event_is_logged_exactly_once_across_a_database_crash_and_the_hub_says_it_is_not_ready_meanwhile()
    {
        var topology = new FaultTopology(await _server.CreateDatabaseAsync(), await rabbitMq.CreateVirtualHostAsync(), "postgres-kill");
        await using var workers = await topology.StartWorkersAsync("workers-1");
        await using var api = await topology.StartApiAsync("api-a");
        using var http = new HttpClient { BaseAddress = new Uri(api.Url), Timeout = TimeSpan.FromSeconds(10) };
        using var workersHttp = new HttpClient { BaseAddress = new Uri(workers.Url), Timeout = TimeSpan.FromSeconds(10) };
        var (tenantId, agents) = await FaultTopology.SignInAgentsAsync([api.Url], 4);
        await using var traffic = CallTraffic.Start(agents, TimeSpan.FromMilliseconds(5));

        await traffic.WaitForAcksAsync(300, Timeout);
        await _server.StopAsync(abrupt: true);
        var crashed = Stopwatch.StartNew();
        await WaitForReadinessAsync(http, HttpStatusCode.ServiceUnavailable);
        await WaitForReadinessAsync(workersHttp, HttpStatusCode.ServiceUnavailable);
        // API.md section 2: the store is not needed to accept an event while the broker is up.
        var ackedAtCrash = traffic.AckedCount;
        await traffic.WaitForMoreAcksAsync(100, Timeout);
        // Down for longer than the workers' retries of other faults last: events that wait for the database must
        // not give up and land in _error meanwhile. The outage's length is what is tested here, so it is a wait.
        await Task.Delay(TimeSpan.FromMilliseconds(RetryPolicy.OtherFaultIntervals.Sum()) - crashed.Elapsed + TimeSpan.FromSeconds(2));
        var outage = crashed.Elapsed;

        await _server.StartAgainAsync();
        var back = Stopwatch.StartNew();
        var acked = traffic.AckedCount;
        await WaitForReadinessAsync(http, HttpStatusCode.OK);
        var ready = back.Elapsed;
        await CallLogAudit.WaitUntilLoggedAsync(topology.Postgres, tenantId, acked);
        Report(output, "PostgreSQL SIGKILLed and started again",
            $"down {Seconds(outage)}, {acked - ackedAtCrash} events acked meanwhile (acks never stopped); Hub.Api ready {Seconds(ready)} after its return, "
            + $"and the {acked} events acked by then logged {Seconds(back.Elapsed)} after it");

        await traffic.WaitForMoreAcksAsync(300, Timeout);
        await CallLogAudit.AssertEveryAckedEventLoggedOnceAsync(topology.Postgres, tenantId, await traffic.StopAsync());
    }

    /// <summary>Readiness has no push signal: it is polled, with a deadline.</summary>
    private static async Task WaitForReadinessAsync(HttpClient http, HttpStatusCode expected)
    {
        var waited = Stopwatch.StartNew();
        HttpStatusCode? status = null;
        while ((status = await StatusAsync(http)) != expected)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"{http.BaseAddress}health/ready answered {status} for 30 s, not {expected}.");
            await Task.Delay(100);
        }
    }

    private static async Task<HttpStatusCode?> StatusAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/health/ready");
            return response.StatusCode;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
