using System.Net;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Operations;

public sealed class OperationsTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Readiness_checks_the_bus_and_the_store()
    {
        using var client = _factory.CreateClient();

        Assert.Equal("Healthy", await (await client.GetAsync("/health/ready")).Content.ReadAsStringAsync());
        var ready = _factory.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations
            .Where(registration => registration.Tags.Contains("ready")).Select(registration => registration.Name).ToList();
        Assert.Contains("store", ready);
        Assert.Contains(ready, name => name.Contains("masstransit", StringComparison.OrdinalIgnoreCase) || name.Contains("bus", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Liveness_and_openapi_answer_without_credentials()
    {
        using var client = _factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var openApi = await ReadAsync(await client.GetAsync("/openapi/v1.json"), HttpStatusCode.OK);
        Assert.NotNull(openApi["paths"]!["/api/v1/agents/{agentId}/dial"]);
    }

    [Fact]
    public async Task Relay_bundle_is_served_as_a_script_and_as_a_module()
    {
        using var client = _factory.CreateClient();

        var script = await client.GetAsync("/relay/hub-relay.js");
        var module = await client.GetAsync("/relay/hub-relay.mjs");

        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("HubRelay", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, module.StatusCode);
        Assert.Equal("text/javascript", module.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("https://crm.example.com", true)]
    [InlineData("https://evil.example.com", false)]
    public async Task Only_configured_crm_origins_may_call_the_hub_from_a_browser(string origin, bool allowed)
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:CrmOrigins:0"] = "https://crm.example.com" }));
        using var client = factory.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/v1/sessions");
        preflight.Headers.Add("Origin", origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization");

        var response = await client.SendAsync(preflight);

        Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
    }

    [Fact]
    public async Task Unknown_route_is_a_problem_with_a_code()
    {
        using var client = _factory.Admin();

        await AssertProblemAsync(await client.GetAsync("/api/v1/nothing-here"), HttpStatusCode.NotFound, "not_found");
    }
}
