using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Config;

/// <summary>Global config with per-account override, as the fonoUC Portal's embed config behaves.</summary>
public sealed class ConfigTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Account_inherits_the_global_config_until_it_overrides_it_and_falls_back_when_the_override_is_deleted()
    {
        var admin = _factory.Admin();
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        var fresh = await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK);
        Assert.Equal("account", fresh["scope"]!.GetValue<string>());
        Assert.True(fresh["inherited"]!.GetValue<bool>());

        var global = await ReadAsync(await admin.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44", crm_origins = new[] { "https://crm.example.com" } }), HttpStatusCode.OK);
        Assert.Equal("global", global["scope"]!.GetValue<string>());
        Assert.False(global["inherited"]!.GetValue<bool>());

        var inherited = await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK);
        Assert.Equal(("account", true, "44"), (inherited["scope"]!.GetValue<string>(), inherited["inherited"]!.GetValue<bool>(), inherited["config"]!["default_country_code"]!.GetValue<string>()));

        var overridden = await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "84" }), HttpStatusCode.OK);
        Assert.Equal(("account", false, "84"), (overridden["scope"]!.GetValue<string>(), overridden["inherited"]!.GetValue<bool>(), overridden["config"]!["default_country_code"]!.GetValue<string>()));
        Assert.Empty(overridden["config"]!["crm_origins"]!.AsArray());

        Assert.Equal(HttpStatusCode.NoContent, (await crm.DeleteAsync("/api/v1/config")).StatusCode);
        var fallen = await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK);
        Assert.Equal(("account", true, "44"), (fallen["scope"]!.GetValue<string>(), fallen["inherited"]!.GetValue<bool>(), fallen["config"]!["default_country_code"]!.GetValue<string>()));
        await AssertProblemAsync(await crm.DeleteAsync("/api/v1/config"), HttpStatusCode.NotFound, "config_not_found");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/v1/config")).StatusCode);
        var none = await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK);
        Assert.Null(none["config"]!["default_country_code"]);
    }

    [Fact]
    public async Task Parent_writes_a_child_accounts_override_with_X_Account_ID()
    {
        var (childId, child) = await CreateTenantAsync(_factory, "Acme");
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config") { Content = JsonContent.Create(new { call_retention_days = 30 }) };
        request.Headers.Add("X-Account-ID", childId);

        var written = await ReadAsync(await _factory.Admin().SendAsync(request), HttpStatusCode.OK);

        Assert.Equal("account", written["scope"]!.GetValue<string>());
        Assert.Equal(30, (await ReadAsync(await child.GetAsync("/api/v1/config"), HttpStatusCode.OK))["config"]!["call_retention_days"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"crm_origins": ["https://crm.example.com/path"]}""", "crm_origins[0]")]
    [InlineData("""{"crm_origins": ["http://crm.example.com"]}""", "crm_origins[0]")]
    [InlineData("""{"webphone_origins": "https://app.zorio.vn"}""", "webphone_origins")]
    [InlineData("""{"frame_ancestors": ["*"]}""", "frame_ancestors[0]")]
    [InlineData("""{"screen_pop": {"record_url_template": "javascript:alert({external_id})"}}""", "screen_pop.record_url_template")]
    [InlineData("""{"screen_pop": {"record_url_template": "https://crm.example/{contact}"}}""", "screen_pop.record_url_template")]
    [InlineData("""{"crm_lookup": {"url": "http://10.0.0.5/lookup"}}""", "crm_lookup.url")]
    [InlineData("""{"crm_lookup": {"url": "https://crm.example/lookup", "timeout_ms": 60000}}""", "crm_lookup.timeout_ms")]
    [InlineData("""{"default_country_code": "+84"}""", "default_country_code")]
    [InlineData("""{"default_country_code": "XX"}""", "default_country_code")]
    [InlineData("""{"default_country_code": "800"}""", "default_country_code")]
    [InlineData("""{"call_retention_days": 0}""", "call_retention_days")]
    [InlineData("""{"colour": "blue"}""", "colour")]
    public async Task Invalid_config_is_refused_naming_the_field_and_nothing_changes(string document, string field)
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44" }), HttpStatusCode.OK);

        var problem = await AssertProblemAsync(await crm.PutAsync("/api/v1/config", new StringContent(document, System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "invalid_config");

        Assert.Contains(problem["errors"]!.AsArray(), error => error!["field"]!.GetValue<string>() == field);
        Assert.Equal("44", (await ReadAsync(await crm.GetAsync("/api/v1/config"), HttpStatusCode.OK))["config"]!["default_country_code"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_valid_full_config_is_stored_as_given()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        var document = new
        {
            crm_origins = new[] { "https://crm.example.com", "http://localhost:3000" },
            webphone_origins = new[] { "https://app.zorio.vn" },
            frame_ancestors = new[] { "'self'", "https://*.portal.example.com" },
            portal_origins = new[] { "https://portal.example.com" },
            screen_pop = new { record_url_template = "https://crm.example/contacts/{external_id}", new_contact_url_template = "https://crm.example/new?phone={number}" },
            crm_lookup = new { url = "https://crm.example/lookup", timeout_ms = 1500 },
            default_country_code = "84",
            call_retention_days = 365,
        };

        var stored = await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", document), HttpStatusCode.OK);

        Assert.Equal("https://*.portal.example.com", stored["config"]!["frame_ancestors"]![1]!.GetValue<string>());
        Assert.Equal(1500, stored["config"]!["crm_lookup"]!["timeout_ms"]!.GetValue<int>());
    }

    [Fact]
    public async Task Crm_lookup_secret_is_write_only_and_kept_when_left_out()
    {
        var (tenantId, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup", secret = "s3cret-s3cret-s3cret" } }), HttpStatusCode.OK);

        var shown = await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { crm_lookup = new { url = "https://crm.example/lookup2" } }), HttpStatusCode.OK);

        Assert.Null(shown["config"]!["crm_lookup"]!["secret"]);
        var reader = (Hub.Store.Config.TenantConfigReader)_factory.Services.GetService(typeof(Hub.Store.Config.TenantConfigReader))!;
        var stored = await reader.ReadAsync(tenantId, CancellationToken.None);
        Assert.Equal(("https://crm.example/lookup2", "s3cret-s3cret-s3cret"), (stored.Config.CrmLookup!.Url, stored.Config.CrmLookup.Secret));
    }

    [Fact]
    public async Task Config_needs_the_config_scope()
    {
        var (_, contactsOnly) = await CreateTenantAsync(_factory, "Acme", ["contacts"]);

        await AssertProblemAsync(await contactsOnly.GetAsync("/api/v1/config"), HttpStatusCode.Forbidden, "insufficient_scope");
    }

    [Fact]
    public async Task The_accounts_country_code_decides_how_national_numbers_match()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "London Ltd");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "44" }), HttpStatusCode.OK);
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "uk-1", display_name = "Carter", phones = new[] { "+44 20 7946 0958" } } }), HttpStatusCode.OK);

        var found = await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=" + Uri.EscapeDataString("020 7946 0958")), HttpStatusCode.OK);

        Assert.Equal("uk-1", Assert.Single(found.AsArray())!["external_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_region_code_as_default_country_reads_national_numbers_in_that_region()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Hanoi Co");
        var stored = await ReadAsync(await crm.PutAsJsonAsync("/api/v1/config", new { default_country_code = "VN" }), HttpStatusCode.OK);
        Assert.Equal("VN", stored["config"]!["default_country_code"]!.GetValue<string>());
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "vn-1", display_name = "Lan", phones = new[] { "091 234 5678" } } }), HttpStatusCode.OK);

        var found = await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=" + Uri.EscapeDataString("+84912345678")), HttpStatusCode.OK);

        Assert.Equal("vn-1", Assert.Single(found.AsArray())!["external_id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("XX")]
    [InlineData("+84")]
    public void An_unknown_global_default_country_stops_the_hub_at_start_naming_the_setting(string value)
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:DefaultCountryCode"] = value }));

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Hub:DefaultCountryCode", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Hub:PublishTimeout", "00:00:00")]
    [InlineData("Hub:EmbeddedBacklog", "0")]
    [InlineData("Hub:SessionLifetime", "-00:01:00")]
    [InlineData("Hub:RateLimits:PerKeyPerMinute", "-1")]
    [InlineData("Hub:RateLimits:MaxBodyBytes", "10")]
    [InlineData("Hub:Webhooks:AttemptTimeout", "00:00:00")]
    [InlineData("Hub:Webhooks:RetrySchedule:0", "-00:00:05")]
    [InlineData("Hub:Webhooks:MaxConcurrentPerHost", "0")]
    [InlineData("Hub:Limits:StreamsPerCredential", "0")]
    [InlineData("Hub:ScreenPop:MaxConcurrentLookupsPerTenant", "0")]
    public void A_setting_out_of_range_stops_the_hub_at_start_naming_it(string setting, string value)
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { [setting] = value }));

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => factory.CreateClient());

        // The message names the setting: its section path, and the property itself.
        Assert.Contains(setting[..setting.LastIndexOf(':')].Replace(":0", ""), refused.Message, StringComparison.Ordinal);
        Assert.Contains(setting.Split(':').Last(c => !int.TryParse(c, out _)), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_region_code_as_the_global_default_country_reads_national_numbers_in_that_region()
    {
        using var factory = new HubApiFactory(new HubTopology(Settings: new Dictionary<string, string> { ["Hub:DefaultCountryCode"] = "GB" }));
        var (_, crm) = await CreateTenantAsync(factory, "Leeds Ltd");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "uk-1", display_name = "Carter", phones = new[] { "020 7946 0958" } } }), HttpStatusCode.OK);

        var found = await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=" + Uri.EscapeDataString("+44 20 7946 0958")), HttpStatusCode.OK);

        Assert.Equal("uk-1", Assert.Single(found.AsArray())!["external_id"]!.GetValue<string>());
    }
}
