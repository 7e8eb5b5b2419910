using System.Text.Json;
using Dapper;
using Hub.Api.Infrastructure;
using Hub.Api.Tenants;
using Hub.Store;
using Hub.Store.Contacts;

namespace Hub.Api.Demo;

/// <summary>
/// The tenant behind <c>/demo</c>: created at first start, its contacts refreshed at every start, so the
/// demo works the moment the hub is up.
/// </summary>
internal sealed class DemoTenant(HubDatabase database, TenantBootstrap bootstrap, ContactDirectory contacts, TimeProvider clock) : IHostedService
{
    public const string AgentId = "demo-agent";

    private static readonly Contact[] Contacts =
    [
        Demo("c-1001", "Nguyen Van An", "Acme Logistics", "+84 912 345 678", "gold", "Minh"),
        Demo("c-1002", "Tran Thi Binh", "Blue Lotus Hotel", "0987 654 321", "silver", "Lan"),
        Demo("c-1003", "Le Van Cuong", "Mekong Foods", "+84 24 3825 1234", "gold", "Minh"),
        Demo("c-1004", "Pham Thi Dung", "Saigon Dental", "0903-111-222", "bronze", "Hoa"),
        Demo("c-1005", "John Carter", "Carter & Sons, UK", "+44 20 7946 0958", "silver", "Lan"),
    ];

    private const string DemoConfigDocument =
        """{"screen_pop": {"record_url_template": "https://crm.example/contacts/{external_id}", "new_contact_url_template": "https://crm.example/contacts/new?phone={number}"}}""";

    public string TenantId { get; private set; } = "";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using (var connection = await database.OpenAsync(cancellationToken))
        {
            // The id is kept so a restart finds the same tenant even if someone renamed it.
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO hub_secrets (name, value, created_at) VALUES ('demo_tenant_id', @id, @now) ON CONFLICT (name) DO NOTHING",
                new { id = Ids.NewTenantId(), now = clock.NowMs() }, cancellationToken: cancellationToken));
            TenantId = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT value FROM hub_secrets WHERE name = 'demo_tenant_id'", cancellationToken: cancellationToken)) ?? "";
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO tenants (id, name, parent_id, is_master, created_at) VALUES (@TenantId, 'Demo CRM', @parent, 0, @now)
                ON CONFLICT (id) DO NOTHING
                """, new { TenantId, parent = bootstrap.MasterTenantId, now = clock.NowMs() }, cancellationToken: cancellationToken));

            // Unknown callers get a "new contact" link; kept if someone changed the demo's config since.
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO tenant_config (tenant_id, document, updated_at) VALUES (@TenantId, @document, @now)
                ON CONFLICT (tenant_id) DO NOTHING
                """,
                new { TenantId, document = DemoConfigDocument, now = clock.NowMs() }, cancellationToken: cancellationToken));
        }

        await contacts.UpsertAsync(TenantId, Contacts, "84", cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static Contact Demo(string id, string name, string company, string phone, string tier, string owner) => new()
    {
        ExternalId = id,
        DisplayName = name,
        Company = company,
        Email = $"{id}@crm.example",
        Phones = [phone],
        Url = $"https://crm.example/contacts/{id}",
        CustomFields = JsonSerializer.SerializeToElement(new Dictionary<string, string> { ["tier"] = tier, ["owner"] = owner }),
    };
}
