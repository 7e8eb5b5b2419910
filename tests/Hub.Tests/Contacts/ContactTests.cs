using System.Net;
using System.Net.Http.Json;
using Hub.Tests.Support;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Contacts;

public sealed class ContactTests : IDisposable
{
    private readonly HubApiFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData("0912345678")]
    [InlineData("+84 912 345 678")]
    [InlineData("84912345678")]
    [InlineData("(+84) 912-345-678")]
    public async Task Lookup_by_phone_matches_any_written_form(string asked)
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[]
        {
            new { external_id = "c-1", display_name = "A", phones = new[] { "+84 912 345 678" } },
            new { external_id = "c-2", display_name = "B", phones = new[] { "0987654321" } },
        }), HttpStatusCode.OK);

        var found = await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=" + Uri.EscapeDataString(asked)), HttpStatusCode.OK);

        Assert.Equal("c-1", Assert.Single(found.AsArray())!["external_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Upsert_replaces_a_contact_and_its_numbers()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "c-1", display_name = "A", phones = new[] { "0912345678" } } }), HttpStatusCode.OK);

        var upserted = await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "c-1", display_name = "A2", phones = new[] { "0987654321" } } }), HttpStatusCode.OK);

        Assert.Equal(1, upserted["upserted"]!.GetValue<int>());
        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=0912345678"), HttpStatusCode.OK)).AsArray());
        Assert.Equal("A2", (await ReadAsync(await crm.GetAsync("/api/v1/contacts/c-1"), HttpStatusCode.OK))["display_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_invalid_contact_refuses_the_batch_and_names_each_problem()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        var problem = await AssertProblemAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new object[]
        {
            new { external_id = "ok", display_name = "Fine", phones = new[] { "0912345678" } },
            new { external_id = "", display_name = "No id" },
            new { external_id = "bad-url", display_name = "X", url = "javascript:alert(1)" },
        }), HttpStatusCode.BadRequest, "invalid_contacts");

        var errors = problem["errors"]!.AsArray();
        Assert.Contains(errors, e => e!["index"]!.GetValue<int>() == 1 && e["field"]!.GetValue<string>() == "external_id");
        Assert.Contains(errors, e => e!["index"]!.GetValue<int>() == 2 && e["field"]!.GetValue<string>() == "url");
        await AssertProblemAsync(await crm.GetAsync("/api/v1/contacts/ok"), HttpStatusCode.NotFound, "contact_not_found");
    }

    [Fact]
    public async Task Unreadable_json_is_invalid_request()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");

        var response = await crm.PutAsync("/api/v1/contacts", new StringContent("[{\"external_id\":", System.Text.Encoding.UTF8, "application/json"));

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_request");
    }

    [Fact]
    public async Task Delete_removes_the_contact_from_matching()
    {
        var (_, crm) = await CreateTenantAsync(_factory, "Acme");
        await ReadAsync(await crm.PutAsJsonAsync("/api/v1/contacts", new[] { new { external_id = "c-1", display_name = "A", phones = new[] { "0912345678" } } }), HttpStatusCode.OK);

        Assert.Equal(HttpStatusCode.NoContent, (await crm.DeleteAsync("/api/v1/contacts/c-1")).StatusCode);

        Assert.Empty((await ReadAsync(await crm.GetAsync("/api/v1/contacts?phone=0912345678"), HttpStatusCode.OK)).AsArray());
        await AssertProblemAsync(await crm.DeleteAsync("/api/v1/contacts/c-1"), HttpStatusCode.NotFound, "contact_not_found");
    }
}
