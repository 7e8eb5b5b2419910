using System.Net;
using Hub.Api.Tenants;
using Hub.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static Hub.Tests.Support.HubScenario;

namespace Hub.Tests.Security;

/// <summary>
/// The master tenant's admin key: a configured one works whatever its form, and a revocation survives
/// a restart on the same data directory (each "restart" is a new host on the directory of the last).
/// </summary>
public sealed class AdminKeyTests : IDisposable
{
    private const string OperatorKey = "my-long-operator-secret-0123456789";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "hub-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // The host never started.
        }
        catch (IOException)
        {
            // A pooled SQLite handle may outlive the host briefly; the temp directory is only clutter.
        }
    }

    /// <summary>A hub on this test's data directory, not started yet; <paramref name="adminKey"/> "" means none configured (generated).</summary>
    private HubApiFactory Configure(string adminKey) => new(new HubTopology(Settings: new Dictionary<string, string>
    {
        ["Hub:DataDirectory"] = _dataDirectory,
        ["Hub:AdminApiKey"] = adminKey,
    }));

    /// <summary>A started hub: its bootstrap has run.</summary>
    private HubApiFactory Start(string adminKey)
    {
        var hub = Configure(adminKey);
        _ = hub.Server;
        return hub;
    }

    private static Task<HttpResponseMessage> ListTenantsAsync(HubApiFactory hub, string key) => hub.ClientWithKey(key).GetAsync("/api/v1/tenants");

    private string GeneratedKey() => File.ReadAllText(Path.Combine(_dataDirectory, TenantBootstrap.AdminKeyFileName)).Trim();

    [Fact]
    public async Task A_configured_admin_key_without_the_hubk_prefix_authenticates()
    {
        using var hub = Start(OperatorKey);

        await ReadAsync(await ListTenantsAsync(hub, OperatorKey), HttpStatusCode.OK);
        await AssertProblemAsync(await ListTenantsAsync(hub, OperatorKey + "x"), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public void A_configured_admin_key_shorter_than_24_characters_stops_the_start_naming_the_setting()
    {
        using var hub = Configure("too-short-secret");

        var refused = Assert.ThrowsAny<Exception>(() => hub.CreateClient());

        var message = string.Join(" | ", Flatten(refused).Select(exception => exception.Message));
        Assert.Contains("Hub__AdminApiKey", message, StringComparison.Ordinal);
        Assert.Contains("24", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_revoked_configured_admin_key_stays_revoked_across_a_restart_until_its_value_changes()
    {
        using (var first = Start(OperatorKey))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await first.ClientWithKey(OperatorKey).DeleteAsync("/api/v1/api-keys/configured-admin")).StatusCode);
            await AssertProblemAsync(await ListTenantsAsync(first, OperatorKey), HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var restarted = Start(OperatorKey))
        {
            await AssertProblemAsync(await ListTenantsAsync(restarted, OperatorKey), HttpStatusCode.Unauthorized, "unauthorized");
        }

        const string replacement = "the-operators-next-secret-9876543210";
        using var replaced = Start(replacement);
        await ReadAsync(await ListTenantsAsync(replaced, replacement), HttpStatusCode.OK);
        await AssertProblemAsync(await ListTenantsAsync(replaced, OperatorKey), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task A_revoked_generated_admin_key_stays_revoked_across_a_restart()
    {
        string key;
        using (var first = Start(""))
        {
            key = GeneratedKey();
            await ReadAsync(await ListTenantsAsync(first, key), HttpStatusCode.OK);
            Assert.Equal(HttpStatusCode.NoContent, (await first.ClientWithKey(key).DeleteAsync("/api/v1/api-keys/generated-admin")).StatusCode);
        }

        using var restarted = Start("");
        Assert.Equal(key, GeneratedKey());
        await AssertProblemAsync(await ListTenantsAsync(restarted, key), HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Rotating_the_generated_admin_key_revokes_the_old_one_and_keeps_the_new_one_in_the_key_file()
    {
        using var hub = Start("");
        var old = GeneratedKey();
        await ReadAsync(await ListTenantsAsync(hub, old), HttpStatusCode.OK);

        var rotated = await hub.Services.GetRequiredService<TenantBootstrap>().RotateGeneratedAdminKeyAsync(CancellationToken.None);

        Assert.NotEqual(old, rotated);
        Assert.StartsWith("hubk_", rotated, StringComparison.Ordinal);
        Assert.Equal(rotated, GeneratedKey());
        await AssertProblemAsync(await ListTenantsAsync(hub, old), HttpStatusCode.Unauthorized, "unauthorized");
        await ReadAsync(await ListTenantsAsync(hub, rotated), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rotating_a_revoked_generated_admin_key_gives_a_working_one_that_survives_a_restart()
    {
        string rotated;
        using (var first = Start(""))
        {
            var old = GeneratedKey();
            Assert.Equal(HttpStatusCode.NoContent, (await first.ClientWithKey(old).DeleteAsync("/api/v1/api-keys/generated-admin")).StatusCode);
            rotated = await first.Services.GetRequiredService<TenantBootstrap>().RotateGeneratedAdminKeyAsync(CancellationToken.None);
        }

        using var restarted = Start("");
        await ReadAsync(await ListTenantsAsync(restarted, rotated), HttpStatusCode.OK);
    }

    [Fact]
    public async Task Rotating_is_refused_with_a_reason_while_the_admin_key_is_configured()
    {
        using var hub = Start(OperatorKey);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            hub.Services.GetRequiredService<TenantBootstrap>().RotateGeneratedAdminKeyAsync(CancellationToken.None));

        Assert.StartsWith("admin_key_configured:", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Hub__AdminApiKey", refused.Message, StringComparison.Ordinal);
        await ReadAsync(await ListTenantsAsync(hub, OperatorKey), HttpStatusCode.OK);
    }

    private static IEnumerable<Exception> Flatten(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
            if (current is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten))
                {
                    yield return inner;
                }
            }
        }
    }
}
