using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Dapper;
using Hub.Store;
using Hub.Tests.ScreenPop;
using Hub.Tests.Support;
using Hub.Consumers.Outbound;
using Hub.Consumers.ScreenPop.CrmLookup;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// Issue 14, points 2 and 13: the CRM lookup gets the webhook SSRF rules (one outbound policy for both), in
/// the config API and again at every connection, and a refusal never says how a name resolved.
/// </summary>
public sealed class OutboundPolicyTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly HubApiFactory _strict = new();
    private FakeCrm _crm = null!;

    public async Task InitializeAsync() => _crm = await FakeCrm.StartAsync();

    public async Task DisposeAsync()
    {
        _strict.Dispose();
        await _crm.DisposeAsync();
    }

    private static HubApiFactory Allowing(params string[] settings) =>
        new(new HubTopology(Settings: settings.ToDictionary(setting => setting, _ => "true")));

    private static async Task<JsonElement> PutCrmLookupAsync(HttpClient crm, string url, HttpStatusCode expected)
    {
        var response = await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44", crm_lookup = new { url } });
        var body = await ReadAsync(response, expected);
        return JsonSerializer.Deserialize<JsonElement>(body.ToJsonString());
    }

    [Theory]
    [InlineData("https://10.0.0.1/lookup")]
    [InlineData("https://172.16.4.2/lookup")]
    [InlineData("https://192.168.1.5:8443/lookup")]
    [InlineData("https://100.64.0.1/lookup")]
    [InlineData("https://[fd00::1]/lookup")]
    [InlineData("https://[::ffff:10.0.0.1]/lookup")]
    [InlineData("https://127.0.0.1:8443/lookup")]
    [InlineData("http://127.0.0.1:5000/lookup")]
    [InlineData("http://localhost:5000/lookup")]
    [InlineData("https://localhost/lookup")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://0.0.0.0/lookup")]
    [InlineData("http://93.184.215.14/lookup")]
    [InlineData("https://93.184.215.14/lookup#fragment")]
    public async Task Crm_lookup_url_that_is_not_a_public_https_address_is_refused_naming_the_field_and_nothing_changes(string url)
    {
        var (_, crm) = await CreateTenantAsync(_strict, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44" }), HttpStatusCode.OK);

        var problem = await AssertProblemAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url } }),
            HttpStatusCode.BadRequest, "invalid_config");

        Assert.Contains(problem["errors"]!.AsArray(), error => error!["field"]!.GetValue<string>() == "crm_lookup.url");
        var config = (await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK))["config"]!;
        Assert.Equal("44", config["default_country_code"]!.GetValue<string>());
        Assert.Null(config["crm_lookup"]);
    }

    [Fact]
    public async Task Public_https_crm_lookup_url_is_accepted()
    {
        var (_, crm) = await CreateTenantAsync(_strict, "Acme");

        var stored = await PutCrmLookupAsync(crm, "https://93.184.215.14/lookup?key=1", HttpStatusCode.OK);

        Assert.Equal("https://93.184.215.14/lookup?key=1", stored.GetProperty("config").GetProperty("crm_lookup").GetProperty("url").GetString());
    }

    [Fact]
    public async Task Private_and_loopback_crm_lookups_need_the_operators_settings_and_link_local_is_refused_whatever_they_say()
    {
        using var lenient = Allowing("Hub:Webhooks:AllowPrivateNetworks", "Hub:Webhooks:AllowHttpLoopback");
        var (_, crm) = await CreateTenantAsync(lenient, "Acme");

        await PutCrmLookupAsync(crm, "https://10.0.0.1/lookup", HttpStatusCode.OK);
        await PutCrmLookupAsync(crm, _crm.Url, HttpStatusCode.OK);
        foreach (var url in new[] { "https://169.254.169.254/latest/meta-data/", "https://[fe80::1]/lookup", "https://224.0.0.1/lookup" })
        {
            var problem = await AssertProblemAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url } }),
                HttpStatusCode.BadRequest, "invalid_config");
            Assert.Equal("crm_lookup.url", problem["errors"]![0]!["field"]!.GetValue<string>());
        }
    }

    [Theory]
    [InlineData("hub-crm-lookup")]
    [InlineData("hub-webhooks")]
    public async Task Outbound_clients_refuse_at_connect_time_a_loopback_name_the_operator_did_not_allow(string client)
    {
        // What DNS rebinding ends as: a name that passed the check when written now resolves to loopback.
        var http = _strict.Services.GetRequiredService<IHttpClientFactory>().CreateClient(client);

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(_crm.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal)));

        Assert.Equal(0, _crm.RequestCount);
        Assert.DoesNotContain("127.0.0.1", refused.GetBaseException().Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crm_lookup_written_while_loopback_was_allowed_is_not_called_once_it_is_not()
    {
        _crm.Respond = FakeCrm.Json(new[] { new { external_id = "crm-1", display_name = "Le Thi C" } });
        var (tenantId, crm) = await CreateTenantAsync(_strict, "Acme");
        // As an older hub, or one started with AllowHttpLoopback, stored it: straight into the store.
        var database = _strict.Services.GetRequiredService<HubDatabase>();
        await using (var connection = await database.OpenAsync(CancellationToken.None))
        {
            await connection.ExecuteAsync(
                "INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@tenantId, @document, @now)",
                new { tenantId, document = JsonSerializer.Serialize(new { crm_lookup = new { url = _crm.Url } }), now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        }

        await using var agent = await ConnectAgentAsync(_strict, crm, "agent-7");
        var pops = agent.Subscribe("ScreenPop");
        var ack = await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("call-1", "0987 000 111")));
        Assert.Equal("accepted", ack.GetProperty("status").GetString());
        var pop = await pops.ReadAsync().AsTask().WaitAsync(Timeout);

        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.Equal(0, _crm.RequestCount);
    }

    [Fact]
    public async Task Redirect_from_an_allowed_crm_to_another_address_is_not_followed()
    {
        using var lenient = Allowing("Hub:Webhooks:AllowHttpLoopback", "Hub:Webhooks:AllowPrivateNetworks");
        await using var inside = await FakeCrm.StartAsync();
        inside.Respond = FakeCrm.Json(new[] { new { external_id = "internal", display_name = "Internal admin" } });
        _crm.Respond = context =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = inside.Url;
            return Task.CompletedTask;
        };
        var client = lenient.Services.GetRequiredService<CrmLookupClient>();
        var target = CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = _crm.Url })!;

        var failure = await Assert.ThrowsAsync<CrmLookupException>(() =>
            client.FetchAsync(target, new CrmLookupRequest("tenant-1", "+84987000111", "0987 000 111", "agent-7", "call-1"), CancellationToken.None));

        Assert.Contains("302", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, _crm.RequestCount);
        Assert.Equal(0, inside.RequestCount);
    }

    [Fact]
    public async Task Crm_lookup_to_an_internal_name_is_refused_with_the_same_answer_whether_it_resolves_privately_or_not_at_all()
    {
        _strict.Dns.Answer("crm.corp.internal", "10.0.0.7");
        _strict.Dns.Answer("admin.corp.internal", "127.0.0.1");
        _strict.Dns.Answer("ghost.corp.internal");
        var (_, crm) = await CreateTenantAsync(_strict, "Acme");

        var answers = new List<string>();
        foreach (var host in new[] { "crm.corp.internal", "admin.corp.internal", "ghost.corp.internal", "nothing.invalid" })
        {
            var problem = await AssertProblemAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = $"https://{host}/lookup" } }),
                HttpStatusCode.BadRequest, "invalid_config");
            var error = Assert.Single(problem["errors"]!.AsArray())!;
            Assert.Equal("crm_lookup.url", error["field"]!.GetValue<string>());
            answers.Add(problem["detail"]!.GetValue<string>() + " | " + error["message"]!.GetValue<string>());
        }

        Assert.Single(answers.Distinct());
        Assert.DoesNotContain("10.0.0.7", answers[0], StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", answers[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook_to_an_internal_name_is_refused_with_one_code_and_detail_whether_it_resolves_privately_or_not_at_all()
    {
        _strict.Dns.Answer("hooks.corp.internal", "192.168.10.20");
        var (_, crm) = await CreateTenantAsync(_strict, "Acme");

        var answers = new List<string>();
        // localhost and .invalid go to the machine's own resolver: loopback, and a name that never exists.
        foreach (var host in new[] { "hooks.corp.internal", "localhost", "nothing.invalid", "169.254.169.254" })
        {
            var problem = await AssertProblemAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url = $"https://{host}/hook", events = new[] { "*" } }),
                HttpStatusCode.BadRequest, "webhook_target_forbidden");
            answers.Add(problem["detail"]!.GetValue<string>());
        }

        Assert.Single(answers.Distinct());
        Assert.DoesNotContain("192.168", answers[0], StringComparison.Ordinal);
        Assert.DoesNotContain("resolves to", answers[0], StringComparison.Ordinal);
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/webhooks"), HttpStatusCode.OK)).AsArray());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.7")]
    [InlineData("169.254.169.254")]
    public async Task Crm_lookup_name_that_passed_the_check_and_now_resolves_privately_is_not_connected_to(string rebound)
    {
        using var inside = new TcpListener(IPAddress.Loopback, 0);
        inside.Start();
        var port = ((IPEndPoint)inside.LocalEndpoint).Port;
        var url = $"https://crm.rebind.example:{port}/lookup";
        var (_, crm) = await CreateTenantAsync(_strict, "Acme");
        await PutCrmLookupAsync(crm, url, HttpStatusCode.OK);

        // The attacker's DNS now answers with an inside address (the listener stands for what is there).
        _strict.Dns.Answer("crm.rebind.example", rebound, "127.0.0.1");
        var client = _strict.Services.GetRequiredService<CrmLookupClient>();
        var target = CrmLookupTarget.From(new Hub.Store.Config.CrmLookupSettings { Url = url })!;
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() =>
            client.FetchAsync(target, new CrmLookupRequest("tenant-1", "+84987000111", "0987 000 111", "agent-7", "call-1"), CancellationToken.None));

        var policy = Assert.IsType<OutboundTargetException>(refused.GetBaseException());
        Assert.Equal(OutboundRefusal.Forbidden, policy.Refusal);
        Assert.DoesNotContain(rebound, policy.Message, StringComparison.Ordinal);
        // Not even a TCP handshake: the kernel would have queued one for accept.
        Assert.False(inside.Pending());
    }

    [Fact]
    public async Task Plain_http_is_not_connected_to_without_AllowHttpLoopback_even_where_private_networks_are_allowed()
    {
        using var privateOnly = Allowing("Hub:Outbound:AllowPrivateNetworks");
        var http = privateOnly.Services.GetRequiredService<IHttpClientFactory>().CreateClient("hub-crm-lookup");

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(_crm.Url));

        Assert.IsType<OutboundTargetException>(refused.GetBaseException());
        Assert.Equal(0, _crm.RequestCount);
    }

    [Theory]
    [InlineData("Hub:Outbound:AllowHttpLoopback")]
    [InlineData("Hub:Webhooks:AllowHttpLoopback")]
    public async Task Either_name_of_the_loopback_switch_lets_both_crm_lookups_and_webhooks_reach_loopback(string setting)
    {
        using var development = Allowing(setting);
        var (_, crm) = await CreateTenantAsync(development, "Acme");

        await PutCrmLookupAsync(crm, _crm.Url, HttpStatusCode.OK);
        await ReadAsync(await crm.PostAsJsonAsync("/api/v1/webhooks", new { url = new Uri(_crm.BaseUrl, "/hook").ToString(), events = new[] { "*" } }),
            HttpStatusCode.Created);
        var http = development.Services.GetRequiredService<IHttpClientFactory>().CreateClient("hub-crm-lookup");
        using var answer = await http.GetAsync(_crm.Url);

        Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
        Assert.Equal(1, _crm.RequestCount);
    }
}
