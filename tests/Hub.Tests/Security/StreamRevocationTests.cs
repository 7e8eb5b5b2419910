using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.EventStream;
using Hub.Api.Infrastructure;
using Hub.Store;
using Hub.Tests.EventStream;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>An open event stream looks its credential up again, so revoking a key cuts its stream off, not only its next request.</summary>
public sealed class StreamRevocationTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(200);

    private readonly HubApiFactory _factory = new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:Limits:StreamCredentialCheck"] = "00:00:00.200",
    }));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Revoked_key_ends_its_open_event_stream()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var admin = _factory.Admin();
        var tenant = await ReadAsync(await admin.PostAsJsonAsync("/api/v1/tenants", new { name = "Acme" }), HttpStatusCode.Created);
        var tenantId = tenant["id"]!.GetValue<string>();
        var (keyId, key) = await CreateKeyWithIdAsync(admin, tenantId);
        using var crm = _factory.ClientWithKey(key);
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        await using var stream = await SseStream.OpenAsync(crm, "", null, timeout.Token);
        var before = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("registered", null, before));
        Assert.Equal(before, (await stream.ReadAsync(timeout.Token)).EventId);

        using var revoke = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/api-keys/{keyId}");
        revoke.Headers.Add("X-Account-ID", tenantId);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.SendAsync(revoke, timeout.Token)).StatusCode);
        var revokedAt = Stopwatch.StartNew();

        // The stream ends by itself (the client did nothing), within the check interval and some slack for a loaded machine.
        var ended = await Assert.ThrowsAsync<InvalidOperationException>(() => stream.ReadAsync(timeout.Token));
        Assert.Equal("The stream ended.", ended.Message);
        Assert.True(revokedAt.Elapsed < CheckInterval + TimeSpan.FromSeconds(5), $"The stream ended {revokedAt.Elapsed} after the revocation.");

        // An event after the end reaches nobody: the stream is gone and the key cannot open another.
        await agent.InvokeAsync("Publish", Envelope("unregistered", null));
        await AssertProblemAsync(await crm.GetAsync("/api/v1/events/stream", timeout.Token), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_stream_of_a_key_that_stays_valid_stays_open_past_many_checks()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await using var agent = await ConnectAgentAsync(_factory, crm, "agent-7");
        await using var stream = await SseStream.OpenAsync(crm, "", null, timeout.Token);

        // Wait out several checks: the time is the point here, there is no signal for "a check passed".
        await Task.Delay(CheckInterval * 5, timeout.Token);
        var eventId = Guid.NewGuid();
        await agent.InvokeAsync("Publish", Envelope("registered", null, eventId));
        Assert.Equal(eventId, (await stream.ReadAsync(timeout.Token)).EventId);
    }

    /// <summary>
    /// Sessions cannot open the event stream (scope <c>webhooks</c> is for keys; their hub connections close on sign-out
    /// already), but the stream's check holds for them too: signed out or expired, a session no longer holds.
    /// </summary>
    [Fact]
    public async Task A_signed_out_or_expired_session_no_longer_holds_for_a_long_lived_response()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var token = await SignInAsync(_factory, crm, "agent-7");
        var database = _factory.Services.GetRequiredService<HubDatabase>();
        string sessionId;
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            sessionId = await connection.ExecuteScalarAsync<string>("SELECT id FROM sessions WHERE token_hash = @hash", new { hash = Ids.Sha256(token) }) ?? "";
        }

        var credential = new StreamCredential(HubClaims.SessionKind, sessionId);
        Assert.True(await credential.HoldsAsync(database, TimeProvider.System, CancellationToken.None));
        Assert.False(await credential.HoldsAsync(database, new ShiftedClock(TimeSpan.FromDays(2)), CancellationToken.None));

        using var session = _factory.ClientWithKey(token);
        Assert.Equal(HttpStatusCode.NoContent, (await session.DeleteAsync("/api/v1/sessions/current")).StatusCode);
        Assert.False(await credential.HoldsAsync(database, TimeProvider.System, CancellationToken.None));
    }

    internal static async Task<(string Id, string Key)> CreateKeyWithIdAsync(HttpClient admin, string tenantId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/api-keys") { Content = JsonContent.Create(new { name = "crm", scopes = CrmScopes }) };
        request.Headers.Add("X-Account-ID", tenantId);
        var created = await ReadAsync(await admin.SendAsync(request), HttpStatusCode.Created);
        return (created["id"]!.GetValue<string>(), created["key"]!.GetValue<string>());
    }

    private sealed class ShiftedClock(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + shift;
    }
}
