using System.Data.Common;
using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;

namespace Hub.Store;

/// <summary>
/// Applies the numbered migrations (<c>Migrations/NNN_name.sql</c>, one set for both databases; a file of the
/// same number in <c>Migrations/{Dialect}/</c> replaces it where the SQL must differ), each once, in order. Several processes may start together: PostgreSQL serialises them with an
/// advisory lock, SQLite with an immediate (write) transaction.
/// </summary>
public sealed class Migrator(HubDatabase database, ILogger<Migrator> logger)
{
    // Any constant works; it only has to be the same in every process of one deployment.
    private const long PostgresLockKey = 0x4875624d6967; // "HubMig"

    public async Task ApplyAsync(CancellationToken cancellationToken)
    {
        var migrations = LoadMigrations(database.Dialect);
        await using var connection = await database.OpenAsync(cancellationToken);

        if (database.Dialect == SqlDialect.Postgres)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "SELECT pg_advisory_lock(@key)", new { key = PostgresLockKey }, cancellationToken: cancellationToken));
            try
            {
                await ApplyPendingAsync(connection, migrations, cancellationToken);
            }
            finally
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "SELECT pg_advisory_unlock(@key)", new { key = PostgresLockKey }, cancellationToken: CancellationToken.None));
            }
        }
        else
        {
            // WAL lets readers (REST) proceed while a consumer writes; it is a property of the file.
            await connection.ExecuteAsync(new CommandDefinition("PRAGMA journal_mode=WAL", cancellationToken: cancellationToken));
            await ApplyPendingAsync(connection, migrations, cancellationToken);
        }
    }

    private async Task ApplyPendingAsync(DbConnection connection, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await connection.ExecuteAsync(new CommandDefinition(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at bigint NOT NULL
            )
            """, cancellationToken: cancellationToken));

        foreach (var migration in migrations)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var applied = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT count(*) FROM schema_migrations WHERE version = @Version",
                new { migration.Version }, transaction, cancellationToken: cancellationToken));
            if (applied > 0)
            {
                continue;
            }

            await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@Version, @Name, @AppliedAt)",
                new { migration.Version, migration.Name, AppliedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() },
                transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Applied migration {Version:000} {Name} ({Dialect})", migration.Version, migration.Name, database.Dialect);
        }
    }

    internal static IReadOnlyList<Migration> LoadMigrations(SqlDialect dialect)
    {
        var assembly = typeof(Migrator).Assembly;
        var shared = $"{assembly.GetName().Name}.Migrations.";
        var own = $"{shared}{dialect}.";
        var scripts = assembly.GetManifestResourceNames().Where(name => name.EndsWith(".sql", StringComparison.Ordinal)).ToList();
        var migrations = new SortedDictionary<int, Migration>();
        // Shared scripts sit directly in Migrations/: nothing between the prefix and the file name.
        foreach (var name in scripts.Where(name => name.StartsWith(shared, StringComparison.Ordinal) && !name[shared.Length..^".sql".Length].Contains('.')))
        {
            var migration = Parse(assembly, name, shared);
            migrations.Add(migration.Version, migration);
        }

        foreach (var name in scripts.Where(name => name.StartsWith(own, StringComparison.Ordinal)))
        {
            var migration = Parse(assembly, name, own);
            migrations[migration.Version] = migration;
        }

        return [.. migrations.Values];
    }

    private static Migration Parse(Assembly assembly, string resourceName, string prefix)
    {
        // Resource names replace a leading digit of a folder or file with "_": "_001_initial.sql".
        var fileName = resourceName[prefix.Length..^".sql".Length].TrimStart('_');
        var separator = fileName.IndexOf('_', StringComparison.Ordinal);
        var version = int.Parse(fileName[..separator], System.Globalization.CultureInfo.InvariantCulture);
        using var stream = assembly.GetManifestResourceStream(resourceName)!;
        using var reader = new StreamReader(stream);
        return new Migration(version, fileName[(separator + 1)..], reader.ReadToEnd());
    }

    internal sealed record Migration(int Version, string Name, string Sql);
}
