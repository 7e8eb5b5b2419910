using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Demo;

public sealed class DemoTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Demo_tenant_is_seeded_with_contacts_the_screen_pop_finds()
    {
        using var page = _factory.CreateClient();

        var config = await ReadAsync(await page.GetAsync("/demo/api/config"), HttpStatusCode.OK);
        var contacts = await ReadAsync(await page.GetAsync("/demo/api/contacts"), HttpStatusCode.OK);

        Assert.Equal("demo-agent", config["agent_id"]!.GetValue<string>());
        Assert.Contains("/webphone-simulator/?parent_origin=", config["webphone_url"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(5, contacts.AsArray().Count);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/contacts?phone=0912345678");
        request.Headers.Add("X-Account-ID", config["tenant_id"]!.GetValue<string>());
        var found = await ReadAsync(await _factory.Admin().SendAsync(request), HttpStatusCode.OK);
        Assert.Equal("Nguyen Van An", Assert.Single(found.AsArray())!["display_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Demo_backend_signs_the_agent_in_and_dials_through_the_hub()
    {
        using var page = _factory.CreateClient();
        await AssertProblemAsync(await page.PostAsJsonAsync("/demo/api/dial", new { number = "0912345678" }), HttpStatusCode.Conflict, "agent_offline");

        var token = await (await page.PostAsync("/demo/api/token", null)).Content.ReadAsStringAsync();
        var session = await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);
        await using var agent = await _factory.ConnectAgentAsync(session["session_token"]!.GetValue<string>());
        var commands = agent.Subscribe("Command");

        await ReadAsync(await page.PostAsJsonAsync("/demo/api/dial", new { number = "0987654321" }), HttpStatusCode.Accepted);

        var command = await commands.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("call", command.GetProperty("type").GetString());
        Assert.Equal("0987654321", command.GetProperty("payload").GetProperty("number").GetString());
    }

    [Fact]
    public async Task Unknown_caller_to_the_demo_gets_a_new_contact_link_with_the_number()
    {
        using var page = _factory.CreateClient();
        var token = await (await page.PostAsync("/demo/api/token", null)).Content.ReadAsStringAsync();
        var session = await ReadAsync(await ExchangeAsync(_factory, token), HttpStatusCode.OK);
        await using var agent = await _factory.ConnectAgentAsync(session["session_token"]!.GetValue<string>());
        var pops = agent.Subscribe("ScreenPop");

        await agent.InvokeAsync("Publish", Envelope("incoming_call", Call("demo-unknown", "+84 1111 222")));

        var pop = await pops.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(pop.GetProperty("unknown_caller").GetBoolean());
        Assert.Equal("https://crm.example/contacts/new?phone=%2B84%201111%20222", pop.GetProperty("url").GetString());
    }

    [Fact]
    public async Task Demo_page_may_be_framed_only_by_the_accounts_frame_ancestors()
    {
        using var page = _factory.CreateClient();
        var config = await ReadAsync(await page.GetAsync("/demo/api/config"), HttpStatusCode.OK);

        var byDefault = await page.GetAsync("/demo/");
        Assert.Equal("frame-ancestors 'self'", byDefault.Headers.GetValues("Content-Security-Policy").Single());
        Assert.True(byDefault.Headers.CacheControl?.NoCache, "a changed policy must apply at the next load");

        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config")
        {
            Content = JsonContent.Create(new { frame_ancestors = new[] { "'self'", "https://portal.example.com" } }),
        };
        request.Headers.Add("X-Account-ID", config["tenant_id"]!.GetValue<string>());
        await ReadAsync(await _factory.Admin().SendAsync(request), HttpStatusCode.OK);

        var configured = await page.GetAsync("/demo/");
        Assert.Equal("frame-ancestors 'self' https://portal.example.com", configured.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task Demo_is_off_when_disabled()
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:Demo:Enabled"] = "false" }));
        using var page = factory.CreateClient();

        await AssertProblemAsync(await page.GetAsync("/demo/api/config"), HttpStatusCode.NotFound, "not_found");
        await AssertProblemAsync(await page.PostAsync("/demo/api/token", null), HttpStatusCode.NotFound, "not_found");
    }
}
