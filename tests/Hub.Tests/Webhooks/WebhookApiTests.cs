using System.Net;
using System.Net.Http.Json;
using Dapper;
using Hub.Store;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;
using static Hub.Tests.Webhooks.WebhookTestKit;

namespace Hub.Tests.Webhooks;

/// <summary>The webhook subscriptions API: tenant boundaries, SSRF refusals, secrets at rest, audit.</summary>
public sealed class WebhookApiTests : IAsyncLifetime
{
    private readonly HubApiFactory _factory = new(new HubTopology(Settings: FastRetries()));
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await WebhookReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await _receiver.DisposeAsync();
        _factory.Dispose();
    }

    [Fact]
    public async Task Another_tenant_can_neither_see_nor_change_nor_redeliver_a_webhook_with_or_without_X_Account_ID()
    {
        var (acmeId, acme) = await CreateTenantAsync(_factory, "Acme");
        var (globexId, globex) = await CreateTenantAsync(_factory, "Globex");
        var webhookId = await CreateWebhookAsync(acme, _receiver);
        var attempts = _factory.ObserveAttempts();
        await using var agent = await ConnectAgentAsync(_factory, acme, "agent-7");
        await PublishAsync(agent, Envelope("registered", null));
        var delivery = (await _receiver.NextAsync()).WebhookId;
        await attempts.RecordedAsync(delivery, 1);

        // Globex's own key, and Globex's key naming Acme as its working account.
        using var globexAsAcme = _factory.ClientWithKey(await CreateKeyAsync(_factory.Admin(), globexId, ["webhooks"]));
        globexAsAcme.DefaultRequestHeaders.Add("X-Account-ID", acmeId);
        Assert.Equal(HttpStatusCode.Forbidden, (await globexAsAcme.GetAsync($"/api/v1/webhooks/{webhookId}")).StatusCode);

        await AssertProblemAsync(await globex.GetAsync($"/api/v1/webhooks/{webhookId}"), HttpStatusCode.NotFound, "webhook_not_found");
        await AssertProblemAsync(await globex.DeleteAsync($"/api/v1/webhooks/{webhookId}"), HttpStatusCode.NotFound, "webhook_not_found");
        await AssertProblemAsync(await globex.PostAsync($"/api/v1/webhooks/{webhookId}/enable", null), HttpStatusCode.NotFound, "webhook_not_found");
        await AssertProblemAsync(await globex.GetAsync($"/api/v1/webhooks/{webhookId}/deliveries"), HttpStatusCode.NotFound, "webhook_not_found");
        await AssertProblemAsync(await globex.PostAsync($"/api/v1/webhooks/{webhookId}/deliveries/{delivery}/redeliver", null),
            HttpStatusCode.NotFound, "webhook_not_found");
        Assert.Empty((await ReadAsync(await globex.GetAsync("/api/v1/webhooks"), HttpStatusCode.OK)).AsArray());

        // A Globex webhook cannot redeliver Acme's delivery either.
        await using var globexReceiver = await WebhookReceiver.StartAsync();
        var globexWebhook = await CreateWebhookAsync(globex, globexReceiver);
        await AssertProblemAsync(await globex.PostAsync($"/api/v1/webhooks/{globexWebhook}/deliveries/{delivery}/redeliver", null),
            HttpStatusCode.NotFound, "webhook_delivery_not_found");

        // The master's admin key acting on Globex sees Globex's webhook only.
        using var adminAsGlobex = _factory.Admin();
        adminAsGlobex.DefaultRequestHeaders.Add("X-Account-ID", globexId);
        await AssertProblemAsync(await adminAsGlobex.GetAsync($"/api/v1/webhooks/{webhookId}"), HttpStatusCode.NotFound, "webhook_not_found");
        var listed = await ReadAsync(await adminAsGlobex.GetAsync("/api/v1/webhooks"), HttpStatusCode.OK);
        Assert.Equal([globexWebhook], listed.AsArray().Select(w => w!["id"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.OK, (await acme.GetAsync($"/api/v1/webhooks/{webhookId}")).StatusCode);
    }

    [Fact]
    public async Task Events_of_another_tenant_never_reach_a_webhook()
    {
        var (_, acme) = await CreateTenantAsync(_factory, "Acme");
        var (_, globex) = await CreateTenantAsync(_factory, "Globex");
        await CreateWebhookAsync(acme, _receiver);
        await using var acmeAgent = await ConnectAgentAsync(_factory, acme, "agent-7");
        await using var globexAgent = await ConnectAgentAsync(_factory, globex, "agent-7");

        await PublishAsync(globexAgent, Envelope("incoming_call", Call("call-g", "0912000000")));
        var own = await PublishAsync(acmeAgent, Envelope("incoming_call", Call("call-a", "0912345678")));

        Assert.Equal(own, (await _receiver.NextAsync()).EventId);
    }

    [Theory]
    [InlineData("not a url", "invalid_webhook_url")]
    [InlineData("ftp://example.com/hook", "invalid_webhook_url")]
    [InlineData("http://93.184.215.14/hook", "invalid_webhook_url")]
    [InlineData("https://user:pass@93.184.215.14/hook", "invalid_webhook_url")]
    [InlineData("https://10.1.2.3/hook", "webhook_target_forbidden")]
    [InlineData("https://192.168.0.10/hook", "webhook_target_forbidden")]
    [InlineData("https://100.64.0.1/hook", "webhook_target_forbidden")]
    [InlineData("https://169.254.169.254/latest/meta-data", "webhook_target_forbidden")]
    [InlineData("https://[fd00::1]/hook", "webhook_target_forbidden")]
    [InlineData("https://[::ffff:10.0.0.1]/hook", "webhook_target_forbidden")]
    [InlineData("https://0.0.0.0/hook", "webhook_target_forbidden")]
    public async Task Urls_that_are_not_https_or_that_target_private_networks_are_refused(string url, string code)
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url, events = new[] { "*" } }), HttpStatusCode.BadRequest, code);

        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/webhooks"), HttpStatusCode.OK)).AsArray());
    }

    [Fact]
    public async Task Loopback_is_refused_unless_the_operator_allows_it_and_private_networks_only_when_allowed()
    {
        using var strict = new HubApiFactory();
        var (_, crm) = await CreateTenantAsync(strict, "Acme");
        await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, events = new[] { "*" } }),
            HttpStatusCode.BadRequest, "invalid_webhook_url");
        await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://localhost/hook", events = new[] { "*" } }),
            HttpStatusCode.BadRequest, "webhook_target_forbidden");
        await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://127.0.0.1/hook", events = new[] { "*" } }),
            HttpStatusCode.BadRequest, "webhook_target_forbidden");

        using var lenient = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:Webhooks:AllowPrivateNetworks"] = "true" }));
        var (_, other) = await CreateTenantAsync(lenient, "Acme");
        await ReadAsync(await other.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://10.1.2.3/hook", events = new[] { "*" } }), HttpStatusCode.Created);
        await AssertProblemAsync(await other.PostAsJsonAsync("/api/v1/webhooks", new { url = "https://169.254.169.254/", events = new[] { "*" } }),
            HttpStatusCode.BadRequest, "webhook_target_forbidden");
    }

    [Fact]
    public async Task The_delivery_client_refuses_to_connect_to_a_forbidden_address_whatever_the_url_said()
    {
        // What a DNS rebinding attack ends as: a name that resolved elsewhere at creation now points at loopback.
        using var strict = new HubApiFactory();
        var client = strict.Services.GetRequiredService<IHttpClientFactory>().CreateClient("hub-webhooks");

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(_receiver.Url.Replace("127.0.0.1", "localhost"), null));

        // Refused by the outbound policy itself (not a failed connection), without saying where the name led.
        var policy = Assert.IsType<Hub.Consumers.Outbound.OutboundTargetException>(refused.GetBaseException());
        Assert.Equal(Hub.Consumers.Outbound.OutboundRefusal.Forbidden, policy.Refusal);
        Assert.DoesNotContain("127.0.0.1", policy.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"url\":\"https://93.184.215.14/hook\"}")]
    [InlineData("{\"url\":\"https://93.184.215.14/hook\",\"events\":[]}")]
    [InlineData("{\"url\":\"https://93.184.215.14/hook\",\"events\":[\"Call Hangup\"]}")]
    public async Task Missing_or_malformed_event_types_are_refused(string body)
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        await AssertProblemAsync(await crm.PostAsync("/api/v1/webhooks", content), HttpStatusCode.BadRequest, "invalid_webhook_events");
    }

    [Fact]
    public async Task The_secret_is_shown_once_kept_encrypted_and_changes_are_audited()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        var created = await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webhooks",
            new { url = _receiver.Url, events = new[] { "incoming_call", "call_hangup", "incoming_call" } }), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        var secret = created["secret"]!.GetValue<string>();
        Assert.Equal(["incoming_call", "call_hangup"], created["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        var read = await ReadAsync(await crm.GetAsync($"/api/v1/webhooks/{id}"), HttpStatusCode.OK);
        Assert.Null(read["secret"]);
        Assert.True(read["enabled"]!.GetValue<bool>());
        Assert.DoesNotContain(secret, (await crm.GetStringAsync("/api/v1/webhooks")), StringComparison.Ordinal);

        await ReadAsync(await crm.PostAsync($"/api/v1/webhooks/{id}/enable", null), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.NoContent, (await crm.DeleteAsync($"/api/v1/webhooks/{id}")).StatusCode);
        await AssertProblemAsync(await crm.GetAsync($"/api/v1/webhooks/{id}"), HttpStatusCode.NotFound, "webhook_not_found");

        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var actions = (await connection.QueryAsync<string>(
            "SELECT action FROM audit_log WHERE tenant_id = @tenantId AND target = @id ORDER BY at, id", new { tenantId, id })).ToList();
        Assert.Equal(["webhook.created", "webhook.enabled", "webhook.deleted"], actions);
        var detail = await connection.QuerySingleAsync<string>(
            "SELECT detail FROM audit_log WHERE target = @id AND action = 'webhook.created'", new { id });
        Assert.DoesNotContain(secret["whsec_".Length..], detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_secret_is_stored_encrypted()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var id = await CreateWebhookAsync(crm, _receiver);

        var database = _factory.Services.GetRequiredService<HubDatabase>();
        await using var connection = await database.OpenAsync(CancellationToken.None);
        var stored = await connection.QuerySingleAsync<string>("SELECT secret_protected FROM webhook_subscriptions WHERE id = @id", new { id });
        Assert.DoesNotContain(_receiver.Secret["whsec_".Length..], stored, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_without_the_webhooks_scope_is_forbidden()
    {
        var (_, reader) = await CreateTenantAsync(_factory, "Acme", ["calls:read"]);

        Assert.Equal(HttpStatusCode.Forbidden, (await reader.GetAsync("/api/v1/webhooks")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await reader.PostAsJsonAsync("/api/v1/webhooks", new { url = _receiver.Url, events = new[] { "*" } })).StatusCode);
    }
}
