using System.Security.Cryptography;
using Dapper;
using Hub.Api.Auth;
using Hub.Api.Infrastructure;
using Hub.Store;
using Microsoft.Extensions.Options;

namespace Hub.Api.Tenants;

/// <summary>
/// At start: the master tenant exists, and so does its admin key. A key from configuration
/// (<c>Hub__AdminApiKey</c>, any form of at least 24 characters) is installed as given; otherwise one is
/// generated at first start, kept in the data directory, and printed once. A revocation of either
/// stands across restarts: a start that finds the same key keeps its <c>revoked_at</c>; only a new value
/// (a changed <c>Hub__AdminApiKey</c>, or <see cref="RotateGeneratedAdminKeyAsync"/>) gives a working key again.
/// </summary>
internal sealed class TenantBootstrap(HubDatabase database, IOptions<HubSettings> options, TimeProvider clock, ILogger<TenantBootstrap> logger)
    : IHostedService
{
    public const string AdminKeyFileName = "admin-api-key";
    public const string ConfiguredKeyId = "configured-admin";
    public const string GeneratedKeyId = "generated-admin";
    public const int MinimumKeyLength = 24;

    private readonly string? _configuredKey = string.IsNullOrWhiteSpace(options.Value.AdminApiKey) ? null : options.Value.AdminApiKey.Trim();

    public string MasterTenantId { get; private set; } = "";

    /// <summary>Set when this start generated the admin key, so the banner can print it once.</summary>
    public string? NewAdminKey { get; private set; }

    /// <summary>The admin key this start found is revoked, so the banner can say how to get a working one.</summary>
    public bool AdminKeyRevoked { get; private set; }

    public bool AdminKeyConfigured => _configuredKey is not null;

    public string AdminKeyFile => Path.GetFullPath(Path.Combine(options.Value.DataDirectory, AdminKeyFileName));

    /// <summary>
    /// Whether a bearer token is the configured admin key, compared in memory and in fixed time. A token
    /// without the <c>hubk_</c>/<c>hubs_</c> prefix can be nothing else, so this is how the handler decides
    /// whether it is worth a store lookup (which still answers for revocation).
    /// </summary>
    public bool IsConfiguredAdminKey(string token) =>
        _configuredKey is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)), SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(_configuredKey)));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_configuredKey is not null)
        {
            Validate(_configuredKey);
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await EnsureMasterTenantAsync(connection, cancellationToken);

        if (_configuredKey is not null)
        {
            AdminKeyRevoked = await InstallAsync(connection, ConfiguredKeyId, _configuredKey, cancellationToken);
            if (AdminKeyRevoked)
            {
                logger.LogWarning("The configured admin API key (Hub__AdminApiKey) is revoked; it stays revoked until Hub__AdminApiKey has a new value");
            }

            return;
        }

        if (File.Exists(AdminKeyFile))
        {
            AdminKeyRevoked = await InstallAsync(connection, GeneratedKeyId, (await File.ReadAllTextAsync(AdminKeyFile, cancellationToken)).Trim(), cancellationToken);
            if (AdminKeyRevoked)
            {
                logger.LogWarning("The admin API key kept in {File} is revoked; run 'Hub.Api rotate-admin-key' for a new one", AdminKeyFile);
            }

            return;
        }

        var key = Ids.NewSecret(HubAuthenticationHandler.ApiKeyPrefix);
        await WriteKeyFileAsync(key, cancellationToken);
        await InstallAsync(connection, GeneratedKeyId, key, cancellationToken);
        NewAdminKey = key;
        logger.LogInformation("Generated the admin API key and kept it in {File}", AdminKeyFile);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Mints a new generated admin key, keeps it in the key file and makes it the admin key: the old one
    /// stops working at once, on every node (each request looks its key up). Refused while
    /// <c>Hub__AdminApiKey</c> is set, since the configured value is then the admin key.
    /// </summary>
    public async Task<string> RotateGeneratedAdminKeyAsync(CancellationToken cancellationToken)
    {
        if (_configuredKey is not null)
        {
            throw new InvalidOperationException(
                "admin_key_configured: Hub__AdminApiKey is set, so it is the admin key; rotate it by giving Hub__AdminApiKey a new value and restarting.");
        }

        await using var connection = await database.OpenAsync(cancellationToken);
        await EnsureMasterTenantAsync(connection, cancellationToken);
        var key = Ids.NewSecret(HubAuthenticationHandler.ApiKeyPrefix);

        // The file first: should the store write fail, the next start installs the file's new key, which
        // completes the rotation instead of losing the only copy of a key the store already trusts.
        await WriteKeyFileAsync(key, cancellationToken);
        await InstallAsync(connection, GeneratedKeyId, key, cancellationToken);
        logger.LogInformation("Rotated the admin API key and kept the new one in {File}", AdminKeyFile);
        return key;
    }

    private static void Validate(string key)
    {
        if (key.Length < MinimumKeyLength)
        {
            throw new InvalidOperationException(
                $"invalid_admin_key: Hub__AdminApiKey (Hub:AdminApiKey) must be at least {MinimumKeyLength} characters; the configured value has {key.Length}. "
                + "Use a long random value (for example 'openssl rand -base64 32'), or leave it unset to have one generated.");
        }

        if (key.StartsWith(HubAuthenticationHandler.SessionPrefix, StringComparison.Ordinal))
        {
            throw new InvalidOperationException(
                $"invalid_admin_key: Hub__AdminApiKey (Hub:AdminApiKey) must not start with '{HubAuthenticationHandler.SessionPrefix}', the prefix of session tokens.");
        }
    }

    private async Task EnsureMasterTenantAsync(System.Data.Common.DbConnection connection, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO tenants (id, name, parent_id, is_master, created_at)
            SELECT @id, 'master', NULL, 1, @now
            WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE is_master = 1)
            """, new { id = Ids.NewTenantId(), now = clock.NowMs() }, cancellationToken: cancellationToken));
        MasterTenantId = await connection.ExecuteScalarAsync<string>(new CommandDefinition(
            "SELECT id FROM tenants WHERE is_master = 1", cancellationToken: cancellationToken)) ?? throw new InvalidOperationException("No master tenant.");
    }

    private async Task WriteKeyFileAsync(string key, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(AdminKeyFile)!);

        // Written beside it and moved over it, so a crash never leaves half a key in the file.
        var written = AdminKeyFile + ".new";
        await File.WriteAllTextAsync(written, key + Environment.NewLine, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(written, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(written, AdminKeyFile, overwrite: true);
    }

    /// <summary>
    /// One admin key row per origin (configured or generated). The same key keeps its row as it is, a
    /// revocation included; a new key replaces the hash and starts active. Returns whether the key is revoked.
    /// </summary>
    private async Task<bool> InstallAsync(System.Data.Common.DbConnection connection, string id, string key, CancellationToken cancellationToken)
    {
        // A generated key shows "hubk_" and four random characters; an operator's own secret only four.
        var prefix = key.StartsWith(HubAuthenticationHandler.ApiKeyPrefix, StringComparison.Ordinal) ? key[..9] : key[..4];
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, created_at)
            VALUES (@id, @tenantId, 'admin', @hash, @prefix, 'admin', @now)
            ON CONFLICT (id) DO UPDATE SET
                key_hash = excluded.key_hash,
                key_prefix = excluded.key_prefix,
                created_at = CASE WHEN api_keys.key_hash = excluded.key_hash THEN api_keys.created_at ELSE excluded.created_at END,
                revoked_at = CASE WHEN api_keys.key_hash = excluded.key_hash THEN api_keys.revoked_at ELSE NULL END
            """,
            new { id, tenantId = MasterTenantId, hash = Ids.Sha256(key), prefix, now = clock.NowMs() },
            cancellationToken: cancellationToken));
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT revoked_at FROM api_keys WHERE id = @id", new { id }, cancellationToken: cancellationToken)) is not null;
    }
}
