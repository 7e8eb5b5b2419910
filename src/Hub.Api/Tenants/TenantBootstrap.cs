using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Api.Tenants;

/// <summary>
/// At start: the master tenant exists, and so does its admin key. A key from configuration
/// (<c>Hub__AdminApiKey</c>) is installed as given; otherwise one is generated at first start, kept in
/// the data directory, and printed once.
/// </summary>
internal sealed class TenantBootstrap(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock, ILogger<TenantBootstrap> logger)
    : IHostedService
{
    public const string AdminKeyFileName = "admin-api-key";

    public string MasterTenantId { get; private set; } = "";

    /// <summary>Set when this start generated the admin key, so the banner can print it once.</summary>
    public string? NewAdminKey { get; private set; }

    public string AdminKeyFile => Path.GetFullPath(Path.Combine(options.Value.DataDirectory, AdminKeyFileName));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var now = clock.NowMs();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO tenants (id, name, parent_id, is_master, created_at)
            SELECT @id, 'master', NULL, 1, @now
            WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE is_master = 1)
            """, new { id = Ids.NewTenantId(), now }, cancellationToken: cancellationToken));
        MasterTenantId = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT id FROM tenants WHERE is_master = 1", cancellationToken: cancellationToken)) ?? throw new InvalidOperationException("No master tenant.");

        var configured = options.Value.AdminApiKey;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            await InstallAsync(connection, "configured-admin", configured, now, cancellationToken);
            return;
        }

        if (File.Exists(AdminKeyFile))
        {
            await InstallAsync(connection, "generated-admin", (await File.ReadAllTextAsync(AdminKeyFile, cancellationToken)).Trim(), now, cancellationToken);
            return;
        }

        var key = Ids.NewSecret(HubAuthenticationHandler.ApiKeyPrefix);
        Directory.CreateDirectory(Path.GetDirectoryName(AdminKeyFile)!);
        await File.WriteAllTextAsync(AdminKeyFile, key + Environment.NewLine, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(AdminKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await InstallAsync(connection, "generated-admin", key, now, cancellationToken);
        NewAdminKey = key;
        logger.LogInformation("Generated the admin API key and kept it in {File}", AdminKeyFile);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task InstallAsync(System.Data.Common.DbConnection connection, string id, string key, long now, CancellationToken cancellationToken)
    {
        if (key.Length < 24)
        {
            throw new InvalidOperationException("Hub:AdminApiKey must be at least 24 characters.");
        }

        // Replacing the row keeps one admin key per origin (configured or generated), rotated by restart.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, created_at)
            VALUES (@id, @tenantId, 'admin', @hash, @prefix, 'admin', @now)
            ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, key_prefix = excluded.key_prefix, revoked_at = NULL
            """,
            new { id, tenantId = MasterTenantId, hash = Ids.Sha256(key), prefix = key[..Math.Min(9, key.Length)], now },
            cancellationToken: cancellationToken));
    }
}
