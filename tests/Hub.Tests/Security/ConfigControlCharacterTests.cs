using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// No config value may hold a control character: frame_ancestors goes into a response header, where a
/// trailing line feed broke the page (a wildcard's pattern let "https://*.example.com\n" through), and
/// templates and origins go into URLs and headers too. Refused with the field's name, nothing saved.
/// </summary>
public sealed class ConfigControlCharacterTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData("""{"frame_ancestors":["'self'","https://*.example.com\n"]}""", "frame_ancestors[1]")]
    [InlineData("""{"frame_ancestors":["https://portal.example.com\r"]}""", "frame_ancestors[0]")]
    [InlineData("""{"crm_origins":["https://crm.example.com\n"]}""", "crm_origins[0]")]
    [InlineData("""{"portal_origins":["https://portal.example.com\u0000"]}""", "portal_origins[0]")]
    [InlineData("""{"screen_pop":{"record_url_template":"https://crm.example.com/c/{external_id}\n"}}""", "screen_pop.record_url_template")]
    [InlineData("""{"screen_pop":{"new_contact_url_template":"https://crm.example.com/new?n={number}\t"}}""", "screen_pop.new_contact_url_template")]
    [InlineData("""{"crm_lookup":{"url":"https://crm.example.com/lookup\n"}}""", "crm_lookup.url")]
    [InlineData("""{"default_country_code":"84\n"}""", "default_country_code")]
    public async Task A_config_value_with_a_control_character_is_refused_naming_its_field(string document, string field)
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Careless operator");

        var response = await crm.PutAsync("/api/v1/config", new StringContent(document, System.Text.Encoding.UTF8, "application/json"));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_config");
        var errors = problem["errors"]!.AsArray();
        Assert.Contains(errors, error => error!["field"]!.GetValue<string>() == field
            && error["message"]!.GetValue<string>().Contains("control characters", StringComparison.Ordinal));
        var stored = await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK);
        Assert.True(stored["inherited"]!.GetValue<bool>(), "a refused config was saved");

        using var browser = _factory.CreateClient();
        var page = await browser.GetAsync($"/dashboard/?account_id={tenantId}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task The_same_values_without_the_control_character_are_accepted()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Careful operator");

        var response = await crm.PutAsJsonAsync("/api/v1/config", new JsonObject
        {
            ["frame_ancestors"] = new JsonArray("'self'", "https://*.example.com"),
            ["screen_pop"] = new JsonObject { ["record_url_template"] = "https://crm.example.com/c/{external_id}" },
        });

        await ReadAsync(response, HttpStatusCode.OK);
    }
}
